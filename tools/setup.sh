#!/usr/bin/env bash
# Install everything landmark needs on Debian 12, idempotently. Run as root.
# Debian packages, plus pinned packages from the npm registry (the world-countries dataset and
# the libraries of the Node.js feed verifier, below); nothing is downloaded from anywhere else.
set -euo pipefail

PKGS=(
	# build
	build-essential clang clang-format libclang-rt-14-dev meson ninja-build pkg-config
	# libraries
	check libconfig-dev libdpdk-dev libjansson-dev libmicrohttpd-dev libnats-dev
	libproj-dev libsodium-dev
	# chip trust: OpenSSL (P-384, X.509) for GPU attestation; PKCS#11 headers and SoftHSM2
	libp11-kit-dev libssl-dev softhsm2
	# runtime tools used by tests, benchmarks and the demo
	dpdk dpdk-dev iproute2 iputils-ping nats-server prometheus proj-bin procps python3
	# tools/fuzz-long.sh: CPU seconds of each run (/usr/bin/time)
	time
	# tests validate every JSON the tools emit against docs/schema/ (JSON Schema 2020-12)
	python3-jsonschema
	# the compliance report test verifies a signed report in a second language (Ed25519)
	python3-cryptography
	# locator: country boundaries come from npm (below); the map test renders in chromium
	chromium
)
# npm from Debian unless the machine already has an npm (Debian's conflicts with a nodejs
# installed from elsewhere).
if ! command -v npm >/dev/null 2>&1; then
	PKGS+=(npm)
fi
# Locator geofences: the public world-countries dataset (mledoze/countries, ODbL), from the
# npm registry, pinned; LM_COUNTRIES_DIR overrides where the locator looks for it.
# The second-language feed verifier (tools/verify-feed) uses nats, @noble/ed25519 and
# @noble/hashes from the same prefix (LM_NODE_PREFIX overrides it there). The map and fleet
# page inlines Leaflet from it (LM_LEAFLET_DIR), and its browser test drives Debian's
# chromium with playwright-core (no browser download).
LM_GEO_PREFIX=/usr/local/share/landmark
NPM_PKGS=(world-countries@5.1.0 nats@2.29.3 @noble/ed25519@3.0.1 @noble/hashes@2.0.1
	leaflet@1.9.4 playwright-core@1.65.1)
install_geodata() {
	local m=$LM_GEO_PREFIX/node_modules
	if [ ! -f "$m/world-countries/data/fra.geo.json" ] || [ ! -f "$m/nats/package.json" ] ||
		[ ! -f "$m/@noble/ed25519/package.json" ] || [ ! -f "$m/@noble/hashes/blake2.js" ] ||
		[ ! -f "$m/leaflet/dist/leaflet.js" ] || [ ! -f "$m/playwright-core/package.json" ]; then
		mkdir -p "$LM_GEO_PREFIX" &&
			npm install --no-audit --no-fund --prefix "$LM_GEO_PREFIX" "${NPM_PKGS[@]}" ||
			return 1
	fi
}
if [ -n "${LANDMARK_EXTRA_PKGS:-}" ]; then
	read -r -a extra <<<"$LANDMARK_EXTRA_PKGS"
	PKGS+=("${extra[@]}")
fi

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#PKGS[@]} packages present"
	install_geodata || exit 1
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
install_geodata || exit 1
