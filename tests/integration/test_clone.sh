#!/bin/bash
# Clone detection end to end: one chip key held by two chipd instances at two emulated places.
# Two landmarkd nodes, declared 16,000 km apart (Amsterdam and Sydney), each in its own
# namespace on af_packet over a veth; two chipd processes with the SAME chip key and
# certificate measure one landmark each at the same time (emulated 100 km of fibre each).
# Each landmark's cap is a few hundred km: the two caps, even widened by the fastest
# plausible travel in the time between the sessions, are disjoint. `lmctl locate` must give
# one `clone` finding for the chip with a record of each landmark as evidence (verdicts.json,
# the GeoJSON and the map page), and `lmctl locate --nats` the same finding as an NDJSON line
# (when nats-server is installed). Control: with a maximum speed that joins the two places in
# the clock slack, there is no finding.
. "$(dirname "$0")/common.sh"

make_pki
make_landmark lmA 52.37 4.90
make_landmark lmB -33.87 151.21
netns_add "${TAG}A"
netns_add "${TAG}B"
netns_add "${TAG}C"
veth_pair "${TAG}A" vA "${TAG}C" vCA
veth_pair "${TAG}B" vB "${TAG}C" vCB
ip -n "${TAG}C" addr add 198.18.0.2/24 dev vCA
ip -n "${TAG}C" addr add 198.18.1.2/24 dev vCB

landmark_conf lmA 198.18.0.1 "challenges = 8;"
landmark_conf lmB 198.18.1.1 "challenges = 8;"
start_landmarkd lmA "${TAG}A" "net_af_packet0,iface=vA"
start_landmarkd lmB "${TAG}B" "net_af_packet1,iface=vB"

echo "# two chipd instances, one chip key, at the same time"
chip_conf "$WORK/chip-A.conf" signed 3 198.18.0.1 "$WORK/lmA.pub" "emulated_fibre_km = 100;"
chip_conf "$WORK/chip-B.conf" signed 3 198.18.1.1 "$WORK/lmB.pub" "emulated_fibre_km = 100;"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-A.conf" >"$WORK/chip-A.out" \
	2>"$WORK/chip-A.err" &
pa=$!
PIDS="$PIDS $pa"
timeout 60 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-B.conf" >"$WORK/chip-B.out" \
	2>"$WORK/chip-B.err" &
pb=$!
PIDS="$PIDS $pb"
wait "$pa" || { cat "$WORK/chip-A.err"; fail "chipd A"; }
wait "$pb" || { cat "$WORK/chip-B.err"; fail "chipd B"; }
for x in A B; do
	[ "$(grep -c '"finished":true' "$WORK/chip-$x.out")" = 3 ] || fail "chipd $x: not all sessions finished"
done
fresh_counters lmA
fresh_counters lmB
stop_landmarkd lmA
stop_landmarkd lmB

keys=(--root "$WORK/op.pub" --mfr "$WORK/mfr.pub")
echo "# lmctl locate over both feeds"
$LMCTL locate "${keys[@]}" --out "$WORK/loc" "$WORK/lmA.feed" "$WORK/lmB.feed" ||
	fail "lmctl locate"
python3 - "$WORK/loc" "$WORK/chip.pub" <<'EOP' || fail "clone finding"
import json, sys
d = sys.argv[1]
v = json.load(open(d + "/verdicts.json"))
cl = v["clones"]
assert len(cl) == 1, f"{len(cl)} clone findings, want 1"
c = cl[0]
assert c["finding"] == "clone"
assert c["serial"] == "SN-1", c["serial"]
sites = sorted(r["site"] for r in c["records"])
assert sites == ["lmA", "lmB"], sites
assert c["distance_km"] > 16000 and c["excess_km"] > 0, c
assert c["distance_km"] > c["radii_km"] + c["widen_km"], c
ids = {r["record"] for ch in v["chips"] for r in ch["records"]}
for r in c["records"]:
    assert r["record"] in ids, "evidence is not a located record"
    assert r["t_end_ns"] >= r["t_start_ns"]
print(f"# clone: {c['distance_km']:.0f} km apart, caps {c['radii_km']:.0f} km, widened "
      f"{c['widen_km']:.1f} km, {c['pairs']} disjoint pairs")
