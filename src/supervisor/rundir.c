/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rundir: run directory locking, stale process sweep and cleanup; see
 * rundir.h.  Called by the CLI (up, down) and by the supervisor when it
 * exits.  Trusts /proc: it only reads command lines and signals processes
 * whose command line names this run dir, never anything else.
 */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int
open_lock(const char *rundir)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/lock", rundir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
}

int
rd_lock(const char *rundir)
{
	int fd = open_lock(rundir);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

bool
rd_is_live(const char *rundir)
{
	char path[PATH_MAX];
	int fd;
	bool live;

	snprintf(path, sizeof(path), "%s/lock", rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	live = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return live;
}

int
rd_wait_free(const char *rundir)
{
	char path[PATH_MAX];
	int fd, r;

	(void)rd_path(path, sizeof(path), "%s/lock", rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	do {
		r = flock(fd, LOCK_SH);
	} while (r < 0 && errno == EINTR);
	close(fd);
	return r;
}

/* Read /proc/PID/NAME (NUL-separated strings); returns bytes or -1. */
static ssize_t
read_proc(const char *pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	(void)rd_path(path, sizeof(path), "/proc/%s/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Is one of the NUL-separated strings of buf[0..n) exactly `s`? */
static bool
has_string(const char *buf, ssize_t n, const char *s)
{
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, s) == 0)
			return true;
	return false;
}

/*
 * Is PID one of R's processes?  The supervisor's children carry
 * ISLES_RUN=R in their environment (child.c); the supervisor itself has
 * "supervise" and "--run-dir R" in its argv.  Nothing else is touched,
 * not even a `tail -f R/vm/vm0/console.log` of the user.
 */
static bool
is_ours(const char *pid, const char *rundir)
{
	static char buf[65536];
	char env[PATH_MAX + 16];
	ssize_t n;

	(void)rd_path(env, sizeof(env), "ISLES_RUN=%s", rundir);
	n = read_proc(pid, "environ", buf, sizeof(buf));
	if (n > 0 && has_string(buf, n, env))
		return true;
	n = read_proc(pid, "cmdline", buf, sizeof(buf));
	if (n <= 0 || !has_string(buf, n, "supervise"))
		return false;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (strcmp(buf + i, "--run-dir") == 0 &&
		    i + (ssize_t)strlen(buf + i) + 1 < n &&
		    strcmp(buf + i + strlen(buf + i) + 1, rundir) == 0)
			return true;
	return false;
}

/* Collect R's processes (not ours). */
static size_t
find_procs(const char *rundir, pid_t *pids, size_t max)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	d = opendir("/proc");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == getpid())
			continue;
		if (is_ours(de->d_name, rundir))
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

int
rd_count_procs(const char *rundir)
{
	pid_t pids[256];

	return (int)find_procs(rundir, pids, 256);
}

int
rd_sweep(const char *rundir, int grace_ms)
{
	pid_t pids[256];
	int pidfds[256];
	size_t n = find_procs(rundir, pids, 256);
	struct timespec t0, t;

	for (size_t i = 0; i < n; i++) {
		pidfds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		log_warnx("stopping leftover process %d of %s", (int)pids[i],
		    rundir);
		kill(pids[i], SIGTERM);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = pidfds[i], .events = POLLIN };
		long left;

		if (pidfds[i] < 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = grace_ms - ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left < 0)
			left = 0;
		/* Blocks until the process exits or the grace time is over. */
		if (poll(&p, 1, (int)left) == 0)
			(void)syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL,
			    NULL, 0);
		else
			pidfds[i] = (close(pidfds[i]), -1);
	}
	for (size_t i = 0; i < n; i++) {
		struct pollfd p = { .fd = pidfds[i], .events = POLLIN };

		if (pidfds[i] < 0)
			continue;
		(void)poll(&p, 1, 2000);
		close(pidfds[i]);
	}
	return (int)n;
}

static void
unlink_in(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

/* Remove every socket under dir (one level of subdirectories too). */
static void
clean_sockets(const char *dir, int depth)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISSOCK(st.st_mode))
			(void)unlink(path);
		else if (S_ISDIR(st.st_mode) && depth > 0) {
			clean_sockets(path, depth - 1);
			(void)rmdir(path);	/* only if now empty */
		}
	}
	closedir(d);
}

void
rd_clean(const char *rundir)
{
	unlink_in(rundir, "supervisor.pid");
	clean_sockets(rundir, 2);
}

int
rd_mkdirs(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, (mode_t)mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
rd_path(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
