#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// verify-feed: an independent verifier of landmark feeds, written from docs/feed.md and
// docs/protocol.md alone (not from src/). It is the executable form of those documents: when a
// format changes, this file changes in the same commit. Checks, against the operator and
// manufacturer roots: entry framing (CRC32C), segment links, delegations, head signatures and
// chain links, inclusion proofs, chip certificates, HELLO signatures and every sample proof.
//
//   node verify-feed.mjs --root OP.pub --mfr MFR.pub [--now UNIX_S] [--report FILE] SOURCE
//   SOURCE: --log DIR | --json FILE (NDJSON of lmctl feed dump --json, /v1/records, /v1/stream;
//           "-" = stdin) | --nats URL [--stream NAME] [--timeout S]
//
// Exit 0: everything verified; 1: something failed (every failure is printed); 2: usage.
// npm packages (@noble/ed25519, @noble/hashes, nats) come from tools/setup.sh, installed under
// $LM_NODE_PREFIX (default /usr/local/share/landmark).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const PREFIX = process.env.LM_NODE_PREFIX || '/usr/local/share/landmark';
const req = createRequire(path.join(PREFIX, 'package.json'));
const load = async (name) => import(pathToFileURL(req.resolve(name)).href);
const ed = await load('@noble/ed25519');
const { blake2b } = await load('@noble/hashes/blake2.js');

// ---- tags (docs/protocol.md §4, docs/feed.md) -------------------------------------------
const TAG = {
	delegation: 'landmark/delegation/v1',
	chipCert: 'landmark/chip-cert/v1',
	chipCertV2: 'landmark/chip-cert/v2',
	hello: 'landmark/hello/v1',
	response: 'landmark/response/v1',
	fastMac: 'landmark/fast-mac/v1',
	commit: 'landmark/commit/v1',
	transcript: 'landmark/transcript/v1',
	reveal: 'landmark/reveal/v1',
	credHash: 'landmark/credential-hash/v1',
	batchHead: 'landmark/batch-head/v1',
	headHash: 'landmark/batch-head-hash/v1',
	segLink: 'landmark/feed-segment-link/v1',
	successor: 'landmark/successor/v1',
	successorHash: 'landmark/successor-hash/v1',
};
const enc = new TextEncoder();
const cat = (...parts) => {
	const n = parts.reduce((a, p) => a + p.length, 0);
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
};
const tagged = (tag, ...body) => cat(enc.encode(tag), Uint8Array.of(0), ...body);
const H = (tag, ...body) => blake2b(tagged(tag, ...body), { dkLen: 32 });
const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (s, n) => {
	if (typeof s !== 'string' || !/^[0-9a-f]*$/.test(s) || (n !== undefined && s.length !== 2 * n))
		throw new VErr('field', `bad hex ${String(s).slice(0, 20)}`);
	return Uint8Array.from(Buffer.from(s, 'hex'));
};
const eq = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const zero = (b) => b.every((v) => v === 0);

class VErr extends Error {
	constructor(reason, what) {
		super(`${reason}: ${what}`);
		this.reason = reason;
		this.what = what;
	}
}
const fail = (reason, what) => {
	throw new VErr(reason, what);
};

// ---- Ed25519 (protocol.md §4: canonical, prime-order keys; RFC 8032 strict signatures) ---
const { Point } = ed;
function pkCheck(pk) {
	try {
		const A = Point.fromBytes(pk, false); // canonical encoding, on the curve
		return !A.isSmallOrder() && A.isTorsionFree();
	} catch {
		return false;
	}
}
async function sigOk(sig, msg, pk) {
	try {
		const R = Point.fromBytes(sig.subarray(0, 32), false);
		if (R.isSmallOrder()) return false;
		return await ed.verifyAsync(sig, msg, pk, { zip215: false });
	} catch {
		return false;
	}
}

// ---- byte reader -----------------------------------------------------------------------
class R {
	constructor(b) {
		this.b = b;
		this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
	}
	u8(o) { return this.b[o]; }
	u16(o) { return this.dv.getUint16(o); }
	u32(o) { return this.dv.getUint32(o); }
	u64(o) { return this.dv.getBigUint64(o); }
	i64(o) { return this.dv.getBigInt64(o); }
	i32(o) { return this.dv.getInt32(o); }
	bytes(o, n) { return this.b.subarray(o, o + n); }
}
function text(b, what) {
	const n = b.indexOf(0) < 0 ? b.length : b.indexOf(0);
	if (n === 0) fail('field', `${what}: empty`);
	for (let i = 0; i < b.length; i++) {
		if (i < n ? b[i] < 0x20 || b[i] > 0x7e : b[i] !== 0) fail('field', `${what}: not NUL-padded printable ASCII`);
	}
	return Buffer.from(b.subarray(0, n)).toString('latin1');
}
const I64MAX = 2n ** 63n - 1n;

// ---- credentials (protocol.md §5) ------------------------------------------------------
function decodeCred(b) {
	if (b.length < 1) fail('short', 'credential');
	const kind = b[0];
	// a chip certificate of version 2 adds key_class(1) reserved(3) evidence(32)
	const v2 = kind === 2 && b.length >= 2 && b[1] === 2;
	const want = kind === 1 ? 188 : kind === 2 ? (v2 ? 256 : 220) : 0;
	if (!want) fail('type', `credential kind ${kind}`);
	if (b.length !== want) fail('length', `credential of kind ${kind}: ${b.length} bytes`);
	const r = new R(b);
	if (r.u8(1) !== (v2 ? 2 : 1)) fail('version', 'credential version');
	if (r.u16(2) !== 0) fail('reserved', 'credential reserved');
	const c = {
		kind, bytes: b, issuer: r.bytes(4, 32), key: r.bytes(36, 32),
		notBefore: r.i64(68), notAfter: r.i64(76),
	};
	if (c.notBefore < 0n || c.notAfter < c.notBefore) fail('field', 'credential window');
	if (kind === 1) {
		c.site = text(r.bytes(84, 32), 'site');
		c.latE7 = r.i32(116);
		c.lonE7 = r.i32(120);
		if (Math.abs(c.latE7) > 900000000 || Math.abs(c.lonE7) > 1800000000) fail('field', 'position');
		c.sig = r.bytes(124, 64);
	} else {
		c.model = text(r.bytes(84, 32), 'model');
		c.serial = text(r.bytes(116, 32), 'serial');
		c.minTurnaround = r.u64(148);
		if (c.minTurnaround > 1000000000n) fail('field', 'min_turnaround_ns above 1 s');
		c.version = v2 ? 2 : 1;
		c.keyClass = 0; // software
		c.evidence = new Uint8Array(32);
		if (v2) {
			c.keyClass = r.u8(156);
			if (r.u8(157) !== 0 || r.u16(158) !== 0) fail('reserved', 'chip certificate reserved');
			c.evidence = r.bytes(160, 32);
			const zero = c.evidence.every((x) => x === 0);
			// software: no evidence; pkcs11: optional; gpu-attested: the GPU key hash
			if (c.keyClass > 2 || (c.keyClass === 0 && !zero) || (c.keyClass === 2 && zero))
				fail('field', `key class ${c.keyClass} and its evidence`);
			c.sig = r.bytes(192, 64);
		} else {
			c.sig = r.bytes(156, 64);
		}
	}
	c.hash = H(TAG.credHash, b);
	return c;
}
// Signed by a trusted root, valid at unix second `at` (both window ends inclusive).
async function credVerify(c, roots, at) {
	if (!roots.some((k) => eq(k, c.issuer))) fail('issuer', 'not issued by a trusted root');
	if (!pkCheck(c.key)) fail('key', 'credential subject key');
	const body = c.bytes.subarray(0, c.bytes.length - 64);
	const tag = c.kind === 1 ? TAG.delegation : c.version === 2 ? TAG.chipCertV2 : TAG.chipCert;
	if (!(await sigOk(c.sig, tagged(tag, body), c.issuer)))
		fail('sig', 'credential signature');
	if (at === null) return;
	if (at < c.notBefore) fail('not_yet_valid', `credential valid from ${c.notBefore}, at ${at}`);
	if (at > c.notAfter) fail('expired', `credential valid until ${c.notAfter}, at ${at}`);
}
const sFloor = (ns) => (ns >= 0n ? ns / 1000000000n : -((-ns + 999999999n) / 1000000000n));

