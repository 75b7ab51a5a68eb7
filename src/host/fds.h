/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fds: the first step of every daemon's lock-down (docs/architecture.md,
 * "Lock-down"): close every inherited fd it was not given.  A daemon
 * collects the fd numbers its command line names (fd:N arguments, --fd)
 * and calls host_close_others before it opens anything of its own, so
 * that what a parent leaked (or a stray fd of a test harness) is not
 * there to use.  Under the supervisor nothing should be stray (child.c
 * closes all but the listed fds before exec): this is the daemon's own
 * guarantee, which also holds when it is started by hand.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_HOST_FDS_H
#define ISLES_HOST_FDS_H

#include <stddef.h>

/*
 * Close every fd above 2 except keep[0..n) (sorted in place).  Returns 0,
 * or -1 with EINVAL (nothing closed) if an fd is below 3 or given twice:
 * two arguments naming one fd are a bad command line.
 */
int host_close_others(int *keep, size_t n);

/*
 * An inherited fd made ready for an event loop: non-blocking and
 * close-on-exec (the supervisor hands fds down without either).  0 / -1.
 */
int host_fd_nonblock_cloexec(int fd);

#endif
