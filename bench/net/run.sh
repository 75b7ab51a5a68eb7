#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Switch benchmark on a fair harness (issue 16): the traffic generator is
# dpdk-testpmd itself, pinned to CPU 0, with two net_virtio_user ports as
# the back-end's two front-ends and a net_null source:
#   port 0 net_null (source)  ->  port 1 virtio_user A  ->  back-end
#   back-end  ->  port 2 virtio_user B  ->  counted, then dropped (to port 0)
# testpmd's mac forwarding (--port-topology=chained) rewrites every frame
# from the source to carry A's MAC as source and B's as destination.  The
# back-end under test is pinned to CPU 1:
#   isles   isles-switchd --port a:MAC_A=SOCK_A --port b:MAC_B=SOCK_B
#   testpmd dpdk-testpmd, net_vhost x2, --forward-mode=io, one forwarding
#           lcore (main and forwarding lcore both on CPU 1)
# Per run: frames received on B over SECONDS (testpmd's port statistics),
# the back-end's CPU-seconds over the same interval (utime + stime from
# /proc/PID/stat), packets per back-end CPU-second, and its CPU-seconds
# over one second with the front-ends connected and the generator stopped
# ("idle").  The order of the two back-ends is shuffled in every round.
# Every run is printed, then the medians.
#
#   bench/net/run.sh [SECONDS] [RUNS] [SIZES]   (default 5 s, 5 runs, "64 1500")
#   ISLES_SWITCHD=path: another isles-switchd binary as "isles"
#   ISLES_OTHER=path: a second isles-switchd, measured as "other" in the
#   same rounds (A/B comparison of two builds)
#
# Needs root: reserves 768 hugepages of 2 MiB and mounts hugetlbfs on
# /dev/hugepages if needed (both undone at exit).  Stops what it starts.
set -eu
cd "$(dirname "$0")/../.."

secs=${1:-5}
runs=${2:-5}
sizes=${3:-64 1500}
warm=2
MAC_A=02:00:00:00:bb:01
MAC_B=02:00:00:00:bb:02
make -s -j2 build/isles-switchd

command -v dpdk-testpmd >/dev/null || {
	echo "bench/net: dpdk-testpmd missing (apt-get install dpdk-dev)" >&2
	exit 1
}
old_huge=$(cat /proc/sys/vm/nr_hugepages)
[ "$old_huge" -lt 768 ] && echo 768 >/proc/sys/vm/nr_hugepages
mounted=
if ! mount | grep -q ' type hugetlbfs '; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
	mounted=1
fi

dir=$(mktemp -d /tmp/islnb.XXXX)
bpid= gpid=
cleanup() {
	exec 3>&- 2>/dev/null || true
	[ -n "$gpid" ] && kill "$gpid" 2>/dev/null && wait "$gpid" 2>/dev/null
	[ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
	rm -rf "$dir"
	[ -n "$mounted" ] && umount /dev/hugepages 2>/dev/null
	echo "$old_huge" >/proc/sys/vm/nr_hugepages
}
trap cleanup EXIT

HZ=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }

wait_sockets() {
	for _ in $(seq 100); do
		[ -S "$dir/a.sock" ] && [ -S "$dir/b.sock" ] && return 0
		sleep 0.1
	done
	echo "bench/net: back-end did not create its sockets" >&2
	return 1
}

start_isles() {	# [binary]
	rm -f "$dir/a.sock" "$dir/b.sock"
	taskset -c 1 "${1:-${ISLES_SWITCHD:-build/isles-switchd}}" --name bench \
	    --port a:$MAC_A="$dir/a.sock" --port b:$MAC_B="$dir/b.sock" \
	    >/dev/null 2>>"$dir/isles.log" &
	bpid=$!
	wait_sockets
}

start_testpmd() {
	rm -f "$dir/a.sock" "$dir/b.sock"
	taskset -c 1 dpdk-testpmd --lcores 0@1,1@1 -n 1 --no-pci \
	    --file-prefix "islnbb$$" -m 256 --single-file-segments \
	    --vdev "net_vhost0,iface=$dir/a.sock,queues=1" \
	    --vdev "net_vhost1,iface=$dir/b.sock,queues=1" \
	    -- --forward-mode=io --auto-start --stats-period 3600 \
	    --nb-cores=1 </dev/null >>"$dir/testpmd.log" 2>&1 &
	bpid=$!
	wait_sockets
	sleep 1		# its forwarding lcore is running
}

