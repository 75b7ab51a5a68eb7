#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Build and run the libFuzzer targets of tests/fuzz (docs/security.md).
#   scripts/fuzz.sh TARGET SECONDS    one target (vq, vu, ptable, sysconf,
#                                     dpblk, conesc, vsock; or fuzz_vq ...)
#   scripts/fuzz.sh all SECONDS       every target in turn, SECONDS each
#   scripts/fuzz.sh list              the targets
# Each run starts from the committed seeds (tests/fuzz/corpus/TARGET) and
# the inputs earlier runs found (build/fuzz/corpus/TARGET, not committed);
# a crash leaves its input in build/fuzz/crashes/TARGET/ and the log in
# build/fuzz/logs/TARGET.log.  Prints one line per target:
#   fuzz_vq: ok, 1234567 executions in 60 s
#   fuzz_vu: CRASH (build/fuzz/crashes/fuzz_vu/crash-...), ...
# and exits 1 if any target crashed (or did not build).  Reproduce a crash
# with build/fuzz/fuzz/TARGET FILE.
set -u
cd "$(dirname "$0")/.."

targets() {
	sed -n 's/^FUZZ_TARGETS += //p' tests/fuzz/module.mk
}

if [ "${1:-}" = list ]; then
	targets
	exit 0
fi
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
	echo "usage: scripts/fuzz.sh TARGET|all SECONDS (targets: $(targets | tr '\n' ' '))" >&2
	exit 2
fi
secs=$2
if [ "$1" = all ]; then
	sel=$(targets)
else
	t=$1
	[[ "$t" = fuzz_* ]] || t=fuzz_$t
	if ! targets | grep -qx "$t"; then
		echo "scripts/fuzz.sh: no target $1 (targets: $(targets | tr '\n' ' '))" >&2
		exit 2
	fi
	sel=$t
fi

if ! make -s -j2 FUZZ=1 $(for t in $sel; do echo "build/fuzz/fuzz/$t"; done); then
	echo "scripts/fuzz.sh: build failed (make FUZZ=1)" >&2
	exit 1
fi

# The inputs each target needs room for (the default is 4096 bytes).
max_len() {
	case $1 in
	fuzz_ptable) echo 42000 ;;
	fuzz_sysconf) echo 16384 ;;
	fuzz_vq) echo 12000 ;;
	*) echo 4096 ;;
	esac
}

# Leaks inside other projects' code only, each explained in the file.
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}

rc=0
for t in $sel; do
	work=build/fuzz/corpus/$t
	crashes=build/fuzz/crashes/$t
	log=build/fuzz/logs/$t.log
	mkdir -p "$work" "$crashes" "$(dirname "$log")"
	# -timeout: an input taking 10 s is a hang, reported as a crash.
	# ASan's own leak check runs on every input (-detect_leaks, default).
	build/fuzz/fuzz/$t -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1 \
	    -artifact_prefix="$crashes/" "$work" "tests/fuzz/corpus/$t" \
	    >"$log" 2>&1
	r=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	if [ "$r" = 0 ]; then
		echo "$t: ok, ${execs:-?} executions in ${took:-$secs} s"
	else
		art=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | cut -d' ' -f5)
		echo "$t: CRASH (${art:-see $log}), ${execs:-?} executions; log $log"
		grep -m1 -E "^(==[0-9]+==ERROR|SUMMARY|.*invariant broken)" "$log" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
