/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * listen: binding a listening Unix stream socket at a path, the one way
 * every Isles process does it (the supervisor for every socket it hands
 * to daemons and for its control socket; daemons started by hand with
 * --socket-path).
 *
 * One policy for what is already at the path: a socket nobody listens on
 * (left by a process that died) is replaced; a socket somebody still
 * listens on is never stolen (EADDRINUSE); anything that is not a socket
 * is never removed (EEXIST).  The socket file gets exactly `mode`
 * (bound under a matching umask: there is no moment with a wider mode).
 *
 * Errors: fd or -1 with errno.
 */
#ifndef ISLES_HOST_LISTEN_H
#define ISLES_HOST_LISTEN_H

#include <sys/types.h>

#define HOST_LISTEN_BACKLOG 16

/*
 * Bind and listen at path with file mode `mode` (e.g. 0600).  The fd is
 * close-on-exec and non-blocking.  ENAMETOOLONG if path does not fit in
 * sun_path (never truncated); EADDRINUSE, EEXIST as above.
 */
int host_listen(const char *path, mode_t mode);

#endif
