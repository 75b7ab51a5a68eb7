/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ln_ring: the bounded byte FIFO of one direction of an isles-linkd
 * console link: bytes read from one VM's socket wait here until the other
 * VM's socket takes them.  The daemon reads straight into the free space
 * and writes straight from the held bytes (no copy in between), one
 * contiguous piece at a time; when the ring is full it stops reading the
 * writer (back-pressure), it never overwrites or drops.
 *
 * Pure memory structure, no I/O; the buffer is allocated at init.
 * Callers: src/linkd/linkd.c and tests/unit/test_links_ring.c.
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_LN_RING_H
#define ISLES_LN_RING_H

#include <stddef.h>
#include <stdint.h>

struct ln_ring {
	uint8_t *buf;
	size_t cap;
	size_t rd;		/* index of the oldest held byte */
	size_t len;		/* bytes held */
};

/* A ring of cap bytes (cap > 0).  0 / -1 (ENOMEM, EINVAL). */
int ln_ring_init(struct ln_ring *r, size_t cap);
void ln_ring_free(struct ln_ring *r);

/* Bytes that may be added. */
size_t ln_ring_room(const struct ln_ring *r);

/*
 * The contiguous free space to read into: returns its start and sets
 * *len (0 when full).  ln_ring_commit(r, n) then adds the first n bytes
 * of it (n <= *len).
 */
uint8_t *ln_ring_space(struct ln_ring *r, size_t *len);
void ln_ring_commit(struct ln_ring *r, size_t n);

/*
 * The contiguous held bytes from the oldest: returns their start and
 * sets *len (0 when empty).  ln_ring_consume(r, n) then forgets the first
 * n of them (n <= *len).
 */
const uint8_t *ln_ring_data(const struct ln_ring *r, size_t *len);
void ln_ring_consume(struct ln_ring *r, size_t n);

#endif
