#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Switch benchmark: two vhost-user-net front-ends (build/bench-net, on
# tests/lib/front.c) through
#   (a) isles-switchd with two ports, and
#   (b) dpdk-testpmd with two vhost ports in io mode (one forwarding core),
# for 64 B, 1500 B and 64 KiB TSO frames.  Runs alternate between the two
# back-ends; each line is one run, then the medians per back-end and size.
# Reports Mpps, Gbit/s, back-end CPU-seconds, packets per back-end
# CPU-second and the back-end's CPU use over an idle second.
#
#   bench/net/frontend.sh [SECONDS_PER_RUN] [RUNS]     (default 3 s, 3 runs)
#
# (The fair harness with dpdk-testpmd as the generator is bench/net/run.sh;
# this one is kept for the 64 KiB TSO figure.)
#
# Needs root: installs dpdk-dev if dpdk-testpmd is missing, reserves 512
# hugepages of 2 MiB and mounts hugetlbfs on /dev/hugepages if needed (both
# undone at exit).  Everything it starts it stops.
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-3}
runs=${2:-3}
make -s -j2 build/bench-net build/isles-switchd

if ! command -v dpdk-testpmd >/dev/null; then
	echo "bench/net: installing dpdk-dev (dpdk-testpmd)" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends dpdk-dev >/dev/null
fi
# Hugepages for testpmd, given back at exit (1 GiB of RAM on a shared box).
old_huge=$(cat /proc/sys/vm/nr_hugepages)
[ "$old_huge" -lt 512 ] && echo 512 >/proc/sys/vm/nr_hugepages
mounted=
if ! mount | grep -q ' type hugetlbfs '; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
	mounted=1
fi

dir=$(mktemp -d /tmp/islnb.XXXX)
bpid=
cleanup() {
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	rm -rf "$dir"
	[ -n "$mounted" ] && umount /dev/hugepages 2>/dev/null
	echo "$old_huge" >/proc/sys/vm/nr_hugepages
}
trap cleanup EXIT

wait_sockets() {
	for _ in $(seq 100); do
		[ -S "$dir/a.sock" ] && [ -S "$dir/b.sock" ] && return 0
		sleep 0.1
	done
	echo "bench/net: back-end did not create its sockets" >&2
	return 1
}

start_isles() {
	rm -f "$dir/a.sock" "$dir/b.sock"
	build/isles-switchd --name bench \
	    --port a:02:00:00:00:bb:01="$dir/a.sock" \
	    --port b:02:00:00:00:bb:02="$dir/b.sock" 2>>"$dir/isles.log" &
	bpid=$!
	wait_sockets
}

start_testpmd() {
	local tso=$1
	rm -f "$dir/a.sock" "$dir/b.sock"
	dpdk-testpmd -l 0,1 -n 1 --no-pci --file-prefix "islnb$$" \
	    --vdev "net_vhost0,iface=$dir/a.sock,queues=1,tso=$tso" \
	    --vdev "net_vhost1,iface=$dir/b.sock,queues=1,tso=$tso" \
	    -- --forward-mode=io --auto-start --stats-period 3600 \
	    --nb-cores=1 </dev/null >>"$dir/testpmd.log" 2>&1 &
	bpid=$!
	wait_sockets
}

stop_backend() {
	kill -INT "$bpid" 2>/dev/null || true
	wait "$bpid" 2>/dev/null || true
	bpid=
}

out="$dir/results"
: >"$out"
for size in 64 1500 65549; do
	tso=0
	flag=
	[ "$size" -gt 9000 ] && tso=1 && flag=--tso
	for r in $(seq "$runs"); do
		for be in isles testpmd; do
			if [ "$be" = isles ]; then start_isles; else start_testpmd $tso; fi
			if build/bench-net --a "$dir/a.sock" --b "$dir/b.sock" \
			    --size "$size" $flag --seconds "$secs" --pid "$bpid" \
			    --label "$be" | tee -a "$out"; then :; else
				echo "$be size=$size run $r: failed" >&2
			fi
			stop_backend
		done
	done
done

echo
echo "medians (runs=$runs, ${secs}s each):"
for size in 64 1500 65549; do
	for be in isles testpmd; do
		grep "^$be size=$size " "$out" |
		    awk -v be="$be" -v size="$size" -f bench/net/medians.awk
	done
done
