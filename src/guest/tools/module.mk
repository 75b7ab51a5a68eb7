# SPDX-License-Identifier: BSD-2-Clause
# Guest benchmark tools, static, into build/guest/ (the image copies every
# program there to /usr/bin): disk-bench (QD1 O_DIRECT throughput and
# latency of a block device; busybox has no fio), used by bench/driver-vm.
GUEST_PROGS += disk-bench
disk-bench_SRCS := src/guest/tools/disk-bench.c
