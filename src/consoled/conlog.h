/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conlog: a VM's console.log, capped in size, written through an fd the
 * supervisor opened (isles-consoled never opens the log by path).
 *
 * The log holds the newest output: when a write would take the file over
 * its cap, the newest part of the file (about half the cap, starting at a
 * line where one begins in the first 32 KiB) is moved to its start with
 * pread/pwrite and the file is cut there with ftruncate, then the new
 * bytes are written.  So the file never exceeds the cap, needs no rename
 * (no directory access) and ends with what the guest printed last.
 * isles-consoled is the file's only writer: it tracks the size itself and
 * writes at that offset.
 *
 * Called by consoled.c and unit tests.  The bytes are guest output, only
 * copied.  Errors: 0 / -1 with errno.
 */
#ifndef ISLES_CONLOG_H
#define ISLES_CONLOG_H

#include <stddef.h>
#include <stdint.h>

#define CLOG_MIN_MAX		(64u * 1024u)	/* smallest cap (= sysconf's) */
#define CLOG_DEFAULT_MAX	(4u << 20)	/* cap without --log-max (= sysconf's default) */

struct clog {
	int fd;			/* the log, -1 when there is none */
	uint64_t size;		/* bytes in the file */
	uint64_t max;		/* the cap: the file never grows beyond it */
};

/*
 * Take fd (a regular file open for reading and writing; O_APPEND is
 * cleared, since it would make pwrite ignore the offset) as the log, capped
 * at max bytes; an existing file over the cap is cut to its newest part at
 * once.  The fd stays the caller's to close.  Returns 0, or -1 with errno:
 * EINVAL (max below CLOG_MIN_MAX, not a regular file), EBADF (not open
 * for reading and writing), or that of fstat, fcntl, pread, pwrite or
 * ftruncate.  Before the seccomp lock-down: it calls fstat and fcntl.
 */
int clog_open(struct clog *l, int fd, uint64_t max);

/*
 * Append len bytes (only their newest max if there are more), cutting the
 * file first if they would take it over the cap.  A log with fd -1 takes
 * nothing and succeeds.  Returns 0, or -1 with errno of pread, pwrite or
 * ftruncate (the bytes that reached the file are counted in l->size).
 */
int clog_write(struct clog *l, const void *buf, size_t len);

#endif
