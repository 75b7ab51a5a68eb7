# SPDX-License-Identifier: BSD-2-Clause
# libdpblk: the block protocol over a dataport (docs/driver-vm.md), pure;
# linked by isles-diskd (host side) and the guest's dataport_sata_backend.
LIBS += dpblk
dpblk_SRCS := src/dpblk/dpblk.c
