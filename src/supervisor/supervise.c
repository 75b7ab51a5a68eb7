/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * supervise: the supervisor of one running system, `isles supervise`,
 * started (detached, setsid) by `isles up`; it lives until the system is
 * down.
 *
 * Design
 * - One child table built from the plan: daemons first (daemons.c:
 *   isles-consoled, which is handed every VM's console.log, one
 *   isles-diskd per used disk, one isles-switchd per used switch, each
 *   handed the listening sockets the file gives it), then one
 *   qemu-system-x86_64 per VM (argv from
 *   qemu.c).  Each child gets only the fds its entry lists (child.c),
 *   dies with the supervisor (PDEATHSIG), and carries ISLES_RUN=R in its
 *   environment so that a straggler can always be found by `isles down`
 *   (rundir.c).  A daemon that dies is restarted (at most 3 times) with
 *   the same sockets; QEMU's vhost-user chardevs reconnect.
 * - One epoll loop, never a timeout: a signalfd (SIGCHLD, SIGTERM,
 *   SIGINT, SIGHUP), the control socket and its clients (control.c), one
 *   agent link and one QMP link per VM (agentlink.c, here), and one
 *   timerfd per VM.  Waiting for a QEMU socket to appear is a connect
 *   retried from the VM's timerfd with backoff (10 ms doubling to 500 ms).
 * - VM life cycle: starting (QEMU forked) -> booting (agent socket
 *   connected, HELLO sent, resent every second: HELLO is idempotent and
 *   QEMU holds the bytes until the guest opens its port) -> ready
 *   (HELLO_ACK).  A VM that is not ready after the boot timeout ($ISLES_
 *   BOOT_TIMEOUT, default 120 s under TCG, 60 s under KVM) has failed.
 *   A QMP RESET event (guest reboot, panic=-1) takes a ready VM back to
 *   booting; its running commands fail.
 * - While starting, any VM failure fails the whole `up`: watchers get
 *   FAILED with the reason, everything is stopped, the supervisor exits 1.
 *   Once every VM has been ready, a VM whose QEMU dies is reported
 *   (state crashed, reason with the last lines of its qemu.log, or
 *   stopped when the guest powered off by itself) and the others keep
 *   running; `isles restart VM` brings it back.
 * - Stopping a VM (down, restart): QMP system_powerdown (the guest's
 *   acpid turns the ACPI button into an orderly poweroff) and, in case
 *   acpid is not running, the agent is asked to run `poweroff` too (both
 *   signal busybox init, which runs its shutdown script once); after the
 *   timeout QEMU gets SIGTERM, 3 s later SIGKILL.  Daemons are stopped (SIGTERM, then SIGKILL after 3 s) once
 *   every VM is down; the supervisor exits when every child is reaped.
 * - Run dir after down: sockets and the pid file are removed; the logs
 *   stay (supervisor.log, vm/VM/console.log, vm/VM/qemu.log) for
 *   post-mortems; the next `up` truncates them.  The lock file stays: it
 *   is what makes liveness race-free (rundir.h).
 */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "daemons.h"
#include "log.h"
#include "monotime.h"
#include "qemu.h"
#include "rundir.h"

#define KILL_GRACE_MS	3000
#define HELLO_RETRY_MS	1000

/* Reserved agent channel for the poweroff command: never a session's. */
#define POWEROFF_CHAN	0x7ffffffeu


int
sup_watch(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };
	int r;

	if (events == 0) {
		sup_unwatch(s, src);
		return 0;
	}
	r = epoll_ctl(s->epfd, src->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    src->fd, &ev);
	if (r == 0)
		src->mask = events;
	else
		log_warn("epoll_ctl fd %d", src->fd);
	return r;
}

/* Unregistering also stops EPOLLHUP reports on a paused peer. */
void
sup_unwatch(struct sup *s, struct ev_src *src)
{
	if (src->mask != 0 && src->fd >= 0)
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, src->fd, NULL);
	src->mask = 0;
}

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

