/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dpd: shared state of isles-dataportd, the ivshmem server of one
 * dataport (QEMU docs/specs/ivshmem-spec.rst, "The ivshmem
 * Client-Server Protocol").
 *
 * Isles' design, which the protocol's weaknesses dictate:
 * - Every resource of a dataport (the shared memory and each peer's
 *   interrupt eventfds) is created once, by the supervisor from the
 *   system file, and handed to the daemon as fds; the daemon never makes
 *   or drops one.  A restarted daemon therefore serves the very same
 *   memory and eventfds, and VMs that are running never notice (after
 *   set-up QEMU talks to its peers through the eventfds, not through us).
 * - Peer IDs are fixed: a peer's position in the dataport's list.  Each
 *   VM has its own listening socket, so the ID follows the socket, never
 *   the order of connection.
 * - A connecting peer is sent every declared peer's eventfds at once,
 *   running or not, and nobody is ever sent a connect or disconnect
 *   notification: a restarted VM gets its old ID and eventfds back, and
 *   its peers' QEMUs, which kept them, keep working.  (QEMU 7.2 frees a
 *   peer's eventfd array on a disconnect notification and writes into it
 *   on that peer's next connect: we never send one.)
 * A peer without a socket (a host process such as the disk daemon)
 * receives its fds from the supervisor directly; VMs get its eventfds
 * like any other peer's.
 *
 * greet.c is pure (the message sequence of one connection); main.c owns
 * the process.  Errors: 0 / -1 with errno.
 */
#ifndef ISLES_DPD_H
#define ISLES_DPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DPD_MAX_PEERS	64
#define DPD_MAX_VECTORS	16
#define DPD_NAME_MAX	32
#define DPD_PROTOCOL	0	/* ivshmem protocol version */
/* Messages of one greeting: version, ID, memory, every peer's vectors. */
#define DPD_MAX_MSGS	(3 + DPD_MAX_PEERS * DPD_MAX_VECTORS)

/* One server message: a little-endian int64, maybe with an fd. */
struct dpd_msg {
	int64_t value;
	int fd;			/* -1: none */
};

struct dpd_peer {
	char name[DPD_NAME_MAX];
	int listen_fd;		/* -1: a host peer, no socket */
	int ev[DPD_MAX_VECTORS];/* its interrupt eventfds, vector order */
	int conn_fd;		/* the connected QEMU, -1 if none */
	/* The greeting being sent on conn_fd. */
	struct dpd_msg *out;
	size_t nout, sent;
	uint64_t connects;
};

struct dpd_port {
	const char *name;
	int shm_fd;
	uint64_t size;
	unsigned vectors;
	struct dpd_peer peers[DPD_MAX_PEERS];
	unsigned npeers;
};

/*
 * The greeting of peer `id`, in protocol order: the version, its ID, -1
 * with the memory, then for every other peer its ID once per vector with
 * that vector's eventfd, then its own ID once per vector with its own
 * eventfds (those it is interrupted through).  Writes at most max
 * messages into out and returns how many (the fds are not dup'ed: they
 * stay the port's), or -1 with errno EINVAL (bad id) / ENOSPC.
 */
int dpd_greeting(const struct dpd_port *dp, unsigned id, struct dpd_msg *out,
    size_t max);

#endif
