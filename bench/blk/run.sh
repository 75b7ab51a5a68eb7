#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Block back-end benchmark: isles-diskd against qemu-storage-daemon's
# vhost-user-blk export (aio=io_uring, cache.direct=off), the same image
# file, the same bytes (isles exports partition 1, qsd the same range of
# the whole file), in the same run.
#
# The front-end is build/isles-blkbench (blkbench.c): memfd guest memory,
# one queue of 256, EVENT_IDX and INDIRECT_DESC negotiated and used the way
# a Linux guest's virtio-blk driver uses them.  It runs on CPU 0, the
# back-ends on CPU 1 (taskset; their io-wq workers inherit it).
#
# The image lives on a disk file system ($BENCH_DIR, default /var/tmp),
# not tmpfs (there io_uring hands every buffered read to io-wq), and is
# read into the page cache again before every run, so both back-ends see
# the page cache in the same state.  Workloads:
#   randread 4 KiB QD1      p50 latency
#   randread 4 KiB QD32     IOPS per back-end CPU-second
#   seqread 128 KiB QD8     GB/s, against one-core memcpy of 128 KiB
#                           buffers measured in the same run
# ROUNDS rounds; in each, the order of the two back-ends is shuffled.
# Every run is printed, then the medians and the ratios.
#
#   bench/blk/run.sh [SECONDS_PER_RUN] [ROUNDS]      (default 3 s, 5 rounds)
#   ISLES_DISKD=path: another isles-diskd binary as "isles"
#   WORKLOADS="seqread 131072 8": only these (MODE BS QD, comma-separated)
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-3}
ROUNDS=${2:-5}
B=build
make -s -j2 $B/isles-diskd $B/isles-blkbench
D=$(mktemp -d /tmp/isl.XXXX)
IMG=${BENCH_DIR:-/var/tmp}/isles-blkbench-$$.img
HZ=$(getconf CLK_TCK)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$D" "$IMG"
}
trap cleanup EXIT

taskset -c 1 "${ISLES_DISKD:-$B/isles-diskd}" -q --disk "$IMG" --create 1G --part rest \
	--export bench:1="$D/isles.sock" 2>"$D/diskd.log" &
pids+=($!)
ISLES_PID=$!
for _ in $(seq 50); do [ -S "$D/isles.sock" ] && break; sleep 0.1; done
# Data in the whole partition (not zeros: no shortcut for holes).
head -c $((1022 << 20)) /dev/urandom |
	dd of="$IMG" bs=1M seek=1 conv=notrunc status=none iflag=fullblock
taskset -c 1 qemu-storage-daemon \
	--blockdev driver=file,node-name=file0,filename="$IMG",aio=io_uring,cache.direct=off \
	--blockdev driver=raw,node-name=disk0,file=file0 \
	--export type=vhost-user-blk,id=exp0,node-name=disk0,writable=on,num-queues=1,addr.type=unix,addr.path="$D/qsd.sock" \
	2>"$D/qsd.log" &
pids+=($!)
QSD_PID=$!
for _ in $(seq 50); do [ -S "$D/qsd.sock" ] && break; sleep 0.1; done

# Partition 1 is physical sectors 2048.. ; isles shows it from sector 64.
NSECT=$(( (1024 - 2) * 2048 ))
# CPU-seconds of every thread of the process (io-wq workers included).
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() {	# backend pid sock first workload bs qd
	local c0 c1 out
	cat "$IMG" >/dev/null	# page cache: the whole image, every run
	c0=$(cpu "$2")
	out=$(taskset -c 0 $B/isles-blkbench "$3" "$5" "$6" "$7" "$SECS" "$4" "$NSECT")
	c1=$(cpu "$2")
	echo "$1 $out cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')"
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, ${SECS}s per run, $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=, read -r -a wls <<<"${WORKLOADS:-randread 4096 1,randread 4096 32,seqread 131072 8}"
for wl in "${wls[@]}"; do
	for r in $(seq "$ROUNDS"); do
		for be in $(printf 'isles\nqsd\n' | shuf); do
			taskset -c 0 $B/isles-blkbench --memcpy 67108864 0.5 |
			    sed "s/^/memcpy-$be /" >>"$D/memcpy.txt"
			[ "$wl" = "randread 4096 1" ] &&
			    taskset -c 0 $B/isles-blkbench --wakeup 1 1 >>"$D/wakeup.txt"
			# shellcheck disable=SC2086
			if [ "$be" = isles ]; then
				run isles "$ISLES_PID" "$D/isles.sock" 64 $wl
			else
				run qsd "$QSD_PID" "$D/qsd.sock" 2048 $wl
			fi
		done
	done
done | tee "$D/runs.txt"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Idle: no request for 2 s (the front-end of the last run has gone).
i0=$(cpu "$ISLES_PID"); q0=$(cpu "$QSD_PID")
sleep 2
i1=$(cpu "$ISLES_PID"); q1=$(cpu "$QSD_PID")
echo "# idle 2 s: isles cpu_s=$(awk -v a="$i0" -v b="$i1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')" \
    "qsd cpu_s=$(awk -v a="$q0" -v b="$q1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')"
