# SPDX-License-Identifier: BSD-2-Clause
# isles-blkbench: vhost-user-blk load generator (bench/blk/run.sh drives
# it against isles-diskd and qemu-storage-daemon).
PROGS += isles-blkbench
isles-blkbench_SRCS := bench/blk/blkbench.c
isles-blkbench_LIBA := vtest vhost
