/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: the two bounded buffers of isles-consoled, kept apart from its
 * event loop so that unit tests drive them directly.
 *
 *   cring: a VM's replay ring, the last `cap` bytes it printed.
 *   coutq_init: one client's output queue, the shared queue of proto
 *          frames (src/proto/outq.h) with the console's policy.  Frames
 *          are stored back to back in one ring of bytes, so a frame costs
 *          what it costs on the wire: many tiny chunks from several VMs
 *          take 17 bytes each, not an allocation each.  When a new frame
 *          does not fit, the oldest queued OUTPUT frames are dropped
 *          (never one already partly written to the socket) and their
 *          payload bytes counted per VM; the writer reports the count
 *          with a NOTICE at the point of the gap (outq_peek).  So a slow
 *          client never makes the daemon block, and its queue never holds
 *          more than `limit` plus COUTQ_RESERVE bytes of memory.
 *
 * Pure memory structures, no I/O.  Errors: 0 / -1 with errno.
 */
#ifndef ISLES_CONBUF_H
#define ISLES_CONBUF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/conproto.h"
#include "proto/outq.h"

struct cring {
	uint8_t *buf;
	size_t cap;
	size_t head;		/* next write position */
	size_t len;		/* bytes held, <= cap */
};

int cring_init(struct cring *r, size_t cap);
void cring_free(struct cring *r);
void cring_put(struct cring *r, const void *data, size_t len);
/* Copy the held bytes, oldest first, into out (>= r->len bytes); returns r->len. */
size_t cring_copy(const struct cring *r, void *out);

/* OUTPUT is queued in frames of at most this payload (merged up to it). */
#define COUTQ_FRAME_MAX	4096u
/* Room beyond a client queue's limit for the NOTICE(DROPPED) frames. */
#define COUTQ_RESERVE	OUTQ_RESERVE(CON_MAX_VMS, CON_NOTICE_SIZE)

/*
 * An empty client queue whose frames (headers included) may hold `limit`
 * bytes (limit > 0), with the console's policy: OUTPUT (type CON_OUTPUT,
 * chan < CON_MAX_VMS) is the one droppable kind, oldest first, counted
 * per VM and reported by a NOTICE(DROPPED) where the gap is; other frames
 * are never dropped (a client whose queue holds only those gets ENOBUFS:
 * it does not read its replies).  The ring is allocated on the first
 * frame, never larger than limit + COUTQ_RESERVE, and given back
 * whenever the queue empties.  See outq.h for the rest.
 */
void coutq_init(struct outq *q, size_t limit);

#endif
