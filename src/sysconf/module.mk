# SPDX-License-Identifier: BSD-2-Clause
# libsysconf: the system file (docs/system-file.md) parsed and validated
# into a plan.  Its users are in the isles program only: `isles check`,
# `isles up` and the supervisor; no daemon links it (a daemon gets its
# part of the plan as arguments and inherited fds).
LIBS += sysconf
sysconf_SRCS := $(sort $(wildcard src/sysconf/*.c))
UNIT_LDLIBS += -lconfig
