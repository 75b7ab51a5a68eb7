/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * child: starting the supervisor's children with only the fds they need;
 * see child.h.  Called from the supervisor's event loop only; the code
 * between fork and exec uses async-signal-safe calls only.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* Who unprivileged children run as (child_run_daemons_as). */
static struct {
	bool on;
	uid_t uid;
	gid_t gid;
} daemon_user;

int
child_run_daemons_as(const char *user, char *why, size_t len)
{
	struct passwd *pw;

	daemon_user.on = false;
	if (geteuid() != 0) {
		snprintf(why, len, "not root: the daemons run as uid %d, as "
		    "the supervisor", (int)geteuid());
		return -1;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(why, len, "no user %s (`make deps` creates it): the "
		    "daemons run as root", user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(why, len, "user %s is uid or gid 0: the daemons run "
		    "as root", user);
		return -1;
	}
	daemon_user.uid = pw->pw_uid;
	daemon_user.gid = pw->pw_gid;
	daemon_user.on = true;
	return 0;
}

/* A line "a b" on fd, in the child after fork (async-signal-safe). */
static void
child_say(int fd, const char *a, const char *b)
{
	(void)!write(fd, a, strlen(a));
	(void)!write(fd, b, strlen(b));
	(void)!write(fd, "\n", 1);
}

void
strv_add(struct strv *s, const char *str)
{
	char *copy;

	if (s->oom)
		return;
	if (s->n + 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL) {
			s->oom = true;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	copy = strdup(str);
	if (copy == NULL) {
		s->oom = true;
		return;
	}
	s->v[s->n++] = copy;
	s->v[s->n] = NULL;
}

void
strv_addf(struct strv *s, const char *fmt, ...)
{
	va_list ap;
	char *str;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&str, fmt, ap);
	va_end(ap);
	if (r < 0) {
		s->oom = true;
		return;
	}
	strv_add(s, str);
	free(str);
}

void
strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

char *
strv_join(const struct strv *s)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + 1;
	out = malloc(len);
	if (out == NULL)
		return NULL;
	p = out;
	for (size_t i = 0; i < s->n; i++) {
		size_t l = strlen(s->v[i]);

		memcpy(p, s->v[i], l);
		p += l;
		*p++ = i + 1 < s->n ? ' ' : '\0';
	}
	if (s->n == 0)
		*p = '\0';
	return out;
}

/* In the child after fork: never returns. */
static void __attribute__((noreturn))
child_exec(struct child *c, pid_t parent, int logfd)
{
	int moved[CHILD_MAX_FDS];
	bool drop = c->unprivileged && daemon_user.on;
	sigset_t none;
	int nullfd, exe = -1;

	/*
	 * A daemon drops to the daemon user: no supplementary groups, then
	 * its gid and uid (real, effective and saved).  Its program is
	 * opened first, as root, and executed by fd: the user need not be
	 * able to search the directories above the build.
	 */
	if (drop) {
		exe = open(c->argv.v[0], O_RDONLY | O_CLOEXEC);
		if (exe < 0 || setgroups(0, NULL) < 0 ||
		    setresgid(daemon_user.gid, daemon_user.gid,
		    daemon_user.gid) < 0 || setresuid(daemon_user.uid,
		    daemon_user.uid, daemon_user.uid) < 0) {
			child_say(logfd, "isles: cannot run as the daemon "
			    "user: ", strerror(errno));
			_exit(127);
		}
	}
	/*
	 * Die with the supervisor (checked against the fork race).  After
	 * the drop: a change of credentials clears the parent-death signal.
	 */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	/* Move the inherited fds out of the way, then into place. */
	/* The program's fd above every target number (3 .. 2 + max). */
	if (exe >= 0 && exe < 3 + CHILD_MAX_FDS) {
		int e = fcntl(exe, F_DUPFD_CLOEXEC, 3 + CHILD_MAX_FDS);

		if (e < 0)
			_exit(127);
		close(exe);
		exe = e;
	}
	for (size_t i = 0; i < c->nfds; i++) {
		moved[i] = fcntl(c->fds[i].fd, F_DUPFD, 64);
		if (moved[i] < 0)
			_exit(127);
	}
	nullfd = open("/dev/null", O_RDONLY);
	if (nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 ||
	    dup2(logfd, 2) < 0)
		_exit(127);
	for (size_t i = 0; i < c->nfds; i++)
		if (dup2(moved[i], c->fds[i].target) < 0)
			_exit(127);
	{
		int top = 2;

		for (size_t i = 0; i < c->nfds; i++)
			if (c->fds[i].target > top)
				top = c->fds[i].target;
		/* Everything not listed goes, whatever its CLOEXEC flag. */
		for (int fd = 3; fd <= top; fd++) {
			bool keep = false;

			for (size_t i = 0; i < c->nfds; i++)
				keep |= c->fds[i].target == fd;
			if (!keep)
				close(fd);
		}
		/* The program's fd, if any, is above top; CLOEXEC. */
		if (exe > top) {
			if (exe > top + 1)
				(void)close_range((unsigned)top + 1,
				    (unsigned)exe - 1, 0);
			(void)close_range((unsigned)exe + 1, ~0u, 0);
		} else {
			(void)close_range((unsigned)top + 1, ~0u, 0);
		}
	}
	for (size_t i = 0; i < c->env.n; i++)
		(void)putenv(c->env.v[i]);
	if (exe >= 0)
		fexecve(exe, c->argv.v, environ);
	else
		execvp(c->argv.v[0], c->argv.v);
	{
		int e = errno;

		(void)!write(2, "isles: cannot execute ", 22);
		(void)!write(2, c->argv.v[0], strlen(c->argv.v[0]));
		child_say(2, ": ", strerror(e));
	}
	_exit(127);
}

int
child_start(struct child *c)
{
	pid_t parent = getpid(), pid;
	int logfd;

	if (c->state == CHILD_RUNNING || c->argv.n == 0 || c->argv.oom ||
	    c->env.oom) {
		errno = EINVAL;
		return -1;
	}
	logfd = open(c->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (logfd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(logfd);
		errno = e;
		return -1;
	}
	if (pid == 0)
		child_exec(c, parent, logfd);
	close(logfd);
	c->pid = pid;
	c->state = CHILD_RUNNING;	/* status: kept, the last exit's */
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	log_info("%s: started, pid %d", c->name, (int)pid);
	return 0;
}

void
child_exited(struct child *c, int status)
{
	c->state = CHILD_EXITED;
	c->status = status;
	c->pid = 0;
}

const char *
child_status_str(int status)
{
	static char buf[64];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf), "killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, sizeof(buf), "stopped (status 0x%x)", status);
	return buf;
}

void
child_kill(struct child *c, int sig)
{
	if (c->state == CHILD_RUNNING && c->pid > 0)
		(void)kill(c->pid, sig);
}

void
child_setup(struct child *c, enum child_kind kind, const char *rundir,
    const char *system, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	c->kind = kind;
	c->vm = -1;
	strv_addf(&c->env, "ISLES_RUN=%s", rundir);
	strv_addf(&c->env, "ISLES_SYSTEM=%s", system);
}

void
child_log_tail(const struct child *c, char *out, size_t len)
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
