# SPDX-License-Identifier: BSD-2-Clause
# isles-diskd: one disk daemon per declared disk; serves each VM's virtual
# disk (a synthesized MBR over its partitions) as a vhost-user-blk export.
PROGS += isles-diskd
isles-diskd_SRCS := $(sort $(wildcard src/diskd/*.c))
isles-diskd_LIBA := vhost dpblk
isles-diskd_LDLIBS := -luring -lseccomp
# The partition-table and virtual-disk code is pure; unit tests link it
# through libdiskcore (everything but main and the io_uring device).
LIBS += diskcore
diskcore_SRCS := src/diskd/ptable.c src/diskd/vdisk.c
UNIT_LDLIBS += -luring
