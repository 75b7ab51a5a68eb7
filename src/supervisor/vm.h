/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm: the life cycle of one VM under the supervisor, the state machine
 * that drives its QEMU (a child of the child table), its agent link
 * (agentlink.h) and its QMP client (qmp.h), with one timerfd for every
 * deadline and retry:
 *
 *   starting (QEMU forked) -> booting (agent socket connected, HELLO
 *   sent, resent every second: HELLO is idempotent and QEMU holds the
 *   bytes until the guest opens its port) -> ready (HELLO_ACK).
 *
 * Waiting for a QEMU socket to appear is a connect retried from the timer
 * with backoff (10 ms doubling to 500 ms).  A VM that is not ready after
 * the boot timeout has failed.  A QMP RESET (guest reboot, panic=-1)
 * takes a ready VM back to starting; its running commands fail.  Stopping
 * (down, restart): the ACPI power button and, in case acpid is not
 * running, the agent asked to run `poweroff` (both signal busybox init,
 * which runs its shutdown script once); after the timeout QEMU gets
 * SIGTERM, KILL_GRACE_MS later SIGKILL.
 *
 * What a VM cannot decide alone goes to the supervisor through struct
 * vm_ops: every state change (watchers, readiness of the whole system)
 * and every failure (while the system starts, one VM's failure fails it
 * all).  Errors: 0 / -1 with errno; vm->reason says why for a user.
 * Single-threaded, in the supervisor's event loop.
 */
#ifndef ISLES_SUPERVISOR_VM_H
#define ISLES_SUPERVISOR_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "agentlink.h"
#include "child.h"
#include "host/evloop.h"
#include "qmp.h"
#include "sysconf/sysconf.h"

#define KILL_GRACE_MS	3000	/* from SIGTERM to SIGKILL, any child */

enum vm_state {
	VM_STARTING,		/* QEMU started, its sockets not connected yet */
	VM_BOOTING,		/* agent socket connected, no HELLO_ACK yet */
	VM_READY,		/* the agent answered */
	VM_STOPPING,		/* powering off / being killed */
	VM_STOPPED,		/* QEMU exited on purpose or after poweroff */
	VM_CRASHED,		/* QEMU died or the VM failed to boot */
	VM_RESTARTING,		/* stopping, to be started again */
};

/* "starting", "ready", ...: as `isles status` and the watchers show it. */
const char *vm_state_name(enum vm_state st);

struct vm;

/* What a VM tells the supervisor (arg: vm_env.arg). */
struct vm_ops {
	/* vm->state changed; detail says why (may be NULL or ""). */
	void (*changed)(void *arg, struct vm *vm, const char *detail);
	/*
	 * vm failed: its QEMU died (state crashed) or it did not boot in
	 * time (vm->reason says which).  true: this fails the whole system
	 * (it was starting; the supervisor stops everything); false: the
	 * one VM's failure (a VM that did not boot is then killed).
	 */
	bool (*failed)(void *arg, struct vm *vm);
};

/* What every VM of a system shares; owned by the supervisor. */
struct vm_env {
	struct ev_loop *loop;
	const char *rundir;
	unsigned boot_timeout;	/* seconds */
	const struct vm_ops *ops;
	void *arg;
};

struct vm {
	unsigned idx;		/* position in the system file */
	const struct sc_vm *cfg;
	struct child *child;	/* its QEMU, set before vm_start */
	const struct vm_env *env;
	enum vm_state state;
	int timer;		/* timerfd: connect/HELLO retries, deadlines */
	unsigned backoff_ms;
	uint64_t boot_started;	/* ms, CLOCK_MONOTONIC: this boot began */
	uint64_t boot_deadline;	/* ms, CLOCK_MONOTONIC */
	int stop_stage;		/* 0 none, 1 poweroff asked, 2 TERM, 3 KILL */
	bool boot_failed;	/* killed for not booting: reason already set */
	uint64_t ready_at;
	char reason[512];	/* last exit / failure, "" if none */
	struct agentlink link;
	struct qmp qmp;
};

/* Set vm up (its timer watched, links not connected); 0 / -1. */
int vm_init(struct vm *vm, const struct vm_env *env, unsigned idx,
    const struct sc_vm *cfg);

/* Close everything vm_init opened; running commands fail. */
void vm_free(struct vm *vm);

/* Is its QEMU running? */
bool vm_running(const struct vm *vm);

/* Start its QEMU: 0, or -1 with vm->reason set (state unchanged). */
int vm_start(struct vm *vm);

/*
 * `isles restart VM`: power off (10 s, then kill; at once if it never
 * booted) and start again; a VM that is not running is started.  -1 with
 * EBUSY when it is already stopping, EIO when QEMU cannot start (crashed).
 */
int vm_restart(struct vm *vm);

/*
 * Stop it for good (down): power off within timeout seconds, then kill;
 * a VM that is not ready is killed at once.  No-op if not running.
 */
void vm_shutdown(struct vm *vm, unsigned timeout);

/* Its QEMU exited with wait status `status` (the supervisor reaped it). */
void vm_exited(struct vm *vm, int status);

#endif
