/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iov: see iov.h.  Trusts the segments it is given (built and bounded by
 * vq.c); every copy is bounded by them.
 */
#include "vhost/iov.h"

#include <string.h>

void
iov_cur_init(struct iov_cur *c, const struct iovec *iov, unsigned n)
{
	c->iov = iov;
	c->n = n;
	c->i = 0;
	c->off = 0;
}

size_t
iov_cur_room(struct iov_cur *c)
{
	while (c->i < c->n && c->off >= c->iov[c->i].iov_len) {
		c->i++;
		c->off = 0;
	}
	return c->i < c->n ? c->iov[c->i].iov_len - c->off : 0;
}

uint8_t *
iov_cur_ptr(const struct iov_cur *c)
{
	return (uint8_t *)c->iov[c->i].iov_base + c->off;
}

size_t
iov_cur_skip(struct iov_cur *c, size_t len)
{
	size_t done = 0, room, k;

	while (done < len && (room = iov_cur_room(c)) > 0) {
		k = len - done < room ? len - done : room;
		c->off += k;
		done += k;
	}
	return done;
}

size_t
iov_cur_read(struct iov_cur *c, void *out, size_t len)
{
	size_t done = 0, room, k;

	while (done < len && (room = iov_cur_room(c)) > 0) {
		k = len - done < room ? len - done : room;
		memcpy((uint8_t *)out + done, iov_cur_ptr(c), k);
		c->off += k;
		done += k;
	}
	return done;
}

size_t
iov_cur_write(struct iov_cur *c, const void *in, size_t len)
{
	size_t done = 0, room, k;

	while (done < len && (room = iov_cur_room(c)) > 0) {
		k = len - done < room ? len - done : room;
		if (in != NULL)
			memcpy(iov_cur_ptr(c), (const uint8_t *)in + done, k);
		else
			memset(iov_cur_ptr(c), 0, k);
		c->off += k;
		done += k;
	}
	return done;
}

size_t
iov_cur_copy(struct iov_cur *dst, struct iov_cur *src, size_t len)
{
	size_t done = 0, droom, sroom, k;

	while (done < len && (droom = iov_cur_room(dst)) > 0 &&
	    (sroom = iov_cur_room(src)) > 0) {
		k = len - done;
		if (k > droom)
			k = droom;
		if (k > sroom)
			k = sroom;
		memcpy(iov_cur_ptr(dst), iov_cur_ptr(src), k);
		dst->off += k;
		src->off += k;
		done += k;
	}
	return done;
}

size_t
iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf,
    size_t len)
{
	struct iov_cur c;

	iov_cur_init(&c, iov, n);
	if (iov_cur_skip(&c, off) < off)
		return 0;
	return iov_cur_read(&c, buf, len);
}

size_t
iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf,
    size_t len)
{
	struct iov_cur c;

	iov_cur_init(&c, iov, n);
	if (iov_cur_skip(&c, off) < off)
		return 0;
	return iov_cur_write(&c, buf, len);
}
