# SPDX-License-Identifier: BSD-2-Clause
# libvtest: what test and benchmark programs share and production code
# never links: the minimal vhost-user front-end (vf_, front.c) that stands
# in for QEMU in the hostile-VMM test, the switch port tests and the
# block and net benchmarks.  Its users include it by its path from the
# top of the tree ("tests/lib/front.h"), hence the -I. below; nothing
# under src/ includes anything under tests/.
LIBS += vtest
vtest_SRCS := $(sort $(wildcard tests/lib/*.c))
CPPFLAGS += -I.