// ---- records (feed.md §Binary encoding) ------------------------------------------------
const TS_SOURCES = ['tsc', 'hw_rx_tsc_tx', 'hw'];
const CHECKS = ['cred_chain', 'hello_sig', 'binding', 'replay', 'proofs', 'reveal', 'source', 'budget', 'clock'];
const REQUIRED = 0x1f; // cred_chain hello_sig binding replay proofs
const STANDALONE = REQUIRED | 0x40 | 0x80 | 0x100; // and source budget clock
const HELLO_WINDOW_S = 3600n; // largest replay_window_s: hello_time vs the record start
const RTT_LOST = 2n ** 64n - 1n;
// Version 2 floor evidence (feed.md §Floor evidence): one 32-byte entry per tier after the header.
const FLOOR_METHODS = ['none', 'loopback'];
const FLOOR_MIN_SAMPLES = 16;
const FLOOR_MAX_AGE_NS = 3600n * 1000000000n;
const LANDMARK_DELAY_MAX = 1000000n;
function decodeRecord(b) {
	if (b.length < 456) fail('short', 'record');
	const r = new R(b);
	if (r.u8(0) !== 0x4c || r.u8(1) !== 0x52) fail('magic', 'record magic');
	const version = r.u8(2);
	if (version !== 1 && version !== 2) fail('version', 'record version');
	const fixed = version === 1 ? 456 : 456 + 3 * 32;
	const x = {
		bytes: b, version, mode: r.u8(3), landmarkPk: r.bytes(4, 32), dlgHash: r.bytes(36, 32),
		latE7: r.i32(68), lonE7: r.i32(72), site: text(r.bytes(76, 32), 'site'),
		sessionId: r.bytes(108, 8), count: r.u16(116), tsSource: r.u8(118), helloFlags: r.u8(119),
		validation: r.u32(120), tsErr: r.u64(124), hzLower: r.u64(132), hzNominal: r.u64(140),
		calWindow: r.u64(148), start: r.i64(156), end: r.i64(164), rttMin: r.u64(172),
		landmarkDelay: r.u64(180), chipTurnaround: r.u64(188), helloTime: r.i64(196),
		helloNonce: r.bytes(204, 16), helloSig: r.bytes(220, 64), commitment: r.bytes(284, 32),
		secret: r.bytes(316, 32), answered: r.u64(348), transcriptSig: r.bytes(356, 64),
		proverHash: r.bytes(420, 32), credLen: r.u16(452),
	};
	// modes: 1 signed, 2 fast, 3 gpu-attested (protocol.md §3.7; feed.md §Records)
	if (x.mode !== 1 && x.mode !== 2 && x.mode !== 3) fail('type', `mode ${x.mode}`);
	if (x.count < 1 || x.count > 64) fail('length', `count ${x.count}`);
	if (r.u16(454) !== 0 || x.helloFlags !== 0 || (x.validation & ~0x1ff) !== 0) fail('reserved', 'record reserved bits');
	if (x.credLen !== 188 && x.credLen !== 220 && x.credLen !== 256) fail('length', `cred_len ${x.credLen}`);
	const plen = x.mode === 1 ? 64 : 32;
	const slen = 44 + plen;
	if (b.length !== fixed + x.credLen + x.count * slen) fail('length', `record length ${b.length}`);
	x.floor = [];
	for (let t = 0; version === 2 && t < 3; t++) {
		const o = 456 + 32 * t;
		const e = { floor: r.u64(o), deduct: r.u64(o + 8), at: r.i64(o + 16), samples: r.u32(o + 24), method: r.u8(o + 28) };
		if (!zero(r.bytes(o + 29, 3))) fail('reserved', `floor entry ${t} reserved`);
		if (e.method >= FLOOR_METHODS.length) fail('field', `floor entry ${t} method`);
		if (e.method === 0 ? e.floor !== 0n || e.deduct !== 0n || e.at !== 0n || e.samples !== 0
			: e.floor === 0n || e.floor > I64MAX || e.samples === 0 || e.at <= 0n) fail('field', `floor entry ${t}`);
		x.floor.push(e);
	}
	x.prover = decodeCred(r.bytes(fixed, x.credLen));
	if (!eq(x.prover.hash, x.proverHash)) fail('field', 'prover_hash is not lm_cred_hash of the credential');
	if (x.mode === 3 && (x.prover.kind !== 2 || x.prover.keyClass !== 2))
		fail('field', 'gpu-attested mode without a gpu-attested chip certificate');
	if (x.tsSource >= TS_SOURCES.length || x.tsErr > I64MAX || x.hzLower === 0n ||
		x.hzNominal < x.hzLower || x.hzNominal > I64MAX || x.calWindow > I64MAX) fail('field', 'timing');
	if (x.start < 0n || x.end < x.start) fail('field', 'session times');
	if (Math.abs(x.latE7) > 900000000 || Math.abs(x.lonE7) > 1800000000) fail('field', 'position');
	if (x.mode !== 2 && (!zero(x.commitment) || !zero(x.secret) || x.answered !== 0n || !zero(x.transcriptSig)))
		fail('reserved', 'fast-mode fields in a signed or gpu-attested record');
	if (x.mode === 2 && x.count < 64 && x.answered >> BigInt(x.count) !== 0n) fail('field', 'answered beyond count');
	x.samples = [];
	let min = null;
	let weakest = 2;
	for (let i = 0; i < x.count; i++) {
		const o = fixed + x.credLen + i * slen;
		const s = { nonce: r.bytes(o, 32), rtt: r.u64(o + 32), flags: r.u32(o + 40), proof: r.bytes(o + 44, plen) };
		// v2: the sample's tier in bits 8..9 (never 3; 0 when lost)
		s.tier = version === 2 ? (s.flags >> 8) & 3 : x.tsSource;
		if ((s.flags & ~(version === 2 ? 0x301 : 1)) !== 0) fail('reserved', `sample ${i} flags`);
		s.lost = (s.flags & 1) === 1;
		if (version === 2 && (s.tier === 3 || (s.lost && s.tier !== 0))) fail('field', `sample ${i} tier`);
		if (s.lost) {
			if (s.rtt !== RTT_LOST || !zero(s.proof)) fail('field', `lost sample ${i}`);
		} else {
			if (s.tier < weakest) weakest = s.tier;
			if (s.rtt === 0n || s.rtt > I64MAX) fail('field', `sample ${i} rtt`);
			if (x.mode === 2 && !(x.answered & (1n << BigInt(i)))) fail('field', `sample ${i} not answered`);
			if (x.mode === 3 && zero(s.proof)) fail('field', `sample ${i} report hash`);
			if (min === null || s.rtt < min) min = s.rtt;
		}
		x.samples.push(s);
	}
	if (min === null || x.rttMin !== min) fail('field', 'rtt_min_ns is not the minimum of the valid samples');
	if (version === 2 && x.tsSource !== weakest) fail('field', 'ts_source is not the weakest tier of the valid samples');
	checkDeductions(x);
	return x;
}
// Deductions (feed.md §Soundness rules). Version 2: each tier's deduct_ns is proven by its
// evidence, applied to that tier's samples before the minimum: landmark_delay_ns =
// rtt_min_ns - min(rtt_i - deduct[tier_i]). Version 1: no evidence, never deducted.
function checkDeductions(x) {
	const certified = x.prover.kind === 2 ? x.prover.minTurnaround : 0n;
	if (x.chipTurnaround > certified || x.landmarkDelay > LANDMARK_DELAY_MAX || x.chipTurnaround + x.landmarkDelay > x.rttMin)
		fail('field', 'deductions');
	if (x.version === 1) return;
	x.floor.forEach((e, t) => {
		if (e.deduct === 0n) return;
		if (e.method !== 1 || e.deduct > e.floor || e.deduct > LANDMARK_DELAY_MAX) fail('field', `tier ${t}: deduction above its floor`);
		if (e.samples < FLOOR_MIN_SAMPLES) fail('field', `tier ${t}: floor from ${e.samples} self-measurements`);
		if (e.at > x.end || x.start - e.at > FLOOR_MAX_AGE_NS) fail('field', `tier ${t}: floor measured at ${e.at}`);
	});
	let net = null;
	x.samples.forEach((s, i) => {
		if (s.lost) return;
		const d = x.floor[s.tier].deduct;
		if (s.rtt <= d) fail('field', `sample ${i}: not above its tier's deduction`);
		if (net === null || s.rtt - d < net) net = s.rtt - d;
	});
	if (x.landmarkDelay !== x.rttMin - net) fail('field', 'landmark_delay_ns is not what the floor evidence gives');
}
const u16be = (v) => Uint8Array.of(v >> 8, v & 0xff);
const u64be = (v) => {
	const b = new Uint8Array(8);
	new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)));
	return b;
};
async function verifyRecordProofs(x) {
	const pk = x.prover.key;
	if (!pkCheck(pk)) fail('key', 'prover key');
	// HELLO as the prover signed it (protocol.md §3.1), bytes [0, 104 + c).
	const hello = cat(Uint8Array.of(0x4c, 0x4d, 1, 1), new Uint8Array(8), Uint8Array.of(x.mode, x.helloFlags, 0, 0),
		u64be(x.helloTime), x.helloNonce, x.landmarkPk, x.commitment, x.prover.bytes);
	if (!(await sigOk(x.helloSig, tagged(TAG.hello, hello), pk))) fail('sig', 'HELLO signature');
	const B = (i) => cat(x.landmarkPk, x.sessionId, u16be(i), x.samples[i].nonce);
	if (x.mode === 1) {
		for (let i = 0; i < x.count; i++) {
			if (x.samples[i].lost) continue;
			if (!(await sigOk(x.samples[i].proof, tagged(TAG.response, B(i)), pk))) fail('sig', `response ${i}`);
		}
		return;
	}
	// gpu-attested: the landmark checked each GPU signature against its registered chain
	// (validation bit proofs); the record holds the reports' hashes, not the reports, so
	// the HELLO (which chose mode 3 and names the GPU key as evidence) is what verifies here.
	if (x.mode === 3) return;
	if (!eq(H(TAG.commit, x.secret, pk), x.commitment)) fail('commit', 's does not open the commitment');
	const mac = (i) => blake2b(tagged(TAG.fastMac, B(i)), { dkLen: 32, key: x.secret });
	const E = [];
	for (let i = 0; i < x.count; i++) if (x.answered & (1n << BigInt(i))) E.push(u16be(i), x.samples[i].nonce, mac(i));
	const th = H(TAG.transcript, ...E);
	if (!(await sigOk(x.transcriptSig, tagged(TAG.reveal, x.landmarkPk, x.sessionId, x.commitment, th), pk)))
		fail('sig', 'REVEAL signature');
	for (let i = 0; i < x.count; i++) {
		const s = x.samples[i];
		if (s.lost) continue;
		if (!eq(s.proof.subarray(0, 32), mac(i)) || !zero(s.proof.subarray(32))) fail('mac', `sample ${i} MAC`);
	}
}

