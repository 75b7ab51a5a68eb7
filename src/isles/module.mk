# SPDX-License-Identifier: BSD-2-Clause
# isles: the CLI and the supervisor.
PROGS += isles
isles_SRCS := $(sort $(wildcard src/isles/*.c))
isles_LIBA := sysconf diskcore host common
isles_LDLIBS := -lconfig
