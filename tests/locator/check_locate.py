#!/usr/bin/env python3
"""Check lmctl locate output: every chip's true position inside its region (exact caps and
polygon), verdicts, evidence, rejected rogue feed, RFC 7946 structure and winding."""
import csv, json, math, sys

out, truth_csv = sys.argv[1], sys.argv[2]
v = json.load(open(out + "/verdicts.json"))
fc = json.load(open(out + "/locate.geojson"))
truth = {r["serial"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(open(truth_csv))}
errors = []


def area2(ring):
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:]))


def in_ring(ring, x, y):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def in_multipolygon(g, x, y):
    return any(in_ring(p[0], x, y) and not any(in_ring(h, x, y) for h in p[1:])
               for p in g["coordinates"])


assert fc["type"] == "FeatureCollection"
kinds = {}
for f in fc["features"]:
    k = f["properties"]["kind"]
    kinds[k] = kinds.get(k, 0) + 1
    g = f["geometry"]
    if k == "region":
        if g["type"] != "MultiPolygon":
            errors.append("region not a MultiPolygon")
        for p in g["coordinates"]:
            for i, ring in enumerate(p):
                if len(ring) < 4 or ring[0] != ring[-1]:
                    errors.append("ring not closed")
                if any(abs(x) > 180 or abs(y) > 90 for x, y in ring):
                    errors.append("coordinate out of range")
                if (area2(ring) > 0) != (i == 0):
                    errors.append("bad winding")
        s = f["properties"]["serial"]
        lat, lon = truth[s]
        if not in_multipolygon(g, lon, lat):
            errors.append("%s: truth not in region polygon" % s)
for k in ("landmark", "cap", "region"):
    if not kinds.get(k):
        errors.append("no %s features" % k)
if kinds.get("landmark") != 8:
    errors.append("expected 8 landmarks (rogue excluded), got %s" % kinds.get("landmark"))
if v["verified"]["batches"] != 8 or v["verified"]["chip_records"] != 24:
    errors.append("verified counts %s" % v["verified"])
if not any("rogue" in r["feed"] for r in v["rejected"]):
    errors.append("rogue feed not rejected: %s" % v["rejected"])
by = {c["serial"]: c for c in v["chips"]}
if set(by) != set(truth):
    errors.append("chips %s" % sorted(by))
for s, c in by.items():
    if not c["feasible"]:
        errors.append("%s infeasible" % s)
    if len(c["records"]) != 8:
        errors.append("%s: %d records" % (s, len(c["records"])))
    vd = c["verdict"]
    if vd["allowed"] != ["FRA"]:
        errors.append("allowed %s" % vd["allowed"])
    if set(vd["records"]) != {"par1", "lyo1", "bod1", "fra1", "ber1", "waw1", "mil1", "mad1"}:
        errors.append("%s: records %s" % (s, vd["records"]))
exp = {"SN-FR-CENTRE": "inside", "SN-PL-EAST": "outside"}
for s, want in exp.items():
    got = by[s]["verdict"]["result"]
    if got != want:
        errors.append("%s: verdict %s, want %s" % (s, got, want))
    elif by[s]["verdict"].get("margin_km", 0) <= 0:
        errors.append("%s: no margin" % s)
if by["SN-DE-WEST"]["verdict"]["result"] == "inside":
    errors.append("Cologne judged inside France")
for e in errors:
    print("# " + e)
sys.exit(1 if errors else 0)
