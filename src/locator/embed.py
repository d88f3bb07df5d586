#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build step: a data file as a NUL-terminated C char array (meson custom_target)."""
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: embed.py INPUT OUTPUT.c SYMBOL")
    data = open(sys.argv[1], "rb").read()
    if b"\0" in data:
        sys.exit("%s: contains a NUL byte" % sys.argv[1])
    sym = sys.argv[3]
    with open(sys.argv[2], "w") as f:
        f.write("/* generated from %s by embed.py: do not edit */\n" % sys.argv[1].split("/")[-1])
        f.write("extern const char %s[];\n" % sym)
        f.write("const char %s[] = {\n" % sym)
        for i in range(0, len(data), 16):
            f.write("\t" + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",\n")
        f.write("\t0x00,\n};\n")


if __name__ == "__main__":
    main()
