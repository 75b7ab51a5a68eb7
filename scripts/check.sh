#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Run every Isles test; called by `make check` after both builds.
#   1. unit tests (cmocka), plain build and ASan+UBSan build: every
#      tests/unit/test_*.c must have its binary in both
#   2. golden-output tests of `isles check` (tests/golden)
#   3. fuzz smoke: each libFuzzer target of tests/fuzz for
#      ISLES_FUZZ_SECONDS (default 5) from its seeds (scripts/fuzz.sh;
#      the long campaign is scripts/fuzz.sh all SECONDS, docs/security.md)
#   4. integration tests that boot VMs (pytest, tests/integration)
# Ends with one summary line "N passed, M failed".
# ISLES_CHECK_ONLY=unit|golden|fuzz|integration runs one stage;
# extra arguments are passed to pytest (e.g. -k exec).
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
only=${ISLES_CHECK_ONLY:-}

stage() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if stage unit; then
	# One binary per tests/unit/test_*.c in each build: a source whose
	# binary is missing (an empty or failed build) fails, it is never
	# passed over.
	srcs=(tests/unit/test_*.c)
	if [ ! -e "${srcs[0]}" ]; then
		echo "no unit tests in tests/unit" >&2
		failed=$((failed + 1))
		failures+=("tests/unit")
		srcs=()
	fi
	tout=$(mktemp)
	for build in build build/asan; do
		for src in "${srcs[@]}"; do
			t=$build/tests/$(basename "$src" .c)
			if [ ! -x "$t" ]; then
				echo "$t: not built (make, make SANITIZE=1)" >&2
				failed=$((failed + 1))
				failures+=("$t (not built)")
			elif "$t" 2>&1 | tee "$tout" && [ "${PIPESTATUS[0]}" = 0 ] &&
			    ! grep -q 'FAILED  \] GROUP \(SETUP\|TEARDOWN\)' "$tout"; then
				# (cmocka exits 0 when only a group set-up or
				# tear-down failed: that is a failure here.)
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
				failures+=("$t")
			fi
		done
	done
	rm -f "$tout"
fi

if stage golden; then
	if tests/golden/run.sh; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("tests/golden")
	fi
fi

if stage fuzz; then
	# One count per target; a target that does not build fails.
	for t in $(scripts/fuzz.sh list); do
		if scripts/fuzz.sh "$t" "${ISLES_FUZZ_SECONDS:-5}"; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1))
			failures+=("tests/fuzz/$t")
		fi
	done
fi

if stage integration; then
	out=$(mktemp)
	/usr/bin/python3 -m pytest -p no:cacheprovider -v -rs --durations=15 tests/integration "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	grep -qE '[0-9]+ skipped' <(tail -1 "$out") && rc=1
	p=$(tail -1 "$out" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
	# A skipped test proves nothing: it counts as a failure here.
	f=$(tail -1 "$out" | grep -oE '[0-9]+ (failed|errors?|skipped)' |
	    awk '{s+=$1} END {print s+0}')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then
		failed=$((failed + 1))
	fi
	[ "$rc" = 0 ] || failures+=("tests/integration")
	rm -f "$out"
fi

echo
[ ${#failures[@]} -eq 0 ] || echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
