#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A beacon network on one machine: README command 1 and the e2e test (issue 6).

Landmark nodes (landmarkd, DPDK on net_af_packet) each run in their own network namespace
on one bridged 198.18.0.0/24 segment; chips (chipd) run in namespaces of their own; each
landmark also has a prover agent (chipd holding the landmark's key and delegation) so the
landmarks measure each other. Geography is EMULATED: every prover delays its answers by the
RTT a fibre path of the true geodesic distance would have (docs/demo.md). A local NATS
JetStream server receives every landmark's feed. After the rounds the mesh audit flags
misplaced landmarks, the locator bounds every chip from the verified feeds of the landmarks
that passed the audit, and a table, GeoJSON and an HTML map come out.

Nothing here is sent anywhere but loopback and namespaces this script creates; every loop is
bounded in count and time; every namespace and process it started is removed on exit.
"""

import argparse
import atexit
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

C_KM_S = 299792.458
SUBNET = "198.18.0"


def log(msg):
    print(msg, flush=True)


class Fail(Exception):
    pass


class Network:
    """Namespaces, veths on one bridge, and processes, all torn down by close()."""

    def __init__(self, tag, work):
        self.tag = tag
        self.work = work
        self.netns = []
        self.procs = []  # (name, Popen)
        self.closed = False
        self.sw = f"{tag}sw"
        self._ns_add(self.sw)
        self._ip("-n", self.sw, "link", "add", "br0", "type", "bridge")
        self._ip("-n", self.sw, "link", "set", "br0", "up")

    @staticmethod
    def _ip(*args):
        subprocess.run(["ip", *args], check=True, stdout=subprocess.DEVNULL)

    def _ns_add(self, name):
        self._ip("netns", "add", name)
        self.netns.append(name)
        self._ip("-n", name, "link", "set", "lo", "up")

    def host(self, name, ifname, addr=None):
        """A namespace with one veth into the bridge; addr: kernel IPv4 or None (DPDK owns it)."""
        ns = f"{self.tag}{name}"
        self._ns_add(ns)
        peer = f"{ifname}b"
        self._ip("link", "add", ifname, "netns", ns, "type", "veth", "peer", "name", peer,
                 "netns", self.sw)
        self._ip("-n", self.sw, "link", "set", peer, "master", "br0")
        self._ip("-n", self.sw, "link", "set", peer, "up")
        self._ip("-n", ns, "link", "set", ifname, "up")
        if addr:
            self._ip("-n", ns, "addr", "add", f"{addr}/24", "dev", ifname)
        return ns

    def spawn(self, name, argv, ns=None, stdout=None):
        full = (["ip", "netns", "exec", ns] if ns else []) + argv
        out = open(os.path.join(self.work, f"{name}.out"), "w") if stdout is None else stdout
        err = open(os.path.join(self.work, f"{name}.log"), "w")
        p = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.procs.append((name, p))
        return p

    def stop(self, p, timeout=15):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return p.returncode

    def close(self):
        if self.closed:
            return
        self.closed = True
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.time() + 10
        for _, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for ns in reversed(self.netns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def geodesic_km(a, b):
    """WGS84 geodesic distance with PROJ's geod (Karney's algorithm)."""
    r = subprocess.run(["geod", "+ellps=WGS84", "-I", "+units=km", "-f", "%.6f"],
                       input=f"{a[0]} {a[1]} {b[0]} {b[1]}\n", capture_output=True, text=True,
                       check=True)
    return float(r.stdout.split()[2])


def fibre_rtt_us(em, km):
    """EMULATION model: RTT of a fibre path route_factor times the geodesic, at v = f*c."""
    one_way_s = em["route_factor"] * km / (em["fibre_velocity_factor"] * C_KM_S)
    return int(round(2 * one_way_s * 1e6 + em["fixed_rtt_ms"] * 1e3))


def pos(x):
    return (x["lat"], x["lon"])


def declared(lm):
    return pos(lm.get("declared", lm))


class Demo:
    def __init__(self, args, scenario, reuse=None, phase=1):
        self.a = args
        self.sc = scenario
        self.reuse = reuse  # an earlier phase's Demo: its identities are kept
        self.phase = phase
        self.build = os.path.abspath(args.build)
        self.lmctl = os.path.join(self.build, "src/lmctl/lmctl")
        self.landmarkd = os.path.join(self.build, "src/node/landmarkd")
        self.chipd = os.path.join(self.build, "src/chip/chipd")
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="landmark-net.", dir=args.tmp)
        self.tag = f"lmn{os.getpid() % 100000}" + ("" if phase == 1 else chr(ord("a") + phase - 2))
        self.net = None
        self.lms = scenario["landmarks"]
        self.chips = self._expand_chips(scenario["chips"])
        self.rounds = int(args.rounds or scenario.get("rounds", 1))
        self.k = int(scenario.get("challenges", 16))
        self.mode = scenario.get("mode", "fast")
        self.nats_port = None

    @staticmethod
    def _expand_chips(chips):
        """A liar presents one certificate per delay strategy, so each strategy gets a verdict."""
        out = []
        for c in chips:
            if c["role"] != "liar":
                out.append(dict(c, strategy="honest", label=c["name"]))
                continue
            for s in c.get("strategies", ["none"]):
                out.append(dict(c, strategy=s, label=f"{c['name']} [{s}]"))
        for i, c in enumerate(out):
            c["id"] = f"c{i}"
            # The certificate's serial names the chip (and a liar's strategy) on the map.
            c["serial"] = (c["name"] if c["strategy"] == "honest"
                           else f"{c['name']}/{c['strategy']}")[:32]
            if c.get("gpu") == "emulated":
                # gpu-attested (docs/protocol.md 3.7): the serial is the GPU id of its chain.
                c["serial"] = f"NVIDIA:GH100:{c['serial']}"[:32]
            c["label"] = c["serial"]
        return out

    def p(self, *names):
        return os.path.join(self.work, *names)

    def run(self, *argv, check_ok=False):
        r = subprocess.run(list(argv), capture_output=True, text=True)
        if r.returncode != 0 and not check_ok:
            raise Fail(f"{' '.join(argv[:3])}...: exit {r.returncode}: {r.stderr.strip()[:400]}")
        return r

    # ---- identities -------------------------------------------------------------------
    def _reused(self, name, *exts):
        """Copy an earlier phase's identity files (same roots, landmarks and chips)."""
        if self.reuse is None:
            return False
        srcs = [self.reuse.p(name + e) for e in exts]
        if not all(os.path.exists(x) for x in srcs):
            return False
        for x in srcs:
            shutil.copy(x, self.work)
        return True

    def pki(self):
        log(f"== identities (operator root, manufacturer root, {len(self.lms)} landmarks, "
            f"{len(self.chips)} chip certificates) in {self.work}"
            + (" (kept from the previous phase; new ones for new landmarks)" if self.reuse else ""))
        for root in ("operator-root", "vendor-root"):
            if not self._reused(root, ".key", ".pub"):
                self.run(self.lmctl, "keygen", self.p(root))
        for i, lm in enumerate(self.lms):
            lm["addr"] = f"{SUBNET}.{10 + i}"
            lm["agent_addr"] = f"{SUBNET}.{60 + i}"
            if self._reused(lm["name"], ".key", ".pub", ".dlg"):
                lm["pub"] = open(self.p(lm["name"] + ".pub")).read().strip()
                continue
            self.run(self.lmctl, "keygen", self.p(lm["name"]))
            lat, lon = declared(lm)
            self.run(self.lmctl, "delegate", "--root-key", self.p("operator-root.key"),
                     "--landmark-pub", self.p(lm["name"] + ".pub"), "--site", lm["name"],
                     "--lat", f"{lat}", "--lon", f"{lon}", "--days", "7",
                     "--out", self.p(lm["name"] + ".dlg"))
            lm["pub"] = open(self.p(lm["name"] + ".pub")).read().strip()
        self.gpu_chains = []
        roots = []
        prev = {c["serial"]: c["id"] for c in self.reuse.chips} if self.reuse else {}
        for i, c in enumerate(self.chips):
            c["addr"] = f"{SUBNET}.{110 + i}"
            # (an emulated-GPU chip gets a new GPU and certificate in every phase)
            if (c["serial"] in prev and c.get("gpu") != "emulated"
                    and self._reused(prev[c["serial"]], ".key", ".pub", ".crt")):
                for e in (".key", ".pub", ".crt"):
                    os.replace(self.p(prev[c["serial"]] + e), self.p(c["id"] + e))
                c["pub"] = open(self.p(c["id"] + ".pub")).read().strip()
                continue
            self.run(self.lmctl, "keygen", self.p(c["id"]))
            gpu = []
            if c.get("gpu") == "emulated":
                # EMULATION: a test GPU attestation key and chain (lmctl gpu-attest emulate),
                # registered with every landmark; the certificate carries its key hash.
                c["gpu_dir"] = self.p(c["id"] + ".gpu")
                os.makedirs(c["gpu_dir"])
                self.run(self.lmctl, "gpu-attest", "emulate", c["gpu_dir"], "--gpu-id",
                         c["serial"])
                chain = os.path.join(c["gpu_dir"], "chain.pem")
                root = os.path.join(c["gpu_dir"], "root.pem")
                gpu = ["--key-class", "gpu-attested", "--gpu-chain", chain, "--gpu-root", root]
                self.gpu_chains.append(chain)
                roots.append(open(root).read())
            self.run(self.lmctl, "certify", "--mfr-key", self.p("vendor-root.key"),
                     "--chip-pub", self.p(c["id"] + ".pub"), "--model", "H100-SXM5",
                     "--serial", c["serial"], *gpu,
                     "--out", self.p(c["id"] + ".crt"))
            c["pub"] = open(self.p(c["id"] + ".pub")).read().strip()
        if roots:
            with open(self.p("gpu-roots.pem"), "w") as f:
                f.write("".join(roots))
            log(f"   {len(roots)} emulated GPU(s) (EMULATION: attestation keys in files), "
                "registered with every landmark")

    # ---- processes --------------------------------------------------------------------
    def start_nats(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.nats_port = s.getsockname()[1]
        s.close()
        os.makedirs(self.p("nats"))
        p = self.net.spawn("nats-server", ["nats-server", "-a", "127.0.0.1", "-p",
                                           str(self.nats_port), "-js", "-sd", self.p("nats")])
        self.nats_url = f"nats://127.0.0.1:{self.nats_port}"
        # Ready = our process is alive, logged "Server is ready" and accepts on the port (a
        # port taken between the probe above and the bind would otherwise pass as ours).
        logf = os.path.join(self.net.work, "nats-server.log")
        for _ in range(100):
            if p.poll() is not None:
                raise Fail(f"nats-server exited ({p.returncode}), see {logf}")
            with socket.socket() as s:
                if (s.connect_ex(("127.0.0.1", self.nats_port)) == 0
                        and "Server is ready" in open(logf).read()):
                    log(f"== NATS JetStream on {self.nats_url}")
                    return
            time.sleep(0.1)
        raise Fail("nats-server did not start")

    def landmark_conf(self, lm):
        conf = self.p(lm["name"] + ".conf")
        with open(conf, "w") as f:
            f.write(f"""# landmarkd for {lm['name']} ({lm['site']}), written by tools/beacon_net.py
ports = ( {{ port_id = 0; address = "{lm['addr']}"; prefix_len = 24; }} );
key_file = "{self.p(lm['name'] + '.key')}";
delegation_file = "{self.p(lm['name'] + '.dlg')}";
manufacturer_roots = [ "{self.p('vendor-root.pub')}" ];
operator_roots = [ "{self.p('operator-root.pub')}" ];
feed_dir = "{self.p(lm['name'] + '.feed')}";
counters_file = "{self.p(lm['name'] + '.counters.json')}";
challenges = {self.k};
reply_timeout_us = 2000000;
hello_rate_per_source = 20;
hello_burst_per_source = 20;
calibration_ms = {self.a.calibration_ms};
batch_interval_ms = 200;
link_wait_ms = 1000;
idle = "backoff";
""")
            if self.gpu_chains:
                chains = ", ".join(f'"{c}"' for c in self.gpu_chains)
                f.write(f'gpu_roots = "{self.p("gpu-roots.pem")}";\n'
                        f"gpu_chain_files = [ {chains} ];\n")
        return conf

    def start_landmarks(self):
        log(f"== {len(self.lms)} landmarks (landmarkd, DPDK net_af_packet, own namespace each)")
        for i, lm in enumerate(self.lms):
            ns = self.net.host(f"L{i}", f"l{i}")
            lm["ns"] = ns
            conf = self.landmark_conf(lm)
            lm["proc"] = self.net.spawn(lm["name"], [
                self.landmarkd, "--no-huge", "-m", "256", "--no-pci", "-l", "0,1",
                "--file-prefix", f"{self.tag}{i}", "--log-level", "lib.*:error",
                f"--vdev=net_af_packet0,iface=l{i}", "--", "-c", conf], ns=ns)
        deadline = time.time() + 60
        for lm in self.lms:
            logf = self.p(lm["name"] + ".log")
            while True:
                if "landmarkd: ready" in open(self.p(lm["name"] + ".out")).read():
                    break
                if lm["proc"].poll() is not None or time.time() > deadline:
                    raise Fail(f"landmarkd {lm['name']} did not start:\n{open(logf).read()[-2000:]}")
                time.sleep(0.1)
            mark = " (DECLARED POSITION IS WRONG)" if "declared" in lm else ""
            log(f"   {lm['name']:6} {lm['site']:16} {lm['addr']:14} "
                f"lat {declared(lm)[0]:8.4f} lon {declared(lm)[1]:9.4f}{mark}")

    def start_metrics(self):
        """The first landmark's /metrics sidecar (landmarkd itself serves no HTTP)."""
        import socket
        lm = self.lms[0]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.metrics_port = s.getsockname()[1]
        self.net.spawn(lm["name"] + "-serve", [
            self.lmctl, "feed", "serve", "--port", str(self.metrics_port), "--node-counters",
            self.p(lm["name"] + ".counters.json"), self.p(lm["name"] + ".feed")])
        log(f"   metrics of {lm['name']}: http://127.0.0.1:{self.metrics_port}/metrics")

    def scrape_metrics(self):
        import urllib.request
        lm = self.lms[0]
        text = ""
        for _ in range(50):
            try:
                text = urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.1)
        path = os.path.join(self.out, f"metrics-{lm['name']}.txt")
        with open(path, "w") as f:
            f.write(text)
        records = [line for line in text.splitlines()
                   if line.startswith("landmark_node_ctrl_records_total ")]
        log(f"== /metrics of {lm['name']}: "
            + (records[0] if records else "no landmark_node_ctrl_records_total") + f" ({path})")
        return path

    def start_exporters(self):
        for lm in self.lms:
            lm["exporter"] = self.net.spawn(lm["name"] + "-export", [
                self.lmctl, "feed", "export", "--nats", self.nats_url,
                self.p(lm["name"] + ".feed")])

    def chipd_conf(self, name, key, cert, targets, sessions, gpu_dir=None):
        conf = self.p(name + ".chipd.conf")
        rows = ",\n".join(
            f'  {{ address = "{t["addr"]}"; public_key = "{t["pub"]}"; '
            f'emulated_rtt_us = {t["rtt_us"]}; }}' for t in targets)
        # A chip with an (emulated) GPU proves in gpu-attested mode: the GPU signs each answer.
        mode = "gpu-attested" if gpu_dir else self.mode
        gpu = (f'gpu_backend = "emulated";\ngpu_dir = "{gpu_dir}";\nevidence_linger_ms = 300;\n'
               if gpu_dir else "")
        with open(conf, "w") as f:
            f.write(f"""# chipd {name}: EMULATION of geography (delays from the true geodesic distance)
key_file = "{key}";
cert_file = "{cert}";
{gpu}mode = "{mode}";
sessions = {sessions};
session_interval_ms = 50;
session_timeout_ms = 20000;
landmarks = (
{rows}
);
""")
        return conf

    def delays_for(self, true_pos, strategy, claimed=None, exclude=None):
        em = self.sc["emulation"]
        out = []
        for lm in self.lms:
            if lm is exclude:
                continue
            rtt = fibre_rtt_us(em, geodesic_km(true_pos, pos(lm)))
            if strategy.startswith("uniform:"):
                rtt += int(float(strategy.split(":")[1]) * 1000)
            elif strategy == "mimic-claimed":
                # Answer as late as a chip at the claimed place would; it can never answer
                # earlier than its true distance allows.
                rtt = max(rtt, fibre_rtt_us(em, geodesic_km(claimed, pos(lm))))
            out.append({"addr": lm["addr"], "pub": lm["pub"], "rtt_us": rtt, "lm": lm["name"]})
        return out

    def run_provers(self, jobs, what):
        """Run chipd jobs, a.parallel at a time (bounded in time)."""
        log(f"== measuring {what}: {len(jobs)} prover(s), {self.rounds} round(s) of {self.k} "
            f"{self.mode}-mode challenges per landmark, {self.a.parallel} at a time")
        # chipd busy-polls while a session is open: on a 2-core machine more provers at once
        # than cores only adds scheduling noise (which inflates RTTs, never shrinks them).
        deadline = time.time() + self.a.measure_timeout
        running = []
        while jobs or running:
            while jobs and len(running) < self.a.parallel:
                label, name, ns, conf = jobs.pop(0)
                running.append((label, self.net.spawn(name, [self.chipd, "-c", conf], ns=ns)))
            for item in list(running):
                label, p = item
                if p.poll() is not None:
                    running.remove(item)
                    if p.returncode != 0:
                        log(f"   warning: chipd {label} exit status {p.returncode}")
            if time.time() > deadline:
                raise Fail(f"provers did not finish in {self.a.measure_timeout}s")
            time.sleep(0.05)

    def measure_mesh(self):
        """Every landmark proves itself to every other one (its mesh agent holds its key and
        delegation): the landmark-to-landmark records of the audit."""
        jobs = []
        for i, lm in enumerate(self.lms):
            ns = self.net.host(f"A{i}", f"a{i}", lm["agent_addr"])
            targets = self.delays_for(pos(lm), "honest", exclude=lm)
            conf = self.chipd_conf(lm["name"] + "-agent", self.p(lm["name"] + ".key"),
                                   self.p(lm["name"] + ".dlg"), targets, self.rounds)
            jobs.append((lm["name"] + " (mesh agent)", lm["name"] + "-agent", ns, conf))
        self.run_provers(jobs, "landmark to landmark")

    def prepare_chips(self):
        """Namespaces and configurations of every chip, before the clock starts."""
        jobs = []
        for c in self.chips:
            ns = self.net.host(c["id"].upper(), c["id"], c["addr"])
            targets = self.delays_for(pos(c), c["strategy"], c.get("claimed") and pos(c["claimed"]))
            conf = self.chipd_conf(c["id"], self.p(c["id"] + ".key"), self.p(c["id"] + ".crt"),
                                   targets, self.rounds, c.get("gpu_dir"))
            jobs.append((c["label"], c["id"], ns, conf))
        return jobs

    def start_live_locators(self):
        """Two long-running locators in one JetStream consumer group, trusting only the
        landmarks that passed the audit, emitting verdicts as records arrive."""
        self.live = []
        for i in range(2):
            out = self.p(f"live{i}")
            self.live.append((out, self.net.spawn(f"live{i}", [
                self.lmctl, "locate", "--nats", self.nats_url, "--durable", "live",
                "--root", self.p("operator-root.pub"), "--mfr", self.p("vendor-root.pub"),
                "--declared", self.p("declared.txt"), "--mesh", self.p("mesh.json"),
                "--timeout", str(self.a.measure_timeout + 300),
                "--out", out])))
        log("== live locators: 2 processes in one JetStream consumer group (lmctl locate --nats)")

    def _live_best(self):
        """Each chip's latest live verdict: the one built from the most records."""
        best = {}
        for i in range(len(self.live)):
            for line in open(self.p(f"live{i}.out")):
                try:
                    v = json.loads(line)
                except ValueError:
                    continue
                if "chip" not in v or "verdict" not in v:
                    continue
                key = v["chip"]
                if key not in best or len(v["records"]) >= len(best[key]["records"]):
                    best[key] = v
        return best

    def live_verdicts(self, expect, timeout=90):
        """Wait (bounded) until the live group has seen every chip record of the logs
        (expect: chip key -> record count), then stop it."""
        deadline = time.time() + timeout
        best = {}
        while time.time() < deadline:
            best = self._live_best()
            if all(len(best.get(k, {}).get("records", [])) >= n for k, n in expect.items()):
                break
            if all(p.poll() is not None for _, p in self.live):
                break
            time.sleep(0.5)
        for _, p in self.live:
            self.net.stop(p)
        return self._live_best()

    def stop_landmarks(self):
        log("== stopping landmarks (SIGTERM: feed flushed with fsync, ports closed)")
        for lm in self.lms:
            rc = self.net.stop(lm["proc"])
            if rc != 0:
                raise Fail(f"landmarkd {lm['name']} exit status {rc}")
        # Exporters drain what is left, then stop.
        for lm in self.lms:
            self.net.stop(lm["exporter"])
            r = self.run(self.lmctl, "feed", "export", "--nats", self.nats_url,
                         "--until-idle", "2", "--timeout", "60", self.p(lm["name"] + ".feed"),
                         check_ok=True)
            if r.returncode != 0:
                raise Fail(f"export of {lm['name']} left a backlog: {r.stderr[-400:]}")

    # ---- analysis ---------------------------------------------------------------------
    def dump(self, lm):
        r = self.run(self.lmctl, "feed", "dump", "--json", self.p(lm["name"] + ".feed"))
        recs = []
        for line in r.stdout.splitlines():
            obj = json.loads(line)
            rec = obj.get("record")
            if isinstance(rec, dict):
                recs.append(rec)
        return recs

    def verify_feeds(self):
        for lm in self.lms:
            self.run(self.lmctl, "feed", "verify", "--root", self.p("operator-root.pub"),
                     "--mfr", self.p("vendor-root.pub"), self.p(lm["name"] + ".feed"))
        log(f"== lmctl feed verify: all {len(self.lms)} feeds verify")

    def cross_verify(self):
        """tools/verify-feed (Node.js, written from the docs) on every feed, from the binary
        log, from `lmctl feed dump --json` alone and over NATS: it must accept exactly the
        records lmctl feed verify accepted, and reject a tampered record as lmctl does."""
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-feed")
        if shutil.which("node") is None:
            raise Fail("node not installed (tools/setup.sh): cannot run tools/verify-feed")
        base = ["node", os.path.join(src, "verify-feed.mjs"), "--root",
                self.p("operator-root.pub"), "--mfr", self.p("vendor-root.pub")]

        def node(*argv):
            rep = self.p("verify-feed.report.json")
            r = subprocess.run(base + list(argv) + ["--report", rep], capture_output=True,
                               text=True, timeout=600)
            got = json.load(open(rep)) if os.path.exists(rep) else {"records": []}
            return r.returncode, set(got["records"]), (r.stdout.strip().splitlines() or [""])[-1]

        res = {"log": True, "json": True, "nats": True, "tamper": True}
        want = set()
        for lm in self.lms:
            feed = self.p(lm["name"] + ".feed")
            hashes = {r["record_hash"] for r in self.dump(lm)}
            want |= hashes
            rc, got, last = node("--log", feed)
            res["log"] &= rc == 0 and got == hashes
            dump = self.p(lm["name"] + ".dump.json")
            with open(dump, "w") as f:
                subprocess.run([self.lmctl, "feed", "dump", "--json", feed], stdout=f, check=True)
            rc2, got2, last2 = node("--json", dump)
            res["json"] &= rc2 == 0 and got2 == hashes
            log(f"   {lm['name']}: verify-feed log: {last}; JSON alone: {last2}")
        rc, got, last = node("--nats", self.nats_url, "--timeout", "120")
        res["nats"] = rc == 0 and got == want
        log(f"   NATS stream: verify-feed: {last}")
        bad = self.p("tampered.feed")
        shutil.copytree(self.p(self.lms[0]["name"] + ".feed"), bad)
        where = None
        for nth in range(1, 20):  # the first record whose last sample was not lost
            t = subprocess.run([sys.executable, os.path.join(src, "tamper.py"), bad, str(nth)],
                               capture_output=True, text=True)
            if t.returncode == 0:
                where = t.stdout.strip()
                break
        if where is None:
            raise Fail(f"tamper.py found no record to tamper with: {t.stderr[-300:]}")
        lm_rc = self.run(self.lmctl, "feed", "verify", "--root", self.p("operator-root.pub"),
                         "--mfr", self.p("vendor-root.pub"), bad, check_ok=True).returncode
        n_rc = node("--log", bad)[0]
        res["tamper"] = lm_rc == 1 and n_rc == 1
        res["records"] = len(want)
        log(f"== tools/verify-feed (Node.js) agrees with lmctl feed verify on {len(want)} "
            f"records: log {res['log']}, JSON {res['json']}, NATS {res['nats']}; a tampered "
            f"RTT ({where}): lmctl exit {lm_rc}, verify-feed exit {n_rc}")
        return res

    def mesh_audit(self):
        """lmctl mesh over the verified landmark-to-landmark records of every feed. The demo
        states its assumption: at most one landmark is misplaced (--max-misplaced 1); with a
        larger F a landmark with violations against only two correct ones stays unresolved
        together with them (docs/locator.md, "Mesh audit")."""
        r = self.run(self.lmctl, "mesh", "--max-misplaced", "1", "--root",
                     self.p("operator-root.pub"), "--mfr", self.p("vendor-root.pub"), "--feeds",
                     *[self.p(lm["name"] + ".feed") for lm in self.lms], check_ok=True)
        if r.returncode not in (0, 1):
            raise Fail(f"lmctl mesh: {r.stderr[-400:]}")
        audit = json.loads(r.stdout)
        with open(self.p("mesh.json"), "w") as f:
            json.dump(audit, f, indent=1)
        shutil.copy(self.p("mesh.json"), os.path.join(self.out, "mesh.json"))
        flagged = {f["name"] for f in audit.get("flagged", [])}
        for c in audit.get("conflicts", []):
            flagged.add(c["name"])
        log("== mesh audit over the landmark-to-landmark records: "
            + (f"flagged {', '.join(sorted(flagged))} (not trusted from here on)"
               if flagged else "no landmark flagged"))
        for f in audit.get("flagged", []):
            ev = f.get("evidence", [])[:2]
            for e in ev:
                log(f"   {f['name']}: RTT {e['rtt_ms']:.3f} ms to {e['with']} allows at most "
                    f"{e['light_bound_km']:.0f} km, declared {e['declared_km']:.0f} km apart")
        return flagged, audit

    @staticmethod
    def _hexkey(b64):
        import base64
        return base64.b64decode(b64).hex()

    def write_declared(self):
        with open(self.p("declared.txt"), "w") as f:
            f.write("# chip key (hex) and the country it declares\n")
            for c in self.chips:
                f.write(f"{self._hexkey(c['pub'])} {c['declared_country']}\n")

    def locate(self):
        """File mode, from the logs alone: the same verdicts the live locators reached."""
        out = self.p("locate")
        r = self.run(self.lmctl, "locate", "--root", self.p("operator-root.pub"),
                     "--mfr", self.p("vendor-root.pub"), "--out", out,
                     "--declared", self.p("declared.txt"), "--mesh", self.p("mesh.json"),
                     *[self.p(lm["name"] + ".feed") for lm in self.lms], check_ok=True)
        if r.returncode == 2:
            raise Fail(f"lmctl locate: {r.stderr[-600:]}")
        return out, json.load(open(os.path.join(out, "verdicts.json")))

    def start_complianced(self, flagged):
        """The compliance service (lm-complianced) follows this phase's JetStream feed as a
        consumer group of one, its chip states in a JetStream key-value bucket, while the
        chips are measured; its statuses are compared with the signed report's at the end."""
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.cpd_port = s.getsockname()[1]
        scen = self.p("scenario.json")
        with open(scen, "w") as f:
            json.dump({"landmarks": [{k: lm[k] for k in ("name", "lat", "lon", "declared")
                                      if k in lm} for lm in self.lms]}, f)
        q = lambda v: '"' + v + '"'
        conf = self.p("lm-complianced.conf")
        with open(conf, "w") as f:
            f.write(f"""# lm-complianced for the beacon network, written by tools/beacon_net.py
licences = {q(os.path.join(self.out, "licences.json"))};
issuer_roots = [ {q(os.path.join(self.out, "licence-root.pub"))} ];
operator_roots = [ {q(self.p("operator-root.pub"))} ];
manufacturer_roots = [ {q(self.p("vendor-root.pub"))} ];
landmarks = [ {q(scen)} ];
exclude_landmarks = [ {", ".join(q(x) for x in sorted(flagged))} ];
source = "nats";
nats_urls = {q(self.nats_url)};
nats_durable = "compliance";
http_listen = "127.0.0.1";
http_port = {self.cpd_port};
tick_ms = 1000;
""")
        self.cpd = self.net.spawn("lm-complianced", [
            os.path.join(self.build, "src/compliance/lm-complianced"), "-c", conf])
        log(f"== compliance service: lm-complianced on http://127.0.0.1:{self.cpd_port}/v1/status "
            "(JetStream consumer group, chip states in a key-value bucket)")

    def complianced_statuses(self, want, timeout=90):
        """Poll /v1/status (bounded) until it has caught up and equals want (label -> status)."""
        import urllib.request
        got = {}
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                st = json.load(urllib.request.urlopen(
                    f"http://127.0.0.1:{self.cpd_port}/v1/status", timeout=5))
                got = {c.get("label"): c.get("status") for c in st.get("chips", [])}
                if st.get("caught_up") and got == want:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(1)
        self.net.stop(self.cpd)
        return got

    def locate_page(self, out, report):
        """The map and fleet page of this phase: locate again with the signed report."""
        r = self.run(self.lmctl, "locate", "--root", self.p("operator-root.pub"),
                     "--mfr", self.p("vendor-root.pub"), "--out", out,
                     "--declared", self.p("declared.txt"), "--mesh", self.p("mesh.json"),
                     "--fleet", report,
                     *[self.p(lm["name"] + ".feed") for lm in self.lms], check_ok=True)
        if r.returncode == 2:
            raise Fail(f"lmctl locate --fleet: {r.stderr[-600:]}")

    def nats_matches_logs(self):
        local = set()
        for lm in self.lms:
            local |= {r["record_hash"] for r in self.dump(lm)}
        r = self.run(self.lmctl, "feed", "tail", "--nats", self.nats_url, "--count",
                     str(len(local)), "--timeout", "10", check_ok=True)
        remote = []
        for line in r.stdout.splitlines():
            obj = json.loads(line)
            rec = obj.get("record", obj)
            if isinstance(rec, dict) and "record_hash" in rec:
                remote.append(rec["record_hash"])
        same = sorted(remote) == sorted(local)
        log(f"== NATS JetStream holds {len(remote)} records, local logs {len(local)}: "
            + ("identical, each exactly once" if same else "MISMATCH"))
        return same, len(local), len(remote)


