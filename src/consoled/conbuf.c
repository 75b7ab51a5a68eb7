/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: replay ring and bounded per-client output queue of
 * isles-consoled; see conbuf.h.  Called only by consoled.c and unit
 * tests; the bytes it holds are guest output and are never interpreted.
 *
 * The output queue is a byte ring of frames written here, so the headers
 * read back from it are our own; walks over them are still bounded by
 * the frame count and the bytes held.  Offsets called `off` are logical
 * (bytes from rd, the next byte to write out); ring indices are not.
 */
#include "consoled/conbuf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define COUTQ_MIN_CAP	4096u		/* first ring allocation */
#define COUTQ_NO_LAST	SIZE_MAX	/* newest frame unknown: do not merge */

int
cring_init(struct cring *r, size_t cap)
{
	r->buf = malloc(cap);
	if (r->buf == NULL)
		return -1;
	r->cap = cap;
	r->head = 0;
	r->len = 0;
	return 0;
}

void
cring_free(struct cring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->len = r->head = 0;
}

void
cring_put(struct cring *r, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (r->cap == 0)
		return;
	if (len >= r->cap) {
		/* Only the last cap bytes survive. */
		memcpy(r->buf, p + len - r->cap, r->cap);
		r->head = 0;
		r->len = r->cap;
		return;
	}
	size_t first = r->cap - r->head;

	if (first > len)
		first = len;
	memcpy(r->buf + r->head, p, first);
	memcpy(r->buf, p + first, len - first);
	r->head = (r->head + len) % r->cap;
	r->len = r->len + len > r->cap ? r->cap : r->len + len;
}

size_t
cring_copy(const struct cring *r, void *out)
{
	uint8_t *o = out;
	size_t start = (r->head + r->cap - r->len) % (r->cap ? r->cap : 1);
	size_t first = r->cap - start;

	if (r->len == 0)
		return 0;
	if (first > r->len)
		first = r->len;
	memcpy(o, r->buf + start, first);
	memcpy(o + first, r->buf, r->len - first);
	return r->len;
}

void
coutq_init(struct coutq *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
	q->last = COUTQ_NO_LAST;
}

/* Give the ring back; pending drop counts stay. */
static void
ring_release(struct coutq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->cap = q->rd = q->bytes = q->part = q->frames = 0;
	q->last = COUTQ_NO_LAST;
}

void
coutq_free(struct coutq *q)
{
	ring_release(q);
	memset(q->dropped, 0, sizeof(q->dropped));
}

static int
is_output(uint16_t type, uint32_t chan)
{
	return type == CON_OUTPUT && chan < CON_MAX_VMS;
}

static void
count_dropped(struct coutq *q, uint32_t chan, size_t n)
{
	q->dropped[chan] += n;
	q->dropped_total += n;
}

static size_t
ring_index(const struct coutq *q, size_t off)
{
	return (q->rd + off) % q->cap;
}

/* Copy len bytes at logical offset off out of the ring. */
static void
ring_get(const struct coutq *q, size_t off, void *out, size_t len)
{
	size_t at = ring_index(q, off), first = q->cap - at;

	if (first > len)
		first = len;
	memcpy(out, q->buf + at, first);
	memcpy((uint8_t *)out + first, q->buf, len - first);
}

/* Copy len bytes into the ring at logical offset off (within cap). */
static void
ring_set(struct coutq *q, size_t off, const void *in, size_t len)
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

/* The header of the frame at logical offset off (one of ours). */
static void
hdr_get(const struct coutq *q, size_t off, struct proto_hdr *h)
{
	uint8_t b[PROTO_HDR_SIZE];

	ring_get(q, off, b, sizeof(b));
	h->magic = (uint32_t)con_get_le(b, 4);
	h->type = (uint16_t)con_get_le(b + 4, 2);
	h->flags = (uint16_t)con_get_le(b + 6, 2);
	h->chan = (uint32_t)con_get_le(b + 8, 4);
	h->len = (uint32_t)con_get_le(b + 12, 4);
}

static void
hdr_set(struct coutq *q, size_t off, uint16_t type, uint16_t flags,
    uint32_t chan, size_t len)
{
	uint8_t b[PROTO_HDR_SIZE];

	proto_hdr_encode(b, type, flags, chan, (uint32_t)len);
	ring_set(q, off, b, sizeof(b));
}

/* Nothing held: give the ring back, so an idle client costs nothing. */
static void
release_if_empty(struct coutq *q)
{
	if (q->bytes == 0)
		ring_release(q);
}

/*
 * Make room for `need` more bytes: grow the ring (doubling, at most to
 * limit + COUTQ_RESERVE), keeping the held bytes in order.  Returns 0, or
 * -1 with ENOBUFS (over the bound) or ENOMEM.
 */
