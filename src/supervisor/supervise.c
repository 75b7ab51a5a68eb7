/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * supervise: the supervisor of one running system, `isles supervise`,
 * started (detached, setsid) by `isles up`; it lives until the system is
 * down.  This file is the process: its arguments, the child table, the
 * event loop, the signals, and the order of starting and stopping; the
 * VMs (vm.c), the control socket (control.c) and the daemon rows
 * (daemons.c) are modules it joins through callbacks (see supervise.h).
 *
 * Design
 * - One child table built from the plan: daemons first (daemons.c:
 *   isles-consoled, which is handed every VM's console.log, one
 *   isles-diskd per used disk, one isles-switchd per used switch, each
 *   handed the listening sockets the file gives it), then one
 *   qemu-system-x86_64 per VM (argv from qemu.c).  Each child gets only
 *   the fds its entry lists (child.c), dies with the supervisor
 *   (PDEATHSIG), and carries ISLES_RUN=R in its environment so that a
 *   straggler can always be found by `isles down` (rundir.c).  A daemon
 *   that dies is restarted (at most 3 times) with the same sockets;
 *   QEMU's vhost-user chardevs reconnect.
 * - One event loop (src/host/evloop.h), never a timeout: a signalfd
 *   (SIGCHLD, SIGTERM, SIGINT, SIGHUP), the control socket and its
 *   clients, each VM's agent link, QMP link and timerfd, and the timerfd
 *   that escalates stopping the daemons.
 * - While starting, any failure fails the whole `up` (a daemon that
 *   dies, a VM that crashes or does not boot in time): watchers get
 *   FAILED with the reason, everything is stopped, the supervisor exits
 *   1.  Once every VM has been ready, a VM whose QEMU dies is reported
 *   (crashed, or stopped when the guest powered off by itself) and the
 *   others keep running; `isles restart VM` brings it back.
 * - Stopping (down, a signal, a failed start): every VM is powered off
 *   (vm.c); once every VM is down the daemons get SIGTERM, KILL_GRACE_MS
 *   later SIGKILL; the supervisor exits when every child is reaped.
 * - Run dir after down: sockets and the pid file are removed; the logs
 *   stay (supervisor.log, vm/VM/console.log, vm/VM/qemu.log) for
 *   post-mortems; the next `up` truncates them.  The lock file stays: it
 *   is what makes liveness race-free (rundir.h).
 *
 * State shared between modules: the plan (read-only, everyone) and the
 * VM array, which vm.c writes and control.c reads for `status`, exec and
 * restart (a request names a VM; its state decides the answer).
 * Everything else a module needs from another it gets by a call or a
 * callback.
 */
#include "supervise.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "host/sandbox.h"
#include "daemons.h"
#include "host/evloop.h"
#include "host/parse.h"
#include "log.h"
#include "monotime.h"
#include "qemu.h"
#include "rundir.h"
#include "status.h"
#include "vm.h"

enum sup_phase { SUP_STARTING, SUP_RUNNING, SUP_STOPPING };

struct sup {
	struct sc_system *sys;
	char rundir[PATH_MAX];
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char kernel32[PATH_MAX];	/* the i386 guest image */
	char initrd32[PATH_MAX];
	enum sc_accel accel;
	unsigned down_timeout;	/* seconds */
	struct ev_loop loop;
	int sigfd;
	int stop_timer;		/* escalates stopping the daemons */
	struct child *children;
	size_t nchildren;
	struct vm *vms;
	size_t nvms;
	struct vm_env env;	/* what every VM shares */
	struct control ctl;
	enum sup_phase phase;
	bool failed;		/* starting failed: tear down, exit 1 */
	bool daemons_stopping;
	uint64_t started_ms;
};

static void sup_shutdown(struct sup *s, unsigned timeout);

/* ---- shutdown ---- */

static void
stop_daemons(struct sup *s)
{
	if (s->daemons_stopping)
		return;
	s->daemons_stopping = true;
	for (size_t i = 0; i < s->nchildren; i++)
		if (s->children[i].kind == CHILD_DAEMON)
			child_kill(&s->children[i], SIGTERM);
	(void)ev_timer_arm(s->stop_timer, KILL_GRACE_MS);
}

static void
stop_timer_cb(void *arg, int fd, uint32_t events)
{
	struct sup *s = arg;

	if (ev_drain(fd) == 0)
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
	ev_loop_quit(&s->loop);
}

/* Stop every VM (poweroff, timeout seconds, then kill), then the daemons;
 * the loop ends once every child is reaped.  Idempotent. */
