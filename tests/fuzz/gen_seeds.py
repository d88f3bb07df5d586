#!/usr/bin/env python3
# Regenerate the seed corpora of fuzz_reader and fuzz_nats from a real signed feed:
#   tests/fuzz/gen_seeds.py BUILD_DIR
# (BUILD_DIR/tests/feed/feed_gen writes the feed). Seeds: whole segments (one, two linked,
# a torn tail, a header only) and the NATS record and head messages of their batches, framed
# exactly as docs/feed.md §Local log and §Export say.
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def frame(etype, payload):
    hdr = struct.pack(">B3xI", etype, len(payload))
    return hdr + payload + struct.pack(">I", crc32c(hdr + payload))


def seg_header(index, created, prev_link):
    h = b"LMFEED1\n" + struct.pack(">HHIQQ", 1, 0, 68, index, created) + prev_link
    return h + struct.pack(">I", crc32c(h))


def entries(seg):
    off, out = 68, []
    while off + 12 <= len(seg):
        etype, n = struct.unpack(">B3xI", seg[off:off + 8])
        out.append((etype, seg[off + 8:off + 8 + n], off))
        off += 12 + n
    return out


def link(head):
    return hashlib.blake2b(b"landmark/feed-segment-link/v1\0" + head, digest_size=32).digest()


def main():
    build = sys.argv[1]
    with tempfile.TemporaryDirectory() as t:
        subprocess.run([os.path.join(build, "tests/feed/feed_gen"), t + "/log", "3", "2"],
                       check=True, stdout=subprocess.DEVNULL)
        seg = open(t + "/log/seg-0000000000000000.lmf", "rb").read()
    ents = entries(seg)
    dlg = [e for e in ents if e[0] == 1][0][1]
    heads = [i for i, e in enumerate(ents) if e[0] == 4]
    created = struct.unpack(">Q", seg[24:32])[0]
    # batch k = entries after heads[k-1] (or the delegation) up to heads[k]
    def batch(k):
        lo = heads[k - 1] + 1 if k else 1
        return ents[lo:heads[k] + 1]
    def raw(es):
        return b"".join(frame(e[0], e[1]) for e in es)
    two = seg_header(0, created, bytes(32)) + frame(1, dlg) + raw(batch(0)) + raw(batch(1))
    seg1 = (seg_header(1, created + 1, link(batch(1)[-1][1])) + frame(1, dlg) + raw(batch(2)))
    r = os.path.join(HERE, "corpus", "reader")
    n = os.path.join(HERE, "corpus", "nats")
    os.makedirs(r, exist_ok=True)
    os.makedirs(n, exist_ok=True)
    seeds = {
        "one_segment.lmf": seg,
        "two_segments.lmf": two + seg1,
        "torn_tail.lmf": seg[:len(seg) - 100],
        "header_only.lmf": seg[:68],
    }
    for name, data in seeds.items():
        open(os.path.join(r, name), "wb").write(data)
    b = batch(0)
    rec, prf, head = b[0][1], b[1][1], b[-1][1]
    open(os.path.join(n, "record.bin"), "wb").write(
        frame(2, rec) + frame(3, prf) + frame(4, head) + frame(1, dlg))
    open(os.path.join(n, "head.bin"), "wb").write(frame(4, head) + frame(1, dlg))


main()
