#!/usr/bin/env python3
"""The rendered map page (chromium --dump-dom; Leaflet, src/locator/map.html) has its layers
populated: country outlines, regions coloured by verdict, landmark markers and the landmark
table, and one fleet-table row per chip with its verdict. Caps are drawn only for a selected
chip (a click), so none may be drawn by default."""
import re, sys

dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
errors = []


def count(cls):
    return len(re.findall(r'<path[^>]*class="%s[ "]' % cls, dom))


counts = {name: count(name) for name in ("country", "cap", "region", "landmark")}
if "leaflet-container" not in dom:
    errors.append("Leaflet did not start (no leaflet-container)")
if counts["country"] < 150:
    errors.append("%d country outlines" % counts["country"])
if counts["cap"] != 0:
    errors.append("%d caps drawn before any chip is selected" % counts["cap"])
if counts["region"] != 3:
    errors.append("%d regions drawn" % counts["region"])
if counts["landmark"] != 8:
    errors.append("%d landmark markers" % counts["landmark"])
if len(re.findall(r'<tr data-site="', dom)) != 8:
    errors.append("landmark table rows: %d" % len(re.findall(r'<tr data-site="', dom)))
if 'data-iso="FRA"' not in dom:
    errors.append("France outline missing")
for chip, verdict in (("SN-FR-CENTRE", "inside"), ("SN-PL-EAST", "outside")):
    if not re.search(r'<tr class="row[^"]*" data-chip="%s" data-status="%s"' % (chip, verdict), dom):
        errors.append("no fleet row for %s with verdict %s" % (chip, verdict))
    if not re.search(r'<path[^>]*class="region v-%s[^"]*"[^>]*data-chip="%s"' % (verdict, chip), dom):
        errors.append("%s region not coloured as %s" % (chip, verdict))
    # the region names the key class its verdict rests on (these feeds are signed software)
    if not re.search(r'<path[^>]*data-chip="%s"[^>]*data-key-class="software"' % chip, dom):
        errors.append("%s region does not name its key class" % chip)
print("# layers: %s" % counts)
for e in errors:
    print("# " + e)
sys.exit(1 if errors else 0)
