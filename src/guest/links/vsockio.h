/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsockio: what the guest's vsock tools (vsock-server, vsock-client)
 * share: argument parsing, the AF_VSOCK socket set-up, full writes and a
 * per-connection summary line.  Guest programs, static; busybox has no
 * vsock support (its nc speaks only TCP/UDP/Unix).
 *
 * Errors: -1 with errno, and a message on stderr prefixed with the
 * program's name (vio_prog).
 */
#ifndef ISLES_GUEST_VSOCKIO_H
#define ISLES_GUEST_VSOCKIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIO_CHUNK	(64 * 1024)

extern const char *vio_prog;

/* Print "PROG: message" (and ": strerror" with errno != 0) on stderr. */
void vio_warn(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A decimal in [min, max] (no sign, no garbage); -1 with errno EINVAL. */
int vio_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * A connected or listening AF_VSOCK stream socket: buffer (0: the
 * kernel's default) is SO_VM_SOCKETS_BUFFER_SIZE, the receive credit the
 * socket offers its peer.  fd or -1.
 */
int vio_socket(uint64_t buffer);

/* Write all of buf to fd (retrying short writes and EINTR).  0 / -1. */
int vio_write_all(int fd, const void *buf, size_t len);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t vio_ms(void);

/*
 * "PROG: CID:PORT: N bytes in S s (R MB/s)" on stderr; what is one of
 * "received", "sent", "echoed".
 */
void vio_summary(const char *what, uint32_t cid, uint32_t port,
    uint64_t bytes, uint64_t ms);

#endif