static void
timer_arm(struct vm_rt *vm, uint64_t ms)
{
	struct itimerspec its = { 0 };

	if (ms == 0)
		ms = 1;
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	(void)timerfd_settime(vm->timer.fd, 0, &its, NULL);
}

static void
timer_disarm(int fd)
{
	struct itimerspec its = { 0 };

	(void)timerfd_settime(fd, 0, &its, NULL);
}

static bool
vm_running(const struct vm_rt *vm)
{
	return vm->child->state == CHILD_RUNNING;
}

static void sup_fail(struct sup *s, const char *reason);
static void maybe_finish(struct sup *s);

void
vm_set_state(struct sup *s, struct vm_rt *vm, enum vm_state st,
    const char *detail)
{
	vm->state = st;
	log_info("%s: %s%s%s", vm->cfg->name, vm_state_name(st),
	    detail && *detail ? ": " : "", detail ? detail : "");
	ctl_vm_event(s, vm, detail);
	if (s->phase == SUP_STARTING && st == VM_READY) {
		for (size_t i = 0; i < s->nvms; i++)
			if (s->vms[i].state != VM_READY)
				return;
		s->phase = SUP_RUNNING;
		log_info("every VM is ready (%.1f s)",
		    (double)(mono_ms() - s->started_ms) / 1000.0);
		sup_broadcast(s, CTL_READY, NULL, 0);
	}
}

void
vm_agent_ready(struct sup *s, struct vm_rt *vm, const char *version)
{
	char detail[96];

	vm->ever_ready = true;
	vm->ready_at = mono_ms();
	vm->reason[0] = '\0';
	timer_disarm(vm->timer.fd);
	snprintf(detail, sizeof(detail), "agent %s answered after %.1f s",
	    version, (double)(vm->ready_at - vm->boot_started) / 1000.0);
	vm_set_state(s, vm, VM_READY, detail);
}

/* ---- QMP: only what the supervisor needs (events, powerdown) ---- */

static struct vm_rt *
vm_of(struct sup *s, struct ev_src *src)
{
	for (size_t i = 0; i < s->nvms; i++)
		if (&s->vms[i].qmp.src == src || &s->vms[i].timer == src)
			return &s->vms[i];
	return NULL;
}

static void
qmp_close(struct sup *s, struct vm_rt *vm)
{
	if (vm->qmp.src.fd < 0)
		return;
	sup_unwatch(s, &vm->qmp.src);
	close(vm->qmp.src.fd);
	vm->qmp.src.fd = -1;
	vm->qmp.have = 0;
}

static void
qmp_send(struct vm_rt *vm, const char *cmd)
{
	/* A few dozen bytes into an idle socket: never blocks. */
	if (vm->qmp.src.fd >= 0)
		(void)!send(vm->qmp.src.fd, cmd, strlen(cmd),
		    MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void
qmp_line(struct sup *s, struct vm_rt *vm, const char *line)
{
	if (strstr(line, "\"event\"") == NULL)
		return;
	if (strstr(line, "\"RESET\"") != NULL &&
	    (vm->state == VM_READY || vm->state == VM_BOOTING)) {
		link_close(s, vm, "the VM rebooted");
		/*
		 * A reboot of a ready VM starts a new boot with a new deadline.
		 * A reset before the VM was ever ready (a guest that panics
		 * and resets in a loop) keeps the first deadline, or it would
		 * never be declared failed.
		 */
		if (vm->state == VM_READY) {
			vm->boot_started = mono_ms();
			vm->boot_deadline = vm->boot_started +
			    s->boot_timeout * 1000ull;
		}
		vm->backoff_ms = 10;
		vm_set_state(s, vm, VM_STARTING, "guest reset");
		timer_arm(vm, 10);
	} else if (strstr(line, "\"SHUTDOWN\"") != NULL)
		log_info("%s: guest shutdown", vm->cfg->name);
}

static void
qmp_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct vm_rt *vm = vm_of(s, src);
	struct qmplink *q;
	ssize_t n;

	if (vm == NULL || vm->qmp.src.fd < 0)
		return;		/* closed earlier in this epoll batch */
	q = &vm->qmp;
	n = read(q->src.fd, q->buf + q->have, sizeof(q->buf) - 1 - q->have);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		qmp_close(s, vm);
		return;
	}
	if (n < 0)
		return;
	q->have += (size_t)n;
	q->buf[q->have] = '\0';
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->have);
		size_t take;

		if (nl == NULL) {
			if (q->have == sizeof(q->buf) - 1) {
				/* An over-long line: skip it. */
				q->overflow = true;
				q->have = 0;
			}
			break;
		}
		*nl = '\0';
		if (!q->overflow)
			qmp_line(s, vm, q->buf);
		q->overflow = false;
		take = (size_t)(nl - q->buf) + 1;
		memmove(q->buf, q->buf + take, q->have - take);
		q->have -= take;
		q->buf[q->have] = '\0';
	}
}

