#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Dataport doorbell latency and copy bandwidth (bench/dataport/run.py;
# reported, not a test).
set -eu
cd "$(dirname "$0")/../.."
make -s -j2 >/dev/null
exec /usr/bin/python3 bench/dataport/run.py "$@"
