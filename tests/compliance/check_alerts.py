#!/usr/bin/env python3
"""Alerts against the state (tests/compliance/complianced.sh).

usage: check_alerts.py KV.ndjson ALERTS.ndjson REF_KV.ndjson
KV: `cpd_tool kv` lines of a group's state bucket; ALERTS: `cpd_tool alerts` lines of its
alert stream; REF_KV: a reference member's bucket. Checks, per chip:
  - its history is every transition 1..gen (no gap) and each starts where the last ended;
  - nothing is left pending (every event was published and acknowledged);
  - the alert stream holds exactly the events of those transitions (cleared when the old
    status alerts, raised when the new one does), each once, with Nats-Msg-Id = its id;
  - its status equals the reference member's.
Exit 1 with the differences printed."""
import json
import sys

ALERTING = {"unproven", "violation", "silent", "clone", "revoked"}


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def chips(path):
    """The chip states of a bucket (keys of 64 hex digits; report claims are others)."""
    return {e["key"]: e["state"] for e in load(path) if len(e["key"]) == 64}


def main():
    kv = chips(sys.argv[1])
    alerts = load(sys.argv[2])
    ref = chips(sys.argv[3])
    bad = []
    ids = [a["msg_id"] for a in alerts]
    dups = {i for i in ids if ids.count(i) > 1}
    if dups:
        bad.append("duplicate alert ids: %s" % sorted(dups))
    for a in alerts:
        if a["alert"] is None or a["alert"]["id"] != a["msg_id"]:
            bad.append("seq %d: body id differs from Nats-Msg-Id" % a["seq"])
        elif not a["subject"].endswith("." + a["alert"]["chip"]):
            bad.append("seq %d: subject %s" % (a["seq"], a["subject"]))
    want = set()
    for key, st in kv.items():
        hist = st["history"]
        if st["gen"] <= 16 and [h["gen"] for h in hist] != list(range(1, st["gen"] + 1)):
            bad.append("%s: history gens %s, gen %d" % (key[:12], [h["gen"] for h in hist], st["gen"]))
        for prev, h in zip(hist, hist[1:]):
            if h["from"] != prev["to"]:
                bad.append("%s: gen %d from %s after %s" % (key[:12], h["gen"], h["from"], prev["to"]))
        if hist and hist[-1]["to"] != st["status"]:
            bad.append("%s: last transition to %s, status %s" % (key[:12], hist[-1]["to"], st["status"]))
        if st["pending"]:
            bad.append("%s: %d events still pending" % (key[:12], len(st["pending"])))
        for h in hist:
            if h["from"] in ALERTING:
                want.add("%s-%d-cleared" % (key, h["gen"]))
            if h["to"] in ALERTING:
                want.add("%s-%d-raised" % (key, h["gen"]))
        if key in ref and ref[key]["status"] != st["status"]:
            bad.append("%s: status %s, reference %s" % (key[:12], st["status"], ref[key]["status"]))
    if set(kv) != set(ref):
        bad.append("chips differ from the reference")
    have = set(ids)
    for i in sorted(want - have):
        bad.append("lost alert %s" % i)
    for i in sorted(have - want):
        bad.append("alert %s of no transition" % i)
    for b in bad:
        print("# " + b)
    print("# %d chips, %d transitions, %d alert events" % (
        len(kv), sum(s["gen"] for s in kv.values()), len(alerts)))
    return 1 if bad else 0


sys.exit(main())
