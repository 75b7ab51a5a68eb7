#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Bring-up time of the shipped examples beside the slowest VM alone
# (bench/boot/examples.py; reported, not a test).
set -eu
cd "$(dirname "$0")/../.."
make -s -j2 >/dev/null
exec /usr/bin/python3 bench/boot/examples.py "$@"
