/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vm: one VM's life cycle; see vm.h.  Called by the supervisor
 * (supervise.c: start, restart, shutdown, exit) and from the event loop
 * (its timer, its agent link's HELLO_ACK, its QMP events).  Trusts the
 * plan; what the guest says arrives through agentlink.c and qmp.c, which
 * check it.
 */
#include "vm.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "rundir.h"

#define HELLO_RETRY_MS	1000

/* Reserved agent channel for the poweroff command: never a session's. */
#define POWEROFF_CHAN	0x7ffffffeu

const char *
vm_state_name(enum vm_state st)
{
	static const char *const names[] = {
		[VM_STARTING] = "starting", [VM_BOOTING] = "booting",
		[VM_READY] = "ready", [VM_STOPPING] = "stopping",
		[VM_STOPPED] = "stopped", [VM_CRASHED] = "crashed",
		[VM_RESTARTING] = "restarting",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ?
	    names[st] : "?";
}

/* Fire the VM's timer in ms (0: as soon as possible; never disarms). */
static void
timer_arm(struct vm *vm, uint64_t ms)
{
	(void)ev_timer_arm(vm->timer, ms == 0 ? 1 : ms);
}

bool
vm_running(const struct vm *vm)
{
	return vm->child->state == CHILD_RUNNING;
}

static void
vm_set_state(struct vm *vm, enum vm_state st, const char *detail)
{
	vm->state = st;
	log_info("%s: %s%s%s", vm->cfg->name, vm_state_name(st),
	    detail && *detail ? ": " : "", detail ? detail : "");
	vm->env->ops->changed(vm->env->arg, vm, detail);
}

/* The agent answered HELLO (version: sanitized text). */
static void
vm_agent_ready(void *arg, const char *version)
{
	struct vm *vm = arg;
	char detail[96];

	if (vm->state != VM_BOOTING)
		return;
	vm->ready_at = mono_ms();
	vm->reason[0] = '\0';
	(void)ev_timer_arm(vm->timer, 0);
	snprintf(detail, sizeof(detail), "agent %s answered after %.1f s",
	    version, (double)(vm->ready_at - vm->boot_started) / 1000.0);
	vm_set_state(vm, VM_READY, detail);
}

static void
vm_qmp_event(void *arg, enum qmp_event ev)
{
	struct vm *vm = arg;

	if (ev == QMP_SHUTDOWN) {
		log_info("%s: guest shutdown", vm->cfg->name);
		return;
	}
	if (vm->state != VM_READY && vm->state != VM_BOOTING)
		return;
	link_close(&vm->link, "the VM rebooted");
	/*
	 * A reboot of a ready VM starts a new boot with a new deadline.  A
	 * reset before the VM was ever ready (a guest that panics and resets
	 * in a loop) keeps the first deadline, or it would never be declared
	 * failed.
	 */
	if (vm->state == VM_READY) {
		vm->boot_started = mono_ms();
		vm->boot_deadline = vm->boot_started +
		    vm->env->boot_timeout * 1000ull;
	}
	vm->backoff_ms = 10;
	vm_set_state(vm, VM_STARTING, "guest reset");
	timer_arm(vm, 10);
}

/*
 * The sockets the VM's QEMU listens on, left by its last run.  Not
 * serial.sock: isles-consoled's, bound by the supervisor (daemons.c),
 * which QEMU connects to.
 */
static void
vm_unlink_sockets(struct vm *vm)
{
	static const char *const socks[] = { "agent.sock", "qmp.sock" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		(void)rd_path(path, sizeof(path), "%s/vm/%s/%s", vm->env->rundir,
		    vm->cfg->name, socks[i]);
		(void)unlink(path);
	}
}

int
vm_start(struct vm *vm)
{
	vm_unlink_sockets(vm);
	if (child_start(vm->child) < 0) {
		snprintf(vm->reason, sizeof(vm->reason), "cannot start qemu: %s",
		    strerror(errno));
		return -1;
	}
	vm->stop_stage = 0;
	vm->boot_failed = false;
	vm->backoff_ms = 10;
	vm->boot_started = mono_ms();
	vm->boot_deadline = vm->boot_started + vm->env->boot_timeout * 1000ull;
	vm_set_state(vm, VM_STARTING, NULL);
	timer_arm(vm, vm->backoff_ms);
	return 0;
}

/* Begin stopping a VM: ask nicely, then escalate from its timer. */
static void
vm_stop(struct vm *vm, unsigned timeout, enum vm_state next)
{
	if (!vm_running(vm))
		return;
	vm_set_state(vm, next, NULL);
	if (timeout > 0 && vm->stop_stage == 0) {
		static const char argv[] = "poweroff";

		vm->stop_stage = 1;
		(void)link_send(&vm->link, PROTO_EXEC, 0, POWEROFF_CHAN, argv,
		    sizeof(argv));
		qmp_powerdown(&vm->qmp);
		timer_arm(vm, timeout * 1000ull);
	} else if (vm->stop_stage < 2) {
		vm->stop_stage = 2;
		child_kill(vm->child, SIGTERM);
		timer_arm(vm, KILL_GRACE_MS);
	}
}

int
vm_restart(struct vm *vm)
{
	if (vm_running(vm)) {
		if (vm->state == VM_RESTARTING || vm->state == VM_STOPPING) {
			errno = EBUSY;
			return -1;
		}
		/* A VM that has not booted cannot power off: kill it now. */
		vm_stop(vm, vm->state == VM_READY ? 10 : 0, VM_RESTARTING);
		return 0;
	}
	vm->child->restarts++;
	if (vm_start(vm) < 0) {
		vm_set_state(vm, VM_CRASHED, vm->reason);
		errno = EIO;
		return -1;
	}
	return 0;
}

void
vm_shutdown(struct vm *vm, unsigned timeout)
{
	if (!vm_running(vm))
		return;
	/* Not yet booted: nobody to ask; stop it now. */
	vm_stop(vm, vm->state == VM_READY ? timeout : 0, VM_STOPPING);
	vm->state = VM_STOPPING;
}

void
vm_exited(struct vm *vm, int status)
{
	enum vm_state was = vm->state;
	char tail[400];

	link_close(&vm->link, "the VM stopped");
	qmp_close(&vm->qmp);
	(void)ev_timer_arm(vm->timer, 0);
	if (was == VM_RESTARTING) {
		snprintf(vm->reason, sizeof(vm->reason), "restarted (qemu %s)",
		    child_status_str(status));
		vm->child->restarts++;
		if (vm_start(vm) < 0)
			vm_set_state(vm, VM_CRASHED, vm->reason);
		return;
	}
	if (was == VM_STOPPING) {
		snprintf(vm->reason, sizeof(vm->reason), "%s",
		    vm->stop_stage <= 1 ? "powered off" :
		    child_status_str(status));
		vm_set_state(vm, VM_STOPPED, vm->reason);
	} else if (was == VM_READY && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		snprintf(vm->reason, sizeof(vm->reason),
		    "the guest powered off");
		vm_set_state(vm, VM_STOPPED, vm->reason);
	} else {
		if (!vm->boot_failed) {
			child_log_tail(vm->child, tail, sizeof(tail));
			snprintf(vm->reason, sizeof(vm->reason), "qemu %s%s%s",
			    child_status_str(status), tail[0] ? ": " : "",
			    tail);
		}
		vm_set_state(vm, VM_CRASHED, vm->reason);
		(void)vm->env->ops->failed(vm->env->arg, vm);
	}
}

/* Boot deadline, connect and HELLO retries, stop escalation. */
static void
vm_timer_cb(void *arg, int fd, uint32_t events)
{
	struct vm *vm = arg;
	uint64_t now = mono_ms();

	if (ev_drain(fd) == 0 || !vm_running(vm))
		return;
	switch (vm->state) {
	case VM_STARTING:
	case VM_BOOTING:
		if (now >= vm->boot_deadline) {
			(void)rd_path(vm->reason, sizeof(vm->reason), "agent not "
			    "ready after %u s; see %s/vm/%s/console.log",
			    vm->env->boot_timeout, vm->env->rundir,
			    vm->cfg->name);
			log_warnx("%s: %s", vm->cfg->name, vm->reason);
			if (!vm->env->ops->failed(vm->env->arg, vm)) {
				/* vm_exited keeps the reason set above. */
				vm->boot_failed = true;
				vm->stop_stage = 2;
				child_kill(vm->child, SIGKILL);
			}
			return;
		}
		qmp_connect(&vm->qmp);
		if (vm->state == VM_STARTING) {
			if (link_connect(&vm->link) < 0) {
				vm->backoff_ms = vm->backoff_ms * 2 > 500 ? 500 :
				    vm->backoff_ms * 2;
				timer_arm(vm, vm->backoff_ms);
				return;
			}
			vm_set_state(vm, VM_BOOTING, NULL);
		}
		/* HELLO is idempotent; resend until the agent answers. */
		if (link_queued(&vm->link) == 0)
			(void)link_send(&vm->link, PROTO_HELLO, 0, 0, NULL, 0);
		timer_arm(vm, HELLO_RETRY_MS);
		return;
	case VM_STOPPING:
	case VM_RESTARTING:
		if (vm->stop_stage <= 1) {
			log_warnx("%s: did not power off in time; terminating "
			    "qemu", vm->cfg->name);
			vm->stop_stage = 2;
			child_kill(vm->child, SIGTERM);
			timer_arm(vm, KILL_GRACE_MS);
		} else if (vm->stop_stage == 2) {
			log_warnx("%s: qemu ignored SIGTERM; killing it",
			    vm->cfg->name);
			vm->stop_stage = 3;
			child_kill(vm->child, SIGKILL);
		}
		return;
	default:
		return;
	}
}

int
vm_init(struct vm *vm, const struct vm_env *env, unsigned idx,
    const struct sc_vm *cfg)
{
	char path[PATH_MAX];

	memset(vm, 0, sizeof(*vm));
	vm->idx = idx;
	vm->cfg = cfg;
	vm->env = env;
	vm->timer = -1;
	(void)rd_path(path, sizeof(path), "%s/vm/%s/agent.sock", env->rundir,
	    cfg->name);
	link_init(&vm->link, env->loop, cfg->name, path, vm_agent_ready, vm);
	(void)rd_path(path, sizeof(path), "%s/vm/%s/qmp.sock", env->rundir,
	    cfg->name);
	qmp_init(&vm->qmp, env->loop, path, vm_qmp_event, vm);
	vm->timer = ev_timer_new();
	if (vm->timer < 0 ||
	    ev_watch(env->loop, vm->timer, EPOLLIN, vm_timer_cb, vm) < 0)
		return -1;
	return 0;
}

void
vm_free(struct vm *vm)
{
	link_close(&vm->link, "the system stopped");
	qmp_close(&vm->qmp);
	if (vm->timer >= 0) {
		ev_unwatch(vm->env->loop, vm->timer);
		close(vm->timer);
		vm->timer = -1;
	}
}
