/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outq: the one output queue of proto.h frames, for every Isles process
 * that writes frames to a non-blocking fd without ever waiting for its
 * peer: the supervisor (agent links, control clients), isles-consoled
 * (console clients) and the guest agent (its virtio-serial port).
 *
 * Frames are kept back to back in one ring of bytes, exactly as they go
 * on the wire (16-byte header + payload, nothing else), so a frame costs
 * what it costs on the wire and the bound is on the memory held.  The
 * queue knows where every frame starts: one partly written to the fd is
 * always finished before anything behind it is dropped or discarded, so
 * the byte stream stays a sequence of whole frames.
 *
 * What differs between the users is a policy (struct outq_policy, given
 * to outq_init; a zero-filled struct outq has the default policy):
 *
 *   limit   a bound on the bytes held, headers included; 0 = none.  The
 *           supervisor has none and bounds its queues itself (it stops
 *           reading a source while outq_len() is above its high-water
 *           mark and resumes below its low-water mark); the agent and the
 *           console are bounded here.
 *   drop    NULL: a frame that does not fit is refused (ENOBUFS), nothing
 *           of it queued (the agent waits for room with outq_room()).
 *           Else (struct outq_drop) frames of one type on channels below
 *           `nchan` carry a byte stream per channel (console output): to
 *           make room the oldest of them are dropped, their payload bytes
 *           counted per channel, and a notice frame is put where the gap
 *           is when the writer gets there (outq_peek); they are also
 *           merged and split up to `frame_max` payload bytes per frame.
 *           Other frames are never dropped.
 *   flags   OUTQ_PREALLOC: the ring is allocated at init to its bound and
 *           kept (no ENOMEM later: the static agent).  OUTQ_RELEASE: the
 *           ring is given back whenever the queue empties (an idle
 *           console client costs nothing).  Neither: allocated on the
 *           first frame, grown by doubling, kept until outq_free.
 *           OUTQ_WRITE: outq_flush writes with write(2) (the fd is not a
 *           socket: a virtio-serial port; the caller ignores SIGPIPE);
 *           else send(2) with MSG_NOSIGNAL | MSG_DONTWAIT.
 *
 * Pure memory structure apart from outq_flush.  Single-threaded.
 * Errors: 0 / -1 with errno (outq_flush: see there).
 */
#ifndef ISLES_OUTQ_H
#define ISLES_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* Channels whose dropped bytes are counted (the console: one per VM). */
#define OUTQ_MAX_CHANS	32u
/* The largest notice payload (the console's is 16 bytes). */
#define OUTQ_NOTICE_MAX	64u

/* Frames that may be dropped, and the notice that reports a gap. */
struct outq_drop {
	uint16_t type;		/* frames of this type ... */
	uint32_t nchan;		/* ... on a channel below this, <= OUTQ_MAX_CHANS */
	size_t frame_max;	/* their payload per frame (merged up to it) */
	uint16_t notice_type;	/* the notice frame, on the gap's channel */
	size_t notice_len;	/* its payload size, <= OUTQ_NOTICE_MAX */
	/* Write the payload of a notice of `count` dropped bytes. */
	void (*notice_encode)(uint8_t *payload, uint64_t count);
	/*
	 * Whether a notice_type frame's payload (len bytes, our own) is such
	 * a notice; if so its count goes to *count.
	 */
	bool (*notice_count)(const uint8_t *payload, size_t len,
	    uint64_t *count);
};

/*
 * The ring may exceed the limit by this much, for the notices outq_peek
 * inserts at the head: one per channel at a time (a second one for the
 * same channel is added to the first), plus one already partly written.
 */
#define OUTQ_RESERVE(nchan, notice_len) \
	(((size_t)(nchan) + 1) * (PROTO_HDR_SIZE + (size_t)(notice_len)))

#define OUTQ_PREALLOC	0x1u
#define OUTQ_RELEASE	0x2u
#define OUTQ_WRITE	0x4u

struct outq_policy {
	size_t limit;			/* bytes held; 0 = unbounded */
	const struct outq_drop *drop;	/* NULL: nothing is dropped */
	unsigned flags;			/* OUTQ_* */
};

struct outq {
	struct outq_policy pol;
	uint8_t *buf;		/* ring of encoded frames (NULL: none yet) */
	size_t cap;		/* bytes allocated for buf */
	size_t rd;		/* ring index of the next byte to write out */
	size_t bytes;		/* bytes held (headers + payloads) from rd */
	size_t part;		/* unwritten bytes of a partly written head
				   frame; 0 = rd is at a frame boundary */
	size_t frames;		/* frames held, the partly written one included */
	size_t last;		/* ring index of the newest frame's header */
	uint64_t dropped[OUTQ_MAX_CHANS];	/* dropped, not yet reported */
	uint64_t dropped_total;
};

/*
 * An empty queue with policy pol (copied; pol->drop must outlive q).
 * Allocates only with OUTQ_PREALLOC (then pol->limit must be at least
 * PROTO_HDR_SIZE).  Returns 0, or -1 with EINVAL (bad policy) or ENOMEM.
 */
int outq_init(struct outq *q, const struct outq_policy *pol);

/*
 * Queue one frame.  Returns 0, or -1 with errno and nothing queued:
 * EMSGSIZE (len over PROTO_MAX_PAYLOAD), ENOBUFS (over the limit and not
 * droppable: the queue holds what cannot be dropped, e.g. replies a
 * client never reads), ENOMEM.  A droppable frame never gets ENOBUFS:
 * older droppable frames go first, then its own oldest bytes (counted as
 * dropped); on ENOMEM the bytes not queued count as dropped too.
 */
int outq_frame(struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len);

/*
 * The bytes to write next (one or more frames, or the rest of one; as
 * much as lies contiguous in the ring, but only the rest of a partly
 * written frame while drops are pending behind it).  If drops are pending
 * and no frame is partly written, a notice for each such channel is
 * queued at the head first, lowest channel first (or its count added to
 * that channel's notice already there), so the notices sit exactly where
 * the gap is.  Returns a pointer into the queue, valid until the next
 * call on it, and sets *len; or NULL when the queue is empty.
 */
const uint8_t *outq_peek(struct outq *q, size_t *len);

/* Mark n bytes (<= *len of the last peek) as written. */
void outq_advance(struct outq *q, size_t n);

/*
 * Write as much as fd takes now (peek, write, advance).  Returns 1 when
 * the queue is empty, 0 when bytes remain (fd full: wait for EPOLLOUT /
 * POLLOUT), -1 with errno from send(2) or write(2).
 */
int outq_flush(struct outq *q, int fd);

/* Bytes held. */
static inline size_t
outq_len(const struct outq *q)
{
	return q->bytes;
}

/* Bytes that may still be queued under the limit (SIZE_MAX: no limit). */
size_t outq_room(const struct outq *q);

/* True when nothing is held and no drop is waiting to be reported. */
bool outq_empty(const struct outq *q);

/*
 * Forget every frame except the rest of one partly written, so that the
 * stream stays whole (the agent, when the host says HELLO), and any
 * pending drop counts.
 */
void outq_discard(struct outq *q);

/*
 * Forget everything, a partly written frame included (the peer went
 * away: the next byte written starts a new stream).  The ring is kept
 * unless OUTQ_RELEASE.
 */
void outq_reset(struct outq *q);

/*
 * Give the memory back and forget everything; q stays usable with its
 * policy (allocating again on the next frame).
 */
void outq_free(struct outq *q);

#endif
