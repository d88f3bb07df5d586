# Shared preamble of the locator's TAP scripts (sourced): arguments LMCTL LOCATE_GEN, a temp
# directory removed on exit, a printed overridable seed, and ok/nok/check counters.
lmctl=$1
gen=$2
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seed=${LM_TEST_SEED:-$(date +%s)}
echo "# seed $seed (override with LM_TEST_SEED)"
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