static void
qmp_connect(struct sup *s, struct vm_rt *vm)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (vm->qmp.src.fd >= 0)
		return;
	(void)rd_path(sa.sun_path, sizeof(sa.sun_path), "%s/vm/%s/qmp.sock",
	    s->rundir, vm->cfg->name);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	vm->qmp.src.fd = fd;
	vm->qmp.have = 0;
	vm->qmp.overflow = false;
	if (sup_watch(s, &vm->qmp.src, EPOLLIN) < 0) {
		close(fd);
		vm->qmp.src.fd = -1;
		return;
	}
	qmp_send(vm, "{\"execute\":\"qmp_capabilities\"}\n");
}

/* ---- VM life cycle ---- */

static void
vm_unlink_sockets(struct sup *s, struct vm_rt *vm)
{
	static const char *const socks[] = { "agent.sock", "qmp.sock",
	    "serial.sock" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		(void)rd_path(path, sizeof(path), "%s/vm/%s/%s", s->rundir,
		    vm->cfg->name, socks[i]);
		(void)unlink(path);
	}
}

static int
vm_start(struct sup *s, struct vm_rt *vm)
{
	vm_unlink_sockets(s, vm);
	if (child_start(vm->child) < 0) {
		snprintf(vm->reason, sizeof(vm->reason), "cannot start qemu: %s",
		    strerror(errno));
		return -1;
	}
	vm->stop_stage = 0;
	vm->boot_failed = false;
	vm->backoff_ms = 10;
	vm->boot_started = mono_ms();
	vm->boot_deadline = vm->boot_started + s->boot_timeout * 1000ull;
	vm_set_state(s, vm, VM_STARTING, NULL);
	timer_arm(vm, vm->backoff_ms);
	return 0;
}

/* Begin stopping a VM: ask nicely, then escalate from its timer. */
static void
vm_stop(struct sup *s, struct vm_rt *vm, unsigned timeout,
    enum vm_state next)
{
	if (!vm_running(vm))
		return;
	vm_set_state(s, vm, next, NULL);
	if (timeout > 0 && vm->stop_stage == 0) {
		static const char argv[] = "poweroff";

		vm->stop_stage = 1;
		if (vm->link.src.fd >= 0)
			(void)link_send(s, vm, PROTO_EXEC, 0, POWEROFF_CHAN,
			    argv, sizeof(argv));
		qmp_send(vm, "{\"execute\":\"system_powerdown\"}\n");
		vm->stop_deadline = mono_ms() + timeout * 1000ull;
		timer_arm(vm, timeout * 1000ull);
	} else if (vm->stop_stage < 2) {
		vm->stop_stage = 2;
		child_kill(vm->child, SIGTERM);
		timer_arm(vm, KILL_GRACE_MS);
	}
}

int
sup_restart_vm(struct sup *s, struct vm_rt *vm)
{
	if (vm_running(vm)) {
		if (vm->state == VM_RESTARTING || vm->state == VM_STOPPING) {
			errno = EBUSY;
			return -1;
		}
		/* A VM that has not booted cannot power off: kill it now. */
		vm_stop(s, vm, vm->state == VM_READY ? 10 : 0, VM_RESTARTING);
		return 0;
	}
	vm->child->restarts++;
	if (vm_start(s, vm) < 0) {
		vm_set_state(s, vm, VM_CRASHED, vm->reason);
		errno = EIO;
		return -1;
	}
	return 0;
}