gj = json.load(open(d + "/locate.geojson"))
assert sum(f["properties"]["kind"] == "clone" for f in gj["features"]) == 1, "geojson"
page = open(d + "/map.html").read()
assert '"kind": "clone"' in page or '"kind":"clone"' in page, "map has no clone feature"
assert "clone-finding" in page  # the page lists clone findings (and draws their lines)
EOP

python3 "${LM_SRC:-$(dirname "$0")/../..}/tools/validate-json.py" 'verdict.schema.json#/$defs/locate' \
	"$WORK/loc/verdicts.json" || fail "verdicts.json against the schema"

echo "# control: a maximum speed that joins the places within the clock slack"
$LMCTL locate "${keys[@]}" --clone-max-speed 1000000 --out "$WORK/loc2" "$WORK/lmA.feed" \
	"$WORK/lmB.feed" >/dev/null || fail "lmctl locate (control)"
python3 -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["clones"]) != 0)' \
	"$WORK/loc2/verdicts.json" || fail "a clone finding at 1e6 km/h"

if command -v nats-server >/dev/null 2>&1; then
	echo "# lmctl locate --nats"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/js" }\n' "$port" "$WORK" >"$WORK/nats.conf"
	nats-server -c "$WORK/nats.conf" >"$WORK/nats.log" 2>&1 &
	PIDS="$PIDS $!"
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	for x in A B; do
		timeout 60 $LMCTL feed export --nats "nats://127.0.0.1:$port" --until-idle 1 \
			--timeout 50 "$WORK/lm$x.feed" >/dev/null 2>"$WORK/exp-$x.err" ||
			{ cat "$WORK/exp-$x.err"; fail "export lm$x"; }
	done
	timeout 60 $LMCTL locate --nats "nats://127.0.0.1:$port" "${keys[@]}" --until-idle 2 \
		--timeout 50 --out "$WORK/loc3" >"$WORK/nats.ndjson" 2>"$WORK/nats-loc.err" ||
		{ cat "$WORK/nats-loc.err"; fail "lmctl locate --nats"; }
	python3 - "$WORK/nats.ndjson" "$WORK/loc3/verdicts.json" <<'EOP' || fail "clone over NATS"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cl = [l for l in lines if l.get("finding") == "clone"]
assert cl, "no clone line in the --nats output"
assert sorted(r["site"] for r in cl[-1]["records"]) == ["lmA", "lmB"]
assert len(json.load(open(sys.argv[2]))["clones"]) == 1
print(f"# --nats: {len(cl)} clone line(s)")
EOP
	grep '"finding":"clone"' "$WORK/nats.ndjson" >"$WORK/clones.ndjson"
	python3 "${LM_SRC:-$(dirname "$0")/../..}/tools/validate-json.py" --ndjson --min 1 \
		'verdict.schema.json#/$defs/clone' "$WORK/clones.ndjson" || fail "clone lines against the schema"
else
	echo "# nats-server not installed: --nats part skipped"
fi
echo "# revocation: the chip key revoked (manufacturer root) is refused by the locator"
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/chip.pub" --reason cloned \
	--effective 0 --seq 1 --out "$WORK/chip.rvk" >/dev/null || fail "lmctl revoke"
$LMCTL verify-revocation "$WORK/chip.rvk" --mfr "$WORK/mfr.pub" >/dev/null || fail "verify-revocation"
$LMCTL locate "${keys[@]}" --revocations "$WORK/chip.rvk" --out "$WORK/loc4" "$WORK/lmA.feed" \
	"$WORK/lmB.feed" >/dev/null 2>"$WORK/loc4.err"
[ $? = 1 ] || fail "locate with the chip revoked: want exit 1"
python3 - "$WORK/loc4/verdicts.json" <<'EOP' || fail "revoked records"
import json, sys
v = json.load(open(sys.argv[1]))
rej = [r for r in v["rejected"] if "revoked chip key (cloned" in r["reason"]]
assert len(rej) == 6, f"{len(rej)} records refused as revoked, want 6"
assert v["chips"] == [] and v["clones"] == [], "a revoked record was used"
EOP
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/chip.pub" \
	--effective 4000000000 --seq 2 --out "$WORK/later.rvk" >/dev/null || fail "revoke (later)"
