/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outq: a byte queue of proto.h frames waiting for a non-blocking socket
 * to accept them.  Used by the supervisor for every peer (control clients,
 * agent links) so that a slow peer never blocks the event loop.  The
 * queue itself is unbounded; callers bound it by not producing (not
 * reading the source) while outq_len() is above their high-water mark.
 * Conventions: 0 / -1 with errno.
 */
#ifndef ISLES_OUTQ_H
#define ISLES_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct outq {
	uint8_t *data;
	size_t head;		/* first unsent byte */
	size_t len;		/* bytes queued after head */
	size_t cap;
};

/* Append one frame; -1 ENOMEM or EMSGSIZE (len > PROTO_MAX_PAYLOAD). */
int outq_frame(struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len);

/*
 * Append raw bytes; -1 ENOMEM.
 */
int outq_bytes(struct outq *q, const void *data, size_t len);

/*
 * Write as much as the socket takes.  Returns 1 when the queue is empty,
 * 0 when bytes remain (socket full: wait for EPOLLOUT), -1 on error.
 */
int outq_flush(struct outq *q, int fd);

static inline size_t
outq_len(const struct outq *q)
{
	return q->len;
}

void outq_free(struct outq *q);

#endif
