/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unixsock: connecting to a Unix stream socket by path, the one way every
 * Isles client does it (the CLI to the supervisor and to a switch's stats
 * socket, the supervisor to a VM's agent port, the console client, the
 * test vhost-user front-end).  Trusts nothing: a path too long for
 * sun_path is refused, never truncated.
 *
 * Conventions: fd or -1 with errno.
 */
#ifndef ISLES_UNIXSOCK_H
#define ISLES_UNIXSOCK_H

/*
 * Connect an AF_UNIX SOCK_STREAM socket, created with SOCK_CLOEXEC |
 * flags (e.g. SOCK_NONBLOCK; a Unix connect completes at once or fails),
 * to path.  Returns the fd, or -1 with errno: ENAMETOOLONG if path does
 * not fit in sun_path, else socket()'s or connect()'s.
 */
int unixsock_connect(const char *path, int flags);

#endif
