#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Disk throughput through the driver VM vs a direct partition export
# (bench/driver-vm/run.py; reported, not a test).
set -eu
cd "$(dirname "$0")/../.."
make -s -j2 >/dev/null
exec /usr/bin/python3 bench/driver-vm/run.py "$@"