# ---- compliance (issue 12): licences, coverage and the planner, the signed report -------
ALERT_STATUSES = ("unproven", "violation", "silent", "clone", "revoked")


def licence_label(c):
    """The licence label of a chip (at most 16 printable ASCII: docs/compliance.md)."""
    base = c["name"].replace("chip-", "")
    if c["strategy"] != "honest":
        base += "/" + {"none": "plain", "mimic-claimed": "mimic"}.get(
            c["strategy"], c["strategy"].replace("uniform:", "u"))
    return base[:16]


def write_licences(demo, out):
    """Every chip with a "licence" in the scenario gets one, issued by a licence root."""
    lic = []
    for c in demo.chips:
        spec = c.get("licence")
        if not spec:
            continue
        entry = {"chip": {"kind": "chip-key", "id": demo._hexkey(c["pub"])},
                 "label": licence_label(c), "not_before": int(time.time()) - 86400,
                 "not_after": int(time.time()) + 30 * 86400,
                 "proof_interval_s": spec.get("proof_interval_s", 86400)}
        for k in ("site", "countries", "min_key_class"):
            if k in spec:
                entry[k] = spec[k]
        lic.append(entry)
    for name in ("licence-root", "reporter"):  # this run's own (an earlier run's are stale)
        for ext in (".key", ".pub"):
            if os.path.exists(os.path.join(out, name + ext)):
                os.remove(os.path.join(out, name + ext))
        demo.run(demo.lmctl, "keygen", os.path.join(out, name))
    if os.path.exists(os.path.join(out, "licences.json")):
        os.remove(os.path.join(out, "licences.json"))
    with open(os.path.join(out, "licences.in.json"), "w") as f:
        json.dump({"version": 1, "serial": 1, "licences": lic}, f, indent=1)
    demo.run(demo.lmctl, "licence", "issue", "--issuer-key",
             os.path.join(out, "licence-root.key"), "--in",
             os.path.join(out, "licences.in.json"), "--out", os.path.join(out, "licences.json"))
    log(f"== licences: {len(lic)} chips licensed to a site and/or countries "
        f"({os.path.join(out, 'licences.json')}, signed by {os.path.join(out, 'licence-root.pub')})")
    return len(lic)