static void
sup_shutdown(struct sup *s, unsigned timeout)
{
	if (s->phase != SUP_STOPPING) {
		log_info("stopping system %s (timeout %u s)", s->sys->name,
		    timeout);
		s->phase = SUP_STOPPING;
		control_stopping(&s->ctl);
	}
	for (size_t i = 0; i < s->nvms; i++)
		vm_shutdown(&s->vms[i], timeout);
	maybe_finish(s);
}

/* Starting failed: tell the watchers why, stop everything, exit 1. */
static void
sup_fail(struct sup *s, const char *reason)
{
	if (s->failed || s->phase == SUP_STOPPING)
		return;
	s->failed = true;
	log_warnx("starting failed: %s", reason);
	control_failed(&s->ctl, reason);
	sup_shutdown(s, 0);
}

/* ---- what the VMs tell us (struct vm_ops) ---- */

static void
on_vm_changed(void *arg, struct vm *vm, const char *detail)
{
	struct sup *s = arg;

	control_vm_event(&s->ctl, vm, detail);
	if (s->phase == SUP_STARTING && vm->state == VM_READY) {
		for (size_t i = 0; i < s->nvms; i++)
			if (s->vms[i].state != VM_READY)
				return;
		s->phase = SUP_RUNNING;
		log_info("every VM is ready (%.1f s)",
		    (double)(mono_ms() - s->started_ms) / 1000.0);
		control_ready(&s->ctl);
	}
}

static bool
on_vm_failed(void *arg, struct vm *vm)
{
	struct sup *s = arg;
	char why[700];

	if (s->phase != SUP_STARTING)
		return false;
	snprintf(why, sizeof(why), "%s: %s", vm->cfg->name, vm->reason);
	sup_fail(s, why);
	return true;
}

static const struct vm_ops vm_ops = {
	.changed = on_vm_changed,
	.failed = on_vm_failed,
};

/* ---- what control requests do (struct control_ops) ---- */

static size_t
on_status(void *arg, bool json, char *out, size_t cap)
{
	struct sup *s = arg;
	struct status_view v = {
		.sys = s->sys, .rundir = s->rundir, .accel = s->accel,
		.phase = s->phase == SUP_STOPPING ? "stopping" :
		    s->phase == SUP_RUNNING ? "running" : "starting",
		.uptime = (double)(mono_ms() - s->started_ms) / 1000.0,
		.pid = (int)getpid(),
		.vms = s->vms, .nvms = s->nvms,
		.children = s->children, .nchildren = s->nchildren,
	};

	return status_render(&v, json, out, cap);
}

static void
on_down(void *arg, unsigned timeout)
{
	struct sup *s = arg;

	sup_shutdown(s, timeout ? timeout : s->down_timeout);
}

static int
on_restart(void *arg, struct vm *vm)
{
	return vm_restart(vm);
}

static const struct control_ops control_ops = {
	.status = on_status,
	.down = on_down,
	.restart = on_restart,
};

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

		child_log_tail(c, tail, sizeof(tail));
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
	if (child_start(c) < 0) {
		log_warn("%s: restart", c->name);
		return;
	}
	/* VMs whose QEMU cannot reconnect to it start again (vsock). */
	for (size_t v = 0; v < s->nvms && v < 32; v++) {
		if ((c->restart_vms & (1u << v)) == 0 ||
		    !vm_running(&s->vms[v]))
			continue;
		log_warnx("vm %s: restarted, as its QEMU cannot reconnect to "
		    "the restarted %s", s->vms[v].cfg->name, c->name);
		if (vm_restart(&s->vms[v]) < 0 && errno != EBUSY)
			log_warn("vm %s: restart", s->vms[v].cfg->name);
	}
}

static void
sig_cb(void *arg, int fd, uint32_t events)
{
	struct sup *s = arg;
	struct signalfd_siginfo si;
	pid_t pid;
	int status;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
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
				vm_exited(&s->vms[c->vm], status);
			else
				daemon_exited(s, c, status);
			break;
		}
	}
	maybe_finish(s);
}