// ---- batches (feed.md §Batches) --------------------------------------------------------
function decodeHead(b) {
	if (b.length !== 184) fail('length', `head of ${b.length} bytes`);
	const r = new R(b);
	if (r.u8(0) !== 0x4c || r.u8(1) !== 0x42) fail('magic', 'head magic');
	if (r.u8(2) !== 1) fail('version', 'head version');
	if (r.u8(3) !== 0) fail('reserved', 'head reserved');
	const h = { bytes: b, count: r.u32(4), landmarkPk: r.bytes(8, 32), seq: r.u64(40), prev: r.bytes(48, 32),
		time: r.i64(80), root: r.bytes(88, 32), sig: r.bytes(120, 64) };
	if (h.count < 1 || h.count > 65536) fail('length', `head count ${h.count}`);
	if (h.time < 0n) fail('field', 'head time');
	if (h.seq === 0n && !zero(h.prev)) fail('field', 'seq 0 with a previous hash');
	h.hash = H(TAG.headHash, b);
	return h;
}
async function headSigOk(h) {
	if (!pkCheck(h.landmarkPk)) return false;
	return sigOk(h.sig, tagged(TAG.batchHead, h.bytes.subarray(0, 120)), h.landmarkPk);
}
function decodeProof(b) {
	if (b.length < 12) fail('short', 'proof');
	const r = new R(b);
	if (r.u8(0) !== 0x4c || r.u8(1) !== 0x50) fail('magic', 'proof magic');
	if (r.u8(2) !== 1) fail('version', 'proof version');
	const depth = r.u8(3);
	if (depth > 16 || b.length !== 12 + 32 * depth) fail('length', 'proof depth');
	const p = { leafIndex: r.u32(4), treeSize: r.u32(8), path: [] };
	for (let i = 0; i < depth; i++) p.path.push(r.bytes(12 + 32 * i, 32));
	return p;
}
const node = (l, r) => blake2b(cat(Uint8Array.of(1), l, r), { dkLen: 32 });
const leafHash = (rec) => blake2b(cat(Uint8Array.of(0), rec), { dkLen: 32 });
// RFC 9162 §2.1.3.2
function inclusionOk(p, leaf, root) {
	if (p.leafIndex >= p.treeSize) return false;
	let fn = p.leafIndex, sn = p.treeSize - 1, r = leaf;
	for (const s of p.path) {
		if (sn === 0) return false;
		if ((fn & 1) === 1 || fn === sn) {
			r = node(s, r);
			while ((fn & 1) === 0 && fn !== 0) {
				fn >>>= 1;
				sn >>>= 1;
			}
		} else {
			r = node(r, s);
		}
		fn >>>= 1;
		sn >>>= 1;
	}
	return sn === 0 && eq(r, root);
}