def run_compliance(demo, lic_dir, flagged, since, phase_out):
    """Coverage and the planner from the landmarks' declared positions, then the signed
    report over this phase's verified feeds (flagged landmarks left out)."""
    here = os.path.dirname(os.path.abspath(__file__))
    lic = ["--licences", os.path.join(lic_dir, "licences.json"),
           "--licence-root", os.path.join(lic_dir, "licence-root.pub")]
    scen = demo.p("scenario.json")
    with open(scen, "w") as f:
        json.dump({"landmarks": [{k: lm[k] for k in ("name", "lat", "lon", "declared") if k in lm}
                                 for lm in demo.lms]}, f)
    excl = [a for name in sorted(flagged) for a in ("--exclude", name)]
    cand = os.path.join(here, "..", demo.sc.get("compliance", {}).get(
        "candidates", "conf/colocation-sites.csv"))
    os.makedirs(phase_out, exist_ok=True)
    cov = os.path.join(phase_out, "coverage.json")
    demo.run(demo.lmctl, "coverage", *lic, "--landmarks", scen, *excl, "--suggest", "1",
             "--candidates", cand, "--out", cov)
    coverage = json.load(open(cov))
    rep_dir = os.path.join(phase_out, "report")
    r = demo.run(demo.lmctl, "report", *lic, "--root", demo.p("operator-root.pub"),
                 "--mfr", demo.p("vendor-root.pub"), "--key", os.path.join(lic_dir, "reporter.key"),
                 "--since", str(int(since)), "--until", str(int(time.time()) + 1),
                 "--coverage", cov, *[a for name in sorted(flagged)
                                      for a in ("--exclude-landmark", name)],
                 "--out", rep_dir, *[demo.p(lm["name"] + ".feed") for lm in demo.lms],
                 check_ok=True)
    if r.returncode not in (0, 1):
        raise Fail(f"lmctl report: {r.stderr[-600:]}")
    report = json.load(open(os.path.join(rep_dir, "report.json")))
    v = demo.run(demo.lmctl, "report", "verify", "--reporter", os.path.join(lic_dir, "reporter.pub"),
                 "--csv", os.path.join(rep_dir, "report.csv"), *lic,
                 os.path.join(rep_dir, "report.json"), check_ok=True)
    alerts = [{"chip": c["label"], "chip_id": c["chip"], **a}
              for c in report["chips"] for a in c.get("open_alerts", [])]
    with open(os.path.join(phase_out, "alerts.json"), "w") as f:
        json.dump(alerts, f, indent=1)
    return coverage, report, alerts, v.returncode == 0


