# SPDX-License-Identifier: BSD-2-Clause
# libproto: Isles' own protocols, in one place: the frame format (proto,
# with the agent protocol's types), the control protocol (ctl.h) and the
# console protocol (conproto.h).  Every host program links it (HOST_LIBA
# in the Makefile); the guest agent names it.
LIBS += proto
proto_SRCS := $(sort $(wildcard src/proto/*.c))
