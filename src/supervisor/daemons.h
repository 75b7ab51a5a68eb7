/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemons: the daemon rows of the supervisor's child table, one builder
 * per kind of daemon (see daemons.c), and the check `isles up` makes
 * before anything starts.  Conventions: 0 / -1 with errno unless said
 * otherwise.
 */
#ifndef ISLES_SUPERVISOR_DAEMONS_H
#define ISLES_SUPERVISOR_DAEMONS_H

#include <stdbool.h>
#include <stddef.h>

#include "child.h"
#include "sysconf/sysconf.h"

/* <dir of the isles binary>/NAME into out, if it is executable. */
bool daemon_prog(const char *name, char *out, size_t len);

/* Upper bound of daemon entries the plan needs. */
size_t daemons_max(const struct sc_system *sys);

/*
 * For `isles up`: the programs of every daemon the plan needs exist.
 * Returns 0, or -1 with a message in err.
 */
int daemons_check(const struct sc_system *sys, char *err, size_t len);

/*
 * Fill children[*n...] (room for daemons_max) with the daemons the plan
 * needs (console server, disk servers, switches) for run dir R = rundir,
 * advancing *n: each with its argv and the listening sockets and files it
 * serves, bound and opened here.  -1 on failure (logged).
 */
int daemons_build(const struct sc_system *sys, const char *rundir,
    struct child *children, size_t *n);

#endif