def suggested_sites(coverage):
    """The planner's picks (lmctl coverage --suggest): name, lat, lon, makes_coverable."""
    return (coverage.get("suggest") or {}).get("picks", [])


def service_check(demo, report):
    """The compliance service's live statuses equal the one-shot report's."""
    want = {c.get("label"): c["status"] for c in report["chips"]}
    got = demo.complianced_statuses(want)
    same = got == want
    log("== compliance service (lm-complianced, live over NATS) "
        + ("agrees with the signed report on every chip" if same
           else f"DIFFERS from the report: {got} vs {want}"))
    return same


def print_statuses(report, coverage, alerts):
    cov = {c.get("label") or c.get("chip"): c for c in coverage.get("licences", [])}
    log(f"{'chip':18} {'licensed place':28} {'status':12} {'last proof':22} coverage")
    log("-" * 100)
    for c in report["chips"]:
        pl = c.get("place") or {}
        where = []
        if pl.get("site"):
            where.append(f"{pl['site'].get('name', 'site')} {pl['site']['radius_m'] // 1000} km")
        if pl.get("countries"):
            where.append(",".join(pl["countries"]))
        lp = c.get("last_proof")
        when = time.strftime("%H:%M:%S", time.gmtime(lp["t_start_ns"] / 1e9)) if lp else "never"
        k = cov.get(c.get("label")) or {}
        off = k.get("off_km")
        covs = ("coverable" if c.get("coverable") else "UNCOVERABLE") + (
            f" (off {off:.0f} km)" if not c.get("coverable") and isinstance(off, (int, float))
            and off > 0 else "")
        log(f"{c.get('label', c['chip'][:16]):18} {' in '.join(where)[:28]:28} {c['status']:12} "
            f"{when:22} {covs}")
    log(f"open alerts: {len(alerts)}" + "".join(
        f"\n   ALERT {a['status']}: {a['chip']} since "
        f"{time.strftime('%H:%M:%S', time.gmtime(a['since']))}, {len(a.get('evidence', []))} evidence records"
        for a in alerts))


