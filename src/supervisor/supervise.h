/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * supervise: the supervisor's shared state, used by its modules only:
 * supervise.c (event loop, child table, VM life cycle, shutdown),
 * agentlink.c (the link to each VM's guest agent, exec sessions),
 * control.c (the control socket and its clients).  See the comment at
 * the top of supervise.c for the design.
 */
#ifndef ISLES_SUPERVISE_H
#define ISLES_SUPERVISE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "child.h"
#include "outq.h"
#include "proto.h"
#include "sysconf/sysconf.h"

struct sup;

/* Anything the epoll loop watches; epoll_data.ptr points at one. */
struct ev_src {
	void (*fn)(struct sup *, struct ev_src *, uint32_t events);
	int fd;
	uint32_t mask;		/* events currently registered, 0 = none */
};

enum vm_state {
	VM_STARTING,		/* QEMU started, its sockets not connected yet */
	VM_BOOTING,		/* agent socket connected, no HELLO_ACK yet */
	VM_READY,		/* the agent answered */
	VM_STOPPING,		/* powering off / being killed */
	VM_STOPPED,		/* QEMU exited on purpose or after poweroff */
	VM_CRASHED,		/* QEMU died or the VM failed to boot */
	VM_RESTARTING,		/* stopping, to be started again */
};

/* Bounds: what a hostile guest or many clients can make us hold. */
#define SESS_MAX	32		/* concurrent execs per VM (the agent's limit) */
#define CLIENTS_MAX	256
#define Q_HIGH		(256u * 1024u)	/* stop producing above this */
#define Q_LOW		(64u * 1024u)	/* resume below this */

struct client;

struct session {
	bool used;
	uint32_t chan;
	struct client *cl;	/* NULL: client gone, waiting for EXIT */
};

struct agentlink {
	struct ev_src src;	/* fd -1 when not connected */
	struct proto_rx *rx;
	struct outq out;
	bool paused;		/* not reading: a client queue is full */
	struct session sess[SESS_MAX];
	uint32_t next_chan;
	uint64_t dropped;	/* invalid frames from the guest */
	char version[32];
};

struct qmplink {
	struct ev_src src;	/* fd -1 when not connected */
	char buf[4096];
	size_t have;
	bool overflow;		/* discarding an over-long line */
};

struct vm_rt {
	unsigned idx;
	const struct sc_vm *cfg;
	struct child *child;
	enum vm_state state;
	struct ev_src timer;	/* timerfd: connect/HELLO retries, deadlines */
	unsigned backoff_ms;
	uint64_t boot_started;	/* ms, CLOCK_MONOTONIC: this boot began */
	uint64_t boot_deadline;	/* ms, CLOCK_MONOTONIC */
	uint64_t stop_deadline;
	int stop_stage;		/* 0 none, 1 poweroff asked, 2 TERM, 3 KILL */
	bool ever_ready;
	bool boot_failed;	/* killed for not booting: reason already set */
	uint64_t ready_at;
	char reason[512];	/* last exit / failure, "" if none */
	struct agentlink link;
	struct qmplink qmp;
};

enum client_kind { CL_NEW, CL_EXEC, CL_WATCH, CL_DOWN, CL_RESTART, CL_DONE };

struct client {
	struct ev_src src;
	struct proto_rx *rx;
	struct outq out;
	enum client_kind kind;
	int vm;			/* CL_EXEC, CL_RESTART */
	uint32_t chan;		/* CL_EXEC */
	bool rd_paused;		/* not reading: the agent's queue is full */
	bool closing;		/* close once out is flushed */
	struct client *next;
};

enum sup_phase { SUP_STARTING, SUP_RUNNING, SUP_STOPPING };

struct sup {
	struct sc_system *sys;
	char rundir[PATH_MAX];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	enum sc_accel accel;
	unsigned boot_timeout;	/* seconds */
	unsigned down_timeout;	/* seconds */
	int epfd;
	struct ev_src sig;
	struct ev_src ctl;	/* listening control socket */
	struct ev_src stop_timer;
	struct child *children;
	size_t nchildren;
	struct vm_rt *vms;
	size_t nvms;
	struct client *clients;
	size_t nclients;
	enum sup_phase phase;
	bool failed;		/* starting failed: tear down, exit 1 */
	char fail_reason[1024];	/* told to watchers that come late */
	bool daemons_stopping;
	uint64_t started_ms;
	bool quit;
};

/*
 * supervise.c.  Everything here runs in the one event loop thread.
 *   sup_watch       register src->fd for `events` (0 = unregister, which
 *                   also silences EPOLLHUP of a paused peer); 0 / -1.
 *   vm_set_state    record a VM's new state, log it, tell watchers; when
 *                   the last VM becomes ready while starting, the system
 *                   is up (READY to watchers).
 *   vm_agent_ready  the agent answered HELLO (version: sanitized text).
 *   sup_restart_vm  power the VM off (10 s, then kill) and start it again;
 *                   a VM that is not running is started.  -1 with errno
 *                   EBUSY when it is already stopping.
 *   sup_shutdown    stop every VM (poweroff, timeout seconds, then kill),
 *                   then the daemons, then exit the loop; idempotent.
 *   sup_broadcast   send a frame to every WATCH / DOWN client.
 */
int sup_watch(struct sup *s, struct ev_src *src, uint32_t events);
void sup_unwatch(struct sup *s, struct ev_src *src);
const char *vm_state_name(enum vm_state st);
void vm_set_state(struct sup *s, struct vm_rt *vm, enum vm_state st,
    const char *detail);
void vm_agent_ready(struct sup *s, struct vm_rt *vm, const char *version);
int sup_restart_vm(struct sup *s, struct vm_rt *vm);
void sup_shutdown(struct sup *s, unsigned timeout);
void sup_broadcast(struct sup *s, uint16_t type, const void *p, size_t len);

/*
 * agentlink.c.
 *   link_connect     connect to R/vm/VM/agent.sock (non-blocking); -1 with
 *                    errno (ENOENT, ECONNREFUSED: QEMU not there yet).
 *   link_close       close the link; every session's client gets ERR
 *                    "VM: <why> while the command ran".
 *   link_send        queue one frame to the agent and push what the socket
 *                    takes; -1 if the link is down (it is closed on error).
 *   link_exec        start an exec session for cl (argv: NUL-terminated
 *                    strings); on failure cl has been sent ERR.
 *   link_client_gone cl disconnected: KILL its command, keep the channel
 *                    until the agent's EXIT.
 *   link_update      recompute epoll interest and backpressure after a
 *                    queue changed.
 */
void link_init(struct agentlink *l);
int link_connect(struct sup *s, struct vm_rt *vm);
void link_close(struct sup *s, struct vm_rt *vm, const char *why);
int link_send(struct sup *s, struct vm_rt *vm, uint16_t type, uint16_t flags,
    uint32_t chan, const void *p, size_t len);
int link_exec(struct sup *s, struct vm_rt *vm, struct client *cl,
    const uint8_t *argv, size_t len, bool with_stdin);
void link_client_gone(struct sup *s, struct client *cl);
void link_update(struct sup *s, struct vm_rt *vm);

/*
 * control.c.  Clients are never freed outside their own event handler:
 * client_finish / client_err only mark them closing (closed once their
 * queue is flushed), so any module may call them while iterating.
 *   client_send   queue a frame to cl; 0 / -1 (cl is then closing).
 *   client_err    send ERR (flags = the CLI's exit code) and finish.
 *   ctl_vm_event  tell watchers about vm's state; answer RESTART clients.
 */
int ctl_listen_init(struct sup *s, int fd);
int client_send(struct sup *s, struct client *cl, uint16_t type,
    uint16_t flags, const void *p, size_t len);
void client_err(struct sup *s, struct client *cl, int code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void client_finish(struct sup *s, struct client *cl);
void client_update(struct sup *s, struct client *cl);
void ctl_close_all(struct sup *s);
void ctl_vm_event(struct sup *s, struct vm_rt *vm, const char *detail);

/* The supervisor process: `isles supervise ...` (hidden subcommand). */
int cmd_supervise(int argc, char **argv);

#endif