/* The last lines of a child's log, sanitized, joined by " | ". */
static void
log_tail(const struct child *c, char *out, size_t len)
{
	char buf[1024], *lines[3] = { 0 };
	size_t nl = 0, j = 0;
	ssize_t n;
	off_t size;
	int fd;

	out[0] = '\0';
	fd = open(c->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		(void)lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		(void)lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != '\n' && buf[i] != '\t' &&
		    ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] >= 0x7f))
			buf[i] = '?';
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if (nl == 3) {
			lines[0] = lines[1];
			lines[1] = lines[2];
			nl = 2;
		}
		lines[nl++] = l;
	}
	for (size_t i = 0; i < nl && j + 1 < len; i++)
		j += (size_t)snprintf(out + j, len - j, "%s%s", i ? " | " : "",
		    lines[i]);
}

static void
vm_exited(struct sup *s, struct vm_rt *vm, int status)
{
	enum vm_state was = vm->state;
	char tail[400];

	link_close(s, vm, "the VM stopped");
	qmp_close(s, vm);
	timer_disarm(vm->timer.fd);
	if (was == VM_RESTARTING) {
		snprintf(vm->reason, sizeof(vm->reason), "restarted (qemu %s)",
		    child_status_str(status));
		vm->child->restarts++;
		if (vm_start(s, vm) < 0)
			vm_set_state(s, vm, VM_CRASHED, vm->reason);
		return;
	}
	if (was == VM_STOPPING) {
		snprintf(vm->reason, sizeof(vm->reason), "%s",
		    vm->stop_stage <= 1 ? "powered off" :
		    child_status_str(status));
		vm_set_state(s, vm, VM_STOPPED, vm->reason);
	} else if (was == VM_READY && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0) {
		snprintf(vm->reason, sizeof(vm->reason),
		    "the guest powered off");
		vm_set_state(s, vm, VM_STOPPED, vm->reason);
	} else {
		if (!vm->boot_failed) {
			log_tail(vm->child, tail, sizeof(tail));
			snprintf(vm->reason, sizeof(vm->reason), "qemu %s%s%s",
			    child_status_str(status), tail[0] ? ": " : "",
			    tail);
		}
		vm_set_state(s, vm, VM_CRASHED, vm->reason);
		if (s->phase == SUP_STARTING) {
			char why[700];

			snprintf(why, sizeof(why), "%s: %s", vm->cfg->name,
			    vm->reason);
			sup_fail(s, why);
		}
	}
}

static void
vm_timer_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct vm_rt *vm = vm_of(s, src);
	uint64_t ticks, now = mono_ms();

	if (vm == NULL || read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!vm_running(vm))
		return;
	switch (vm->state) {
	case VM_STARTING:
	case VM_BOOTING:
		if (now >= vm->boot_deadline) {
			(void)rd_path(vm->reason, sizeof(vm->reason), "agent not "
			    "ready after %u s; see %s/vm/%s/console.log",
			    s->boot_timeout, s->rundir, vm->cfg->name);
			log_warnx("%s: %s", vm->cfg->name, vm->reason);
			if (s->phase == SUP_STARTING) {
				char why[700];

				snprintf(why, sizeof(why), "%s: %s",
				    vm->cfg->name, vm->reason);
				sup_fail(s, why);
			} else {
				/* vm_exited keeps the reason set above. */
				vm->boot_failed = true;
				vm->stop_stage = 2;
				child_kill(vm->child, SIGKILL);
			}
			return;
		}
		qmp_connect(s, vm);
		if (vm->state == VM_STARTING) {
			if (link_connect(s, vm) < 0) {
				vm->backoff_ms = vm->backoff_ms * 2 > 500 ? 500 :
				    vm->backoff_ms * 2;
				timer_arm(vm, vm->backoff_ms);
				return;
			}
			vm_set_state(s, vm, VM_BOOTING, NULL);
		}
		/* HELLO is idempotent; resend until the agent answers. */
		if (outq_len(&vm->link.out) == 0)
			(void)link_send(s, vm, PROTO_HELLO, 0, 0, NULL, 0);
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

/* ---- shutdown ---- */

static void
stop_daemons(struct sup *s)
{
	struct itimerspec its = { .it_value.tv_sec = KILL_GRACE_MS / 1000 };

	if (s->daemons_stopping)
		return;
	s->daemons_stopping = true;
	for (size_t i = 0; i < s->nchildren; i++)
		if (s->children[i].kind == CHILD_DAEMON)
			child_kill(&s->children[i], SIGTERM);
	(void)timerfd_settime(s->stop_timer.fd, 0, &its, NULL);
}

static void
stop_timer_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	uint64_t ticks;

	if (read(src->fd, &ticks, sizeof(ticks)) < 0)
		return;
	for (size_t i = 0; i < s->nchildren; i++)
		if (s->children[i].kind == CHILD_DAEMON &&
		    s->children[i].state == CHILD_RUNNING) {
			log_warnx("%s: did not stop; killing it",
			    s->children[i].name);
			child_kill(&s->children[i], SIGKILL);
		}
}

