/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: replay ring and bounded per-client output queue of
 * isles-consoled; see conbuf.h.  Called only by consoled.c and unit
 * tests; the bytes it holds are guest output and are never interpreted.
 */
#include "conbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COUTQ_MERGE_MAX	(16u * 1024u)	/* merge OUTPUT frames up to this */

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
}

static void
frame_free(struct coutq_frame *f)
{
	free(f->data);
	free(f);
}

void
coutq_free(struct coutq *q)
{
	struct coutq_frame *f, *next;

	for (f = q->head; f != NULL; f = next) {
		next = f->next;
		frame_free(f);
	}
	q->head = q->tail = NULL;
	q->bytes = q->frames = 0;
}

static int
is_output(uint16_t type, uint32_t chan)
{
	return type == CON_OUTPUT && chan < CON_MAX_VMS;
}

/*
 * Drop the oldest droppable OUTPUT frame (not partly written).  Returns 1
 * if one was dropped, 0 if none is droppable.
 */
static int
drop_oldest(struct coutq *q)
{
	struct coutq_frame **pp, *prev = NULL;

	for (pp = &q->head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		struct coutq_frame *f = *pp;

		if (f->off > 0 || !is_output(f->type, f->chan))
			continue;
		*pp = f->next;
		if (q->tail == f)
			q->tail = prev;
		q->bytes -= f->len;
		q->frames--;
		q->dropped[f->chan] += f->len;
		q->dropped_total += f->len;
		frame_free(f);
		return 1;
	}
	return 0;
}

static struct coutq_frame *
frame_new(uint16_t type, uint16_t flags, uint32_t chan, const void *payload,
    size_t len)
{
	struct coutq_frame *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->data = malloc(PROTO_HDR_SIZE + len);
	if (f->data == NULL) {
		free(f);
		return NULL;
	}
	f->type = type;
	f->flags = flags;
	f->chan = chan;
	f->len = len;
	proto_hdr_encode(f->data, type, flags, chan, (uint32_t)len);
	if (len > 0)
		memcpy(f->data + PROTO_HDR_SIZE, payload, len);
	return f;
}

static void
append(struct coutq *q, struct coutq_frame *f)
{
	if (q->tail != NULL)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->bytes += f->len;
	q->frames++;
}

int
coutq_push(struct coutq *q, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	const uint8_t *p = payload;
	int out = is_output(type, chan);

	if (len > PROTO_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (out && len > q->limit) {
		/* Keep only the newest bytes of an oversized chunk. */
		q->dropped[chan] += len - q->limit;
		q->dropped_total += len - q->limit;
		p += len - q->limit;
		len = q->limit;
	}
	while (q->bytes + len > q->limit && drop_oldest(q))
		;
	if (out && q->bytes + len > q->limit) {
		/* Nothing left to drop (only control frames or a partly
		 * written one): drop the oldest part of this chunk. */
		size_t room = q->limit > q->bytes ? q->limit - q->bytes : 0;

		q->dropped[chan] += len - room;
		q->dropped_total += len - room;
		p += len - room;
		len = room;
		if (len == 0)
			return 0;
	}

	/* Merge into the tail if it is the same VM's unwritten output. */
	struct coutq_frame *t = q->tail;

	if (out && t != NULL && t->off == 0 && t->type == type &&
	    t->flags == flags && t->chan == chan &&
	    t->len + len <= COUTQ_MERGE_MAX) {
		uint8_t *nd = realloc(t->data, PROTO_HDR_SIZE + t->len + len);

		if (nd != NULL) {
			memcpy(nd + PROTO_HDR_SIZE + t->len, p, len);
			t->data = nd;
			t->len += len;
			proto_hdr_encode(t->data, type, flags, chan,
			    (uint32_t)t->len);
			q->bytes += len;
			return 0;
		}
	}

	struct coutq_frame *f = frame_new(type, flags, chan, p, len);

	if (f == NULL) {
		if (out) {
			q->dropped[chan] += len;
			q->dropped_total += len;
		}
		errno = ENOMEM;
		return -1;
	}
	append(q, f);
	return 0;
}

const uint8_t *
coutq_peek(struct coutq *q, size_t *len)
{
	if (q->head == NULL || q->head->off == 0) {
		for (uint32_t vm = 0; vm < CON_MAX_VMS; vm++) {
			uint8_t pl[CON_NOTICE_SIZE];
			struct coutq_frame *f;

			if (q->dropped[vm] == 0)
				continue;
			con_notice_encode(pl, CON_NOTICE_DROPPED, q->dropped[vm]);
			f = frame_new(CON_NOTICE, 0, vm, pl, sizeof(pl));
			if (f == NULL)
				break;	/* report it on a later call */
			q->dropped[vm] = 0;
			/* At the head: right where the gap is. */
			f->next = q->head;
			q->head = f;
			if (q->tail == NULL)
				q->tail = f;
			q->bytes += f->len;
			q->frames++;
			break;
		}
	}
	if (q->head == NULL)
		return NULL;
	*len = PROTO_HDR_SIZE + q->head->len - q->head->off;
	return q->head->data + q->head->off;
}

void
coutq_advance(struct coutq *q, size_t n)
{
	while (n > 0 && q->head != NULL) {
		struct coutq_frame *f = q->head;
		size_t left = PROTO_HDR_SIZE + f->len - f->off;

		if (n < left) {
			f->off += n;
			return;
		}
		n -= left;
		q->head = f->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->bytes -= f->len;
		q->frames--;
		frame_free(f);
	}
}

int
coutq_empty(const struct coutq *q)
{
	if (q->head != NULL)
		return 0;
	for (uint32_t vm = 0; vm < CON_MAX_VMS; vm++)
		if (q->dropped[vm] != 0)
			return 0;
	return 1;
}
