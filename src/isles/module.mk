# SPDX-License-Identifier: BSD-2-Clause
# isles: the CLI and the supervisor.
PROGS += isles
isles_SRCS := $(sort $(wildcard src/isles/*.c))
isles_LIBA := sysconf host common
isles_LDLIBS := -lconfig
