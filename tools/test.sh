#!/usr/bin/env bash
# The whole test suite, on a fresh Debian 12 machine as root: installs what is missing,
# builds, runs every meson suite (unit, integration, feed, e2e, fuzz), the unit suite again
# under AddressSanitizer + UBSan, and the formatting check. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=$(nproc)

tools/setup.sh || exit 1

failed_steps=()
step() {
	local name=$1
	shift
	echo "== $name"
	if ! "$@"; then
		failed_steps+=("$name")
	fi
}

configure() { # dir, options...
	local dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; return 1; }
	fi
}

# 1. Release-like build, warnings as errors; every suite but fuzz.
step "build" bash -c "$(declare -f configure); configure build -Ddeveloper_mode=true && ninja -C build -j$jobs"
step "tests" meson test -C build --no-rebuild --num-processes "$jobs" --print-errorlogs \
	--no-suite fuzz

# 2. Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
step "asan build" bash -c "$(declare -f configure); configure build-asan -Ddeveloper_mode=true \
	-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug && ninja -C build-asan -j$jobs"
step "asan unit" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --no-rebuild --num-processes "$jobs" --print-errorlogs --suite unit

# 3. libFuzzer harnesses, bounded runs (clang only).
step "fuzz build" bash -c "$(declare -f configure); CC=clang configure build-fuzz -Dbuildtype=debug \
	&& ninja -C build-fuzz -j$jobs"
step "fuzz" meson test -C build-fuzz --no-rebuild --num-processes 1 --print-errorlogs --suite fuzz

# 4. Formatting of tracked C sources.
step "clang-format" tools/check-format.sh

python3 - "$top" "${failed_steps[@]}" <<'PY'
import json, os, sys
top = sys.argv[1]
failed_steps = sys.argv[2:]
passed = failed = skipped = 0
for d in ("build", "build-asan", "build-fuzz"):
    log = os.path.join(top, d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
# A step that failed outside meson test (build, format) counts as one failure.
test_steps = {"tests", "asan unit", "fuzz"}
failed += sum(1 for s in failed_steps if s not in test_steps)
if failed_steps:
    print("failed steps: " + ", ".join(failed_steps))
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or failed_steps else 0)
PY
