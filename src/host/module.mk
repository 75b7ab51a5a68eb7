# SPDX-License-Identifier: BSD-2-Clause
# libhost: the host layer under every Isles process: the event loop
# (evloop), Unix-socket listening (listen) and connecting (unixsock),
# command-line numbers (parse), the log vocabulary (log), the lock-down
# (sandbox), and the header-only monotime.h and le.h.  Every host program
# links it (HOST_LIBA in the Makefile); guest programs name it.  sandbox.c
# needs -lseccomp: only the daemons that call it link that (a program
# that does not call it, such as the CLI or the static guest agent, does
# not pull that object in).
LIBS += host
host_SRCS := $(sort $(wildcard src/host/*.c))
