#!/usr/bin/env python3
"""lmctl locate with a misplaced landmark excluded: every chip feasible, its true position
inside its region polygon, and no record of the excluded site used.
usage: check_excluded.py OUT truth.csv SITE"""
import csv, json, sys

out, truth_csv, site = sys.argv[1:4]
v = json.load(open(out + "/verdicts.json"))
fc = json.load(open(out + "/locate.geojson"))
truth = {r["serial"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(open(truth_csv))}


def in_ring(ring, x, y):
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def in_multipolygon(g, x, y):
    return any(in_ring(p[0], x, y) and not any(in_ring(h, x, y) for h in p[1:])
               for p in g["coordinates"])


errors = []
if v["excluded_landmarks"] != {site: len(truth)}:
    errors.append("excluded_landmarks %s" % v["excluded_landmarks"])
for c in v["chips"]:
    if not c["feasible"]:
        errors.append("%s infeasible" % c["serial"])
    if any(r["landmark"] == site for r in c["records"]):
        errors.append("%s uses %s" % (c["serial"], site))
regions = [f for f in fc["features"] if f["properties"]["kind"] == "region"]
if len(regions) != len(truth):
    errors.append("%d regions" % len(regions))
for f in regions:
    lat, lon = truth[f["properties"]["serial"]]
    if not in_multipolygon(f["geometry"], lon, lat):
        errors.append("%s: truth not in region" % f["properties"]["serial"])
for e in errors:
    print("#", e)
sys.exit(1 if errors else 0)
