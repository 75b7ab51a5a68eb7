/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * greet: the messages isles-dataportd sends a connecting QEMU; see
 * dpd.h.  Pure: builds a list, sends nothing.  Trusts the port (built
 * from the command line by main.c).
 */
#include "dataportd/dpd.h"

#include <errno.h>

static int
add(struct dpd_msg *out, size_t max, size_t *n, int64_t value, int fd)
{
	if (*n == max) {
		errno = ENOSPC;
		return -1;
	}
	out[*n].value = value;
	out[*n].fd = fd;
	(*n)++;
	return 0;
}

int
dpd_greeting(const struct dpd_port *dp, unsigned id, struct dpd_msg *out,
    size_t max)
{
	size_t n = 0;
	unsigned i, v;

	if (id >= dp->npeers || dp->vectors == 0 ||
	    dp->vectors > DPD_MAX_VECTORS) {
		errno = EINVAL;
		return -1;
	}
	if (add(out, max, &n, DPD_PROTOCOL, -1) < 0 ||
	    add(out, max, &n, id, -1) < 0 ||
	    add(out, max, &n, -1, dp->shm_fd) < 0)
		return -1;
	/* Every other declared peer, running or not (see dpd.h). */
	for (i = 0; i < dp->npeers; i++) {
		if (i == id)
			continue;
		for (v = 0; v < dp->vectors; v++)
			if (add(out, max, &n, i, dp->peers[i].ev[v]) < 0)
				return -1;
	}
	/* Its own: the eventfds it is interrupted through. */
	for (v = 0; v < dp->vectors; v++)
		if (add(out, max, &n, id, dp->peers[id].ev[v]) < 0)
			return -1;
	return (int)n;
}