echo "# one-core DRAM memcpy (64 MiB buffers), before every run (GB/s):"
awk '{ split($4, a, "="); printf " %s", a[2] } END { printf "\n" }' "$D/memcpy.txt"

echo
echo "# medians (backend workload: IOPS MB/s p50_us p99_us cpu_s IOPS/cpu_s)"
awk '
function val(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } }
{ key = $1 " " $2 " " val("bs") "/" val("qd")
  n[key]++
  iops[key, n[key]] = val("iops"); mbs[key, n[key]] = val("MB/s")
  p50[key, n[key]] = val("p50_us"); p99[key, n[key]] = val("p99_us")
  cpus[key, n[key]] = val("cpu_s")
  eff[key, n[key]] = (val("cpu_s") > 0) ? val("iops") * '"$SECS"' / val("cpu_s") : 0
  keys[key] = 1 }
function med(arr, key, m,   i, j, t, v) {
  for (i = 1; i <= m; i++) v[i] = arr[key, i] + 0
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
  return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
END { for (k in keys) printf "%-8s %-18s %9.0f %8.1f %8.1f %8.1f %6.2f %9.0f\n", substr(k, 1, index(k, " ") - 1), substr(k, index(k, " ") + 1),
    med(iops, k, n[k]), med(mbs, k, n[k]), med(p50, k, n[k]), med(p99, k, n[k]), med(cpus, k, n[k]), med(eff, k, n[k]) }
' "$D/runs.txt" | sort -k2,2 -k1,1 | tee "$D/med.txt"
grep -o 'GB/s=[0-9.]*' "$D/memcpy.txt" | cut -d= -f2 | sort -n |
	awk '{ v[NR] = $1 } END { printf "# DRAM memcpy, one core: median %.2f GB/s (%d runs)\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR }'

floor=0
if [ -s "$D/wakeup.txt" ]; then
	echo "# QD1 floor: eventfd round trip CPU 0 -> CPU 1 -> CPU 0, no work (isles-blkbench --wakeup), before every QD1 run:"
	grep -o 'p50_us=[0-9.]*' "$D/wakeup.txt" | cut -d= -f2 | tr '\n' ' ' | sed 's/^/ /'; echo
	floor=$(grep -o 'p50_us=[0-9.]*' "$D/wakeup.txt" | cut -d= -f2 | sort -n |
		awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
fi
awk -v floor="$floor" '
# backend workload bs/qd IOPS MB/s p50_us p99_us cpu_s IOPS/cpu_s
{ k = $1 " " $2 " " $3; v[k " p50"] = $6; v[k " eff"] = $9; v[k " mbs"] = $5 }
END {
  if (v["qsd randread 4096/1 p50"] > 0)
    printf "# QD1 p50 latency isles/qsd: %.2f\n", v["isles randread 4096/1 p50"] / v["qsd randread 4096/1 p50"]
  if (floor > 0 && v["qsd randread 4096/1 p50"] > floor)
    printf "# QD1 p50 above the %.1f us floor (the back-end'"'"'s own time), isles/qsd: %.1f/%.1f us = %.2f\n", floor,
      v["isles randread 4096/1 p50"] - floor, v["qsd randread 4096/1 p50"] - floor,
      (v["isles randread 4096/1 p50"] - floor) / (v["qsd randread 4096/1 p50"] - floor)
  if (v["qsd randread 4096/32 eff"] > 0)
    printf "# QD32 IOPS per CPU-s isles/qsd: %.2f\n", v["isles randread 4096/32 eff"] / v["qsd randread 4096/32 eff"]
  if (v["qsd seqread 131072/8 mbs"] > 0)
    printf "# 128K QD8 MB/s isles/qsd: %.2f\n", v["isles seqread 131072/8 mbs"] / v["qsd seqread 131072/8 mbs"]
}' "$D/med.txt"
