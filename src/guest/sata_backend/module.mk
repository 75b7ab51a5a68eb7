# SPDX-License-Identifier: BSD-2-Clause
# dataport_sata_backend: the driver VM's block server over dataports (the
# seed virtio_guest_driver's program; docs/driver-vm.md).
GUEST_PROGS += dataport_sata_backend
dataport_sata_backend_SRCS := src/guest/sata_backend/backend.c
dataport_sata_backend_LIBA := guestdataport dpblk
