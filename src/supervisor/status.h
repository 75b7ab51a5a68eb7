/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * status: what `isles status` shows of a running system, as text for a
 * terminal or as one JSON line (--json), rendered from a read-only view
 * of the supervisor's state.  Pure apart from reading the clock for the
 * children's uptimes.  Called by the supervisor when control.c asks.
 */
#ifndef ISLES_SUPERVISOR_STATUS_H
#define ISLES_SUPERVISOR_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "child.h"
#include "sysconf/sysconf.h"
#include "vm.h"

struct status_view {
	const struct sc_system *sys;
	const char *rundir;
	enum sc_accel accel;	/* KVM or TCG */
	const char *phase;	/* "starting", "running", "stopping" */
	double uptime;		/* seconds since the supervisor started */
	int pid;		/* the supervisor's */
	const struct vm *vms;
	size_t nvms;
	const struct child *children;	/* the daemons are listed */
	size_t nchildren;
};

/*
 * Render v into out (cap bytes, always NUL-terminated, cut short if it
 * does not fit): JSON or text.  Returns the length written.
 */
size_t status_render(const struct status_view *v, bool json, char *out,
    size_t cap);

#endif
