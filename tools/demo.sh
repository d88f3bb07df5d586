#!/usr/bin/env bash
# README command 1: install what is missing, build, and run a beacon network on this one
# machine: landmark nodes (DPDK, one network namespace each), chips, a NATS JetStream feed,
# the mesh audit and the locator, ending with a table per chip, GeoJSON and an HTML map.
# Options go to tools/beacon_net.py (--scenario FILE, --rounds N, --out DIR, --keep, --help).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh >/dev/null
exec python3 tools/beacon_net.py "$@"