def chip_rows(demo, verdicts, live):
    """One row per chip: verdict against its declared country and the tightest landmark."""
    lm_by_name = {lm["name"]: lm for lm in demo.lms}
    rows = []
    for c in demo.chips:
        key = demo._hexkey(c["pub"])
        windows = [e for e in verdicts.get("chips", []) if e.get("chip") == key]
        row = {"_key": key, "chip": c["label"], "role": c["role"], "strategy": c["strategy"],
               "declared": c["declared_country"], "true_lat": c["lat"], "true_lon": c["lon"],
               "verdict": "no records", "area_km2": None, "nearest": None, "bound_km": None,
               "truth_inside": None, "records": 0, "live_verdict": None, "live_records": 0,
               "gpu": c.get("gpu"), "key_class": None}
        if windows:
            w = windows[-1]
            row["key_class"] = w.get("key_class")
            row["record_key_classes"] = sorted({r.get("key_class") for r in w["records"]})
            row["verdict"] = w["verdict"]["result"] if w.get("feasible") else "infeasible"
            row["area_km2"] = w.get("area_km2")
            row["records"] = len(w["records"])
            best = min(w["records"], key=lambda r: r["radius_km"])
            row["nearest"], row["bound_km"] = best["landmark"], best["radius_km"]
            # The exact region is the intersection of the caps: the truth is in it iff it is
            # within every cap's radius of that landmark's declared position.
            row["truth_inside"] = all(
                geodesic_km(pos(c), declared(lm_by_name[r["landmark"]])) <= r["radius_km"]
                for r in w["records"])
        lv = live.get(key)
        if lv is not None:
            row["live_verdict"] = lv["verdict"]["result"] if lv.get("feasible") else "infeasible"
            row["live_records"] = len(lv["records"])
        rows.append(row)
    return rows


