/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iov: copying to and from guest buffers, the one way every device does
 * it.  A struct iov_cur is a position in a list of segments (the iovecs
 * vq.c built from a descriptor chain with vu_mem_gpa(): every byte they
 * cover is inside guest memory).  Reads, writes and copies stop at the
 * end of the segments, never past them, and say how much they moved.
 *
 * Pure: no syscalls.  Callers: diskd (request headers, synthesized
 * sectors, GET_ID), switchd (frames between rings), later devices.
 */
#ifndef ISLES_VHOST_IOV_H
#define ISLES_VHOST_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct iov_cur {
	const struct iovec *iov;
	unsigned n, i;
	size_t off;		/* into iov[i] */
};

/* Start at the first byte of iov[0..n). */
void iov_cur_init(struct iov_cur *c, const struct iovec *iov, unsigned n);

/* Skip len bytes; returns bytes skipped (less at the end). */
size_t iov_cur_skip(struct iov_cur *c, size_t len);

/*
 * Room left in the current segment (moving past exhausted ones), 0 at the
 * end; iov_cur_ptr() is valid only when it is not 0.
 */
size_t iov_cur_room(struct iov_cur *c);
uint8_t *iov_cur_ptr(const struct iov_cur *c);

/* Copy up to len bytes out of c into out; returns bytes copied. */
size_t iov_cur_read(struct iov_cur *c, void *out, size_t len);

/*
 * Copy up to len bytes of in (or zeros if in is NULL) into c; returns
 * bytes written.
 */
size_t iov_cur_write(struct iov_cur *c, const void *in, size_t len);

/* Copy up to len bytes from src into dst; returns bytes copied. */
size_t iov_cur_copy(struct iov_cur *dst, struct iov_cur *src, size_t len);

/* One-shot forms at byte offset off of iov[0..n). */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off,
    void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off,
    const void *buf, size_t len);

#endif
