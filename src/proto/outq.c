/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * outq: the output queue of proto frames; see outq.h.  Called from the
 * event loops of the supervisor, isles-consoled and the guest agent, and
 * by unit tests.  The payloads it holds are never interpreted (guest
 * output among them), except the notices it writes itself.
 *
 * The ring holds frames written here, so the headers read back from it
 * are our own; walks over them are still bounded by the frame count and
 * the bytes held.  Offsets called `off` are logical (bytes from rd, the
 * next byte to write out); ring indices are not.
 */
#include "proto/outq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/le.h"

#define OUTQ_MIN_CAP	4096u		/* first ring allocation */
#define OUTQ_NO_LAST	SIZE_MAX	/* newest frame unknown: do not merge */

/* The ring's size bound: the limit, plus room for notices; or none. */
static size_t
ring_max(const struct outq *q)
{
	const struct outq_drop *d = q->pol.drop;

	if (q->pol.limit == 0)
		return SIZE_MAX;
	return q->pol.limit + (d != NULL ? OUTQ_RESERVE(d->nchan,
	    d->notice_len) : 0);
}

int
outq_init(struct outq *q, const struct outq_policy *pol)
{
	const struct outq_drop *d = pol->drop;

	memset(q, 0, sizeof(*q));
	q->last = OUTQ_NO_LAST;
	if ((d != NULL && (d->nchan > OUTQ_MAX_CHANS || d->frame_max == 0 ||
	    d->frame_max > PROTO_MAX_PAYLOAD || d->notice_len >
	    OUTQ_NOTICE_MAX || d->notice_encode == NULL ||
	    d->notice_count == NULL)) ||
	    ((pol->flags & OUTQ_PREALLOC) && (pol->limit < PROTO_HDR_SIZE ||
	    (pol->flags & OUTQ_RELEASE)))) {
		errno = EINVAL;
		return -1;
	}
	q->pol = *pol;
	if (pol->flags & OUTQ_PREALLOC) {
		q->cap = ring_max(q);
		if ((q->buf = malloc(q->cap)) == NULL) {
			q->cap = 0;
			return -1;
		}
	}
	return 0;
}

/* Forget every frame held (not the ring, not the drop counts). */
static void
ring_clear(struct outq *q)
{
	q->rd = q->bytes = q->part = q->frames = 0;
	q->last = OUTQ_NO_LAST;
}

/* Give the ring back; pending drop counts stay. */
static void
ring_release(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->cap = 0;
	ring_clear(q);
}

/* Nothing held: back to the start, and give the ring back if asked. */
static void
settle_if_empty(struct outq *q)
{
	if (q->bytes != 0)
		return;
	if (q->pol.flags & OUTQ_RELEASE)
		ring_release(q);
	else
		ring_clear(q);
}

void
outq_free(struct outq *q)
{
	ring_release(q);
	memset(q->dropped, 0, sizeof(q->dropped));
}

void
outq_reset(struct outq *q)
{
	q->bytes = 0;
	memset(q->dropped, 0, sizeof(q->dropped));
	settle_if_empty(q);
}

void
outq_discard(struct outq *q)
{
	q->bytes = q->part;
	q->frames = q->part > 0 ? 1 : 0;
	q->last = OUTQ_NO_LAST;
	memset(q->dropped, 0, sizeof(q->dropped));
	settle_if_empty(q);
}

static bool
droppable(const struct outq *q, uint16_t type, uint32_t chan)
{
	const struct outq_drop *d = q->pol.drop;

	return d != NULL && type == d->type && chan < d->nchan;
}

static void
count_dropped(struct outq *q, uint32_t chan, size_t n)
{
	q->dropped[chan] += n;
	q->dropped_total += n;
}

static size_t
ring_index(const struct outq *q, size_t off)
{
	return (q->rd + off) % q->cap;
}

/* Copy len bytes at logical offset off out of the ring. */
static void
ring_get(const struct outq *q, size_t off, void *out, size_t len)
{
	size_t at = ring_index(q, off), first = q->cap - at;

	if (first > len)
		first = len;
	memcpy(out, q->buf + at, first);
	memcpy((uint8_t *)out + first, q->buf, len - first);
}

/* Copy len bytes into the ring at logical offset off (within cap). */
static void
ring_set(struct outq *q, size_t off, const void *in, size_t len)
{
	size_t at, first;

	if (len == 0)
		return;		/* in may be NULL: a frame without payload */
	at = ring_index(q, off);
	first = q->cap - at;
	if (first > len)
		first = len;
	memcpy(q->buf + at, in, first);
	memcpy(q->buf, (const uint8_t *)in + first, len - first);
}

/* The type, channel and length of the frame at logical offset off. */
static void
hdr_get(const struct outq *q, size_t off, struct proto_hdr *h)
{
	uint8_t b[PROTO_HDR_SIZE];

	ring_get(q, off, b, sizeof(b));
	h->magic = le_get32(b);
	h->type = le_get16(b + 4);
	h->flags = le_get16(b + 6);
	h->chan = le_get32(b + 8);
	h->len = le_get32(b + 12);
}

