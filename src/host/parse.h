/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parse: numbers from command lines and system files, one way for every
 * Isles program: decimal digits only (no sign, no space, no base prefix,
 * nothing after), range-checked, never wrapped (strtoull happily turns
 * "-1" into 2^64-1; these do not).
 *
 * Pure: no I/O except host_parse_fd's check that the fd is open.
 * Errors: 0 / -1 with errno EINVAL (syntax, range) or ERANGE (over 64
 * bits).
 */
#ifndef ISLES_HOST_PARSE_H
#define ISLES_HOST_PARSE_H

#include <stdint.h>

/* A decimal in [min, max]. */
int host_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The same for unsigned int. */
int host_parse_uint(const char *s, unsigned min, unsigned max,
    unsigned *out);

/*
 * An inherited file descriptor number (>= 3: 0-2 are stdio) that is open
 * in this process.  Returns the fd, or -1 with EINVAL (syntax) or EBADF
 * (not open).
 */
int host_parse_fd(const char *s);

/*
 * The "fd:N" form daemons take wherever a socket or file may be given
 * either by path or as an inherited fd: N as host_parse_fd takes it.
 * Returns the fd, or -1 with EINVAL (no "fd:" prefix, syntax) or EBADF.
 */
int host_parse_fd_arg(const char *s);

/*
 * A size: digits and an optional binary unit K, M, G, T (or KiB, MiB,
 * GiB, TiB); no unit means bytes.  Zero is refused (EINVAL), more than 64
 * bits too (ERANGE).
 */
int host_parse_size(const char *s, uint64_t *out);

#endif
