/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl: the control protocol between the isles CLI and a system's
 * supervisor, spoken over R/control.sock with proto.h framing (types
 * PROTO_CTL_BASE .. PROTO_CTL_BASE+31).  The supervisor trusts nobody
 * on this socket more than its file mode (0700 run dir) allows: every
 * request is size- and field-checked before it is acted upon.
 *
 * Requests (CLI -> supervisor), one per connection:
 *   STATUS   flags CTL_F_JSON: reply OK with the rendered text or JSON.
 *   EXEC     payload "VM\0ARG0\0ARG1\0..." (every string NUL-terminated);
 *            flags CTL_F_STDIN: STDIN frames follow (len 0 = EOF).
 *            Replies: STDOUT / STDERR data, then EXIT (struct proto_exit),
 *            or ERR.  Closing the connection kills the command.
 *   KILL     during EXEC: payload uint32 signal for the command.
 *   DOWN     payload uint32 timeout in seconds (0 = default): reply OK,
 *            then EVENT frames while stopping, then EOF when the
 *            supervisor exits.
 *   RESTART  payload "VM\0": reply OK once the VM is ready again, ERR if
 *            it fails.
 *   WATCH    EVENT frames ("VM\0STATE\0DETAIL"), READY once every VM
 *            answered, FAILED (reason text) if starting failed.
 * ERR carries a message and, in flags, the exit code the CLI should use.
 */
#ifndef ISLES_CTL_H
#define ISLES_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

enum ctl_type {
	CTL_STATUS = PROTO_CTL_BASE,
	CTL_EXEC,
	CTL_STDIN,
	CTL_KILL,
	CTL_DOWN,
	CTL_RESTART,
	CTL_WATCH,
	CTL_OK,
	CTL_ERR,
	CTL_STDOUT,
	CTL_STDERR,
	CTL_EXIT,
	CTL_EVENT,
	CTL_READY,
	CTL_FAILED,
	CTL_TYPE_END,		/* first unused type; must stay <= BASE+32 */
};

#define CTL_F_JSON	0x0001u
#define CTL_F_STDIN	0x0001u

/*
 * Client side (ctlclient.c).  Conventions: 0 / -1 with errno, or as said.
 */

/* Base of all run dirs: $ISLES_RUN_DIR or /run/isles. */
const char *ctl_run_base(void);

/*
 * Find the run dir of a system: `name` if given, else the only live system
 * under the base.  On failure prints a message ("no system is running",
 * "several systems are running: a b; use --system NAME") and returns -1.
 * With `allow_stale`, a system whose supervisor is gone is accepted too
 * (for `isles down`).
 */
int ctl_find_system(const char *name, int allow_stale, char *rundir,
    size_t len);

/* Connect to R/control.sock (blocking, CLOEXEC). Returns fd or -1. */
int ctl_connect(const char *rundir);

/*
 * ctl_find_system (live systems only) then ctl_connect, for a subcommand
 * `cmd` ("status") that talks to a running supervisor.  Returns the fd,
 * or -1 after printing why (a failed connection as "isles CMD:
 * RUNDIR/control.sock: ERROR").  rundir gets the system's run dir.
 */
int ctl_open(const char *cmd, const char *name, char *rundir, size_t len);

/*
 * Read one frame from a blocking fd into rx.  Returns 1 with *hdr and
 * *payload filled (valid until the next call on rx), 0 on EOF, -1 on error.
 */
int ctl_recv(int fd, struct proto_rx *rx, struct proto_hdr *hdr,
    const uint8_t **payload);

#endif