def print_table(rows):
    log("")
    log(f"{'chip':32} {'declared':8} {'area km2':>12} {'verdict':13} {'nearest':8} {'bound km':>9}")
    log("-" * 87)
    for r in rows:
        area = f"{r['area_km2']:.0f}" if isinstance(r["area_km2"], (int, float)) else "-"
        bound = f"{r['bound_km']:.0f}" if isinstance(r["bound_km"], (int, float)) else "-"
        log(f"{r['chip']:32} {r['declared']:8} {area:>12} {str(r['verdict']):13} "
            f"{str(r['nearest'] or '-'):8} {bound:>9}")
    log("")


def run_phase(demo):
    """One beacon-network run: identities, landmarks, the mesh audit, the chips, the feeds
    verified two ways, the locator from the logs and live over NATS."""
    t0 = time.time()
    demo.pki()
    demo.write_declared()
    demo.net = Network(demo.tag, demo.work)
    demo.start_nats()
    demo.start_landmarks()
    demo.start_exporters()
    demo.start_metrics()
    # A landmark enters service only once the mesh audit passed (docs/deploy.md).
    demo.measure_mesh()
    time.sleep(1)  # the last batch (batch_interval_ms) reaches the logs
    flagged, audit = demo.mesh_audit()
    if demo.sc.get("compliance"):
        if demo.phase == 1:
            write_licences(demo, demo.out)
        demo.start_complianced(flagged)
    jobs = demo.prepare_chips()
    demo.start_live_locators()
    demo.run_provers(jobs, "chips")
    time.sleep(1.5)  # one more counters-file rewrite after the last session
    metrics_path = demo.scrape_metrics()
    demo.stop_landmarks()
    demo.verify_feeds()
    nats_same, n_local, n_remote = demo.nats_matches_logs()
    cross = demo.cross_verify()
    out, verdicts = demo.locate()
    expect = {}
    for w in verdicts.get("chips", []):
        expect[w["chip"]] = max(expect.get(w["chip"], 0), len(w["records"]))
    live = demo.live_verdicts(expect)
    rows = chip_rows(demo, verdicts, live)
    print_table(rows)
    same = all(r["live_verdict"] == r["verdict"] and r["live_records"] == r["records"]
               for r in rows)
    log("== live verdicts (NATS consumer group) "
        + ("equal the verdicts from the logs alone" if same else "DIFFER from the logs"))
    for name in ("verdicts.json", "locate.geojson", "map.html"):
        shutil.copy(os.path.join(out, name), os.path.join(demo.out, name))
    summary = {"scenario": demo.sc["name"], "flagged": sorted(flagged),
               "misplaced": [lm["name"] for lm in demo.lms if "declared" in lm],
               "nats_equals_logs": nats_same, "metrics": metrics_path,
               "records_local": n_local, "records_nats": n_remote,
               "verify_feed": cross,
               "live_equals_logs": same, "chips": rows, "out": demo.out,
               "seconds": round(time.time() - t0, 1)}
    return {"summary": summary, "flagged": flagged, "out": out, "verdicts": verdicts}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=os.path.join(here, "../conf/scenarios/europe-us.json"))
    ap.add_argument("--build", default=os.path.join(here, "../build"))
    ap.add_argument("--out", default="landmark-out")
    ap.add_argument("--rounds", type=int, help="measurement rounds (default: the scenario's)")
    ap.add_argument("--calibration-ms", type=int, default=500, dest="calibration_ms")
    ap.add_argument("--parallel", type=int, default=2, help="provers measuring at once")
    ap.add_argument("--measure-timeout", type=int, default=300, dest="measure_timeout")
    ap.add_argument("--tmp", default=None, help="parent of the work directory")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--summary", help="write the results as JSON here (tests read it)")
    ap.add_argument("--one-phase", action="store_true", dest="one_phase",
                    help="compliance scenarios: stop after phase 1 (no suggested landmark)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("beacon network: must run as root (network namespaces)")
    scenario = json.load(open(args.scenario))
    pristine = copy.deepcopy(scenario)  # Demo keeps processes in its landmark and chip dicts
    demo = Demo(args, scenario)
    log(f"landmark beacon network '{scenario['name']}': {scenario['description']}")
    log("Geography is EMULATED by chipd from the true positions (conf/scenarios/*.json).")

    holder = {}

    def cleanup(*_):
        for d in (demo, holder.get("demo2")):
            if d is None:
                continue
            if d.net:
                d.net.close()
            if not args.keep:
                shutil.rmtree(d.work, ignore_errors=True)
            else:
                log(f"kept {d.work}")

    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    t0 = time.time()
    try:
        ph1 = run_phase(demo)
        summary = ph1["summary"]
        comp = scenario.get("compliance")
        if comp:
            lic_dir = demo.out
            write_licences(demo, lic_dir)
            cov, rep, alerts, rep_ok = run_compliance(demo, lic_dir, ph1["flagged"], t0,
                                                      os.path.join(demo.out, "phase1"))
            log("== fleet status (lmctl report, signed; phase 1)")
            print_statuses(rep, cov, alerts)
            svc1 = service_check(demo, rep)
            picks = suggested_sites(cov)
            for pk in picks:
                log(f"== planner (lmctl coverage --suggest 1, greedy): a landmark at {pk['name']} "
                    f"({pk['lat']:.4f}, {pk['lon']:.4f}) makes "
                    + ", ".join(m["label"] for m in pk["makes_coverable"]) + " coverable")
            ph1_page = ph1["out"]
            demo.locate_page(ph1_page, os.path.join(demo.out, "phase1", "report", "report.json"))
            shutil.copy(os.path.join(ph1_page, "map.html"), os.path.join(demo.out, "phase1", "map.html"))
            phases = [{"phase": 1, "report": rep, "alerts": alerts, "coverage": cov,
                       "report_verified": rep_ok, "service": svc1}]
            final = (rep, alerts, cov, rep_ok, ph1)
            if picks and comp.get("second_phase", True) and not args.one_phase:
                # Phase 2: the suggested landmark joins (its own identity, audited like the
                # others); the chips that keep answering are measured again.
                sc2 = copy.deepcopy(pristine)
                for i, pk in enumerate(picks):
                    sc2["landmarks"].append({"name": f"new{i + 1}", "site": pk["name"],
                                             "lat": pk["lat"], "lon": pk["lon"]})
                sc2["chips"] = [c for c in sc2["chips"] if 2 in c.get("phases", [1, 2])]
                demo.net.close()
                demo.net = None
                demo2 = Demo(args, sc2, reuse=demo, phase=2)
                demo2.out = demo.out
                log("")
                log(f"== phase 2: the suggested landmark{'s' if len(picks) > 1 else ''} "
                    f"{', '.join(pk['name'] for pk in picks)} join{'' if len(picks) > 1 else 's'}; "
                    + ", ".join(c["name"] for c in pristine["chips"] if 2 not in c.get("phases", [1, 2]))
                    + " stop(s) answering")
                holder["demo2"] = demo2
                t1 = time.time()
                ph2 = run_phase(demo2)
                cov2, rep2, alerts2, rep2_ok = run_compliance(
                    demo2, lic_dir, ph2["flagged"], t1, os.path.join(demo.out, "phase2"))
                log("== fleet status (lmctl report, signed; phase 2)")
                print_statuses(rep2, cov2, alerts2)
                svc2 = service_check(demo2, rep2)
                demo2.locate_page(ph2["out"], os.path.join(demo.out, "phase2", "report", "report.json"))
                phases.append({"phase": 2, "report": rep2, "alerts": alerts2, "coverage": cov2,
                               "report_verified": rep2_ok, "service": svc2})
                final = (rep2, alerts2, cov2, rep2_ok, ph2)
                summary = ph2["summary"]
            rep_f, alerts_f, _, _, ph_f = final
            for name in ("verdicts.json", "locate.geojson", "map.html"):
                shutil.copy(os.path.join(ph_f["out"], name), os.path.join(demo.out, name))
            n = len(phases)
            shutil.copytree(os.path.join(demo.out, f"phase{n}", "report"),
                            os.path.join(demo.out, "report"), dirs_exist_ok=True)
            shutil.copy(os.path.join(demo.out, f"phase{n}", "alerts.json"),
                        os.path.join(demo.out, "alerts.json"))
            by_key = {c["chip"].split(":", 1)[1]: c for c in rep_f["chips"]}
            for row in summary["chips"]:
                row["phase_measured"] = len(phases)
            if len(phases) > 1:  # chips that stopped answering keep their phase-1 row
                seen = {row["_key"] for row in summary["chips"]}
                for row in ph1["summary"]["chips"]:
                    if row["_key"] not in seen:
                        summary["chips"].append(dict(row, phase_measured=1))
            for row in summary["chips"]:
                st = by_key.get(row.pop("_key", None))
                row["status"] = st["status"] if st else None
                row["licence_label"] = st.get("label") if st else None
            summary["alerts"] = alerts_f
            summary["phases"] = [{"phase": p["phase"], "report_verified": p["report_verified"],
                                  "statuses": {c.get("label"): c["status"] for c in p["report"]["chips"]},
                                  "summary": p["report"]["summary"],
                                  "suggested": [pk["name"] for pk in suggested_sites(p["coverage"])],
                                  "alerts": len(p["alerts"]),
                                  "service_equals_report": p["service"]} for p in phases]
            summary["page"] = os.path.join(demo.out, "map.html")
            summary["report"] = os.path.join(demo.out, "report", "report.json")
        summary["seconds"] = round(time.time() - t0, 1)
        for row in summary["chips"]:
            row.pop("_key", None)
        with open(os.path.join(demo.out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
        if args.summary:
            with open(args.summary, "w") as f:
                json.dump(summary, f, indent=1)
        log(f"Results in {demo.out}/: summary.json, mesh.json, verdicts.json, "
            f"locate.geojson and map.html (open it in a browser; it works offline).")
        if comp:
            log(f"Fleet page: {summary['page']} (statuses, alerts, history; works offline)")
            log(f"Signed report: {summary['report']} and report.csv (check it with lmctl "
                f"report verify --reporter {os.path.join(demo.out, 'reporter.pub')})")
            log(f"Alerts: {os.path.join(demo.out, 'alerts.json')} ({len(summary['alerts'])} open)")
        log(f"Finished in {summary['seconds']} s. Run again, longer or with another scenario:")
        log("  bash tools/demo.sh --rounds 5")
        log("  bash tools/demo.sh --scenario conf/scenarios/small.json --out /tmp/small")
    except Fail as e:
        log(f"beacon network FAILED: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
