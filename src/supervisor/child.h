/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * child: the supervisor's one table of the processes a system needs
 * (daemons first, then one QEMU per VM) and how each is started.
 *
 * A child inherits exactly the fds listed in its entry, placed at the
 * listed numbers, plus stdin = /dev/null and stdout/stderr = its log
 * file; everything else is closed with close_range() before exec.  It
 * gets PR_SET_NO_NEW_PRIVS and PR_SET_PDEATHSIG(SIGTERM): a system
 * without its supervisor cannot be managed, so it stops with it (and
 * `isles down` sweeps any straggler by command line, see rundir.h).
 * Signals the supervisor blocks for its signalfd are unblocked again.
 * A child marked unprivileged (every isles-* daemon) runs as the daemon
 * user when child_run_daemons_as found one; QEMU stays the supervisor's user (it
 * opens /dev/kvm, VFIO devices, hugetlbfs files and SATA images itself)
 * and confines itself with its own -sandbox (qemu.c).
 * Used by supervise.c (the table, reaping), daemons.c (the daemon rows)
 * and vm.c (each VM's QEMU).
 *
 * Conventions: 0 / -1 with errno.
 */
#ifndef ISLES_CHILD_H
#define ISLES_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* A growable NULL-terminated string vector (argv, envp). */
struct strv {
	char **v;
	size_t n, cap;
	bool oom;		/* an append failed: the vector is unusable */
};

void strv_add(struct strv *s, const char *str);
void strv_addf(struct strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strv_free(struct strv *s);
/* The vector joined with spaces (for logs); caller frees. */
char *strv_join(const struct strv *s);

enum child_kind { CHILD_DAEMON, CHILD_VM };
enum child_restart { CHILD_RESTART_NEVER, CHILD_RESTART_ON_FAILURE };
enum child_state { CHILD_IDLE, CHILD_RUNNING, CHILD_EXITED };

#define CHILD_MAX_FDS	64

struct child_fd {
	int fd;			/* ours */
	int target;		/* its number in the child (>= 3) */
};

struct child {
	char name[48];		/* "qemu:vm0", "consoled" */
	enum child_kind kind;
	int vm;			/* VM index for CHILD_VM, else -1 */
	struct strv argv;
	struct strv env;	/* added to the environment */
	struct child_fd fds[CHILD_MAX_FDS];
	size_t nfds;
	char log[4096];		/* stdout + stderr, appended */
	enum child_restart restart;
	unsigned max_restarts;
	bool unprivileged;	/* run as the daemon user, if there is one
				   (child_run_daemons_as) */
	uint32_t restart_vms;	/* daemon: VMs (bit = index) to restart after
				   it restarts (their QEMU cannot reconnect) */

	enum child_state state;
	pid_t pid;
	int status;		/* wait status of the last exit */
	unsigned restarts;
	struct timespec started;	/* CLOCK_MONOTONIC */
};

/* The unprivileged user of the daemons (scripts/deps.sh creates it). */
#define ISLES_DAEMON_USER	"isles"

/*
 * Run every child marked unprivileged (the daemons, daemons.c) started
 * from now on as `user` (its uid and gid, no supplementary groups).  Returns 0, or -1 with a one-line
 * reason in why (the daemons then run as the supervisor does): not root,
 * no such user, or a user with uid or gid 0.
 */
int child_run_daemons_as(const char *user, char *why, size_t len);

/* Fork and exec c (state must not be RUNNING). */
int child_start(struct child *c);

/* Record the exit of c's process (wait status). */
void child_exited(struct child *c, int status);

/* "exited with status 1", "killed by signal 9" (static buffer). */
const char *child_status_str(int status);

/* Signal a running child; no-op otherwise. */
void child_kill(struct child *c, int sig);

/*
 * Name entry c ("qemu:vm0", "diskd:sata") and make it one of run dir R's
 * processes: ISLES_RUN=R and ISLES_SYSTEM=system in its environment (how
 * `isles down` finds stragglers, rundir.h).  vm is set to -1.
 */
void child_setup(struct child *c, enum child_kind kind, const char *rundir,
    const char *system, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * The last lines (at most 3) of c's log, made printable and joined by
 * " | ", into out ("" if there are none): the why of a failure message.
 */
void child_log_tail(const struct child *c, char *out, size_t len);

#endif
