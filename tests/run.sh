#!/bin/sh
# Runs cairn's test tiers: unit (cmocka, sanitizer build), sim (seeded
# cluster simulations, sanitizer build, the fast seed set) and integration
# (pytest driving the real binaries). Prints one closing line per tier and
# a total "N passed, M failed" line; exits non-zero if anything failed.
#
# usage: tests/run.sh all|unit|sim|integration
set -u
cd "$(dirname "$0")/.."
tier=${1:-all}
passed=0
failed=0
failures=""

run_binaries() { # $1 = glob of programs under build/asan
	for t in build/asan/$1; do
		[ -x "$t" ] || continue
		echo "=== $t"
		t0=$(date +%s)
		if CMOCKA_MESSAGE_OUTPUT=stdout ASAN_OPTIONS=detect_leaks=1 \
		    UBSAN_OPTIONS=print_stacktrace=1 "$t"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			failures="$failures $t"
		fi
		echo "=== $t: $(($(date +%s) - t0)) s"
	done
}

if [ "$tier" = all ] || [ "$tier" = unit ]; then
	run_binaries 'unit_*'
fi
if [ "$tier" = all ] || [ "$tier" = sim ]; then
	run_binaries 'sim_*'
fi
if [ "$tier" = all ] || [ "$tier" = integration ]; then
	echo "=== integration (pytest)"
	/usr/bin/python3 -m pytest -q -p no:cacheprovider --durations=15 \
	    tests/integration
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 5 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures integration"
	fi
fi
[ -n "$failures" ] && echo "failed suites:$failures"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
