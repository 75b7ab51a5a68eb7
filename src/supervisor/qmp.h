/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qmp: the supervisor's QMP client of one VM, over R/vm/VM/qmp.sock (QEMU
 * listens).  Only what the supervisor needs: the events RESET (the guest
 * rebooted) and SHUTDOWN, and the power button (system_powerdown).  A
 * peer of the agent link (agentlink.h) of the same VM; both are driven by
 * the VM's state machine (vm.c), which decides what an event means.
 *
 * Trust: QEMU is ours but its output carries guest-chosen strings; lines
 * are bounded (4 KiB, an over-long one is skipped), only matched for the
 * two event names, never parsed further.  Nothing is sent but two fixed
 * commands.  Single-threaded, in the supervisor's event loop.
 */
#ifndef ISLES_SUPERVISOR_QMP_H
#define ISLES_SUPERVISOR_QMP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "host/evloop.h"

enum qmp_event {
	QMP_RESET,		/* the guest reset (reboot, panic=-1) */
	QMP_SHUTDOWN,		/* the guest shut down (QEMU exits next) */
};

struct qmp {
	struct ev_loop *loop;
	char path[PATH_MAX];
	int fd;			/* -1 when not connected */
	char buf[4096];
	size_t have;
	bool overflow;		/* discarding an over-long line */
	void (*event)(void *arg, enum qmp_event ev);
	void *arg;
};

/* Set q up, not connected; event(arg, ev) is called for each event. */
void qmp_init(struct qmp *q, struct ev_loop *loop, const char *path,
    void (*event)(void *arg, enum qmp_event ev), void *arg);

/*
 * Connect unless connected, and enable the QMP commands.  Not listening
 * yet (QEMU still starting) is no error: the next call tries again.
 */
void qmp_connect(struct qmp *q);

/* Press the ACPI power button; nothing if not connected. */
void qmp_powerdown(struct qmp *q);

/* Disconnect (idempotent). */
void qmp_close(struct qmp *q);

#endif
