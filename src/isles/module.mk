# SPDX-License-Identifier: BSD-2-Clause
# isles: the CLI, one file per subcommand; the supervisor it starts is
# libsupervisor (src/supervisor).
# libconclient holds the console client's pure parts, the escape parser
# and the screen formatter, which tests/unit/test_console.c links.
LIBS += conclient
conclient_SRCS := src/isles/conesc.c src/isles/conscreen.c

PROGS += isles
isles_SRCS := $(filter-out $(conclient_SRCS),$(sort $(wildcard src/isles/*.c)))
isles_LIBA := supervisor conclient sysconf diskcore swtap webmsg
isles_LDLIBS := -lconfig -lseccomp
