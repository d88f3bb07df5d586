#!/usr/bin/env bash
# lmctl locate end to end (TAP). args: LMCTL LOCATE_GEN
set -uo pipefail
. "$(dirname "$0")/tap.sh"

mkdir -p "$tmp/gen"
check "generate signed feeds" "$gen" "$tmp/gen" "$seed"
feeds=("$tmp"/gen/lm* "$tmp/gen/rogue")
"$lmctl" locate --root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 \
	--allow FR --res 10 --out "$tmp/out" "${feeds[@]}" >"$tmp/locate.out" 2>&1
rc=$?
cat "$tmp/locate.out" | sed 's/^/# /'
check "locate exits 1 (the rogue feed is rejected)" test "$rc" -eq 1
check "outputs written" test -s "$tmp/out/verdicts.json" -a -s "$tmp/out/locate.geojson" -a -s "$tmp/out/map.html"
check "verdicts, containment, GeoJSON structure and winding" \
	python3 "$here/check_locate.py" "$tmp/out" "$tmp/gen/truth.csv"
"$lmctl" locate --root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 \
	--allow FR --res 10 --jobs 3 --out "$tmp/outj" "${feeds[@]}" >/dev/null 2>&1
check "locate --jobs 3: verdicts.json and locate.geojson identical to one thread" \
	cmp -s "$tmp/out/verdicts.json" "$tmp/outj/verdicts.json"
check "locate --jobs 3: GeoJSON identical" cmp -s "$tmp/out/locate.geojson" "$tmp/outj/locate.geojson"
"$lmctl" locate --root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 \
	--allow FR --res 10 --tight 0 --out "$tmp/out0" "${feeds[@]}" >/dev/null 2>&1
"$lmctl" locate --root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 \
	--allow FR --res 10 --verdict-driven --jobs 2 --out "$tmp/outv" "${feeds[@]}" >/dev/null 2>&1
check "locate --verdict-driven: every window's verdict and margin as the full solve's, marked" python3 -c '
import json, sys
a = json.load(open(sys.argv[1] + "/verdicts.json"))["chips"]
b = json.load(open(sys.argv[2] + "/verdicts.json"))["chips"]
assert len(a) == len(b) > 0
for x, y in zip(a, b):
    vx, vy = x["verdict"], y["verdict"]
    assert vx["result"] == vy["result"] and vx.get("margin_km") == vy.get("margin_km"), (vx["result"], vy["result"])
    assert y.get("verdict_driven") is True and "verdict_driven" not in x
' "$tmp/out0" "$tmp/outv"
check "no trusted root: everything rejected" bash -c \
	"! '$lmctl' locate --root '$tmp/gen/mfr.pub' --mfr '$tmp/gen/mfr.pub' --now 1750000100 --out '$tmp/out2' '$tmp/gen/lm0' >/dev/null 2>&1 && grep -q '\"chips\": \[\]' '$tmp/out2/verdicts.json'"
"$lmctl" locate --root "$tmp/gen/root.pub" --mfr "$tmp/gen/mfr.pub" --now 1750000100 \
	--allow FR --res 10 --min-key-class pkcs11 --out "$tmp/outk" "${feeds[@]}" >/dev/null 2>&1
check "--min-key-class pkcs11: software records make no chip inside; verdicts name the class" \
	python3 - "$tmp/out/verdicts.json" "$tmp/outk/verdicts.json" <<'EOP'
import json, sys
a = json.load(open(sys.argv[1]))["chips"]
b = json.load(open(sys.argv[2]))["chips"]
assert len(a) == len(b) and a, (len(a), len(b))
was_inside = 0
for x, y in zip(a, b):
    assert x["key_class"] == "software" and y["key_class"] == "software"
    assert all(r["key_class"] == "software" for r in x["records"])
    if "verdict" not in x:
        continue
    vx, vy = x["verdict"], y["verdict"]
    assert vx["min_key_class"] == "software" and vy["min_key_class"] == "pkcs11"
    assert vy["result"] != "inside", y["serial"]
    if vx["result"] == "inside":
        was_inside += 1
        assert vy["result"] == "inconclusive" and vy["below_min_key_class"], y["serial"]
    else:
        assert vy["result"] == vx["result"], (y["serial"], vx["result"], vy["result"])
assert was_inside > 0, "no inside verdict to refuse"
EOP
check "--min-key-class with an unknown class exits 2" bash -c "'$lmctl' locate --root '$tmp/gen/root.pub' --mfr '$tmp/gen/mfr.pub' --min-key-class tpm --out '$tmp/x' '$tmp/gen/lm0' 2>/dev/null; test \$? -eq 2"
check "usage error exits 2" bash -c "'$lmctl' locate --out '$tmp/x' '$tmp/gen/lm0' 2>/dev/null; test \$? -eq 2"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP chromium not installed (tools/setup.sh installs it)"
else
	prof="$tmp/prof"
	flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
		--disable-component-update --disable-sync --no-first-run --user-data-dir="$prof")
	timeout 60 "$browser" "${flags[@]}" --virtual-time-budget=5000 --dump-dom \
		"file://$tmp/out/map.html" >"$tmp/dom.html" 2>/dev/null
	check "map renders: countries, regions by verdict, landmarks, chip buttons (caps on selection)" \
		python3 "$here/check_map_dom.py" "$tmp/dom.html"
	timeout 60 "$browser" "${flags[@]}" --window-size=1200,800 \
		--screenshot="$tmp/map.png" "file://$tmp/out/map.html" >/dev/null 2>&1
	check "map screenshot taken" test -s "$tmp/map.png"
	if [ -n "${LM_LOCATE_KEEP:-}" ]; then
		cp "$tmp/map.png" "$tmp/out/map.html" "$LM_LOCATE_KEEP/"
	fi
fi
echo "1..$n"
exit $fail
