#!/usr/bin/env bash
# chipd, the reference prover, links the core library (and the chip-trust library for its
# PKCS#11 signer and GPU back ends) and nothing of the node: no landmarkd library, no feed
# (NATS, microhttpd), no locator, no DPDK. Checked on what meson links (build.ninja: the
# link line of the chipd target) and on the binary (no node, feed or DPDK symbol in it).
# TAP output. Usage: chipd_links.sh BUILD_DIR
set -u
B=${1:?build dir}
n=0
bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; }

link=$(awk '/^build src\/chip\/chipd: /{f=1} f{print} f&&/LINK_ARGS/{exit}' "$B/build.ninja")
[ -n "$link" ] && ok "chipd's link rule found" || notok "chipd's link rule found in $B/build.ninja"
case "$link" in
*liblandmark_core.a*) ok "links liblandmark_core.a" ;;
*) notok "links liblandmark_core.a" ;;
esac
for forbidden in liblandmark_node.a liblandmark_feed.a liblandmark_locator.a libnats \
	libmicrohttpd librte_ libdpdk; do
	case "$link" in
	*"$forbidden"*) notok "does not link $forbidden" ;;
	*) ok "does not link $forbidden" ;;
	esac
done
if ! command -v nm >/dev/null 2>&1; then
	echo "ok $((n + 1)) - # SKIP nm not installed"
	n=$((n + 1))
elif [ -x "$B/src/chip/chipd" ]; then
	syms=$(nm "$B/src/chip/chipd" 2>/dev/null | awk '$2 ~ /^[TtDdBbRr]$/ {print $3}')
	[ -n "$syms" ] && ok "chipd has a symbol table" || notok "chipd has a symbol table"
	for pfx in lm_engine_ lm_ctrl_ lm_net_ lm_feed_ lm_nats_ lm_http_ rte_; do
		if echo "$syms" | grep -q "^$pfx"; then
			notok "no $pfx* symbol in chipd"
		else
			ok "no $pfx* symbol in chipd"
		fi
	done
else
	notok "chipd built at $B/src/chip/chipd"
fi
echo "1..$n"
exit $bad