stop_backend() {
	kill -INT "$bpid" 2>/dev/null || true
	wait "$bpid" 2>/dev/null || true
	bpid=
}

# The generator reads commands from a fifo (fd 3); its output goes to gen.log.
start_gen() {
	local size=$1
	rm -f "$dir/cmd"
	mkfifo "$dir/cmd"
	: >"$dir/gen.log"
	taskset -c 0 stdbuf -oL dpdk-testpmd --lcores 0@0,1@0 -n 1 --no-pci \
	    --file-prefix "islnbg$$" -m 256 --single-file-segments \
	    --vdev "net_null0,size=$size" \
	    --vdev "net_virtio_user0,path=$dir/a.sock,queues=1,queue_size=256,mac=$MAC_A" \
	    --vdev "net_virtio_user1,path=$dir/b.sock,queues=1,queue_size=256,mac=$MAC_B" \
	    -- -i --forward-mode=mac --port-topology=chained \
	    --eth-peer=1,$MAC_B --nb-cores=1 --auto-start \
	    <"$dir/cmd" >"$dir/gen.log" 2>&1 &
	gpid=$!
	exec 3>"$dir/cmd"
}

# RX-packets and RX-bytes of port 2 (B), from a fresh "show port stats 2".
port_b() {
	local n before
	before=$(grep -c 'NIC statistics for port 2' "$dir/gen.log" || true)
	echo "show port stats 2" >&3
	for _ in $(seq 250); do
		n=$(grep -c 'RX-errors' "$dir/gen.log" || true)
		[ "$n" -gt "$before" ] && break
		sleep 0.02
	done
	grep 'RX-packets:' "$dir/gen.log" | tail -1 |
	    awk '{print $2, $6}'
}

stop_gen() {
	echo quit >&3 || true
	exec 3>&-
	wait "$gpid" 2>/dev/null || true
	gpid=
}

one_run() {	# backend size
	local be=$1 size=$2 t0 t1 c0 c1 p0 p1 i0 i1
	case $be in
	isles) start_isles ;;
	other) start_isles "$ISLES_OTHER" ;;
	*) start_testpmd ;;
	esac
	start_gen "$size"
	sleep "$warm"
	read -r p0 b0 < <(port_b)
	c0=$(cpu "$bpid"); t0=$(now)
	sleep "$secs"
	read -r p1 b1 < <(port_b)
	c1=$(cpu "$bpid"); t1=$(now)
	# Idle: front-ends still connected, generator stopped.
	echo stop >&3
	sleep 0.5
	i0=$(cpu "$bpid")
	sleep 1
	i1=$(cpu "$bpid")
	stop_gen
	stop_backend
	awk -v be="$be" -v size="$size" -v p0="$p0" -v p1="$p1" -v b0="$b0" \
	    -v b1="$b1" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" \
	    -v i0="$i0" -v i1="$i1" -v hz="$HZ" 'BEGIN {
		s = t1 - t0; n = p1 - p0; cs = (c1 - c0) / hz
		f = "%s size=%d frames=%d seconds=%.2f mpps=%.3f gbps=%.2f"
		f = f " backend_cpu_s=%.2f pkts_per_cpu_s=%.0f idle_cpu_s=%.2f\n"
		printf f, be, size, n, s, n / s / 1e6, (b1 - b0) * 8 / s / 1e9, cs,
		    (cs > 0 ? n / cs : 0), (i1 - i0) / hz
	}'
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# generator: dpdk-testpmd on CPU 0; back-end on CPU 1; ${secs}s per run, $runs runs"
out="$dir/results"
: >"$out"
for size in $sizes; do
	for r in $(seq "$runs"); do
		for be in $(printf 'isles\ntestpmd\n%s' "${ISLES_OTHER:+other}" | shuf); do
			one_run "$be" "$size" >"$dir/line"
			cat "$dir/line"
			cat "$dir/line" >>"$out"
		done
	done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "medians (runs=$runs, ${secs}s each):"
for size in $sizes; do
	for be in isles testpmd ${ISLES_OTHER:+other}; do
		grep "^$be size=$size " "$out" |
		    awk -v be="$be" -v size="$size" -f bench/net/medians.awk
	done
done
