# SPDX-License-Identifier: BSD-2-Clause
# libhost: the host layer under every Isles process: the event loop
# (evloop), Unix-socket listening (listen), command-line numbers (parse).
LIBS += host
host_SRCS := $(sort $(wildcard src/host/*.c))
