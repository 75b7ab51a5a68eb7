/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: the two bounded buffers of isles-consoled, kept apart from its
 * event loop so that unit tests drive them directly.
 *
 *   cring: a VM's replay ring, the last `cap` bytes it printed.
 *   coutq: one client's output queue of encoded proto frames, bounded in
 *          the bytes it holds.  Frames are stored back to back in one ring
 *          of bytes (header + payload, nothing else), so a frame costs
 *          what it costs on the wire: many tiny chunks from several VMs
 *          take 17 bytes each, not an allocation each.  When a new frame
 *          does not fit, the oldest queued OUTPUT frames are dropped
 *          (never one already partly written to the socket) and their
 *          payload bytes counted per VM; the writer reports the count
 *          with a NOTICE at the point of the gap (see coutq_peek).  So a
 *          slow client never makes the daemon block, and its queue never
 *          holds more than `limit` plus COUTQ_RESERVE bytes of memory.
 *
 * Pure memory structures, no I/O.  Errors: 0 / -1 with errno.
 */
#ifndef ISLES_CONBUF_H
#define ISLES_CONBUF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/conproto.h"

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

/*
 * Room beyond `limit` for the NOTICE(DROPPED) frames coutq_peek inserts
 * at the head: one per VM at a time (a second one for the same VM is
 * added to the first), plus one already partly written.
 */
#define COUTQ_RESERVE	((CON_MAX_VMS + 1) * (PROTO_HDR_SIZE + CON_NOTICE_SIZE))
/* OUTPUT is queued in frames of at most this payload (merged up to it). */
#define COUTQ_FRAME_MAX	4096u

struct coutq {
	uint8_t *buf;		/* ring of encoded frames, NULL when empty */
	size_t cap;		/* bytes allocated for buf, <= limit + COUTQ_RESERVE */
	size_t rd;		/* ring index of the next byte to write out */
	size_t bytes;		/* bytes held (headers + payloads) from rd */
	size_t part;		/* unwritten bytes of a partly written head
				   frame; 0 = rd is at a frame boundary */
	size_t frames;		/* frames held, the partly written one included */
	size_t last;		/* ring index of the newest frame's header */
	size_t limit;		/* bound on `bytes` for queued frames */
	uint64_t dropped[CON_MAX_VMS];	/* OUTPUT bytes dropped, not yet reported */
	uint64_t dropped_total;
};

/*
 * An empty queue whose frames (headers included) may hold `limit` bytes;
 * it allocates nothing until the first push, and never more than limit +
 * COUTQ_RESERVE.  coutq_free gives everything back and forgets pending
 * drops (the queue is empty and usable again).
 */
void coutq_init(struct coutq *q, size_t limit);
void coutq_free(struct coutq *q);

/*
 * Queue one frame.  OUTPUT (type CON_OUTPUT, chan < CON_MAX_VMS) is
 * queued in frames of at most COUTQ_FRAME_MAX payload bytes and may be
 * merged into the newest frame if that is the same VM's output (same
 * flags) and has not started to be written.  When the queue would exceed
 * its limit (counting headers), the oldest droppable OUTPUT frames go
 * first; any other frame is never dropped (they are small and rare).  If
 * even then an OUTPUT frame does not fit, its own oldest bytes are
 * dropped.  Returns 0, or -1 with errno: EMSGSIZE (len over
 * PROTO_MAX_PAYLOAD), ENOBUFS (a non-OUTPUT frame does not fit: the
 * queue holds only frames that cannot be dropped, i.e. the client does
 * not read its replies), ENOMEM (for OUTPUT the bytes not queued count as
 * dropped).  Nothing is queued on error, except the OUTPUT bytes before
 * an ENOMEM.
 */
int coutq_push(struct coutq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len);

/*
 * The bytes to write next (one or more frames, or the rest of one; as
 * much as lies contiguous in the ring, but only the rest of a partly
 * written frame while drops are pending behind it).  If drops are pending
 * and no frame is partly written, a NOTICE(DROPPED) frame for each such
 * VM is queued at the head first, lowest VM first (or its count added to
 * that VM's notice already there), so the notices sit exactly where the
 * gap is.  Returns a pointer into the queue, valid until the next call on
 * it, and sets *len; or NULL when the queue is empty.
 */
const uint8_t *coutq_peek(struct coutq *q, size_t *len);

/* Mark n bytes (<= *len of the last peek) as written; an emptied queue
 * frees its ring. */
void coutq_advance(struct coutq *q, size_t n);

/* True when nothing is queued and nothing is pending. */
int coutq_empty(const struct coutq *q);

#endif
