# SPDX-License-Identifier: BSD-2-Clause
# libvhost: vhost-user back-end protocol (vu_), guest memory table (vu_mem_),
# split virtqueue (vq_).  Linked by isles-diskd (and later isles-switchd).
# The test front-end (vf_) is libvtest, tests/lib.
LIBS += vhost
vhost_SRCS := $(sort $(wildcard src/vhost/*.c))
