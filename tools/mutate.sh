#!/usr/bin/env bash
# Mutation testing of the soundness-critical lines listed in tests/mutation/sites.txt
# (format: the top of that file and docs/testing.md).
#
#   tools/mutate.sh --all                 every site
#   tools/mutate.sh --site N [--site M]   sites by number (1-based, file order) or name
#   tools/mutate.sh --list                number, name, file and tests of every site
#   tools/mutate.sh --check               every anchor matches exactly once; no build
#
# Options: --sites FILE (default tests/mutation/sites.txt), --timeout S (test run of one
# mutant, default 300; a timeout counts as killed), --jobs N (default 2), --asan (build the
# scratch tree with AddressSanitizer + UBSan), --log-dir DIR (keep each mutant's meson
# test log there), --keep (leave the scratch tree for inspection).
#
# The user's tree is never written. A scratch git worktree of HEAD plus the working tree's
# uncommitted changes (tracked diff and untracked, not ignored files) is made under
# ${TMPDIR:-/tmp}; one build directory in it is reused for every mutant, so each mutant
# costs an incremental rebuild. One mutant at a time: apply, rebuild, run its tests, put
# the file back. The scratch tree is removed on exit, Ctrl-C included.
#
# Exit status: 0 every selected mutant killed; 1 a mutant survived or did not build;
# 2 usage error, stale site (anchor missing or ambiguous) or a failing unmutated baseline.
set -uo pipefail

# Everything runs inside main, called on the last line: bash has then read the whole file,
# so editing this script while it runs cannot change a run in progress.
main() {
top=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel) || exit 2
sites_file=$top/tests/mutation/sites.txt
timeout_s=300
jobs=2
asan=0
keep=0
log_dir=
mode=
want=()

usage() {
	sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--all) mode=run; want=(all) ;;
	--site)
		[ $# -ge 2 ] || usage
		mode=run
		want+=("$2")
		shift
		;;
	--list) mode=list ;;
	--check) mode=check ;;
	--sites)
		[ $# -ge 2 ] || usage
		sites_file=$(realpath "$2")
		shift
		;;
	--timeout)
		[[ ${2-} =~ ^[1-9][0-9]*$ ]] || usage
		timeout_s=$2
		shift
		;;
	--jobs)
		[[ ${2-} =~ ^[1-9][0-9]*$ ]] || usage
		jobs=$2
		shift
		;;
	--asan) asan=1 ;;
	--keep) keep=1 ;;
	--log-dir)
		[ $# -ge 2 ] || usage
		mkdir -p "$2" || exit 2
		log_dir=$(realpath "$2")
		shift
		;;
	-h | --help) usage ;;
	*)
		echo "mutate: unknown argument '$1'" >&2
		usage
		;;
	esac
	shift
done
[ -n "$mode" ] || usage
[ -f "$sites_file" ] || { echo "mutate: $sites_file: no such file" >&2; exit 2; }

# ---- the site list ------------------------------------------------------------------------
# Parallel arrays, index 0 = site 1. A block is "key: value" lines; blank lines end a block;
# '#' lines are comments. The value is everything after "key: " (no trimming).
S_NAME=() S_FILE=() S_ANCHOR=() S_MUTANT=() S_TESTS=() S_WHY=() S_LINE=()

# In anchor and mutant values "\t" stands for a tab and "\n" for a line break (to tell
# apart identical lines by their neighbour or indentation); "\\" is one backslash.
unescape() {
	A=$1 perl -e '$_ = $ENV{A}; s/\\(\\|n|t)/$1 eq "n" ? "\n" : $1 eq "t" ? "\t" : "\\"/ge; print'
}

