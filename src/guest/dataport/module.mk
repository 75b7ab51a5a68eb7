# SPDX-License-Identifier: BSD-2-Clause
# Dataports, guest side (docs/dataports.md).  libdataport is a library for
# guest programs and, built for the host, for the unit tests; `dataport` is
# the static multi-call program behind dataport_read, dataport_write,
# dataport_emit, dataport_wait, dataport_pingpong and dataport-links (the
# image links those names to it: src/guest/image/rootfs/usr/bin).  The
# kernel module in kmod/ is not built here but by `isles image`, against
# the guest kernel's headers (src/guest/image/mkimage.sh).
LIBS += guestdataport
guestdataport_SRCS := src/guest/dataport/libdataport/cmdline.c \
	src/guest/dataport/libdataport/dataport.c
GUEST_PROGS += dataport
dataport_SRCS := src/guest/dataport/tools/dataport.c
dataport_LIBA := guestdataport
