/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/linkd/ln_ring.c, the bounded byte FIFO of a console
 * link direction: it takes exactly its capacity and no more, gives bytes
 * back in order across the wrap in at most two contiguous pieces, starts
 * over at the buffer's beginning once empty, and survives a long run of
 * odd-sized reads and writes against a reference copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linkd/ln_ring.h"

/* Add up to n bytes from src; returns bytes added. */
static size_t
put(struct ln_ring *r, const uint8_t *src, size_t n)
{
	size_t done = 0, len;

	while (done < n) {
		uint8_t *p = ln_ring_space(r, &len);

		if (len == 0)
			break;
		if (len > n - done)
			len = n - done;
		memcpy(p, src + done, len);
		ln_ring_commit(r, len);
		done += len;
	}
	return done;
}

/* Take up to n bytes into dst; returns bytes taken. */
static size_t
take(struct ln_ring *r, uint8_t *dst, size_t n)
{
	size_t done = 0, len;

	while (done < n) {
		const uint8_t *p = ln_ring_data(r, &len);

		if (len == 0)
			break;
		if (len > n - done)
			len = n - done;
		memcpy(dst + done, p, len);
		ln_ring_consume(r, len);
		done += len;
	}
	return done;
}

static void
test_bounds(void **state)
{
	struct ln_ring r;
	uint8_t in[100], out[100];
	size_t len;

	for (int i = 0; i < 100; i++)
		in[i] = (uint8_t)i;
	assert_int_equal(ln_ring_init(&r, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ln_ring_init(&r, 10), 0);
	assert_int_equal(ln_ring_room(&r), 10);
	ln_ring_data(&r, &len);
	assert_int_equal(len, 0);
	/* Exactly the capacity, then nothing. */
	assert_int_equal(put(&r, in, 100), 10);
	assert_int_equal(ln_ring_room(&r), 0);
	ln_ring_space(&r, &len);
	assert_int_equal(len, 0);
	/* Wrap: take 7, add 5; the data comes in two pieces, in order. */
	assert_int_equal(take(&r, out, 7), 7);
	assert_memory_equal(out, in, 7);
	assert_int_equal(put(&r, in + 10, 5), 5);
	ln_ring_data(&r, &len);
	assert_int_equal(len, 3);
	assert_int_equal(take(&r, out, 100), 8);
	assert_memory_equal(out, in + 7, 8);
	/* Empty: the next write starts at the beginning, whole. */
	assert_int_equal(put(&r, in, 4), 4);
	assert_int_equal(take(&r, out, 4), 4);
	assert_ptr_equal(ln_ring_space(&r, &len), r.buf);
	assert_int_equal(len, 10);
	ln_ring_free(&r);
	assert_null(r.buf);
}

static void
test_long_run(void **state)
{
	enum { TOTAL = 1 << 20 };
	uint8_t *in = malloc(TOTAL), *out = malloc(TOTAL);
	size_t wr = 0, rd = 0;
	unsigned seed = 12345;
	struct ln_ring r;

	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < TOTAL; i++)
		in[i] = (uint8_t)(i * 131 + (i >> 9));
	assert_int_equal(ln_ring_init(&r, 4093), 0);
	while (rd < TOTAL) {
		size_t a, b;

		seed = seed * 1103515245u + 12345u;
		a = (seed >> 8) % 5000;
		seed = seed * 1103515245u + 12345u;
		b = (seed >> 8) % 5000;
		if (a > TOTAL - wr)
			a = TOTAL - wr;
		wr += put(&r, in + wr, a);
		assert_true(r.len <= r.cap);
		rd += take(&r, out + rd, b);
		assert_int_equal(wr - rd, r.len);
	}
	assert_memory_equal(out, in, TOTAL);
	ln_ring_free(&r);
	free(in);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
