/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-consoled's bounded buffers (src/consoled/conbuf.c):
 * the 64 KiB replay ring and the per-client output queue that drops the
 * oldest output of a slow client, counts it and reports it in a NOTICE
 * placed where the gap is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "consoled/conbuf.h"
#include "proto.h"

static void
test_ring_keeps_last_bytes(void **state)
{
	struct cring r;
	uint8_t out[16];

	(void)state;
	assert_int_equal(cring_init(&r, 8), 0);
	assert_int_equal(cring_copy(&r, out), 0);
	cring_put(&r, "abc", 3);
	assert_int_equal(cring_copy(&r, out), 3);
	assert_memory_equal(out, "abc", 3);
	cring_put(&r, "defgh", 5);
	cring_put(&r, "ij", 2);		/* wraps */
	assert_int_equal(cring_copy(&r, out), 8);
	assert_memory_equal(out, "cdefghij", 8);
	cring_put(&r, "0123456789", 10);	/* larger than the ring */
	assert_int_equal(cring_copy(&r, out), 8);
	assert_memory_equal(out, "23456789", 8);
	cring_free(&r);
}

/* Drain the queue into frames; returns the number of frames parsed. */
static int
drain(struct coutq *q, struct proto_hdr *hdrs, char data[][256], int max)
{
	static struct proto_rx rx;
	const uint8_t *p, *pl;
	struct proto_hdr h;
	size_t len;
	int n = 0;

	proto_rx_init(&rx);
	while ((p = coutq_peek(q, &len)) != NULL) {
		assert_int_equal(proto_rx_feed(&rx, p, len), len);
		coutq_advance(q, len);
		while (proto_rx_next(&rx, &h, &pl) == 1 && n < max) {
			hdrs[n] = h;
			memset(data[n], 0, 256);
			memcpy(data[n], pl, h.len < 255 ? h.len : 255);
			n++;
		}
	}
	assert_true(coutq_empty(q));
	return n;
}

static void
test_queue_in_order_and_merged(void **state)
{
	struct coutq q;
	struct proto_hdr h[8];
	char d[8][256];

	(void)state;
	coutq_init(&q, 1000);
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 0, "ab", 2), 0);
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 0, "cd", 2), 0);
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 1, "xy", 2), 0);
	assert_int_equal(q.frames, 2);		/* vm0's two chunks merged */
	assert_int_equal(drain(&q, h, d, 8), 2);
	assert_int_equal(h[0].type, CON_OUTPUT);
	assert_int_equal(h[0].chan, 0);
	assert_string_equal(d[0], "abcd");
	assert_int_equal(h[1].chan, 1);
	assert_string_equal(d[1], "xy");
	coutq_free(&q);
}

static void
test_overflow_drops_oldest_with_notice(void **state)
{
	struct coutq q;
	struct proto_hdr h[8];
	char d[8][256];
	struct con_notice nt;
	char chunk[40];

	(void)state;
	coutq_init(&q, 100);
	/* Alternate VMs so that nothing merges: five 40-byte frames. */
	for (int i = 0; i < 5; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, (uint32_t)i % 2,
		    chunk, sizeof(chunk)), 0);
		assert_true(q.bytes <= 100);
	}
	/* 200 bytes offered, 100 fit: 'a', 'b', 'c' frames dropped. */
	assert_int_equal(q.dropped_total, 120);
	assert_int_equal(drain(&q, h, d, 8), 4);
	/* The notices come first: that is where the gap is. */
	assert_int_equal(h[0].type, CON_NOTICE);
	assert_int_equal(h[0].chan, 0);
	assert_int_equal(con_notice_decode((uint8_t *)d[0], h[0].len, &nt), 0);
	assert_int_equal(nt.kind, CON_NOTICE_DROPPED);
	assert_int_equal(nt.count, 80);		/* 'a' and 'c' of vm0 */
	assert_int_equal(h[1].type, CON_NOTICE);
	assert_int_equal(h[1].chan, 1);
	assert_int_equal(con_notice_decode((uint8_t *)d[1], h[1].len, &nt), 0);
	assert_int_equal(nt.count, 40);		/* 'b' of vm1 */
	assert_int_equal(h[2].type, CON_OUTPUT);
	assert_int_equal(d[2][0], 'd');
	assert_int_equal(d[3][0], 'e');
	coutq_free(&q);
}

static void
test_partly_written_frame_kept(void **state)
{
	struct coutq q;
	size_t len;
	const uint8_t *p;
	char chunk[60];

	(void)state;
	coutq_init(&q, 100);
	memset(chunk, 'a', sizeof(chunk));
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 0, chunk, 60), 0);
	p = coutq_peek(&q, &len);
	assert_non_null(p);
	coutq_advance(&q, 10);			/* the socket took 10 bytes */
	memset(chunk, 'b', sizeof(chunk));
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 1, chunk, 60), 0);
	/* The half-sent frame stays; the new one lost its oldest 20 bytes. */
	assert_int_equal(q.bytes, 100);
	assert_int_equal(q.dropped[1], 20);
	p = coutq_peek(&q, &len);
	assert_int_equal(len, PROTO_HDR_SIZE + 60 - 10);
	assert_int_equal(p[len - 1], 'a');
	coutq_free(&q);
}

static void
test_control_frames_never_dropped(void **state)
{
	struct coutq q;
	struct proto_hdr h[8];
	char d[8][256];
	char chunk[90];

	(void)state;
	coutq_init(&q, 100);
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(coutq_push(&q, CON_VMS, 0, 0, "vm0", 4), 0);
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 0, chunk, 90), 0);
	assert_int_equal(coutq_push(&q, CON_OUTPUT, 0, 1, chunk, 90), 0);
	assert_int_equal(drain(&q, h, d, 8), 3);
	assert_int_equal(h[0].type, CON_NOTICE);
	assert_int_equal(h[1].type, CON_VMS);
	assert_int_equal(h[2].type, CON_OUTPUT);
	assert_int_equal(h[2].chan, 1);
	coutq_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_keeps_last_bytes),
		cmocka_unit_test(test_queue_in_order_and_merged),
		cmocka_unit_test(test_overflow_drops_oldest_with_notice),
		cmocka_unit_test(test_partly_written_frame_kept),
		cmocka_unit_test(test_control_frames_never_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
