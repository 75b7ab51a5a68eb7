/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles up [--detach] [-v] FILE: start a system.
 *
 * Validates everything that can be checked before anything starts (the
 * file, the devices this version wires, the accelerator, the QEMU binary,
 * the run dir not in use, the guest image), then creates the run dir R,
 * binds R/control.sock and starts the supervisor (`isles supervise`,
 * setsid, stdio to R/supervisor.log, holding R's lock).  It then watches
 * the system come up over the control socket: --detach returns 0 once
 * every VM's agent answered, or prints why it failed and returns 1 after
 * the supervisor stopped everything it had started.  In the foreground it
 * shows each VM's state, then becomes the system's console (con_run);
 * leaving the console with @q, Ctrl-C before it, SIGTERM or SIGHUP stop
 * the system, @d leaves it running.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conclient.h"
#include "ctl.h"
#include "host/listen.h"
#include "image.h"
#include "isles.h"
#include "supervisor/accel.h"
#include "diskprep.h"
#include "supervisor/daemons.h"
#include "supervisor/qemu.h"
#include "supervisor/rundir.h"
#include "sysconf/sysconf.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: isles up [--detach] [-v] FILE\n\n"
	    "  --detach   return once every VM's agent answers (exit 0), or\n"
	    "             print why not and stop everything (exit 1)\n"
	    "  -v         verbose supervisor log (R/supervisor.log)\n\n"
	    "environment:\n"
	    "  ISLES_RUN_DIR       base of run dirs (default /run/isles)\n"
	    "  ISLES_ACCEL         kvm, tcg or auto: overrides the file\n"
	    "  ISLES_BOOT_TIMEOUT  seconds for a VM's agent to answer "
	    "(default 120, KVM 60)\n"
	    "  ISLES_DOWN_TIMEOUT  seconds to power off on a signal "
	    "(default 20)\n"
	    "  ISLES_QEMU          the QEMU binary (default "
	    "qemu-system-x86_64)\n");
}

/* Is the QEMU binary there?  (A missing package is a clear error.) */
static bool
find_qemu(char *out, size_t len)
{
	const char *q = qemu_binary(), *path;

	if (strchr(q, '/') != NULL) {
		snprintf(out, len, "%s", q);
		return access(q, X_OK) == 0;
	}
	path = getenv("PATH");
	if (path == NULL)
		path = "/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		snprintf(out, len, "%.*s/%s", (int)n, path, q);
		if (n > 0 && access(out, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	snprintf(out, len, "%s", q);
	return false;
}

static void
unlink_at(const char *dir, const char *a, const char *b)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s%s", dir, a,
	    b ? "/" : "", b ? b : "") < sizeof(path))
		(void)unlink(path);
}

/* R/control.sock, listening (host_listen: a stale socket is replaced). */
static int
bind_control(const char *rundir)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/control.sock", rundir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return host_listen(path, 0600);
}