$LMCTL locate "${keys[@]}" --revocations "$WORK/later.rvk" --out "$WORK/loc5" "$WORK/lmA.feed" \
	"$WORK/lmB.feed" >/dev/null 2>&1 || fail "records before the effective time refused"
if [ -n "${port:-}" ]; then
	echo "# lmctl locate --nats --revocations: the same records refused over NATS"
	timeout 60 $LMCTL locate --nats "nats://127.0.0.1:$port" "${keys[@]}" \
		--revocations "$WORK/chip.rvk" --until-idle 2 --timeout 50 >"$WORK/nats-rev.ndjson" \
		2>"$WORK/nats-rev.err"
	[ $? = 1 ] || { cat "$WORK/nats-rev.err"; fail "locate --nats with the chip revoked: want exit 1"; }
	[ "$(grep -c 'revoked chip key (cloned' "$WORK/nats-rev.err")" = 6 ] ||
		{ cat "$WORK/nats-rev.err"; fail "--nats: want 6 records refused as revoked"; }
	[ ! -s "$WORK/nats-rev.ndjson" ] || fail "--nats: a verdict or finding from revoked records"
fi
echo "# a chip list under the operator root, and a stale list, are startup errors"
$LMCTL revoke --root-key "$WORK/op.key" --scope chip --key "$WORK/chip.pub" --seq 1 \
	--out "$WORK/wrong.rvk" >/dev/null || fail "revoke (wrong root)"
$LMCTL locate "${keys[@]}" --revocations "$WORK/wrong.rvk" --out "$WORK/loc6" "$WORK/lmA.feed" \
	>/dev/null 2>"$WORK/loc6.err"
[ $? = 2 ] && grep -q "manufacturer root" "$WORK/loc6.err" || fail "wrong-root list accepted"
$LMCTL revoke --root-key "$WORK/mfr.key" --scope chip --key "$WORK/chip.pub" --seq 3 \
	--issued $(($(date +%s) - 86400)) --days 0.5 --out "$WORK/stale.rvk" >/dev/null || fail "revoke (stale)"
$LMCTL locate "${keys[@]}" --revocations "$WORK/stale.rvk" --out "$WORK/loc7" "$WORK/lmA.feed" \
	>/dev/null 2>"$WORK/loc7.err"
[ $? = 2 ] && grep -q "stale" "$WORK/loc7.err" || fail "stale list accepted"

echo "# landmarkd with revocation_files refuses the revoked chip's HELLOs and counts them"
make_landmark lmR 52.37 4.90
landmark_conf lmR 198.18.0.1 "challenges = 8; revocation_files = [ \"$WORK/chip.rvk\" ];"
start_landmarkd lmR "${TAG}A" "net_af_packet0,iface=vA"
chip_conf "$WORK/chip-R.conf" signed 2 198.18.0.1 "$WORK/lmR.pub"
sed -i 's/session_timeout_ms = 3000/session_timeout_ms = 500/' "$WORK/chip-R.conf"
timeout 30 ip netns exec "${TAG}C" "$CHIPD" -c "$WORK/chip-R.conf" >"$WORK/chip-R.out" \
	2>"$WORK/chip-R.err"
[ "$(grep -c '"finished":true' "$WORK/chip-R.out")" = 0 ] || fail "a revoked chip got a session"
fresh_counters lmR
stop_landmarkd lmR
rv=$(counter lmR hello_revoked)
echo "# hello_revoked $rv, records $(counter lmR records)"
[ "$rv" -ge 2 ] || fail "hello_revoked = $rv, want >= 2"
[ "$(counter lmR records)" = 0 ] || fail "a record for a revoked chip"
echo "# a stale or wrongly signed revocation list is a startup error"
for bad in stale wrong; do
	landmark_conf lmR 198.18.0.1 "revocation_files = [ \"$WORK/$bad.rvk\" ];"
	timeout 30 ip netns exec "${TAG}A" "$LANDMARKD" --no-huge -m 512 --no-pci -l 0,1 \
		--file-prefix "${TAG}bad$bad" --vdev="net_af_packet0,iface=vA" -- -c "$WORK/lmR.conf" \
		>"$WORK/bad-$bad.log" 2>&1
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] && grep -q "revocation_files" "$WORK/bad-$bad.log" ||
		{ cat "$WORK/bad-$bad.log"; fail "landmarkd started with a $bad revocation list (rc $rc)"; }
done
echo "PASS"
