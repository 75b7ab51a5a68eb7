# SPDX-License-Identifier: BSD-2-Clause
# isles-switchd: one virtual L2 switch (vhost-user-net ports + TAP uplink).
# libswitch holds the pure parts (classification, virtio-net header rules,
# forwarding table, counters) so that unit tests link them directly.
LIBS += switch
switch_SRCS := src/switchd/sw_frame.c src/switchd/sw_fwd.c src/switchd/sw_net.c \
	src/switchd/sw_loop.c

PROGS += isles-switchd
isles-switchd_SRCS := src/switchd/switchd.c src/switchd/sw_tap.c
isles-switchd_LIBA := switch vhost common
isles-switchd_LDLIBS := -lseccomp
