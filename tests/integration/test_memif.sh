#!/bin/bash
# Two landmarkd processes connected by net_memif measure each other (landmark-to-landmark,
# fast mode): each proves itself to the other with its own delegation, each writes records
# of the other into its feed, and both feeds verify.
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmA 52.37 4.89
make_landmark lmB 50.11 8.68
SOCK=$WORK/memif.sock

landmark_conf lmA 198.18.1.1 "challenges = 8; idle = \"backoff\";
peers = ( { address = \"198.18.1.2\"; public_key = \"$WORK/lmB.pub\"; interval_ms = 300; } );"
landmark_conf lmB 198.18.1.2 "challenges = 8; idle = \"backoff\";
peers = ( { address = \"198.18.1.1\"; public_key = \"$WORK/lmA.pub\"; interval_ms = 300; } );"

# memif needs no namespace; the processes still get their own --file-prefix.
netns_add "${TAG}M"
start_landmarkd lmA "${TAG}M" "net_memif0,role=server,id=0,socket=$SOCK"
start_landmarkd lmB "${TAG}M" "net_memif0,role=client,id=0,socket=$SOCK"

# Let them measure each other for a bounded time.
for i in $(seq 1 60); do
	sleep 0.25
	if [ -f "$WORK/lmA.counters.json" ] && [ -f "$WORK/lmB.counters.json" ] &&
		[ "$(counter lmA records)" -ge 3 ] && [ "$(counter lmB records)" -ge 3 ]; then
		break
	fi
done
fresh_counters lmA
stop_landmarkd lmA
stop_landmarkd lmB
wait "$PID_lmA" || fail "lmA exit status"
wait "$PID_lmB" || fail "lmB exit status"

for n in lmA lmB; do
	echo "# $n: records $(counter $n records), mesh reveals $(counter $n mesh_reveals)"
	$LMCTL feed verify --root "$WORK/op.pub" --mfr "$WORK/mfr.pub" "$WORK/$n.feed" ||
		fail "$n feed does not verify"
	$LMCTL feed dump --json "$WORK/$n.feed" >"$WORK/$n.dump" || fail "dump $n"
done
python3 - "$WORK" <<'EOP' || fail "record checks"
import json, sys
w = sys.argv[1]
def recs(n):
    out = []
    for l in open(f"{w}/{n}.dump"):
        o = json.loads(l)
        if isinstance(o.get("record"), dict):
            out.append(o["record"])
    return out
for me, other in (("lmA", "lmB"), ("lmB", "lmA")):
    rs = recs(me)
    assert len(rs) >= 3, f"{me}: {len(rs)} records"
    pk = open(f"{w}/{other}.pub").read().strip()
    for r in rs:
        assert r["mode"] == "fast", r["mode"]
        assert r["prover"]["kind"] == "landmark", f"{me}: prover is not a landmark"
    mins = sorted(r["rtt_min_ns"] for r in rs)
    print(f"# {me} measured {other}: {len(rs)} records, rtt_min {mins[0]} ns .. {mins[-1]} ns")
EOP
echo PASS