static int
ring_reserve(struct coutq *q, size_t need)
{
	size_t max = q->limit + COUTQ_RESERVE, want = q->bytes + need;
	size_t ncap = q->cap != 0 ? q->cap : COUTQ_MIN_CAP;
	uint8_t *nb;

	if (want <= q->cap)
		return 0;
	if (want > max) {
		errno = ENOBUFS;
		return -1;
	}
	while (ncap < want)
		ncap *= 2;
	if (ncap > max)
		ncap = max;
	nb = realloc(q->buf, ncap);
	if (nb == NULL)
		return -1;
	if (q->rd + q->bytes > q->cap) {
		/* Wrapped: move the older part [rd, cap) to the new end. */
		size_t top = q->cap - q->rd;

		memmove(nb + ncap - top, nb + q->rd, top);
		if (q->last != COUTQ_NO_LAST && q->last >= q->rd)
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
 * frame: the rest of a partly written frame and control frames, both
 * small, so a drop costs little whatever the queue holds.
 */
static void
ring_cut(struct coutq *q, size_t plen, size_t by)
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
 * Drop the oldest droppable OUTPUT frame (not partly written).  Returns 1
 * if one was dropped, 0 if none is droppable.
 */
static int
drop_oldest(struct coutq *q)
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
		if (is_output(h.type, h.chan)) {
			if (ring_index(q, off) == q->last)
				q->last = COUTQ_NO_LAST;
			ring_cut(q, off, sz);
			q->frames--;
			count_dropped(q, h.chan, h.len);
			release_if_empty(q);
			return 1;
		}
		off += sz;
	}
	return 0;
}

/* Can len OUTPUT bytes join the newest frame (same VM, not yet started)? */
static bool
can_merge(const struct coutq *q, uint16_t flags, uint32_t chan, size_t len)
{
	struct proto_hdr h;

	if (q->last == COUTQ_NO_LAST || q->frames == 0 ||
	    (q->frames == 1 && q->part > 0))
		return false;
	hdr_get(q, (q->last + q->cap - q->rd) % q->cap, &h);
	return h.type == CON_OUTPUT && h.flags == flags && h.chan == chan &&
	    h.len + len <= COUTQ_FRAME_MAX;
}

/* Queue one frame of at most COUTQ_FRAME_MAX (OUTPUT) payload bytes. */
static int
push_one(struct coutq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const uint8_t *p, size_t len)
{
	bool out = is_output(type, chan), merge;
	size_t need;

	for (;;) {
		merge = out && can_merge(q, flags, chan, len);
		need = (merge ? 0 : PROTO_HDR_SIZE) + len;
		if (q->bytes + need <= q->limit || !drop_oldest(q))
			break;
	}
	if (q->bytes + need > q->limit) {
		/* Nothing left to drop (control frames or a partly written
		 * one): drop the oldest part of this chunk. */
		size_t room = q->limit > q->bytes ? q->limit - q->bytes : 0;
		size_t hdr = merge ? 0 : PROTO_HDR_SIZE;
		size_t keep = room > hdr ? room - hdr : 0;

		if (!out) {
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
		if (out)
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
coutq_push(struct coutq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	const uint8_t *p = payload;

	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!is_output(type, chan))
		return push_one(q, type, flags, chan, p, len);
	if (len > q->limit) {
		/* Keep only the newest bytes of an oversized chunk. */
		count_dropped(q, chan, len - q->limit);
		p += len - q->limit;
		len = q->limit;
	}
	while (len > 0) {
		size_t n = len < COUTQ_FRAME_MAX ? len : COUTQ_FRAME_MAX;

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
 * Report the drops of VM vm: add them to its NOTICE(DROPPED) if one leads
 * the queue (inserted notices always do: nothing else is inserted at the
 * head), else insert one at the head.  Only while no frame is partly
 * written.
 */
static void
notice_dropped(struct coutq *q, uint32_t vm)
{
	uint8_t pl[CON_NOTICE_SIZE];
	size_t off = 0;

	for (size_t i = 0; i < q->frames; i++) {
		struct proto_hdr h;
		struct con_notice nt;

		hdr_get(q, off, &h);
		if (h.type != CON_NOTICE || h.len != CON_NOTICE_SIZE)
			break;
		ring_get(q, off + PROTO_HDR_SIZE, pl, sizeof(pl));
		if (con_notice_decode(pl, sizeof(pl), &nt) == -1 ||
		    nt.kind != CON_NOTICE_DROPPED)
			break;
		if (h.chan == vm) {
			con_notice_encode(pl, CON_NOTICE_DROPPED,
			    nt.count + q->dropped[vm]);
			ring_set(q, off + PROTO_HDR_SIZE, pl, sizeof(pl));
			q->dropped[vm] = 0;
			return;
		}
		off += PROTO_HDR_SIZE + CON_NOTICE_SIZE;
	}
	if (ring_reserve(q, PROTO_HDR_SIZE + CON_NOTICE_SIZE) == -1)
		return;	/* report it on a later call */
	q->rd = (q->rd + q->cap - PROTO_HDR_SIZE - CON_NOTICE_SIZE) % q->cap;
	q->bytes += PROTO_HDR_SIZE + CON_NOTICE_SIZE;
	if (q->frames++ == 0)
		q->last = q->rd;
	con_notice_encode(pl, CON_NOTICE_DROPPED, q->dropped[vm]);
	hdr_set(q, 0, CON_NOTICE, 0, vm, sizeof(pl));
	ring_set(q, PROTO_HDR_SIZE, pl, sizeof(pl));
	q->dropped[vm] = 0;
}

const uint8_t *
coutq_peek(struct coutq *q, size_t *len)
{
	bool pending = false;

	/* Highest VM first, so that the lowest one's notice leads. */
	for (uint32_t vm = CON_MAX_VMS; vm-- > 0; ) {
		if (q->dropped[vm] == 0)
			continue;
		pending = true;
		if (q->part == 0)
			notice_dropped(q, vm);
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
coutq_advance(struct coutq *q, size_t n)
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
	release_if_empty(q);
}

int
coutq_empty(const struct coutq *q)
{
	if (q->bytes != 0)
		return 0;
	for (uint32_t vm = 0; vm < CON_MAX_VMS; vm++)
		if (q->dropped[vm] != 0)
			return 0;
	return 1;
}
