#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# fio in a QEMU guest against /dev/vda served by isles-diskd and by
# qemu-storage-daemon in turn, same run (bench/blk/guest.py says how).
#
#   bench/blk/guest.sh [SECONDS_PER_JOB] [ROUNDS]     (default 5 s, 2 rounds)
#   ACCEL=kvm bench/blk/guest.sh                      (default tcg)
#   ISLES_IMAGE=DIR: the guest image (default build/image)
#
# Needs root (the tools disk is made with mke2fs -d), fio on the host
# (its binary and libraries are copied onto that disk), qemu-storage-daemon.
set -eu
cd "$(dirname "$0")/../.."
make -s -j2 build/isles-diskd
command -v fio >/dev/null || { echo "guest bench: fio missing (apt-get install fio)" >&2; exit 1; }
exec /usr/bin/python3 bench/blk/guest.py "$@"