parse_sites() {
	local lineno=0 line key val in_block=0 start=0
	local name= file= anchor= mutant= tests= why= have_mutant=0
	local -A seen=()

	flush() {
		[ $in_block -eq 1 ] || return 0
		local miss=
		[ -n "$name" ] || miss+=" site"
		[ -n "$file" ] || miss+=" file"
		[ -n "$anchor" ] || miss+=" anchor"
		[ $have_mutant -eq 1 ] || miss+=" mutant"
		[ -n "$tests" ] || miss+=" tests"
		[ -n "$why" ] || miss+=" why"
		if [ -n "$miss" ]; then
			echo "mutate: $sites_file:$start: site block lacks:$miss" >&2
			exit 2
		fi
		if [ -n "${seen[$name]-}" ]; then
			echo "mutate: $sites_file:$start: site name '$name' already used at line ${seen[$name]}" >&2
			exit 2
		fi
		if [ "$anchor" = "$mutant" ]; then
			echo "mutate: $sites_file:$start: site '$name': mutant equals anchor" >&2
			exit 2
		fi
		seen[$name]=$start
		S_NAME+=("$name") S_FILE+=("$file") S_ANCHOR+=("$anchor")
		S_MUTANT+=("$mutant") S_TESTS+=("$tests") S_WHY+=("$why") S_LINE+=("$start")
		name= file= anchor= mutant= tests= why= have_mutant=0 in_block=0
	}

	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		if [ -z "$line" ]; then
			flush
			continue
		fi
		[ "${line:0:1}" = "#" ] && continue
		if [[ ! $line =~ ^([a-z]+):(\ (.*))?$ ]]; then
			echo "mutate: $sites_file:$lineno: expected 'key: value', got: $line" >&2
			exit 2
		fi
		key=${BASH_REMATCH[1]}
		val=${BASH_REMATCH[3]}
		if [ $in_block -eq 0 ]; then
			in_block=1
			start=$lineno
		fi
		case $key in
		site)
			[[ $val =~ ^[a-z0-9][a-z0-9-]*$ ]] || {
				echo "mutate: $sites_file:$lineno: site name must be [a-z0-9-]: '$val'" >&2
				exit 2
			}
			name=$val
			;;
		file) file=$val ;;
		anchor) anchor=$(unescape "$val") ;;
		mutant)
			mutant=$(unescape "$val")
			have_mutant=1
			;;
		tests) tests=$val ;;
		why) why="$why${why:+ }$val" ;;
		*)
			echo "mutate: $sites_file:$lineno: unknown key '$key'" >&2
			exit 2
			;;
		esac
	done <"$sites_file"
	flush
}
parse_sites
n_sites=${#S_NAME[@]}
[ "$n_sites" -gt 0 ] || { echo "mutate: $sites_file: no sites" >&2; exit 2; }

if [ "$mode" = list ]; then
	for ((i = 0; i < n_sites; i++)); do
		printf '%3d  %-28s %-28s %s\n' $((i + 1)) "${S_NAME[i]}" "${S_FILE[i]}" "${S_TESTS[i]}"
	done
	exit 0
fi

# Selected site indices (0-based).
sel=()
if [ "$mode" = check ] || [ "${want[0]-}" = all ]; then
	for ((i = 0; i < n_sites; i++)); do sel+=("$i"); done
else
	for w in "${want[@]}"; do
		found=-1
		if [[ $w =~ ^[0-9]+$ ]]; then
			[ "$w" -ge 1 ] && [ "$w" -le "$n_sites" ] && found=$((w - 1))
		else
			for ((i = 0; i < n_sites; i++)); do
				[ "${S_NAME[i]}" = "$w" ] && found=$i
			done
		fi
		if [ $found -lt 0 ]; then
			echo "mutate: no site '$w' (1..$n_sites or a name; see --list)" >&2
			exit 2
		fi
		sel+=("$found")
	done
fi

# Occurrences of the literal anchor in a file.
count_anchor() { # file anchor
	A=$2 perl -0777 -ne '$c = () = /\Q$ENV{A}\E/g; print $c' "$1"
}

# Every selected anchor must match exactly once: a stale site is an error, never a skip.
check_anchors() { # root
	local root=$1 bad=0 i c
	for i in "${sel[@]}"; do
		if [ ! -f "$root/${S_FILE[i]}" ]; then
			echo "mutate: site $((i + 1)) '${S_NAME[i]}' ($sites_file:${S_LINE[i]}): file ${S_FILE[i]} not found" >&2
			bad=1
			continue
		fi
		c=$(count_anchor "$root/${S_FILE[i]}" "${S_ANCHOR[i]}")
		if [ "$c" != 1 ]; then
			if [ "$c" = 0 ]; then
				echo "mutate: site $((i + 1)) '${S_NAME[i]}' ($sites_file:${S_LINE[i]}): anchor not found in ${S_FILE[i]}: ${S_ANCHOR[i]}" >&2
			else
				echo "mutate: site $((i + 1)) '${S_NAME[i]}' ($sites_file:${S_LINE[i]}): anchor matches $c times in ${S_FILE[i]}: ${S_ANCHOR[i]}" >&2
			fi
			bad=1
		fi
	done
	return $bad
}

if [ "$mode" = check ]; then
	if check_anchors "$top"; then
		echo "mutate: all $n_sites anchors match exactly once"
		exit 0
	fi
	exit 2
fi
check_anchors "$top" || exit 2

# ---- scratch tree -------------------------------------------------------------------------
# The traps may run inside a redirected call (bgrun ... >log): they report on this fd.
exec 3>&2
scratch=$(mktemp -d "${TMPDIR:-/tmp}/lm-mutate.XXXXXX") || exit 2
src=$scratch/src
bld=$scratch/build
restore_file=
child=
# Children run in the background and are waited for, so that Ctrl-C interrupts the wait at
# once (timeout(1) puts its command in a process group of its own: the terminal's SIGINT
# does not reach it), and the trap stops the child before the tree is removed.
bgrun() {
	local rc
	"$@" &
	child=$!
	wait "$child"
	rc=$?
	child=
	return $rc
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$restore_file" ] && [ -f "$scratch/orig" ]; then
		cp "$scratch/orig" "$src/$restore_file" 2>/dev/null
	fi
	if [ $keep -eq 1 ]; then
		echo "mutate: scratch tree kept in $scratch (git -C $top worktree remove --force $src)" >&3
	else
		git -C "$top" worktree remove --force "$src" >/dev/null 2>&1
		rm -rf "$scratch"
	fi
	exit $rc
}
trap cleanup EXIT
on_signal() {
	echo "mutate: interrupted, removing the scratch tree" >&3
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	exit 130
}
trap on_signal INT TERM HUP

git -C "$top" worktree add --detach "$src" HEAD >/dev/null 2>&1 || {
	echo "mutate: git worktree add failed" >&2
	exit 2
}
# The working tree's state, not only HEAD: tracked changes and untracked, not ignored files.
if ! git -C "$top" diff --binary HEAD | git -C "$src" apply --allow-empty --whitespace=nowarn; then
	echo "mutate: could not copy the uncommitted changes into the scratch tree" >&2
	exit 2
fi
(cd "$top" && git ls-files -z --others --exclude-standard | xargs -0 -r cp --parents -t "$src") ||
	exit 2
# The tests read ../shared/data relative to the source root (tests/meson.build).
[ -e "$top/../shared" ] && ln -s "$(realpath "$top/../shared")" "$scratch/shared"
check_anchors "$src" || exit 2

setup_opts=(-Dbuildtype=debugoptimized)
[ $asan -eq 1 ] && setup_opts=(-Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false)
echo "mutate: building the scratch tree ($src)"
if ! bgrun meson setup "$bld" "$src" "${setup_opts[@]}" >"$scratch/setup.log" 2>&1; then
	cat "$scratch/setup.log" >&2
	exit 2
fi
build() {
	bgrun timeout -k 10 1800 ninja -C "$bld" -j"$jobs" >"$scratch/build.log" 2>&1
}
if ! build; then
	tail -30 "$scratch/build.log" >&2
	echo "mutate: the unmutated tree does not build" >&2
	exit 2
fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1

# Run a site's tests ("name" = meson test, "suite:S" = meson suite); 0 = all passed.
run_tests() { # tests-spec log
	local spec=$1 log=$2 names=() suites=() w rc=0 n=0
	: >"$log"
	for w in $spec; do
		case $w in
		suite:*) suites+=("${w#suite:}") ;;
		*) names+=("$w") ;;
		esac
	done
	if [ ${#names[@]} -gt 0 ]; then
		bgrun timeout -k 10 "$timeout_s" meson test -C "$bld" --no-rebuild --num-processes "$jobs" \
			"${names[@]}" >>"$log" 2>&1
		rc=$?
		cat "$bld/meson-logs/testlog.txt" >>"$log" 2>/dev/null
		[ $rc -ne 0 ] && return $rc
	fi
	for w in "${suites[@]}"; do
		bgrun timeout -k 10 "$timeout_s" meson test -C "$bld" --no-rebuild --num-processes "$jobs" \
			--suite "$w" >>"$log" 2>&1
		rc=$?
		cat "$bld/meson-logs/testlog.txt" >>"$log" 2>/dev/null
		[ $rc -ne 0 ] && return $rc
	done
	return 0
}

# Which tests failed: meson test names, and the Check test functions from TAP "not ok" lines.
killers() { # log
	local log=$1 t f
	t=$(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR) ' "$log" | sed -E 's/^ *[0-9]+\/[0-9]+ +//; s/ +(FAIL|TIMEOUT|ERROR) .*//; s/^[^:]*:[^ ]* \/ //' | sort -u | paste -sd, -)
	# Check's TAP: "not ok N - FILE:TCASE:TEST: message"
	f=$(sed -nE 's/^not ok [0-9]+ - [^:]*:[^:]*:([A-Za-z0-9_]+):.*/\1/p' "$log" | sort -u | paste -sd, -)
	if [ -n "$f" ]; then
		echo "$t ($f)"
	else
		echo "${t:-?}"
	fi
}

# Baseline: the selected tests pass on the unmutated tree (else every mutant looks killed).
all_tests=$(for i in "${sel[@]}"; do echo "${S_TESTS[i]}"; done | tr ' ' '\n' | sort -u | paste -sd' ' -)
echo "mutate: baseline ($all_tests)"
if ! run_tests "$all_tests" "$scratch/baseline.log"; then
	grep -E 'FAIL|TIMEOUT|not ok' "$scratch/baseline.log" | head -20 >&2
	echo "mutate: the unmutated tree fails its tests: fix that first" >&2
	exit 2
fi

# ---- mutants ------------------------------------------------------------------------------
killed=0
survived=()
broken=()
t_start=$(date +%s)
for i in "${sel[@]}"; do
	f=${S_FILE[i]}
	cp -p "$src/$f" "$scratch/orig"
	restore_file=$f
	A=${S_ANCHOR[i]} M=${S_MUTANT[i]} perl -0777 -pi -e 's/\Q$ENV{A}\E/$ENV{M}/' "$src/$f"
	lineno=$(A=${S_ANCHOR[i]} perl -0777 -ne 'if (/\Q$ENV{A}\E/) { print 1 + (substr($_, 0, $-[0]) =~ tr/\n//) }' "$scratch/orig")
	label=$(printf '%3d %-28s %s:%s' $((i + 1)) "${S_NAME[i]}" "$f" "$lineno")
	log=$scratch/site-$((i + 1)).log
	t0=$(date +%s)
	if ! build; then
		result="BUILD-FAIL"
		cp "$scratch/build.log" "$log"
		broken+=("$((i + 1)) ${S_NAME[i]}")
	else
		run_tests "${S_TESTS[i]}" "$log"
		rc=$?
		if [ $rc -eq 0 ]; then
			result="SURVIVED"
			survived+=("$((i + 1)) ${S_NAME[i]}")
		elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			result="killed by timeout (${timeout_s}s)"
			killed=$((killed + 1))
		else
			result="killed by $(killers "$log")"
			killed=$((killed + 1))
		fi
	fi
	printf '%s  %s  [%ss]\n' "$label" "$result" $(($(date +%s) - t0))
	[ -n "$log_dir" ] && cp "$log" "$log_dir/site-$((i + 1))-${S_NAME[i]}.log"
	# A fresh mtime (no cp -p): ninja must rebuild the restored file, not keep the mutant.
	cp "$scratch/orig" "$src/$f"
	restore_file=
done

total=${#sel[@]}
pct=$(awk -v k=$killed -v t="$total" 'BEGIN { printf "%.1f", t ? 100 * k / t : 0 }')
echo "mutate: $(date -u +%Y-%m-%dT%H:%MZ) $killed/$total killed ($pct%), ${#survived[@]} survived, ${#broken[@]} did not build, $(($(date +%s) - t_start))s"
for s in "${survived[@]}"; do echo "mutate: SURVIVED site $s"; done
for s in "${broken[@]}"; do echo "mutate: BUILD-FAIL site $s (fix the mutant text)"; done
[ ${#survived[@]} -eq 0 ] && [ ${#broken[@]} -eq 0 ]
}

main "$@"