/* ---- set-up ---- */

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
	if (daemons_build(s->sys, s->rundir, s->children, &n) < 0) {
		s->nchildren = n;
		return -1;
	}
	for (size_t i = 0; i < s->nvms; i++) {
		struct child *c = &s->children[n++];
		const struct sc_vm *cfg = &s->sys->vms[i];
		struct qemu_vm q = {
			.sys = s->sys, .vm = cfg, .rundir = s->rundir,
			.kernel = cfg->kernel ? cfg->kernel :
			    cfg->arch == SC_ARCH_I386 ? s->kernel32 : s->kernel,
			.initrd = cfg->kernel ? cfg->initrd :
			    cfg->arch == SC_ARCH_I386 ? s->initrd32 : s->initrd,
			.accel = s->accel,
		};

		child_setup(c, CHILD_VM, s->rundir, s->sys->name, "qemu:%s",
		    cfg->name);
		c->vm = (int)i;
		c->restart = CHILD_RESTART_NEVER;
		(void)rd_path(c->log, sizeof(c->log), "%s/vm/%s/qemu.log",
		    s->rundir, cfg->name);
		if (qemu_build(&q, &c->argv, err, sizeof(err)) < 0) {
			log_warnx("%s: %s", cfg->name, err);
			return -1;
		}
		s->vms[i].child = c;
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
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };

	if (ev_loop_init(&s->loop) < 0)
		return -1;
	/* An inherited SIG_IGN would make the kernel reap our children. */
	signal(SIGCHLD, SIG_DFL);
	s->sigfd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
	signal(SIGPIPE, SIG_IGN);
	if (s->sigfd < 0 || ev_watch(&s->loop, s->sigfd, EPOLLIN, sig_cb, s) < 0)
		return -1;
	s->stop_timer = ev_timer_new();
	if (s->stop_timer < 0 ||
	    ev_watch(&s->loop, s->stop_timer, EPOLLIN, stop_timer_cb, s) < 0)
		return -1;
	s->env.loop = &s->loop;
	s->env.rundir = s->rundir;
	s->env.ops = &vm_ops;
	s->env.arg = s;
	s->vms = calloc(s->nvms, sizeof(*s->vms));
	if (s->vms == NULL)
		return -1;
	for (size_t i = 0; i < s->nvms; i++)
		if (vm_init(&s->vms[i], &s->env, (unsigned)i,
		    &s->sys->vms[i]) < 0)
			return -1;
	return build_children(s);
}

