#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tamper with a feed log for verifier tests: flip the lowest bit of the last sample's RTT of
the N-th record (1-based) of the first segment and recompute that entry's CRC32C, so framing
still passes and only the Merkle inclusion (the batch signature) can tell. The last sample is
never lost and never the minimum in the test feeds; a lost or minimum sample would instead fail
the record's own syntax checks. Layouts: docs/feed.md (entry framing, record encoding).
With "link" instead of N: flip a bit of the second segment's prev_link and recompute the segment
header's CRC32C, so only the link itself (the hash of the previous segment's last head) can tell.
usage: tamper.py DIR N|link"""
import os
import struct
import sys

_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(b):
    c = 0xFFFFFFFF
    for v in b:
        c = _T[(c ^ v) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def tamper(d, nth):
    seg = os.path.join(d, sorted(n for n in os.listdir(d) if n.startswith("seg-"))[0])
    b = bytearray(open(seg, "rb").read())
    off, n = 68, 0
    while off + 12 <= len(b):
        typ, ln = b[off], struct.unpack(">I", b[off + 4:off + 8])[0]
        if typ == 2:
            n += 1
            if n == nth:
                p = off + 8
                cred_len = struct.unpack(">H", b[p + 452:p + 454])[0]
                k = struct.unpack(">H", b[p + 116:p + 118])[0]
                slen = 108 if b[p + 3] == 1 else 76
                fixed = 456 if b[p + 2] == 1 else 456 + 3 * 32  # v2: floor evidence
                s = p + fixed + cred_len + slen * (k - 1)
                if b[s + 32:s + 40] == b"\xff" * 8:
                    raise SystemExit("tamper: the last sample is lost; pick another record")
                b[s + 39] ^= 0x01
                b[p + ln:p + ln + 4] = struct.pack(">I", crc32c(b[off:off + 8 + ln]))
                open(seg, "wb").write(b)
                return f"{os.path.basename(seg)} offset {off}"
        off += 12 + ln
    raise SystemExit(f"tamper: fewer than {nth} records in {seg}")


def tamper_link(d):
    segs = sorted(n for n in os.listdir(d) if n.startswith("seg-"))
    if len(segs) < 2:
        raise SystemExit("tamper: one segment only")
    seg = os.path.join(d, segs[1])
    b = bytearray(open(seg, "rb").read())
    b[40] ^= 0x01  # prev_link is bytes[32, 64)
    b[64:68] = struct.pack(">I", crc32c(b[0:64]))
    open(seg, "wb").write(b)
    return f"{segs[1]} offset 40"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("usage: ")[1])
    print(tamper_link(sys.argv[1]) if sys.argv[2] == "link" else tamper(sys.argv[1], int(sys.argv[2])))
