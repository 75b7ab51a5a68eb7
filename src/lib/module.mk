# SPDX-License-Identifier: BSD-2-Clause
# libcommon: the system file parser (sysconf), linked by the CLI and the
# supervisor.  The rest of what used to be here is the host layer
# (src/host) and the protocols (src/proto).
LIBS += common
common_SRCS := $(sort $(wildcard src/lib/*.c))
UNIT_LDLIBS += -lconfig
