# SPDX-License-Identifier: BSD-2-Clause
# libsupervisor: the supervisor of one running system (`isles supervise`,
# started by `isles up`), and what the CLI asks of it before it starts
# (the QEMU and daemon checks, the accelerator, the run dir).  Linked by
# the isles program; its pure parts (qemu, accel, child) by unit tests.
LIBS += supervisor
supervisor_SRCS := $(sort $(wildcard src/supervisor/*.c))