// feed.md §Standalone verification, in its order.
async function verifyStandalone(recB, proofB, headB, dlgB, trust, nowNs) {
	const x = decodeRecord(recB);
	const h = decodeHead(headB);
	const p = decodeProof(proofB);
	const d = decodeCred(dlgB);
	if (d.kind !== 1) fail('type', 'delegation entry holds a chip certificate');
	await credVerify(d, trust.ops, sFloor(h.time));
	const st = sFloor(x.start);
	if (st < d.notBefore) fail('not_yet_valid', 'delegation at the record start');
	if (st > d.notAfter) fail('expired', 'delegation at the record start');
	if (sFloor(x.end) > d.notAfter) fail('expired', 'delegation at the record end');
	if (x.helloTime < st - HELLO_WINDOW_S) fail('expired', 'hello_time before the record start window');
	if (x.helloTime > st + HELLO_WINDOW_S) fail('not_yet_valid', 'hello_time after the record start window');
	if (!eq(h.landmarkPk, d.key) || !eq(x.landmarkPk, d.key) || !eq(x.dlgHash, d.hash) || x.latE7 !== d.latE7 ||
		x.lonE7 !== d.lonE7 || x.site !== d.site) fail('binding', 'record, head and delegation disagree');
	if (h.time > nowNs + 300000000000n) fail('not_yet_valid', 'head time in the future');
	if (h.time < x.end) fail('field', 'head before the record end');
	if (!(await headSigOk(h))) fail('sig', 'head signature');
	if (p.treeSize !== h.count || !inclusionOk(p, leafHash(recB), h.root)) fail('proof', 'inclusion proof');
	const need = STANDALONE | (x.mode === 2 ? 0x20 : 0);
	if ((x.validation & need) !== need) fail('field', 'required validation bits (with clock, source, budget)');
	await credVerify(x.prover, x.prover.kind === 2 ? trust.mfrs : trust.ops, st);
	checkDeductions(x);
	await verifyRecordProofs(x);
	return { x, h, p };
}

// ---- chains: the last head per chain (feed.md §Consumers) -------------------------------
class Chains {
	constructor() {
		this.tips = new Map(); // head hash hex -> { h, dlg } of the chain's last batch
		this.seen = new Set();
		this.ho = new Handovers();
	}
	// A head continues the chain whose last head it names (whatever key signed it); where
	// the key changes, the successor delegation it carries must hand the chain over.
	async add(h, dlgB, succB, trust) {
		const hh = hex(h.hash);
		if (this.seen.has(hh)) return 'duplicate';
		const dlg = decodeCred(dlgB);
		let prev = null;
		if (h.seq !== 0n) {
			prev = this.tips.get(hex(h.prev)) ?? null;
			if (!prev && !succB) fail('chain', `head seq ${h.seq} links to no known last head`);
			if (prev && (h.seq !== prev.h.seq + 1n || h.time < prev.h.time)) fail('chain', `head seq ${h.seq} after ${prev.h.seq}`);
		}
		await rotationCheck(h, dlg, succB ?? null, prev?.h ?? null, prev?.dlg ?? null, trust, this.ho);
		if (prev) this.tips.delete(hex(h.prev));
		this.tips.set(hh, { h, dlg });
		this.seen.add(hh);
		return 'ok';
	}
}
async function verifyHead(headB, dlgB, trust, landmarkPk) {
	const h = decodeHead(headB);
	const d = decodeCred(dlgB);
	if (d.kind !== 1) fail('type', 'delegation entry holds a chip certificate');
	if (!eq(d.key, h.landmarkPk)) fail('binding', 'head signed by a key the delegation is not for');
	if (landmarkPk && !eq(landmarkPk, h.landmarkPk)) fail('binding', 'another landmark');
	await credVerify(d, trust.ops, sFloor(h.time));
	if (!(await headSigOk(h))) fail('sig', 'head signature');
	return h;
}

