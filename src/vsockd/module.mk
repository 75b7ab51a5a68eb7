# SPDX-License-Identifier: BSD-2-Clause
# isles-vsockd: vsock between the VMs of a system (vhost-user-vsock
# back-ends, one per VM, relaying by destination CID).  libvsockd holds
# what the unit tests link directly: header checks (vs_pkt), VMs, routing,
# policy and counters (vs_table, pure) and the ring data path (vs_relay,
# pure apart from guest memory).
LIBS += vsockd
vsockd_SRCS := src/vsockd/vs_pkt.c src/vsockd/vs_table.c src/vsockd/vs_relay.c

PROGS += isles-vsockd
isles-vsockd_SRCS := src/vsockd/vsockd.c
isles-vsockd_LIBA := vsockd vhost
isles-vsockd_LDLIBS := -lseccomp
