#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Block back-end benchmark: isles-diskd against qemu-storage-daemon's
# vhost-user-blk export, same image file, fully in the page cache, same
# run, alternating back-ends (ROUNDS rounds), medians reported.
# The image lives on a disk file system ($BENCH_DIR, default /var/tmp)
# and is read once before the runs.  Not on tmpfs: there, io_uring hands
# every buffered read to an io-wq worker thread (no non-blocking
# page-cache path), which measures io-wq rather than the back-ends.
# Workloads: 4 KiB random reads QD32, 128 KiB sequential reads and
# writes QD32.  Per run: IOPS, MB/s, p50/p99 latency, the back-end's
# CPU-seconds (utime+stime of all its threads, from /proc) and IOPS per
# back-end CPU-second; plus one-core memcpy bandwidth in the same run.
#
#   bench/blk/run.sh [SECONDS_PER_RUN] [ROUNDS]      (after `make`)
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-3}
ROUNDS=${2:-3}
B=build
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

$B/isles-diskd -q --disk "$IMG" --create 1G --part rest --export bench:1="$D/isles.sock" 2>"$D/diskd.log" &
pids+=($!)
ISLES_PID=$!
for _ in $(seq 50); do [ -S "$D/isles.sock" ] && break; sleep 0.1; done
# Data in the whole partition, in the page cache.
dd if=/dev/zero of="$IMG" bs=1M seek=1 count=1022 conv=notrunc status=none
cat "$IMG" >/dev/null
qemu-storage-daemon \
	--blockdev driver=file,node-name=file0,filename="$IMG",aio=io_uring,cache.direct=off \
	--blockdev driver=raw,node-name=disk0,file=file0 \
	--export type=vhost-user-blk,id=exp0,node-name=disk0,writable=on,num-queues=1,addr.type=unix,addr.path="$D/qsd.sock" \
	2>"$D/qsd.log" &
pids+=($!)
QSD_PID=$!
for _ in $(seq 50); do [ -S "$D/qsd.sock" ] && break; sleep 0.1; done

# Partition 1 is physical sectors 2048.. ; isles shows it from sector 64.
NSECT=$(( (1024 - 2) * 2048 ))
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run() {	# backend pid sock first workload bs qd
	local c0 c1 out
	c0=$(cpu "$2")
	out=$($B/isles-blkbench "$3" "$5" "$6" "$7" "$SECS" "$4" "$NSECT")
	c1=$(cpu "$2")
	echo "$1 $out cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN{printf "%.2f", (b-a)/hz}')"
}

echo "# $(date -u +%FT%TZ) $(uname -r), $(nproc) cores, ${SECS}s per run, $ROUNDS rounds"
$B/isles-blkbench --memcpy 131072 1
$B/isles-blkbench --memcpy 67108864 1
for wl in "randread 4096 32" "seqread 131072 32" "seqwrite 131072 32"; do
	for r in $(seq "$ROUNDS"); do
		# shellcheck disable=SC2086
		run isles "$ISLES_PID" "$D/isles.sock" 64 $wl
		# shellcheck disable=SC2086
		run qsd "$QSD_PID" "$D/qsd.sock" 2048 $wl
	done
done | tee "$D/runs.txt"
# memcpy again after the runs: the machine is shared, look at both.
$B/isles-blkbench --memcpy 131072 1
$B/isles-blkbench --memcpy 67108864 1

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
  return v[int((m + 1) / 2)] }
END { for (k in keys) printf "%-8s %-18s %9.0f %8.1f %8.1f %8.1f %6.2f %9.0f\n", substr(k, 1, index(k, " ") - 1), substr(k, index(k, " ") + 1),
    med(iops, k, n[k]), med(mbs, k, n[k]), med(p50, k, n[k]), med(p99, k, n[k]), med(cpus, k, n[k]), med(eff, k, n[k]) }
' "$D/runs.txt" | sort -k2,2 -k1,1
