# SPDX-License-Identifier: BSD-2-Clause
# isles-consoled: one per system; serial sockets of every VM -> replay
# rings, capped console.log files, and the console socket (docs/console.md).
# libconbuf holds its bounded buffers and the log cap so unit tests can
# drive them.
LIBS += conbuf
conbuf_SRCS := src/consoled/conbuf.c src/consoled/conlog.c
PROGS += isles-consoled
isles-consoled_SRCS := src/consoled/consoled.c
isles-consoled_LIBA := conbuf
isles-consoled_LDLIBS := -lseccomp
