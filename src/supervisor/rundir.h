/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rundir: a system's run directory R = $ISLES_RUN_DIR/NAME, shared by
 * the CLI (up, down, status: the lock, the sweep, the clean-up) and the
 * supervisor; it lives in libsupervisor, which the isles program links.
 *
 * Liveness is a lock, not a pid: the supervisor holds an exclusive
 * flock(2) on R/lock for its whole life (it inherits the lock from
 * `isles up`), so "is the system running" is race-free, survives pid
 * reuse, and waiting for a supervisor to exit is one blocking flock.
 * Processes a dead supervisor left behind are found by ISLES_RUN=R in
 * their environment (every child of the supervisor has it) or, for the
 * supervisor itself, by "supervise --run-dir R" in its command line.
 *
 * Conventions: 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_RUNDIR_H
#define ISLES_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Longest run dir path that leaves room for R/vm/NAME/serial.sock. */
#define RD_MAX_PATH	(108 - 1 - sizeof("/vm//serial.sock") - 31)

/*
 * Open R/lock and take the exclusive lock without blocking.  Returns the
 * fd (CLOEXEC), or -1 with errno EWOULDBLOCK when a live supervisor holds it.
 */
int rd_lock(const char *rundir);

/* True when a live supervisor holds R's lock. */
bool rd_is_live(const char *rundir);

/* Block until R's lock is free (the supervisor has exited). */
int rd_wait_free(const char *rundir);

/*
 * Stop every process of R (see above; never ourselves): SIGTERM, up to
 * `grace_ms` for them to exit, then SIGKILL.  Returns how many were found.
 */
int rd_sweep(const char *rundir, int grace_ms);

/* Count the processes of R. */
int rd_count_procs(const char *rundir);

/*
 * Remove the runtime files of R (sockets, pid file, lock left alone),
 * keep the logs: supervisor.log and vm/<vm>/{console,qemu}.log.
 */
void rd_clean(const char *rundir);

/*
 * snprintf into a path buffer: 0, or -1 with ENAMETOOLONG when it did not
 * fit (out is then truncated but terminated).
 */
int rd_path(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p with a mode for the last component. */
int rd_mkdirs(const char *path, unsigned mode);

#endif