/* Fork + exec the supervisor; returns its pid or -1. */
static pid_t
spawn_supervisor(const char *rundir, int lockfd, int ctlfd,
    const char *accel, const char *kernel, const char *initrd,
    const char *kernel32, const char *initrd32, const char *file,
    bool verbose)
{
	char self[PATH_MAX], log[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(log, sizeof(log), "%s/supervisor.log", rundir);
	pid = fork();
	if (pid != 0)
		return pid;
	/* Child: a session of its own, only the lock and the socket. */
	{
		const char *argv[20];
		int i = 0, nul, logfd;

		(void)setsid();
		/* Out of the way first: dup2 onto itself keeps CLOEXEC. */
		lockfd = fcntl(lockfd, F_DUPFD, 100);
		ctlfd = fcntl(ctlfd, F_DUPFD, 100);
		nul = open("/dev/null", O_RDONLY);
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (lockfd < 0 || ctlfd < 0 || nul < 0 || logfd < 0 ||
		    dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 ||
		    dup2(logfd, 2) < 0 || dup2(lockfd, 3) < 0 ||
		    dup2(ctlfd, 4) < 0)
			_exit(127);
		(void)close_range(5, ~0u, 0);
		argv[i++] = "isles";
		argv[i++] = "supervise";
		argv[i++] = "--run-dir";
		argv[i++] = rundir;
		argv[i++] = "--ctl-fd";
		argv[i++] = "4";
		argv[i++] = "--accel";
		argv[i++] = accel;
		if (kernel[0] != '\0') {
			argv[i++] = "--kernel";
			argv[i++] = kernel;
			argv[i++] = "--initrd";
			argv[i++] = initrd;
		}
		if (kernel32[0] != '\0') {
			argv[i++] = "--kernel32";
			argv[i++] = kernel32;
			argv[i++] = "--initrd32";
			argv[i++] = initrd32;
		}
		if (verbose)
			argv[i++] = "--verbose";
		argv[i++] = file;
		argv[i] = NULL;
		execv(self, (char **)argv);
		_exit(127);
	}
}

static void show_whole_tail(const char *rundir);

/*
 * After the supervisor died without telling us: its "starting failed"
 * line if it wrote one, else the last lines of R/supervisor.log.
 */
static void
show_log_tail(const char *rundir)
{
	static const char tag[] = "starting failed: ";
	char path[PATH_MAX], line[2048];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/supervisor.log", rundir);
	f = fopen(path, "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *p = strstr(line, tag);

		if (p != NULL) {
			fprintf(stderr, "isles up: %s", p + sizeof(tag) - 1);
			found = true;
		}
	}
	if (f != NULL)
		fclose(f);
	if (found) {
		fprintf(stderr, "isles up: see %s\n", path);
		return;
	}
	show_whole_tail(rundir);
}

/* Print the last lines of R/supervisor.log (after an early death). */
static void
show_whole_tail(const char *rundir)
{
	char path[PATH_MAX], buf[2048];
	ssize_t n;
	off_t size;
	int fd;

	snprintf(path, sizeof(path), "%s/supervisor.log", rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	(void)lseek(fd, size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) :
	    0, SEEK_SET);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n > 0) {
		fprintf(stderr, "isles up: last lines of %s:\n", path);
		fwrite(buf, 1, (size_t)n, stderr);
	}
}

/* Stop the system (as `isles down`) and wait until it is down. */
static void
stop_system(const char *name, bool quiet)
{
	char *argv[] = { (char *)"down", (char *)"--system", (char *)name,
	    (char *)"--quiet", NULL };

	optind = 0;
	(void)cmd_down(quiet ? 4 : 3, argv);
}

enum watch_end { W_READY, W_FAILED, W_EOF, W_SIGNAL };

/*
 * Read the supervisor's events until READY, FAILED, EOF or one of our
 * signals (sigfd, may be -1).  show: print state changes.
 */
static enum watch_end
watch(int fd, struct proto_rx *rx, int sigfd, bool show, char *why,
    size_t whylen)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
		};
		struct proto_hdr h;
		const uint8_t *p;

		while (proto_rx_next(rx, &h, &p) == 1) {
			if (h.type == CTL_READY)
				return W_READY;
			if (h.type == CTL_FAILED) {
				snprintf(why, whylen, "%.*s", (int)h.len,
				    (const char *)p);
				return W_FAILED;
			}
			if (h.type == CTL_EVENT && show) {
				const char *vm = (const char *)p, *st, *det;
				size_t l1 = strnlen(vm, h.len), l2;

				if (l1 + 1 >= h.len)
					continue;
				st = vm + l1 + 1;
				l2 = strnlen(st, h.len - l1 - 1);
				if (l1 + l2 + 2 > h.len)
					continue;
				det = st + l2 + 1;
				if (l1 + l2 + 2 < h.len)
					fprintf(stderr, "isles: %s: %s (%.*s)\n",
					    vm, st, (int)(h.len - l1 - l2 - 2),
					    det);
				else
					fprintf(stderr, "isles: %s: %s\n", vm, st);
			}
		}
		if (poll(pfd, sigfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return W_EOF;
		}
		if (sigfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				return W_SIGNAL;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = proto_rx_read(rx, fd);

			if (n == 0 || (n < 0 && errno != EINTR &&
			    errno != EAGAIN))
				return W_EOF;
		}
	}
}

