# SPDX-License-Identifier: BSD-2-Clause
# libcommon: logging, framing; linked by every host program and (only what
# it uses) by guest programs.  sandbox.c needs -lseccomp: only the daemons
# that call it link it (the static guest agent does not pull that object
# in).
LIBS += common
common_SRCS := $(sort $(wildcard src/lib/*.c))
