/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * daemons: the daemon rows of the supervisor's child table (see
 * daemons.c).  Conventions: 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_DAEMONS_H
#define ISLES_DAEMONS_H

#include <stdbool.h>
#include <stddef.h>

#include "child.h"
#include "supervise.h"
#include "sysconf/sysconf.h"

/* <dir of the isles binary>/NAME into out, if it is executable. */
bool daemon_prog(const char *name, char *out, size_t len);

/*
 * Bind and listen on R/<fmt...> (a stale socket is replaced).  Returns
 * the fd (CLOEXEC) or -1.
 */
int sup_listen(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Name a child table entry and give it ISLES_RUN / ISLES_SYSTEM. */
void sup_child_init(struct sup *s, struct child *c, enum child_kind kind,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Upper bound of daemon entries the plan needs. */
size_t daemons_max(const struct sc_system *sys);

/*
 * For `isles up`: the programs of every daemon the plan needs exist.
 * Returns 0, or -1 with a message in err.
 */
int daemons_check(const struct sc_system *sys, char *err, size_t len);

/*
 * Fill children[*n...] with the daemons the plan needs (console server,
 * disk servers, switches), advancing *n.  -1 on failure (logged).
 */
int daemons_build(struct sup *s, struct child *children, size_t *n);

#endif