int
cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "detach", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sc_errors errs = { 0 };
	struct sc_system *sys;
	char rundir[PATH_MAX], file[PATH_MAX], qemu[PATH_MAX], err[512];
	char kernel[PATH_MAX] = "", initrd[PATH_MAX] = "", why[1024];
	char kernel32[PATH_MAX] = "", initrd32[PATH_MAX] = "";
	bool need_image32 = false;
	bool detach = false, verbose = false, need_image = false;
	int ch, accel, lockfd, ctlfd, fd, sigfd, rc = 1;
	struct proto_rx *rx;
	enum watch_end end;
	sigset_t sigs;
	pid_t pid;

	while ((ch = getopt_long(argc, argv, "+dvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			detach = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	sys = sc_load(argv[optind], &errs);
	if (sys == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		fprintf(stderr, "isles up: %s: not started\n", argv[optind]);
		return 1;
	}
	if (realpath(argv[optind], file) == NULL) {
		fprintf(stderr, "isles up: %s: %s\n", argv[optind],
		    strerror(errno));
		goto out;
	}
	if (qemu_check(sys, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\nisles up: %s: not started\n", err,
		    argv[optind]);
		goto out;
	}
	if (daemons_check(sys, err, sizeof(err)) < 0) {
		fprintf(stderr, "isles up: %s\nisles up: %s: not started\n",
		    err, argv[optind]);
		goto out;
	}
	if (check_passthrough(sys, stderr) > 0) {
		fprintf(stderr, "isles up: %s: not started\n", argv[optind]);
		goto out;
	}
	accel = accel_resolve(sys->accel);
	if (accel < 0)
		goto out;
	if (!find_qemu(qemu, sizeof(qemu))) {
		fprintf(stderr, "isles up: %s: QEMU not found (install the "
		    "Debian package qemu-system-x86, e.g. with `make deps`)\n",
		    qemu);
		goto out;
	}
	snprintf(rundir, sizeof(rundir), "%s/%s", ctl_run_base(), sys->name);
	if (strlen(rundir) > RD_MAX_PATH) {
		fprintf(stderr, "isles up: run dir %s is too long for Unix "
		    "socket paths; set ISLES_RUN_DIR to a shorter directory\n",
		    rundir);
		goto out;
	}
	if (rd_mkdirs(rundir, 0700) < 0 || chmod(rundir, 0700) < 0) {
		fprintf(stderr, "isles up: %s: %s\n", rundir, strerror(errno));
		goto out;
	}
	lockfd = rd_lock(rundir);
	if (lockfd < 0) {
		if (errno == EWOULDBLOCK)
			fprintf(stderr, "isles up: system %s is already running "
			    "(run dir %s); stop it with: isles down --system "
			    "%s\n", sys->name, rundir, sys->name);
		else
			fprintf(stderr, "isles up: %s/lock: %s\n", rundir,
			    strerror(errno));
		goto out;
	}
	/* A previous supervisor of this system died: clear what it left. */
	if (rd_sweep(rundir, 3000) > 0)
		fprintf(stderr, "isles up: stopped processes a previous run of "
		    "%s left behind\n", sys->name);
	rd_clean(rundir);
	unlink_at(rundir, "supervisor.log", NULL);
	unlink_at(rundir, "consoled.log", NULL);
	for (size_t i = 0; i < sys->nvms; i++) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/vm/%s", rundir, sys->vms[i].name);
		if (rd_mkdirs(dir, 0700) < 0) {
			fprintf(stderr, "isles up: %s: %s\n", dir,
			    strerror(errno));
			close(lockfd);
			goto out;
		}
		unlink_at(dir, "console.log", NULL);
		unlink_at(dir, "qemu.log", NULL);
		if (sys->vms[i].kernel == NULL &&
		    sys->vms[i].arch == SC_ARCH_I386)
			need_image32 = true;
		else if (sys->vms[i].kernel == NULL)
			need_image = true;
	}
	if ((need_image && image_ensure(false, kernel, sizeof(kernel), initrd,
	    sizeof(initrd)) < 0) || (need_image32 &&
	    image_ensure_arch(SC_ARCH_I386, false, kernel32, sizeof(kernel32),
	    initrd32, sizeof(initrd32)) < 0)) {
		fprintf(stderr, "isles up: no guest image: not started\n");
		close(lockfd);
		goto out;
	}
	if (disks_prepare(sys, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s\nisles up: %s: not started\n", why,
		    argv[optind]);
		close(lockfd);
		goto out;
	}
	ctlfd = bind_control(rundir);
	if (ctlfd < 0) {
		fprintf(stderr, "isles up: %s/control.sock: %s\n", rundir,
		    strerror(errno));
		close(lockfd);
		goto out;
	}
	/* Our signals are taken by a signalfd from here on. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	pid = spawn_supervisor(rundir, lockfd, ctlfd,
	    accel_name((enum sc_accel)accel), kernel, initrd, kernel32,
	    initrd32, file, verbose);
	close(lockfd);
	if (pid < 0) {
		fprintf(stderr, "isles up: cannot start the supervisor: %s\n",
		    strerror(errno));
		close(ctlfd);
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock",
		    rundir);
		/* Queued in the backlog until the supervisor accepts. */
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) < 0) {
			fprintf(stderr, "isles up: %s: %s\n", sa.sun_path,
			    strerror(errno));
			close(ctlfd);
			goto out;
		}
	}
	close(ctlfd);
	rx = malloc(sizeof(*rx));
	if (rx == NULL || proto_send(fd, CTL_WATCH, 0, 0, NULL, 0) < 0) {
		fprintf(stderr, "isles up: %s\n", strerror(errno));
		goto out;
	}
	proto_rx_init(rx);
	if (!detach)
		fprintf(stderr, "isles: starting system %s (%zu VMs, %s), run "
		    "dir %s\n", sys->name, sys->nvms,
		    accel_name((enum sc_accel)accel), rundir);
	end = watch(fd, rx, sigfd, !detach || verbose, why, sizeof(why));
	switch (end) {
	case W_READY:
		break;
	case W_FAILED:
		fprintf(stderr, "isles up: %s\n", why);
		/* The supervisor stops everything, then exits: wait for it. */
		(void)watch(fd, rx, -1, false, why, sizeof(why));
		(void)rd_wait_free(rundir);
		(void)waitpid(pid, NULL, 0);
		(void)rd_sweep(rundir, 3000);
		fprintf(stderr, "isles up: system %s not started; logs in "
		    "%s\n", sys->name, rundir);
		goto out_rx;
	case W_EOF:
		(void)rd_wait_free(rundir);
		(void)waitpid(pid, NULL, 0);
		show_log_tail(rundir);
		(void)rd_sweep(rundir, 3000);
		goto out_rx;
	case W_SIGNAL:
		fprintf(stderr, "isles: stopping system %s\n", sys->name);
		close(fd);
		fd = -1;
		stop_system(sys->name, false);
		(void)waitpid(pid, NULL, 0);
		rc = 130;	/* interrupted before the system was up */
		goto out_rx;
	}
	if (detach) {
		printf("system %s is up: %zu VM%s ready (run dir %s)\n",
		    sys->name, sys->nvms, sys->nvms == 1 ? "" : "s", rundir);
		rc = 0;
		goto out_rx;
	}
	fprintf(stderr, "isles: every VM is ready.  Console: @N switches "
	    "to VM N, @? help, @q stops the system, @d detaches.\n");
	{
		char con[PATH_MAX];
		enum con_exit ce = CON_EXIT_ERROR;

		snprintf(con, sizeof(con), "%s/console.sock", rundir);
		if (access(con, F_OK) == 0) {
			sigprocmask(SIG_UNBLOCK, &sigs, NULL);
			ce = con_run(con, -1, CON_REPLAY);
			sigprocmask(SIG_BLOCK, &sigs, NULL);
		} else {
			fprintf(stderr, "isles: no console daemon; Ctrl-C "
			    "stops the system\n");
			end = watch(fd, rx, sigfd, true, why, sizeof(why));
			ce = end == W_SIGNAL ? CON_EXIT_QUIT : CON_EXIT_CLOSED;
		}
		switch (ce) {
		case CON_EXIT_DETACH:
			printf("detached; system %s keeps running (isles down "
			    "--system %s stops it)\n", sys->name, sys->name);
			rc = 0;
			break;
		case CON_EXIT_CLOSED:
			(void)rd_wait_free(rundir);
			(void)waitpid(pid, NULL, 0);
			rc = 0;
			break;
		default:
			if (ce == CON_EXIT_ERROR)
				fprintf(stderr, "isles: console failed\n");
			fprintf(stderr, "isles: stopping system %s\n",
			    sys->name);
			close(fd);
			fd = -1;
			stop_system(sys->name, false);
			(void)waitpid(pid, NULL, 0);
			rc = ce == CON_EXIT_ERROR ? 1 : 0;
			break;
		}
	}
out_rx:
	free(rx);
	if (fd >= 0)
		close(fd);
out:
	sc_free(sys);
	return rc;
}
