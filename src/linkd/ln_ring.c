/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ln_ring: bounded byte FIFO; see ln_ring.h.
 */
#include "linkd/ln_ring.h"

#include <errno.h>
#include <stdlib.h>

int
ln_ring_init(struct ln_ring *r, size_t cap)
{
	r->rd = r->len = 0;
	r->cap = 0;
	if (cap == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((r->buf = malloc(cap)) == NULL)
		return -1;
	r->cap = cap;
	return 0;
}

void
ln_ring_free(struct ln_ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->rd = r->len = 0;
}

size_t
ln_ring_room(const struct ln_ring *r)
{
	return r->cap - r->len;
}

uint8_t *
ln_ring_space(struct ln_ring *r, size_t *len)
{
	size_t wr = (r->rd + r->len) % (r->cap ? r->cap : 1);

	if (r->len == r->cap) {
		*len = 0;
		return r->buf;
	}
	/* Up to the end of the buffer, or up to the oldest byte. */
	*len = wr >= r->rd ? r->cap - wr : r->rd - wr;
	if (r->len == 0) {
		/* Empty: start over at 0, the whole buffer in one piece. */
		r->rd = 0;
		*len = r->cap;
		return r->buf;
	}
	return r->buf + wr;
}

void
ln_ring_commit(struct ln_ring *r, size_t n)
{
	r->len += n;
}

const uint8_t *
ln_ring_data(const struct ln_ring *r, size_t *len)
{
	size_t tail = r->cap - r->rd;

	*len = r->len < tail ? r->len : tail;
	return r->buf + r->rd;
}

void
ln_ring_consume(struct ln_ring *r, size_t n)
{
	r->rd = (r->rd + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->rd = 0;
}