// ---- key rotation: successor delegations (feed.md §Key rotation) -----------------------
function decodeSuccessor(b) {
	if (b.length !== 340) fail('length', `successor of ${b.length} bytes`);
	const r = new R(b);
	if (r.u8(0) !== 4) fail('type', 'successor kind');
	if (r.u8(1) !== 1) fail('version', 'successor version');
	if (r.u16(2) !== 0) fail('reserved', 'successor reserved');
	const s = { bytes: b, root: r.bytes(4, 32), oldPk: r.bytes(36, 32), oldDlgHash: r.bytes(68, 32),
		newPk: r.bytes(100, 32), newDlgHash: r.bytes(132, 32), lastSeq: r.u64(164),
		lastHeadHash: r.bytes(172, 32), issued: r.i64(204), rootSig: r.bytes(212, 64), oldSig: r.bytes(276, 64) };
	if (s.lastSeq > I64MAX || eq(s.oldPk, s.newPk)) fail('field', 'successor last_seq or keys');
	if (!pkCheck(s.root) || !pkCheck(s.oldPk) || !pkCheck(s.newPk)) fail('key', 'successor key');
	s.hash = H(TAG.successorHash, b);
	return s;
}
// Both signatures over the first 212 bytes; the root must be a trusted operator root.
async function successorVerify(s, trust) {
	if (!trust.ops.some((k) => eq(k, s.root))) fail('issuer', 'successor not signed by a trusted operator root');
	const msg = tagged(TAG.successor, s.bytes.subarray(0, 212));
	if (!(await sigOk(s.rootSig, msg, s.root))) fail('sig', "successor: the operator root's signature does not verify");
	if (!(await sigOk(s.oldSig, msg, s.oldPk))) fail('sig', "successor: the old online key's signature does not verify");
}
// The link: new delegation (by the successor's root), old delegation (same site and
// position), the old chain's last head, the new key's first head.
function successorLink(s, oldDlg, newDlg, last, first) {
	if (!eq(newDlg.key, s.newPk) || !eq(newDlg.hash, s.newDlgHash)) fail('binding', "successor names another delegation than the new key's");
	if (!eq(newDlg.issuer, s.root)) fail('binding', "the new key's delegation is issued by another root than the successor");
	if (oldDlg) {
		if (!eq(oldDlg.key, s.oldPk) || !eq(oldDlg.hash, s.oldDlgHash)) fail('binding', "successor names another delegation than the old key's");
		if (oldDlg.site !== newDlg.site || oldDlg.latE7 !== newDlg.latE7 || oldDlg.lonE7 !== newDlg.lonE7)
			fail('binding', 'old and new delegation declare another site or position');
	}
	if (last) {
		if (!eq(last.landmarkPk, s.oldPk)) fail('binding', "the chain's last head is not signed by the successor's old key");
		if (last.seq !== s.lastSeq || !eq(last.hash, s.lastHeadHash)) fail('chain', "gap: the successor binds another head than the old chain's last");
	}
	if (first) {
		if (!eq(first.landmarkPk, s.newPk)) fail('binding', "head signed by another key than the successor's new key");
		if (first.seq !== s.lastSeq + 1n || !eq(first.prev, s.lastHeadHash)) fail('chain', "gap: the new key's first head does not follow the successor's head");
	}
}
// Successors followed so far: a second one for the same old key or head, or a head by a
// key after its hand-over, is a fork.
class Handovers {
	constructor() {
		this.byOld = new Map(); // old key hex -> successor hash hex
		this.byHead = new Map(); // last head hash hex -> successor hash hex
	}
	checkHead(h) {
		if (this.byOld.has(hex(h.landmarkPk))) fail('chain', `fork: head seq ${h.seq} signed by a key after its successor delegation`);
	}
	checkNew(s) {
		const sh = hex(s.hash);
		const a = this.byOld.get(hex(s.oldPk)), b = this.byHead.get(hex(s.lastHeadHash));
		if ((a && a !== sh) || (b && b !== sh)) fail('chain', 'fork: a second successor delegation for the same old key or head');
		return a === sh; // already followed
	}
	add(s) {
		this.byOld.set(hex(s.oldPk), hex(s.hash));
		this.byHead.set(hex(s.lastHeadHash), hex(s.hash));
	}
}
// One head h (its delegation dlg, the successor succB it carries or null) against the
// previous head of its chain (prev with its delegation prevDlg, or null: not seen): the
// key-rotation rule of feed.md. A successor repeated on later heads of its key is the same one.
// fromLog passes only a successor entry read since the batch before (once: a repeat is a fork).
async function rotationCheck(h, dlg, succB, prev, prevDlg, trust, ho, once = false) {
	ho.checkHead(h);
	const rotated = prev && !eq(prev.landmarkPk, h.landmarkPk);
	if (rotated && !succB) fail('chain', 'gap: the signing key changed without a successor delegation');
	if (!succB) return;
	const s = decodeSuccessor(succB);
	if (!eq(s.newPk, h.landmarkPk)) fail('binding', "head signed by another key than the successor's new key");
	if (ho.checkNew(s)) {
		if (rotated || once) fail('chain', 'fork: a second successor delegation for the same old key or head');
		return;
	}
	if (prev && !rotated) fail('binding', 'successor delegation where the signing key does not change');
	if (!prev && h.seq <= s.lastSeq) fail('chain', `gap: head seq ${h.seq} is not after the successor's head seq ${s.lastSeq}`);
	await successorVerify(s, trust);
	successorLink(s, prevDlg, dlg, prev, prev || h.seq === s.lastSeq + 1n ? h : null);
	ho.add(s);
}

