# SPDX-License-Identifier: BSD-2-Clause
# isles-linkd: the console links between VMs (virtio-serial ports joined
# through the daemon).  liblinkd holds the pure byte ring the unit tests
# link directly.
LIBS += linkd
linkd_SRCS := src/linkd/ln_ring.c

PROGS += isles-linkd
isles-linkd_SRCS := src/linkd/linkd.c
isles-linkd_LIBA := linkd
isles-linkd_LDLIBS := -lseccomp
