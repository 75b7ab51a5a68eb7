/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conbuf: replay ring and the console's policy for the per-client output
 * queue (src/proto/outq.c) of isles-consoled; see conbuf.h.  Called only
 * by consoled.c and unit tests; the bytes it holds are guest output and
 * are never interpreted.
 */
#include "consoled/conbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* A NOTICE(DROPPED) payload: the one kind of notice the queue writes. */
static void
notice_encode(uint8_t *payload, uint64_t count)
{
	con_notice_encode(payload, CON_NOTICE_DROPPED, count);
}

static bool
notice_count(const uint8_t *payload, size_t len, uint64_t *count)
{
	struct con_notice nt;

	if (con_notice_decode(payload, len, &nt) == -1 ||
	    nt.kind != CON_NOTICE_DROPPED)
		return false;
	*count = nt.count;
	return true;
}

static const struct outq_drop console_drops = {
	.type = CON_OUTPUT,
	.nchan = CON_MAX_VMS,
	.frame_max = COUTQ_FRAME_MAX,
	.notice_type = CON_NOTICE,
	.notice_len = CON_NOTICE_SIZE,
	.notice_encode = notice_encode,
	.notice_count = notice_count,
};

_Static_assert(CON_MAX_VMS <= OUTQ_MAX_CHANS, "a drop count per VM");
_Static_assert(CON_NOTICE_SIZE <= OUTQ_NOTICE_MAX, "the notice fits");

void
coutq_init(struct outq *q, size_t limit)
{
	const struct outq_policy pol = {
		.limit = limit,
		.drop = &console_drops,
		.flags = OUTQ_RELEASE,
	};

	/* Only bad policies fail, and this one is good: allocates nothing. */
	(void)outq_init(q, &pol);
}