/* Release everything sup_init made (the process exits next). */
static void
sup_free(struct sup *s)
{
	for (size_t i = 0; i < s->nvms; i++)
		vm_free(&s->vms[i]);
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
	if (s->sigfd >= 0)
		close(s->sigfd);
	if (s->stop_timer >= 0)
		close(s->stop_timer);
	ev_loop_close(&s->loop);
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

/* Seconds from the environment (1 to 86400), or def. */
static unsigned
env_seconds(const char *name, unsigned def)
{
	const char *v = getenv(name);
	unsigned n;

	if (v == NULL || *v == '\0')
		return def;
	if (host_parse_uint(v, 1, 86400, &n) < 0) {
		log_warnx("%s=%s ignored: expected seconds", name, v);
		return def;
	}
	return n;
}

/*
 * The supervisor's own filter, loaded once every child has started: it
 * parses guest agents' frames, so a bug there must not reach the
 * kernel's wider surface.  A denylist, not an allowlist: a seccomp
 * filter stays on every process forked and executed after it, and QEMU
 * (with its own -sandbox) and the daemons (with their allowlists) are
 * forked from here on every restart, so the filter may refuse only what
 * none of them needs.  A refused call fails with EPERM.
 */
static void
sup_lockdown(void)
{
	static const struct sandbox_allow deny[] = {
		{ SCMP_SYS(ptrace), "reading or steering another process" },
		{ SCMP_SYS(process_vm_readv), "another process's memory" },
		{ SCMP_SYS(process_vm_writev), "another process's memory" },
		{ SCMP_SYS(kcmp), "comparing other processes' resources" },
		{ SCMP_SYS(pidfd_getfd), "taking another process's fds" },
		{ SCMP_SYS(mount), "the mount table" },
		{ SCMP_SYS(umount2), "the mount table" },
		{ SCMP_SYS(pivot_root), "the root directory" },
		{ SCMP_SYS(chroot), "the root directory" },
		{ SCMP_SYS(fsopen), "new mount API" },
		{ SCMP_SYS(fsmount), "new mount API" },
		{ SCMP_SYS(fsconfig), "new mount API" },
		{ SCMP_SYS(fspick), "new mount API" },
		{ SCMP_SYS(move_mount), "new mount API" },
		{ SCMP_SYS(open_tree), "new mount API" },
		{ SCMP_SYS(mount_setattr), "new mount API" },
		{ SCMP_SYS(unshare), "new namespaces" },
		{ SCMP_SYS(setns), "entering other namespaces" },
		{ SCMP_SYS(open_by_handle_at), "opening files by handle, "
		    "around directory permissions" },
		{ SCMP_SYS(name_to_handle_at), "file handles" },
		{ SCMP_SYS(init_module), "kernel modules" },
		{ SCMP_SYS(finit_module), "kernel modules" },
		{ SCMP_SYS(delete_module), "kernel modules" },
		{ SCMP_SYS(kexec_load), "replacing the kernel" },
		{ SCMP_SYS(kexec_file_load), "replacing the kernel" },
		{ SCMP_SYS(reboot), "the host's power" },
		{ SCMP_SYS(bpf), "kernel programs" },
		{ SCMP_SYS(perf_event_open), "kernel tracing" },
		{ SCMP_SYS(userfaultfd), "page-fault handling (no migration)" },
		{ SCMP_SYS(keyctl), "kernel keyrings" },
		{ SCMP_SYS(add_key), "kernel keyrings" },
		{ SCMP_SYS(request_key), "kernel keyrings" },
		{ SCMP_SYS(mknod), "device nodes" },
		{ SCMP_SYS(mknodat), "device nodes" },
		{ SCMP_SYS(swapon), "swap" },
		{ SCMP_SYS(swapoff), "swap" },
		{ SCMP_SYS(acct), "process accounting" },
		{ SCMP_SYS(quotactl), "disk quotas" },
		{ SCMP_SYS(syslog), "the kernel log" },
		{ SCMP_SYS(settimeofday), "the host's clock" },
		{ SCMP_SYS(clock_settime), "the host's clock" },
		{ SCMP_SYS(clock_adjtime), "the host's clock" },
		{ SCMP_SYS(adjtimex), "the host's clock" },
		{ SCMP_SYS(sethostname), "the host's name" },
		{ SCMP_SYS(setdomainname), "the host's name" },
		{ SCMP_SYS(iopl), "I/O ports" },
		{ SCMP_SYS(ioperm), "I/O ports" },
		{ SCMP_SYS(personality), "execution domains" },
		{ SCMP_SYS(vhangup), "terminals" },
	};
	char err[128];

	if (sandbox_denylist(SCMP_ACT_ERRNO(EPERM), deny,
	    sizeof(deny) / sizeof(deny[0]), err, sizeof(err)) < 0)
		log_warnx("no seccomp filter: %s", err);
}

static void
usage_supervise(void)
{
	fprintf(stderr, "usage: isles supervise --run-dir R --ctl-fd N "
	    "--accel kvm|tcg [--kernel K --initrd I] [--kernel32 K --initrd32 I] "
	    "FILE\n"
	    "(started by isles up; not for direct use)\n");
}

int
sup_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "run-dir", required_argument, NULL, 'r' },
		{ "ctl-fd", required_argument, NULL, 'c' },
		{ "accel", required_argument, NULL, 'a' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "kernel32", required_argument, NULL, 'K' },
		{ "initrd32", required_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup sup = { .sigfd = -1, .stop_timer = -1 };
	struct sup *s = &sup;
	struct sc_errors errs = { 0 };
	int ctlfd = -1, ch, code;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			snprintf(s->rundir, sizeof(s->rundir), "%s", optarg);
			break;
		case 'c':
			ctlfd = host_parse_fd(optarg);
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
		case 'K':
			snprintf(s->kernel32, sizeof(s->kernel32), "%s",
			    optarg);
			break;
		case 'I':
			snprintf(s->initrd32, sizeof(s->initrd32), "%s",
			    optarg);
			break;
		case 'v':
			log_setverbose(2);
			break;
		default:
			usage_supervise();
			return 2;
		}
	}
	if (optind + 1 != argc || s->rundir[0] == '\0' || ctlfd < 0) {
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
	s->env.boot_timeout = env_seconds("ISLES_BOOT_TIMEOUT",
	    s->accel == SC_ACCEL_KVM ? 60 : 120);
	s->down_timeout = env_seconds("ISLES_DOWN_TIMEOUT", 20);
	s->started_ms = mono_ms();
	/* Nothing we start needs to gain privileges through exec. */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	{
		char why[128];

		if (child_run_daemons_as(ISLES_DAEMON_USER, why,
		    sizeof(why)) < 0)
			log_warnx("%s", why);
		else
			log_info("daemons run as user %s", ISLES_DAEMON_USER);
	}
	write_pidfile(s);
	if (sup_init(s) < 0 || control_init(&s->ctl, &s->loop, ctlfd, s->sys,
	    s->vms, s->nvms, &control_ops, s) < 0) {
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
		if (vm_start(&s->vms[i]) < 0) {
			(void)on_vm_failed(s, &s->vms[i]);
			break;
		}
	sup_lockdown();
	if (ev_loop_run(&s->loop) < 0)
		log_warn("epoll_wait");
	code = s->failed ? 1 : 0;
	log_info("system %s is down", s->sys->name);
	rd_clean(s->rundir);
	control_close(&s->ctl);
	sup_free(s);
	return code;
}
