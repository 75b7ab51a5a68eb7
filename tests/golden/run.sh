#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Golden-output tests of `isles check`: every tests/golden/NAME.conf is
# checked from inside tests/golden (so paths in the output are relative
# and the same on every machine); stdout and stderr together, then a line
# "exit N", must equal NAME.out byte for byte.  A mismatch prints a diff.
#
#   tests/golden/run.sh            run every case (called by scripts/check.sh)
#   tests/golden/run.sh --update   rewrite the .out files; review the diff!
#   ISLES=path/to/isles            test another binary (default build/isles)
#
# Ends with "golden: N passed, M failed"; exits 1 if any case failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
isles=${ISLES:-$here/../../build/isles}
update=0

case "${1:-}" in
--update) update=1 ;;
"") ;;
*) echo "usage: $0 [--update]" >&2; exit 2 ;;
esac

if [ ! -x "$isles" ]; then
	echo "golden: $isles not found; run make first" >&2
	exit 1
fi
isles=$(cd "$(dirname "$isles")" && pwd)/$(basename "$isles")
cd "$here" || exit 1

# The host's PCI devices, as `isles check` sees them (hostcheck.c): a
# fake sysfs tree, the same on every machine.  0000:03:00.0 is ready for
# vfio-pci (group 7); 0000:05:00.0 is a NIC bound to e1000e whose group 8
# also holds 0000:05:00.1, bound to e1000e too.
sysfs=$(mktemp -d)
trap 'rm -rf "$sysfs"' EXIT
fake_dev() {	# ADDR GROUP DRIVER
	local d=$sysfs/sys/bus/pci/devices/$1
	mkdir -p "$d" "$sysfs/sys/bus/pci/drivers/$3" \
	    "$sysfs/sys/kernel/iommu_groups/$2/devices"
	echo 0x020000 > "$d/class"
	ln -s "../../../bus/pci/drivers/$3" "$d/driver"
	ln -s "../../../../kernel/iommu_groups/$2" "$d/iommu_group"
	ln -s "../../../../bus/pci/devices/$1" \
	    "$sysfs/sys/kernel/iommu_groups/$2/devices/$1"
}
fake_dev 0000:03:00.0 7 vfio-pci
mkdir -p "$sysfs/dev/vfio" && : > "$sysfs/dev/vfio/7"
fake_dev 0000:05:00.0 8 e1000e
fake_dev 0000:05:00.1 8 e1000e
export ISLES_SYSFS_ROOT=$sysfs

passed=0
failed=0
shopt -s nullglob
cases=(*.conf)
if [ ${#cases[@]} -eq 0 ]; then
	echo "golden: no cases found in $here" >&2
	exit 1
fi

for conf in "${cases[@]}"; do
	name=${conf%.conf}
	actual=$("$isles" check "$conf" 2>&1; echo "exit $?")
	if [ "$update" = 1 ]; then
		printf '%s\n' "$actual" > "$name.out"
		passed=$((passed + 1))
		continue
	fi
	if [ ! -f "$name.out" ]; then
		echo "golden: $name: no $name.out (run $0 --update and review it)"
		failed=$((failed + 1))
	elif diff -u --label "$name.out" --label "$name (actual)" \
	    "$name.out" <(printf '%s\n' "$actual"); then
		passed=$((passed + 1))
	else
		echo "golden: $name: FAILED"
		failed=$((failed + 1))
	fi
done

# A .out without its .conf is a case someone lost.
for out in *.out; do
	if [ ! -f "${out%.out}.conf" ]; then
		echo "golden: $out has no ${out%.out}.conf"
		failed=$((failed + 1))
	fi
done

# `isles graph` of every valid-*.conf, in the dot language, must equal
# graph/NAME.dot byte for byte (--update rewrites them too).
mkdir -p graph
for conf in valid-*.conf; do
	name=${conf%.conf}
	actual=$("$isles" graph "$conf" 2>&1; echo "exit $?")
	if [ "$update" = 1 ]; then
		printf '%s\n' "$actual" > "graph/$name.dot"
		passed=$((passed + 1))
	elif diff -u --label "graph/$name.dot" --label "$name graph (actual)" \
	    "graph/$name.dot" <(printf '%s\n' "$actual"); then
		passed=$((passed + 1))
	else
		echo "golden: graph of $name: FAILED"
		failed=$((failed + 1))
	fi
done

# The shipped examples must stay valid (their plans are not compared:
# they name host paths).
for conf in ../../examples/*.conf; do
	if out=$("$isles" check -q "$conf" 2>&1); then
		passed=$((passed + 1))
	else
		echo "golden: $conf is not valid:"
		printf '%s\n' "$out"
		failed=$((failed + 1))
	fi
	# ... and render: an SVG naming every VM of the file.
	svg=$(mktemp --suffix=.svg)
	if "$isles" graph -o "$svg" "$conf" 2>&1 && grep -q '<svg' "$svg" &&
	    for vm in $(sed -n 's/.*{ *name = "\(vm[0-9]*\)".*/\1/p' "$conf"); do
		grep -q ">$vm (@" "$svg" || exit 1; done; then
		passed=$((passed + 1))
	else
		echo "golden: isles graph $conf did not render every VM"
		failed=$((failed + 1))
	fi
	rm -f "$svg"
done

[ "$update" = 1 ] && echo "golden: rewrote $passed .out files; review them with git diff"
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
