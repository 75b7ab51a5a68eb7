# SPDX-License-Identifier: BSD-2-Clause
# isles-switchd: one virtual L2 switch (vhost-user-net ports + TAP uplink).
# libswitch holds what unit tests link directly: classification, virtio-net
# header rules, forwarding table and counters (pure) and the ring data path
# (pure apart from guest memory).  The event loop is the host layer's.
LIBS += switch
switch_SRCS := src/switchd/sw_frame.c src/switchd/sw_fwd.c src/switchd/sw_net.c

# libswtap: opening the TAP uplink, which the supervisor does for every
# switch (the isles program links it) and switchd by hand.
LIBS += swtap
swtap_SRCS := src/switchd/sw_tapopen.c

PROGS += isles-switchd
isles-switchd_SRCS := src/switchd/switchd.c src/switchd/sw_tap.c
isles-switchd_LIBA := switch vhost swtap
isles-switchd_LDLIBS := -lseccomp