/* Called whenever something stopped: move the shutdown on. */
static void
maybe_finish(struct sup *s)
{
	if (s->phase != SUP_STOPPING)
		return;
	for (size_t i = 0; i < s->nvms; i++)
		if (vm_running(&s->vms[i]))
			return;
	stop_daemons(s);
	for (size_t i = 0; i < s->nchildren; i++)
		if (s->children[i].state == CHILD_RUNNING)
			return;
	s->quit = true;
}

void
sup_shutdown(struct sup *s, unsigned timeout)
{
	if (s->phase != SUP_STOPPING) {
		log_info("stopping system %s (timeout %u s)", s->sys->name,
		    timeout);
		s->phase = SUP_STOPPING;
	}
	for (size_t i = 0; i < s->nvms; i++) {
		struct vm_rt *vm = &s->vms[i];

		if (!vm_running(vm))
			continue;
		/* Not yet booted: nobody to ask; stop it now. */
		vm_stop(s, vm, vm->state == VM_READY ? timeout : 0,
		    VM_STOPPING);
		vm->state = VM_STOPPING;
	}
	maybe_finish(s);
}

static void
sup_fail(struct sup *s, const char *reason)
{
	if (s->failed || s->phase == SUP_STOPPING)
		return;
	s->failed = true;
	snprintf(s->fail_reason, sizeof(s->fail_reason), "%s", reason);
	log_warnx("starting failed: %s", reason);
	sup_broadcast(s, CTL_FAILED, reason, strlen(reason));
	sup_shutdown(s, 0);
}

/* ---- children and signals ---- */

static void
daemon_exited(struct sup *s, struct child *c, int status)
{
	if (s->phase == SUP_STOPPING || c->restart == CHILD_RESTART_NEVER)
		return;
	log_warnx("%s %s", c->name, child_status_str(status));
	if (s->phase == SUP_STARTING) {
		/* A daemon that cannot start: its VMs would never boot. */
		char tail[400], why[600];

		log_tail(c, tail, sizeof(tail));
		snprintf(why, sizeof(why), "%s %s%s%s", c->name,
		    child_status_str(status), tail[0] ? ": " : "", tail);
		sup_fail(s, why);
		return;
	}
	if (c->restarts >= c->max_restarts) {
		log_warnx("%s: not restarted again (%u restarts)", c->name,
		    c->restarts);
		return;
	}
	c->restarts++;
	if (child_start(c) < 0)
		log_warn("%s: restart", c->name);
}

static void
sig_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct signalfd_siginfo si;
	pid_t pid;
	int status;

	if (read(src->fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo != SIGCHLD) {
		log_info("signal %u", si.ssi_signo);
		sup_shutdown(s, s->down_timeout);
		return;
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < s->nchildren; i++) {
			struct child *c = &s->children[i];

			if (c->state != CHILD_RUNNING || c->pid != pid)
				continue;
			log_info("%s: pid %d %s", c->name, (int)pid,
			    child_status_str(status));
			child_exited(c, status);
			if (c->kind == CHILD_VM)
				vm_exited(s, &s->vms[c->vm], status);
			else
				daemon_exited(s, c, status);
			break;
		}
	}
	maybe_finish(s);
}

