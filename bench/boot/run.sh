#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Boot benchmark (reported, not a timed test; not part of make check):
#   - time from `isles up --detach` to every VM answering `isles exec true`,
#     for a system of 1 VM and one of 4 VMs (256M, 1 vCPU each);
#   - in the same run, one bare qemu-system-x86_64 boot of the same kernel
#     and initramfs to its init (the kernel's "Run /init as init process"
#     on the serial port);
# and prints a table of medians and the ratios.
#
#   bench/boot/run.sh            3 rounds (REPS=N to change)
#   ISLES_ACCEL=kvm bench/boot/run.sh
set -eu
cd "$(dirname "$0")/../.."
make -s -j2 build/isles build/isles-consoled build/guest/isles-agent >/dev/null
exec /usr/bin/python3 bench/boot/boot.py "$@"
