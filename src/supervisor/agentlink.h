/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentlink: the supervisor's link to one VM's guest agent (isles-agent,
 * src/guest/agent) over the VM's virtio-serial port, which QEMU exposes
 * as the Unix socket R/vm/VM/agent.sock.  It carries the readiness
 * handshake (HELLO / HELLO_ACK, reported through `ready`) and multiplexes
 * exec sessions, one channel each, for their owners (control clients,
 * control.c), which it tells what happens through struct link_owner_ops.
 * The VM's state machine (vm.c) connects, closes and says HELLO.
 *
 * Backpressure, both ways and without dropping exec output: while an
 * owner holds more than Q_HIGH bytes not yet written out, the agent is
 * not read (its socket silenced) until every owner is below Q_LOW; while
 * the queue to the agent is above Q_HIGH, owners stop reading their
 * input (link_queued), and get `resume` once it is below Q_LOW.
 *
 * Errors: 0 / -1 with errno.  Single-threaded, in the supervisor's loop.
 */
#ifndef ISLES_SUPERVISOR_AGENTLINK_H
#define ISLES_SUPERVISOR_AGENTLINK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/evloop.h"
#include "outq.h"
#include "proto.h"

#define SESS_MAX	32		/* concurrent execs per VM (the agent's limit) */
#define Q_HIGH		(256u * 1024u)	/* stop producing above this */
#define Q_LOW		(64u * 1024u)	/* resume below this */

/* What the link tells the owner of an exec session. */
struct link_owner_ops {
	/* Output of the command; stream is PROTO_STDOUT or PROTO_STDERR. */
	void (*output)(void *owner, uint16_t stream, const void *p,
	    size_t len);
	/* The command exited (p: struct proto_exit); the session is over. */
	void (*exit)(void *owner, const void *p, size_t len);
	/* The session is over without an exit; msg ("VM: why") says why. */
	void (*error)(void *owner, const char *msg);
	/* Bytes queued to the owner and not yet written out. */
	size_t (*queued)(void *owner);
	/* The queue to the agent went below Q_LOW: input may flow again. */
	void (*resume)(void *owner);
};

struct link_session {
	bool used;
	uint32_t chan;
	const struct link_owner_ops *ops;
	void *owner;		/* NULL: owner gone, waiting for EXIT */
};

struct agentlink {
	struct ev_loop *loop;
	const char *name;	/* the VM's, for messages */
	char path[PATH_MAX];	/* R/vm/VM/agent.sock */
	int fd;			/* -1 when not connected */
	struct proto_rx *rx;
	struct outq out;
	bool paused;		/* not reading: an owner's queue is full */
	struct link_session sess[SESS_MAX];
	uint32_t next_chan;
	uint64_t dropped;	/* invalid frames from the guest */
	char version[32];	/* the agent's, from HELLO_ACK (sanitized) */
	void (*ready)(void *arg, const char *version);
	void *arg;
};

/*
 * Set l up, not connected.  name (the VM's) must outlive l; ready(arg,
 * version) is called for every HELLO_ACK.
 */
void link_init(struct agentlink *l, struct ev_loop *loop, const char *name,
    const char *path, void (*ready)(void *arg, const char *version),
    void *arg);

/*
 * Connect to the agent socket (non-blocking); 0 if already connected.
 * -1 with errno (ENOENT, ECONNREFUSED: QEMU is not there yet).
 */
int link_connect(struct agentlink *l);

/* Is the link connected? */
bool link_up(const struct agentlink *l);

/*
 * Close the link (idempotent); every session's owner gets error "VM:
 * <why> while the command ran".
 */
void link_close(struct agentlink *l, const char *why);

/*
 * Queue one frame to the agent and push what the socket takes.  -1 with
 * ENOTCONN if the link is down; on a write error it is closed.
 */
int link_send(struct agentlink *l, uint16_t type, uint16_t flags,
    uint32_t chan, const void *p, size_t len);

/* Bytes queued to the agent, not yet written. */
size_t link_queued(const struct agentlink *l);

/*
 * Start an exec session for owner: argv is len bytes of NUL-terminated
 * strings, with_stdin keeps the command's stdin open for link_send
 * (PROTO_STDIN).  Returns 0 with the session's channel in *chan, or -1
 * after ops->error(owner, why) (too many sessions, agent unreachable).
 */
int link_exec(struct agentlink *l, const struct link_owner_ops *ops,
    void *owner, const uint8_t *argv, size_t len, bool with_stdin,
    uint32_t *chan);

/*
 * The owner of session chan went away: its command is killed, the
 * channel stays taken until the agent's EXIT.  No-op unless owner owns it.
 */
void link_detach(struct agentlink *l, uint32_t chan, const void *owner);

/* An owner's queue changed: recompute backpressure and interest. */
void link_update(struct agentlink *l);

#endif