static int
build_children(struct sup *s)
{
	char err[512];
	size_t n = 0;

	s->children = calloc(daemons_max(s->sys) + s->nvms,
	    sizeof(*s->children));
	if (s->children == NULL)
		return -1;
	/* Daemons first: they serve what the QEMUs connect to. */
	if (daemons_build(s, s->children, &n) < 0) {
		s->nchildren = n;
		return -1;
	}
	for (size_t i = 0; i < s->nvms; i++) {
		struct child *c = &s->children[n++];
		struct vm_rt *vm = &s->vms[i];
		const struct sc_vm *cfg = &s->sys->vms[i];
		struct qemu_vm q = {
			.sys = s->sys, .vm = cfg, .rundir = s->rundir,
			.kernel = cfg->kernel ? cfg->kernel : s->kernel,
			.initrd = cfg->kernel ? cfg->initrd : s->initrd,
			.accel = s->accel,
		};

		sup_child_init(s, c, CHILD_VM, "qemu:%s", cfg->name);
		c->vm = (int)i;
		c->restart = CHILD_RESTART_NEVER;
		(void)rd_path(c->log, sizeof(c->log), "%s/vm/%s/qemu.log",
		    s->rundir, cfg->name);
		if (qemu_build(&q, &c->argv, err, sizeof(err)) < 0) {
			log_warnx("%s: %s", cfg->name, err);
			return -1;
		}
		vm->child = c;
	}
	s->nchildren = n;
	if (log_getverbose() >= 2)
		for (size_t i = 0; i < n; i++) {
			char *line = strv_join(&s->children[i].argv);

			log_debug("%s: %s", s->children[i].name,
			    line ? line : "?");
			free(line);
		}
	return 0;
}

static int
sup_init(struct sup *s)
{
	sigset_t set;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -1;
	/* An inherited SIG_IGN would make the kernel reap our children. */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	s->sig.fn = sig_event;
	if (s->sig.fd < 0 || sup_watch(s, &s->sig, EPOLLIN) < 0)
		return -1;
	s->stop_timer.fd = timerfd_create(CLOCK_MONOTONIC,
	    TFD_NONBLOCK | TFD_CLOEXEC);
	s->stop_timer.fn = stop_timer_event;
	if (s->stop_timer.fd < 0 || sup_watch(s, &s->stop_timer, EPOLLIN) < 0)
		return -1;
	s->vms = calloc(s->nvms, sizeof(*s->vms));
	if (s->vms == NULL)
		return -1;
	for (size_t i = 0; i < s->nvms; i++) {
		struct vm_rt *vm = &s->vms[i];

		vm->idx = (unsigned)i;
		vm->cfg = &s->sys->vms[i];
		link_init(&vm->link);
		vm->qmp.src.fd = -1;
		vm->qmp.src.fn = qmp_event;
		vm->timer.fn = vm_timer_event;
		vm->timer.fd = timerfd_create(CLOCK_MONOTONIC,
		    TFD_NONBLOCK | TFD_CLOEXEC);
		if (vm->timer.fd < 0 || sup_watch(s, &vm->timer, EPOLLIN) < 0)
			return -1;
	}
	return build_children(s);
}

/* Release everything sup_init made (the process exits next). */
static void
sup_free(struct sup *s)
{
	for (size_t i = 0; i < s->nvms; i++) {
		link_close(s, &s->vms[i], "the system stopped");
		qmp_close(s, &s->vms[i]);
		if (s->vms[i].timer.fd >= 0)
			close(s->vms[i].timer.fd);
	}
	for (size_t i = 0; i < s->nchildren; i++) {
		struct child *c = &s->children[i];

		for (size_t j = 0; j < c->nfds; j++)
			if (c->fds[j].fd >= 0)
				close(c->fds[j].fd);
		strv_free(&c->argv);
		strv_free(&c->env);
	}
	free(s->children);
	free(s->vms);
	if (s->sig.fd >= 0)
		close(s->sig.fd);
	if (s->stop_timer.fd >= 0)
		close(s->stop_timer.fd);
	if (s->epfd >= 0)
		close(s->epfd);
	sc_free(s->sys);
}