static void
hdr_set(struct outq *q, size_t off, uint16_t type, uint16_t flags,
    uint32_t chan, size_t len)
{
	uint8_t b[PROTO_HDR_SIZE];

	proto_hdr_encode(b, type, flags, chan, (uint32_t)len);
	ring_set(q, off, b, sizeof(b));
}

/*
 * Make room for `need` more bytes: grow the ring (doubling, at most to
 * ring_max), keeping the held bytes in order.  Returns 0, or -1 with
 * ENOBUFS (over the bound) or ENOMEM.
 */
static int
ring_reserve(struct outq *q, size_t need)
{
	size_t max = ring_max(q), want = q->bytes + need;
	size_t ncap = q->cap != 0 ? q->cap : OUTQ_MIN_CAP;
	uint8_t *nb;

	if (want <= q->cap)
		return 0;
	if (want > max || want < need) {
		errno = ENOBUFS;
		return -1;
	}
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
	if (ncap > max)
		ncap = max;
	nb = realloc(q->buf, ncap);
	if (nb == NULL)
		return -1;
	if (q->rd + q->bytes > q->cap) {
		/* Wrapped: move the older part [rd, cap) to the new end. */
		size_t top = q->cap - q->rd;

		memmove(nb + ncap - top, nb + q->rd, top);
		if (q->last != OUTQ_NO_LAST && q->last >= q->rd)
			q->last += ncap - q->cap;
		q->rd = ncap - top;
	}
	q->buf = nb;
	q->cap = ncap;
	return 0;
}

/*
 * Remove the `by` bytes at logical offset plen by moving the plen bytes
 * before them forward (the last byte first, in pieces that wrap neither
 * source nor destination).  plen is what precedes the oldest droppable
 * frame: the rest of a partly written frame and frames that are never
 * dropped (small and rare), so a drop costs little whatever the queue
 * holds.
 */
static void
ring_cut(struct outq *q, size_t plen, size_t by)
{
	size_t left = plen;

	while (left > 0) {
		size_t s = ring_index(q, left - 1);
		size_t d = ring_index(q, by + left - 1);
		size_t k = left;

		if (k > s + 1)
			k = s + 1;
		if (k > d + 1)
			k = d + 1;
		memmove(q->buf + d + 1 - k, q->buf + s + 1 - k, k);
		left -= k;
	}
	q->rd = ring_index(q, by);
	q->bytes -= by;
}

/*
 * Drop the oldest droppable frame (not partly written).  Returns 1 if one
 * was dropped, 0 if none is droppable.
 */
static int
drop_oldest(struct outq *q)
{
	size_t off = q->part;

	for (size_t i = q->part > 0 ? 1 : 0; i < q->frames; i++) {
		struct proto_hdr h;
		size_t sz;

		if (off + PROTO_HDR_SIZE > q->bytes)
			break;
		hdr_get(q, off, &h);
		sz = PROTO_HDR_SIZE + h.len;
		if (off + sz > q->bytes)
			break;
		if (droppable(q, h.type, h.chan)) {
			if (ring_index(q, off) == q->last)
				q->last = OUTQ_NO_LAST;
			ring_cut(q, off, sz);
			q->frames--;
			count_dropped(q, h.chan, h.len);
			settle_if_empty(q);
			return 1;
		}
		off += sz;
	}
	return 0;
}

/* Can len bytes join the newest frame (same stream, not yet started)? */
static bool
can_merge(const struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    size_t len)
{
	struct proto_hdr h;

	if (q->last == OUTQ_NO_LAST || q->frames == 0 ||
	    (q->frames == 1 && q->part > 0))
		return false;
	hdr_get(q, (q->last + q->cap - q->rd) % q->cap, &h);
	return h.type == type && h.flags == flags && h.chan == chan &&
	    h.len + len <= q->pol.drop->frame_max;
}

/* Queue one frame (a droppable one of at most frame_max payload bytes). */
static int
push_one(struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const uint8_t *p, size_t len)
{
	bool drop = droppable(q, type, chan), merge;
	size_t need, limit = q->pol.limit != 0 ? q->pol.limit : SIZE_MAX;

	for (;;) {
		merge = drop && can_merge(q, type, flags, chan, len);
		need = (merge ? 0 : PROTO_HDR_SIZE) + len;
		if (q->bytes + need <= limit || !drop_oldest(q))
			break;
	}
	if (q->bytes + need > limit) {
		/* Nothing left to drop (frames that are never dropped, or
		 * one partly written): drop the oldest part of this chunk. */
		size_t room = limit > q->bytes ? limit - q->bytes : 0;
		size_t hdr = merge ? 0 : PROTO_HDR_SIZE;
		size_t keep = room > hdr ? room - hdr : 0;

		if (!drop) {
			errno = ENOBUFS;
			return -1;
		}
		count_dropped(q, chan, len - keep);
		p += len - keep;
		len = keep;
		need = hdr + len;
		if (len == 0)
			return 0;
	}
	if (ring_reserve(q, need) == -1) {
		if (drop)
			count_dropped(q, chan, len);
		return -1;
	}
	if (merge) {
		size_t at = (q->last + q->cap - q->rd) % q->cap;
		struct proto_hdr h;

		hdr_get(q, at, &h);
		ring_set(q, q->bytes, p, len);
		hdr_set(q, at, type, flags, chan, h.len + len);
	} else {
		hdr_set(q, q->bytes, type, flags, chan, len);
		ring_set(q, q->bytes + PROTO_HDR_SIZE, p, len);
		q->last = ring_index(q, q->bytes);
		q->frames++;
	}
	q->bytes += need;
	return 0;
}

