/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: the two bounded buffers of isles-consoled, kept apart from its
 * event loop so that unit tests drive them directly.
 *
 *   cring: a VM's replay ring, the last `cap` bytes it printed.
 *   coutq: one client's output queue of encoded proto frames, bounded in
 *          payload bytes.  When a new frame does not fit, the oldest
 *          queued OUTPUT frames are dropped (never one already partly
 *          written to the socket) and their payload bytes counted per VM;
 *          the writer reports the count with a NOTICE at the point of the
 *          gap (see coutq_peek).  So a slow client never makes the daemon
 *          block or grow without bound.
 *
 * Pure memory structures, no I/O.  Errors: 0 / -1 with errno (ENOMEM).
 */
#ifndef ISLES_CONBUF_H
#define ISLES_CONBUF_H

#include <stddef.h>
#include <stdint.h>

#include "conproto.h"

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

struct coutq_frame {
	struct coutq_frame *next;
	uint16_t type;
	uint16_t flags;
	uint32_t chan;
	size_t len;		/* payload bytes */
	size_t off;		/* bytes of header+payload already written */
	uint8_t *data;		/* header (PROTO_HDR_SIZE) + payload */
};

struct coutq {
	struct coutq_frame *head, *tail;
	size_t bytes;		/* queued payload bytes */
	size_t frames;
	size_t limit;		/* bound on `bytes` */
	uint64_t dropped[CON_MAX_VMS];	/* OUTPUT bytes dropped, not yet reported */
	uint64_t dropped_total;
};

void coutq_init(struct coutq *q, size_t limit);
void coutq_free(struct coutq *q);

/*
 * Queue one frame.  OUTPUT frames (type CON_OUTPUT, chan < CON_MAX_VMS)
 * may be merged into the previous frame of the same VM if that one has not
 * started to be written.  When the queue would exceed its limit, the
 * oldest droppable OUTPUT frames go first; any other frame is never
 * dropped (they are small and rare).  If even then the frame does not fit
 * and it is OUTPUT, its own oldest bytes are dropped.  Returns 0, or -1
 * with ENOMEM (nothing queued; the bytes count as dropped for OUTPUT).
 */
int coutq_push(struct coutq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len);

/*
 * The bytes to write next: if drops are pending and no frame is partly
 * written, a NOTICE(DROPPED) frame for the lowest such VM is queued at the
 * head first, so the notice sits exactly where the gap is.  Returns a
 * pointer and sets *len, or NULL when the queue is empty.
 */
const uint8_t *coutq_peek(struct coutq *q, size_t *len);

/* Mark n bytes (<= *len of the last peek) as written. */
void coutq_advance(struct coutq *q, size_t n);

/* True when nothing is queued and nothing is pending. */
int coutq_empty(const struct coutq *q);

#endif
