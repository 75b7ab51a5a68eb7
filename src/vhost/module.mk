# SPDX-License-Identifier: BSD-2-Clause
# libvhost: vhost-user back-end protocol (vu_), guest memory table (vu_mem_),
# split virtqueue (vq_), and a minimal vhost-user front-end (vf_) used by
# tests and benchmarks.  Linked by isles-diskd (and later isles-switchd).
LIBS += vhost
vhost_SRCS := $(sort $(wildcard src/vhost/*.c))
