#!/usr/bin/env python3
"""The rendered map (chromium --dump-dom) has its layers populated: countries, regions
coloured by verdict, landmarks, and one button per chip with its verdict. Caps are drawn only
for a selected chip (a click), so the caps layer must exist and be empty by default."""
import re, sys

dom = open(sys.argv[1], encoding="utf-8", errors="replace").read()
errors = []


def layer(name):
    m = re.search(r'<g id="layer-%s">(.*?)</g>' % name, dom, re.S)
    return m.group(1) if m else None


counts = {}
for name, tag in (("countries", "<path"), ("caps", "<path"), ("regions", "<path"),
                  ("landmarks", "<circle")):
    body = layer(name)
    counts[name] = body.count(tag) if body is not None else -1
if counts["countries"] < 150:
    errors.append("countries layer has %d outlines" % counts["countries"])
if counts["caps"] != 0:
    errors.append("caps layer has %d before any chip is selected" % counts["caps"])
if counts["regions"] != 3:
    errors.append("regions layer has %d" % counts["regions"])
if counts["landmarks"] != 8:
    errors.append("landmarks layer has %d" % counts["landmarks"])
if 'data-iso="FRA"' not in dom:
    errors.append("France outline missing")
for chip, verdict in (("SN-FR-CENTRE", "inside"), ("SN-PL-EAST", "outside")):
    # the button and the region name the key class the verdict rests on (signed software feeds)
    if "%s: %s [software]</button>" % (chip, verdict) not in dom:
        errors.append("no %s button with verdict %s and its key class" % (chip, verdict))
    if not re.search(r'class="region v-%s[^"]*"[^>]*data-chip="%s"[^>]*data-key-class="software"'
                     % (verdict, chip), dom):
        errors.append("%s region not coloured as %s with its key class" % (chip, verdict))
print("# layers: %s" % counts)
for e in errors:
    print("# " + e)
sys.exit(1 if errors else 0)
