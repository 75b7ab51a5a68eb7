/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control: the supervisor's control socket R/control.sock (bound by
 * `isles up`, handed down as an fd) and its clients: the isles CLI's
 * status, exec, down and restart, and `up` itself watching the system
 * come up.  Protocol: ctl.h.
 *
 * It owns the clients and their queues and checks every request; what a
 * request does to the system is the supervisor's (struct control_ops),
 * except an exec, which it runs on the VM's agent link (agentlink.h) as
 * the owner of the session.  The supervisor tells it what happens through
 * events: control_vm_event (a VM's state), control_ready (every VM is
 * up), control_failed (starting failed) and control_stopping.
 *
 * Trust: the socket lives in the 0700 run dir, so peers are the system's
 * owner; still every request is size- and field-checked, the number of
 * clients is bounded (CLIENTS_MAX), and a client that stops reading is
 * not allowed to grow our memory (its exec's agent is paused; other
 * clients only receive small bounded replies).  Single-threaded.
 */
#ifndef ISLES_SUPERVISOR_CONTROL_H
#define ISLES_SUPERVISOR_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "host/evloop.h"
#include "sysconf/sysconf.h"
#include "vm.h"

#define CLIENTS_MAX	256

/* What requests do to the system (arg: control.arg). */
struct control_ops {
	/*
	 * `isles status`: the status (JSON or text) into out, at most cap
	 * bytes with the NUL; returns its length.
	 */
	size_t (*status)(void *arg, bool json, char *out, size_t cap);
	/* `isles down`: stop the system; timeout 0 means the default. */
	void (*down)(void *arg, unsigned timeout);
	/* `isles restart VM`: 0, or -1 with errno (EBUSY, EIO). */
	int (*restart)(void *arg, struct vm *vm);
};

struct client;

struct control {
	struct ev_loop *loop;
	int fd;			/* listening, -1: closed */
	const struct sc_system *sys;
	struct vm *vms;		/* the plan's VMs, by index */
	size_t nvms;
	const struct control_ops *ops;
	void *arg;
	struct client *clients;
	size_t nclients;
	bool running;		/* every VM has been ready: READY to watchers */
	bool stopping;		/* exec and restart are refused */
	bool failed;		/* starting failed: FAILED to late watchers */
	char fail_reason[1024];
};

/*
 * Serve the listening socket fd (from now on c's; non-blocking).  The
 * plan and the VMs must outlive c.  0 / -1 with errno.
 */
int control_init(struct control *c, struct ev_loop *loop, int fd,
    const struct sc_system *sys, struct vm *vms, size_t nvms,
    const struct control_ops *ops, void *arg);

/* vm's state changed: tell the watchers, answer its restart requests. */
void control_vm_event(struct control *c, const struct vm *vm,
    const char *detail);

/* Every VM is ready: READY to the watchers, and to those that come. */
void control_ready(struct control *c);

/* Starting failed: FAILED with reason, to watchers now and later. */
void control_failed(struct control *c, const char *reason);

/* The system is stopping: exec and restart requests are refused. */
void control_stopping(struct control *c);

/* Hand every client what is queued (best effort), close all, and the
 * listening socket. */
void control_close(struct control *c);

#endif