// ---- entry framing (feed.md §Local log): CRC32C, Castagnoli, reflected 0x82F63B78 -------
const CRC_T = (() => {
	const t = new Uint32Array(256);
	for (let i = 0; i < 256; i++) {
		let c = i;
		for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
		t[i] = c >>> 0;
	}
	return t;
})();
function crc32c(b) {
	let c = 0xffffffff;
	for (const v of b) c = CRC_T[(c ^ v) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}
// Entries of buf from off: {type, payload, off, len} until the end; throws on a bad frame.
function* entries(buf, off) {
	while (off < buf.length) {
		if (buf.length - off < 12) fail('short', `entry at ${off}: torn`);
		const r = new R(buf);
		const type = r.u8(off), len = r.u32(off + 4);
		if (len < 1 || len > 1 << 20 || buf.length - off - 12 < len) fail('length', `entry at ${off}`);
		if (r.u8(off + 1) | r.u8(off + 2) | r.u8(off + 3)) fail('reserved', `entry at ${off}`);
		if (crc32c(buf.subarray(off, off + 8 + len)) !== r.u32(off + 8 + len)) fail('field', `entry at ${off}: checksum`);
		if (type < 1 || type > 5) fail('type', `entry at ${off}: type ${type}`);
		yield { type, payload: buf.subarray(off + 8, off + 8 + len), off, len: 12 + len };
		off += 12 + len;
	}
}

// ---- the three sources -----------------------------------------------------------------
class Tally {
	constructor() {
		this.records = [];
		this.heads = [];
		this.failures = [];
	}
	bad(where, e) {
		if (!(e instanceof VErr)) throw e;
		this.failures.push({ where, reason: e.reason, what: e.message });
		console.log(`FAIL ${where}: ${e.message}`);
	}
}

async function fromLog(dir, trust, nowNs, t) {
	const segs = fs.readdirSync(dir).filter((n) => /^seg-[0-9a-f]{16}\.lmf$/.test(n)).sort();
	let link = null; // segment link of the last head read
	let last = null; // the last head read: a log is one chain (feed.md §Local log)
	let dlg = null;
	let lastDlg = null; // delegation in force for `last`
	let succs = []; // successor entries since the last batch
	const ho = new Handovers();
	for (let si = 0; si < segs.length; si++) {
		const name = segs[si];
		const buf = new Uint8Array(fs.readFileSync(path.join(dir, name)));
		try {
			if (buf.length < 68) fail('short', 'segment header');
			const r = new R(buf);
			if (Buffer.from(buf.subarray(0, 8)).toString('latin1') !== 'LMFEED1\n') fail('magic', 'segment magic');
			if (r.u16(8) !== 1 || r.u16(10) !== 0 || r.u32(12) !== 68) fail('version', 'segment header');
			if (crc32c(buf.subarray(0, 64)) !== r.u32(64)) fail('field', 'segment header checksum');
			const index = r.u64(16);
			if (si === 0 ? false : index !== BigInt(parseInt(segs[si - 1].slice(4, 20), 16)) + 1n)
				fail('field', 'segment index not consecutive');
			if (index !== BigInt(parseInt(name.slice(4, 20), 16))) fail('field', 'segment index differs from its name');
			const prevLink = r.bytes(32, 32);
			if (index === 0n && !zero(prevLink)) fail('field', 'first segment links to a predecessor');
			if (link && !eq(prevLink, link)) fail('field', 'segment does not link to the last head before it');
		} catch (e) {
			t.bad(`${name} header`, e);
			return;
		}
		let items = [];
		try {
			for (const e of entries(buf, 68)) {
				if (e.type === 1) {
					if (items.length) fail('type', `delegation inside a batch at ${e.off}`);
					dlg = e.payload;
				} else if (e.type === 5) {
					if (items.length) fail('type', `successor inside a batch at ${e.off}`);
					succs.push(e.payload);
				} else if (e.type === 2) {
					items.push({ rec: e.payload, off: e.off });
				} else if (e.type === 3) {
					const it = items[items.length - 1];
					if (!it || it.proof) fail('type', `proof without a record at ${e.off}`);
					it.proof = e.payload;
				} else {
					if (!items.length || items.some((i) => !i.proof)) fail('type', `head without (record proof)+ at ${e.off}`);
					if (!dlg) fail('short', `no delegation before the batch at ${e.off}`);
					await batch(items, e.payload, dlg, `${name} offset ${e.off}`);
					link = H(TAG.segLink, e.payload);
					items = [];
				}
			}
			if (items.length) fail('short', 'records without a head at the end (torn tail)');
		} catch (e) {
			t.bad(name, e);
			return;
		}
	}
	async function batch(items, headB, dlgB, where) {
		const h = await verifyHead(headB, dlgB, trust);
		const fresh = succs;
		succs = [];
		try {
			if (fresh.length > 1) fail('chain', 'fork: two successor delegations between two batches');
			await rotationCheck(h, decodeCred(dlgB), fresh[0] ?? null, last, lastDlg, trust, ho, true);
		} catch (e) {
			if (e instanceof VErr) fail(e.reason, `${where}: key rotation: ${e.what}`);
			throw e;
		}
		// The first head read may follow heads removed by retention: its link is trusted.
		if (last !== null && (h.seq !== last.seq + 1n || !eq(h.prev, last.hash) || h.time < last.time))
			fail('chain', `${where}: batch head does not chain to the previous head`);
		last = h;
		lastDlg = decodeCred(dlgB);
		if (h.count !== items.length) fail('length', `${where}: head count ${h.count}, ${items.length} records`);
		items.forEach((it, i) => (it.i = i));
		for (const it of items) {
			const { p } = await verifyStandalone(it.rec, it.proof, headB, dlgB, trust, nowNs);
			if (p.leafIndex !== it.i) fail('proof', `record at ${it.off}: leaf index ${p.leafIndex}, position ${it.i}`);
			t.records.push(hex(leafHash(it.rec)));
		}
		t.heads.push(hex(h.hash));
	}
}

// JSON view (feed.md §JSON view): rebuild every encoding from the fields, then verify the bytes.
// 64-bit integers are read from their exact *_str decimal strings (JSON numbers are doubles).
const big = (o, k) => {
	const s = o[k + '_str'];
	if (typeof s !== 'string' || !/^-?[0-9]+$/.test(s)) fail('field', `${k}_str missing`);
	const v = BigInt(s);
	if (Number.isSafeInteger(o[k]) && BigInt(o[k]) !== v) fail('field', `${k} and ${k}_str differ`);
	return v;
};
const textField = (s, n) => {
	const b = new Uint8Array(n);
	const t = enc.encode(s);
	if (t.length > n) fail('field', 'text field too long');
	b.set(t);
	return b;
};
const i32be = (v) => {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setInt32(0, v);
	return b;
};
const u32be = (v) => {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, v);
	return b;
};
// Version 2 chip certificate: key_class(1) reserved(3) evidence(32) (protocol.md §5).
const KEY_CLASSES = ['software', 'pkcs11', 'gpu-attested'];
function chipClassJson(c) {
	const k = KEY_CLASSES.indexOf(c.key_class);
	if (k < 0) fail('field', `key_class ${c.key_class}`);
	return cat(Uint8Array.of(k, 0, 0, 0), unhex(c.key_evidence, 32));
}
function credFromJson(c) {
	const head = cat(Uint8Array.of(c.kind === 'landmark' ? 1 : c.kind === 'chip' ? 2 : 0, c.version, 0, 0),
		unhex(c.issuer, 32), unhex(c.key, 32), u64be(big(c, 'not_before')), u64be(big(c, 'not_after')));
	const b = c.kind === 'landmark'
		? cat(head, textField(c.site, 32), i32be(c.lat_e7), i32be(c.lon_e7), unhex(c.sig, 64))
		: cat(head, textField(c.model, 32), textField(c.serial, 32), u64be(big(c, 'min_turnaround_ns')),
			c.version === 2 ? chipClassJson(c) : new Uint8Array(0), unhex(c.sig, 64));
	if (!eq(H(TAG.credHash, b), unhex(c.credential_hash, 32))) fail('field', 'credential_hash of the rebuilt credential');
	return b;
}
function floorFromJson(a) {
	if (!Array.isArray(a) || a.length !== 3) fail('field', 'timing.floor');
	return cat(...a.map((e, t) => {
		const m = FLOOR_METHODS.indexOf(e.method);
		if (m < 0 || e.ts_source !== TS_SOURCES[t]) fail('field', `timing.floor[${t}]`);
		return cat(u64be(big(e, 'floor_ns')), u64be(big(e, 'deduct_ns')), u64be(big(e, 'measured_at_unix_ns')),
			u32be(e.samples), Uint8Array.of(m, 0, 0, 0));
	}));
}
function recordFromJson(j) {
	const t = j.timing, cal = t.calibration, d = j.deductions, he = j.hello, f = j.fast || {};
	const mode = j.mode === 'signed' ? 1 : j.mode === 'fast' ? 2 : j.mode === 'gpu-attested' ? 3
		: fail('field', `mode ${j.mode}`);
	const ts = TS_SOURCES.indexOf(t.ts_source);
	if (ts < 0) fail('field', `ts_source ${t.ts_source}`);
	const cred = credFromJson(j.prover);
	const z = (n) => new Uint8Array(n);
	const samples = j.samples.map((s, i) => {
		if (s.seq !== i) fail('field', 'sample order');
		// v2: flags carry the tier (bits 8..9); its name must say the same
		if (j.version === 2 && !s.lost && s.ts_source !== TS_SOURCES[(s.flags >> 8) & 3]) fail('field', `sample ${i} ts_source`);
		return s.lost
			? cat(unhex(s.nonce, 32), u64be(RTT_LOST), u32be(s.flags), z(mode === 1 ? 64 : 32))
			: cat(unhex(s.nonce, 32), u64be(big(s, 'rtt_ns')), u32be(s.flags),
				mode === 1 ? unhex(s.proof, 64) : unhex(s.proof, 32));
	});
	const b = cat(Uint8Array.of(0x4c, 0x52, j.version, mode), unhex(j.landmark.key, 32), unhex(j.landmark.delegation_hash, 32),
		i32be(j.landmark.lat_e7), i32be(j.landmark.lon_e7), textField(j.landmark.site, 32), unhex(j.session_id, 8),
		u16be(j.count), Uint8Array.of(ts, he.flags), u32be(j.validation_bits), u64be(big(t, 'ts_err_ns')),
		u64be(big(cal, 'hz_lower')), u64be(big(cal, 'hz_nominal')), u64be(big(cal, 'window_ns')),
		u64be(big(t, 'start_unix_ns')), u64be(big(t, 'end_unix_ns')), u64be(big(j, 'rtt_min_ns')),
		u64be(big(d, 'landmark_delay_ns')), u64be(big(d, 'chip_turnaround_ns')), u64be(big(he, 'time')),
		unhex(he.nonce, 16), unhex(he.sig, 64), f.commitment ? unhex(f.commitment, 32) : z(32),
		f.secret ? unhex(f.secret, 32) : z(32), f.answered ? unhex(f.answered, 8) : z(8),
		f.transcript_sig ? unhex(f.transcript_sig, 64) : z(64), unhex(j.prover.credential_hash, 32),
		u16be(cred.length), u16be(0), j.version === 2 ? floorFromJson(t.floor) : new Uint8Array(0), cred, ...samples);
	// The named bits and the bitmap must say the same.
	const names = CHECKS.filter((_, i) => j.validation_bits & (1 << i));
	if (JSON.stringify(names) !== JSON.stringify(j.validation)) fail('field', 'validation names and bits differ');
	return b;
}
function headFromJson(h) {
	return cat(Uint8Array.of(0x4c, 0x42, h.version, 0), u32be(h.count), unhex(h.landmark_key, 32), u64be(big(h, 'seq')),
		unhex(h.prev_hash, 32), u64be(big(h, 'time_unix_ns')), unhex(h.root, 32), unhex(h.sig, 64));
}
function successorFromJson(j) {
	if (j.kind !== 'successor') fail('type', `successor kind ${j.kind}`);
	const b = cat(Uint8Array.of(4, j.version, 0, 0), unhex(j.root, 32), unhex(j.old_key, 32), unhex(j.old_delegation_hash, 32),
		unhex(j.new_key, 32), unhex(j.new_delegation_hash, 32), u64be(big(j, 'last_seq')), unhex(j.last_head_hash, 32),
		u64be(BigInt.asUintN(64, big(j, 'issued'))), unhex(j.root_sig, 64), unhex(j.old_sig, 64));
	if (!eq(H(TAG.successorHash, b), unhex(j.successor_hash, 32))) fail('field', 'successor_hash of the rebuilt successor');
	return b;
}
function proofFromJson(p) {
	return cat(Uint8Array.of(0x4c, 0x50, 1, p.path.length), u32be(p.leaf_index), u32be(p.tree_size), ...p.path.map((s) => unhex(s, 32)));
}
async function fromJson(file, trust, nowNs, t) {
	const data = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
	const chains = new Chains();
	let n = 0;
	for (const line of data.split('\n')) {
		if (!line.trim()) continue;
		n++;
		let o;
		try {
			o = JSON.parse(line);
		} catch {
			t.bad(`line ${n}`, new VErr('field', 'not JSON'));
			continue;
		}
		try {
			if (o.type === 'credential') {
				// /v1/credentials: a signed credential, checked against its root now
				const b = credFromJson(o.credential);
				const c = decodeCred(b);
				if (o.hash !== hex(c.hash) || o.key !== hex(c.key)) fail('field', 'credential line hash or key');
				if (o.role !== 'prover' && !(o.role === 'landmark' && c.kind === 1)) fail('field', `role ${o.role}`);
				// issuer and signature; the window is checked where it is used (a record's times)
				await credVerify(c, c.kind === 2 ? trust.mfrs : trust.ops, null);
				t.credentials = (t.credentials || 0) + 1;
				continue;
			}
			if (!o.delegation) fail('short', 'no delegation in the line');
			const dlgB = credFromJson(o.delegation);
			const headB = headFromJson(o.head || fail('short', 'no head in the line'));
			const hh = hex(H(TAG.headHash, headB));
			if (o.head.head_hash !== hh) fail('field', 'head_hash of the rebuilt head');
			if (o.type === 'head') {
				if (o.hash !== hh) fail('field', 'hash of the head line');
				const h = await verifyHead(headB, dlgB, trust);
				await chains.add(h, dlgB, o.successor ? successorFromJson(o.successor) : null, trust);
				t.heads.push(hh);
			} else if (o.type === 'record') {
				if (!o.record) fail('field', `record does not decode: ${o.error}`);
				const recB = recordFromJson(o.record);
				const leaf = hex(leafHash(recB));
				if (leaf !== o.record.record_hash || leaf !== o.hash) fail('field', 'record_hash of the rebuilt record');
				if (o.batch_seq !== undefined && BigInt(o.batch_seq) !== big(o.head, 'seq')) fail('field', 'batch_seq');
				await verifyStandalone(recB, proofFromJson(o.proof), headB, dlgB, trust, nowNs);
				t.records.push(leaf);
			} else {
				fail('type', `line type ${o.type}`);
			}
		} catch (e) {
			if (e instanceof TypeError) e = new VErr('field', `malformed line: ${e.message}`);
			t.bad(`line ${n} (${o.type} ${o.hash ?? ''})`, e);
		}
	}
}