int
outq_frame(struct outq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	const uint8_t *p = payload;
	size_t max;

	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!droppable(q, type, chan))
		return push_one(q, type, flags, chan, p, len);
	if (q->pol.limit != 0 && len > q->pol.limit) {
		/* Keep only the newest bytes of an oversized chunk. */
		count_dropped(q, chan, len - q->pol.limit);
		p += len - q->pol.limit;
		len = q->pol.limit;
	}
	max = q->pol.drop->frame_max;
	while (len > 0) {
		size_t n = len < max ? len : max;

		if (push_one(q, type, flags, chan, p, n) == -1) {
			count_dropped(q, chan, len - n);
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Report the drops of channel c: add them to its notice if one leads the
 * queue (inserted notices always do: nothing else is inserted at the
 * head), else insert one at the head.  Only while no frame is partly
 * written.
 */
static void
notice_dropped(struct outq *q, uint32_t c)
{
	const struct outq_drop *d = q->pol.drop;
	size_t nsz = PROTO_HDR_SIZE + d->notice_len, off = 0;
	uint8_t pl[OUTQ_NOTICE_MAX];

	for (size_t i = 0; i < q->frames; i++) {
		struct proto_hdr h;
		uint64_t count;

		hdr_get(q, off, &h);
		if (h.type != d->notice_type || h.len != d->notice_len)
			break;
		ring_get(q, off + PROTO_HDR_SIZE, pl, d->notice_len);
		if (!d->notice_count(pl, d->notice_len, &count))
			break;
		if (h.chan == c) {
			d->notice_encode(pl, count + q->dropped[c]);
			ring_set(q, off + PROTO_HDR_SIZE, pl, d->notice_len);
			q->dropped[c] = 0;
			return;
		}
		off += nsz;
	}
	if (ring_reserve(q, nsz) == -1)
		return;	/* report it on a later call */
	q->rd = (q->rd + q->cap - nsz) % q->cap;
	q->bytes += nsz;
	if (q->frames++ == 0)
		q->last = q->rd;
	d->notice_encode(pl, q->dropped[c]);
	hdr_set(q, 0, d->notice_type, 0, c, d->notice_len);
	ring_set(q, PROTO_HDR_SIZE, pl, d->notice_len);
	q->dropped[c] = 0;
}

const uint8_t *
outq_peek(struct outq *q, size_t *len)
{
	bool pending = false;

	/* Highest channel first, so that the lowest one's notice leads. */
	for (uint32_t c = q->pol.drop != NULL ? q->pol.drop->nchan : 0;
	    c-- > 0; ) {
		if (q->dropped[c] == 0)
			continue;
		pending = true;
		if (q->part == 0)
			notice_dropped(q, c);
	}
	if (q->bytes == 0)
		return NULL;
	*len = q->cap - q->rd < q->bytes ? q->cap - q->rd : q->bytes;
	/* The gap is right after a partly written frame: only its rest,
	 * then the notices (on the next call). */
	if (pending && q->part > 0 && *len > q->part)
		*len = q->part;
	return q->buf + q->rd;
}

void
outq_advance(struct outq *q, size_t n)
{
	while (n > 0 && q->bytes > 0) {
		size_t k;

		if (q->part == 0) {
			struct proto_hdr h;

			hdr_get(q, 0, &h);
			q->part = PROTO_HDR_SIZE + h.len;
		}
		k = n < q->part ? n : q->part;
		q->rd = ring_index(q, k);
		q->bytes -= k;
		q->part -= k;
		n -= k;
		if (q->part == 0)
			q->frames--;
	}
	settle_if_empty(q);
}

int
outq_flush(struct outq *q, int fd)
{
	const uint8_t *p;
	size_t len;

	while ((p = outq_peek(q, &len)) != NULL) {
		ssize_t n = (q->pol.flags & OUTQ_WRITE) ?
		    write(fd, p, len) :
		    send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		outq_advance(q, (size_t)n);
	}
	return 1;
}

size_t
outq_room(const struct outq *q)
{
	if (q->pol.limit == 0)
		return SIZE_MAX;
	return q->pol.limit > q->bytes ? q->pol.limit - q->bytes : 0;
}

bool
outq_empty(const struct outq *q)
{
	if (q->bytes != 0)
		return false;
	for (uint32_t c = 0; c < OUTQ_MAX_CHANS; c++)
		if (q->dropped[c] != 0)
			return false;
	return true;
}