static void
write_pidfile(struct sup *s)
{
	char path[PATH_MAX];
	FILE *f;

	(void)rd_path(path, sizeof(path), "%s/supervisor.pid", s->rundir);
	f = fopen(path, "we");
	if (f == NULL) {
		log_warn("%s", path);
		return;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
}

static unsigned
env_seconds(const char *name, unsigned def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || n == 0 || n > 86400) {
		log_warnx("%s=%s ignored: expected seconds", name, v);
		return def;
	}
	return (unsigned)n;
}

static void
usage_supervise(void)
{
	fprintf(stderr, "usage: isles supervise --run-dir R --ctl-fd N "
	    "--accel kvm|tcg [--kernel K --initrd I] FILE\n"
	    "(started by isles up; not for direct use)\n");
}

int
cmd_supervise(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "ctl-fd", required_argument, NULL, 'c' },
		{ "accel", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup sup = { .epfd = -1, .ctl.fd = -1 };
	struct sup *s = &sup;
	struct sc_errors errs = { 0 };
	int ctlfd = -1, ch, code;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			snprintf(s->rundir, sizeof(s->rundir), "%s", optarg);
			break;
		case 'c':
			ctlfd = atoi(optarg);
			break;
		case 'a':
			s->accel = strcmp(optarg, "kvm") == 0 ? SC_ACCEL_KVM :
			    SC_ACCEL_TCG;
			break;
		case 'k':
			snprintf(s->kernel, sizeof(s->kernel), "%s", optarg);
			break;
		case 'i':
			snprintf(s->initrd, sizeof(s->initrd), "%s", optarg);
			break;
		case 'v':
			log_setverbose(2);
			break;
		default:
			usage_supervise();
			return 2;
		}
	}
	if (optind + 1 != argc || s->rundir[0] == '\0' || ctlfd < 3) {
		usage_supervise();
		return 2;
	}
	s->sys = sc_load(argv[optind], &errs);
	if (s->sys == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("%s", errs.msg[i]);
		return 1;
	}
	log_init("isles-supervisor", s->sys->name);
	s->nvms = s->sys->nvms;
	s->boot_timeout = env_seconds("ISLES_BOOT_TIMEOUT",
	    s->accel == SC_ACCEL_KVM ? 60 : 120);
	s->down_timeout = env_seconds("ISLES_DOWN_TIMEOUT", 20);
	s->started_ms = mono_ms();
	/* Nothing we start needs to gain privileges through exec. */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	write_pidfile(s);
	if (sup_init(s) < 0 || ctl_listen_init(s, ctlfd) < 0) {
		log_warn("supervisor set-up");
		rd_clean(s->rundir);
		return 1;
	}
	log_info("system %s: %zu VMs, %s, run dir %s", s->sys->name, s->nvms,
	    s->accel == SC_ACCEL_KVM ? "kvm" : "tcg", s->rundir);
	for (size_t i = 0; i < s->nchildren; i++)
		if (s->children[i].kind == CHILD_DAEMON &&
		    child_start(&s->children[i]) < 0)
			log_warn("%s", s->children[i].name);
	for (size_t i = 0; i < s->nvms; i++)
		if (vm_start(s, &s->vms[i]) < 0) {
			char why[700];

			snprintf(why, sizeof(why), "%s: %s",
			    s->vms[i].cfg->name, s->vms[i].reason);
			sup_fail(s, why);
			break;
		}
	while (!s->quit) {
		struct epoll_event evs[32];
		int n = epoll_wait(s->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n && !s->quit; i++) {
			struct ev_src *src = evs[i].data.ptr;

			src->fn(s, src, evs[i].events);
		}
	}
	code = s->failed ? 1 : 0;
	log_info("system %s is down", s->sys->name);
	rd_clean(s->rundir);
	ctl_close_all(s);
	sup_free(s);
	return code;
}