// NATS JetStream (feed.md §Export): record messages RECORD PROOF HEAD DELEGATION, head
// messages HEAD DELEGATION, each in the log's entry framing.
function parseMsg(data) {
	const m = {};
	for (const e of entries(data, 0)) {
		const k = ['', 'delegation', 'record', 'proof', 'head', 'successor'][e.type];
		if (!k) fail('type', `entry type ${e.type}`);
		if (m[k]) fail('type', `two ${k} entries`);
		m[k] = e.payload;
	}
	if (!m.head || !m.delegation || !m.record !== !m.proof || (m.successor && m.record)) fail('type', 'message entries');
	return m;
}
async function fromNats(url, stream, timeoutS, trust, nowNs, t) {
	const { connect } = await load('nats');
	const nc = await connect({ servers: url.split(','), timeout: 5000, maxReconnectAttempts: 3 });
	const chains = new Chains();
	const recs = new Set();
	try {
		const jsm = await nc.jetstreamManager();
		const total = (await jsm.streams.info(stream)).state.messages;
		const js = nc.jetstream();
		const c = await js.consumers.get(stream); // ordered consumer, from the first message
		let got = 0;
		const deadline = Date.now() + timeoutS * 1000;
		while (got < total && Date.now() < deadline) {
			// Drain each fetch before verifying: a slow verification must not outlive the pull.
			const it = await c.fetch({ max_messages: 64, expires: 2000 });
			const msgs = [];
			for await (const msg of it) msgs.push(msg);
			for (const msg of msgs) {
				got++;
				const subj = msg.subject.split('.');
				const id = msg.headers?.get('Nats-Msg-Id') ?? '';
				const seqHdr = msg.headers?.get('Lm-Batch-Seq') ?? '';
				try {
					const m = parseMsg(msg.data);
					const h = decodeHead(m.head);
					if (subj.length !== 3 || subj[1] !== hex(h.landmarkPk) || subj[2] !== (m.record ? 'record' : 'head'))
						fail('binding', `subject ${msg.subject}`);
					if (!/^[0-9]+$/.test(seqHdr) || BigInt(seqHdr) !== h.seq) fail('field', `Lm-Batch-Seq ${seqHdr}`);
					if (m.record) {
						const leaf = hex(leafHash(m.record));
						if (id !== leaf) fail('field', `Nats-Msg-Id ${id}`);
						await verifyStandalone(m.record, m.proof, m.head, m.delegation, trust, nowNs);
						if (recs.has(leaf)) continue; // beyond the duplicate window: dedup by record hash
						recs.add(leaf);
						t.records.push(leaf);
					} else {
						if (id !== 'head-' + hex(h.hash)) fail('field', `Nats-Msg-Id ${id}`);
						await verifyHead(m.head, m.delegation, trust);
						if ((await chains.add(h, m.delegation, m.successor ?? null, trust)) === 'ok') t.heads.push(hex(h.hash));
					}
				} catch (e) {
					t.bad(`stream seq ${msg.seq} (${msg.subject})`, e);
				}
			}
		}
		if (got < total) t.bad('stream', new VErr('short', `${got} of ${total} messages within ${timeoutS} s`));
	} finally {
		await nc.close();
	}
}

