/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webd: isles-webd's internal interfaces between its files (webd.c: the
 * event loop and the browser side; status.c: the status feed).
 */
#ifndef ISLES_WEBD_H
#define ISLES_WEBD_H

/*
 * The system's status as `isles status --json` prints it: the
 * supervisor's STATUS object (R/control.sock) with a "switches" array of
 * every switch's counters (R/switch/NAME/stats.sock; a switch that does
 * not answer is {"switch":NAME,"error":WHY}).  Blocks for at most a few
 * seconds.  Returns a malloc'd NUL-terminated string (the caller frees
 * it), or NULL with errno when the supervisor did not answer.
 */
char *web_status_fetch(const char *rundir);

/* Connect to R/control.sock (blocking, CLOEXEC).  Returns fd or -1. */
int web_ctl_connect(const char *rundir);

#endif
