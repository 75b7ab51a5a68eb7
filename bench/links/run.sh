#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Throughput of vsock (isles-vsockd) and console links (isles-linkd, and
# QEMU to QEMU for comparison) between two VMs; see bench/links/links.py
# and bench/links/README.md for what is measured.
#
#   bench/links/run.sh [RUNS] [VSOCK_MIB] [LINK_MIB]     (default 3 128 32)
#
# Needs the built tree (make); builds the guest image if needed.
set -eu
cd "$(dirname "$0")/../.."
for a in "$@"; do
	case $a in
	''|*[!0-9]*) echo "usage: bench/links/run.sh [RUNS] [VSOCK_MIB] [LINK_MIB]" >&2
		exit 2 ;;
	esac
done
for p in build/isles build/isles-vsockd build/isles-linkd; do
	[ -x "$p" ] || { echo "bench/links: $p is missing: run make" >&2; exit 1; }
done
exec /usr/bin/python3 bench/links/links.py "$@"