// ---- command line ----------------------------------------------------------------------
function usage(msg) {
	if (msg) console.error(`verify-feed: ${msg}`);
	console.error('usage: verify-feed.mjs --root OP.pub [--root ...] --mfr MFR.pub [--mfr ...] [--now UNIX_S]\n' +
		'                      [--report FILE] (--log DIR | --json FILE|- | --nats URL [--stream NAME] [--timeout S])');
	process.exit(2);
}
function readPub(p) {
	let b;
	try {
		b = Buffer.from(fs.readFileSync(p, 'utf8').trim(), 'base64');
	} catch (e) {
		usage(`${p}: ${e.message}`);
	}
	if (b.length !== 32 || !pkCheck(Uint8Array.from(b))) usage(`${p}: not a public key file (base64 of 32 bytes)`);
	return Uint8Array.from(b);
}
const a = process.argv.slice(2);
const opt = { ops: [], mfrs: [], stream: 'LANDMARK', timeout: 30, now: BigInt(Date.now()) * 1000000n };
for (let i = 0; i < a.length; i++) {
	const v = () => a[++i] ?? usage(`${a[i - 1]} needs a value`);
	switch (a[i]) {
	case '--root': opt.ops.push(readPub(v())); break;
	case '--mfr': opt.mfrs.push(readPub(v())); break;
	case '--now': opt.now = BigInt(v()) * 1000000000n; break;
	case '--report': opt.report = v(); break;
	case '--log': opt.log = v(); break;
	case '--json': opt.json = v(); break;
	case '--nats': opt.nats = v(); break;
	case '--stream': opt.stream = v(); break;
	case '--timeout': opt.timeout = Number(v()); break;
	default: usage(`unknown argument ${a[i]}`);
	}
}
if (!opt.ops.length || !opt.mfrs.length) usage('need --root and --mfr');
if ([opt.log, opt.json, opt.nats].filter((x) => x !== undefined).length !== 1) usage('need one of --log, --json, --nats');
const trust = { ops: opt.ops, mfrs: opt.mfrs };
const t = new Tally();
try {
	if (opt.log !== undefined) await fromLog(opt.log, trust, opt.now, t);
	else if (opt.json !== undefined) await fromJson(opt.json, trust, opt.now, t);
	else await fromNats(opt.nats, opt.stream, opt.timeout, trust, opt.now, t);
} catch (e) {
	console.error(`verify-feed: ${e.message}`);
	process.exit(2);
}
if (opt.report) fs.writeFileSync(opt.report, JSON.stringify({ records: t.records, heads: t.heads, credentials: t.credentials || 0, failures: t.failures }));
const creds = t.credentials ? `, ${t.credentials} credentials` : '';
console.log(`${t.failures.length ? 'FAILED' : 'ok'}: ${t.heads.length} heads, ${t.records.length} records${creds} verified, ${t.failures.length} failures`);
process.exit(t.failures.length ? 1 : 0);
