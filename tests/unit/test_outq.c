/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the shared output queue of proto frames (src/proto/outq.c)
 * beyond what its users' tests check (test_console_buf.c: the console's
 * drop policy; test_agent.c: the agent's bound and discard;
 * test_supervisor_parts.c: the default, unbounded policy): the policy is
 * checked, OUTQ_WRITE writes to an fd that is not a socket, outq_reset
 * starts a new stream after a partly written frame, a zero-filled queue
 * keeps its ring and is never full.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/outq.h"
#include "proto/proto.h"

static void
encode(uint8_t *p, uint64_t count)
{
	memcpy(p, &count, sizeof(count));
}

static bool
count_of(const uint8_t *p, size_t len, uint64_t *count)
{
	memcpy(count, p, sizeof(*count));
	return true;
}

static void
test_policy_checked(void **state)
{
	struct outq_drop d = {
		.type = PROTO_STDOUT, .nchan = OUTQ_MAX_CHANS + 1,
		.frame_max = 100, .notice_type = PROTO_ERROR,
		.notice_len = 8, .notice_encode = encode,
		.notice_count = count_of,
	};
	struct outq_policy pol = { .limit = 1000, .drop = &d };
	struct outq q;

	(void)state;
	/* More channels than it counts, a notice too large, no encoder. */
	assert_int_equal(outq_init(&q, &pol), -1);
	assert_int_equal(errno, EINVAL);
	d.nchan = 4;
	d.notice_len = OUTQ_NOTICE_MAX + 1;
	assert_int_equal(outq_init(&q, &pol), -1);
	d.notice_len = 8;
	d.notice_encode = NULL;
	assert_int_equal(outq_init(&q, &pol), -1);
	d.notice_encode = encode;
	assert_int_equal(outq_init(&q, &pol), 0);
	outq_free(&q);
	/* Preallocated: a bound that holds a header, and kept, not released. */
	pol = (struct outq_policy){ .limit = 8, .flags = OUTQ_PREALLOC };
	assert_int_equal(outq_init(&q, &pol), -1);
	assert_int_equal(errno, EINVAL);
	pol.limit = 1000;
	pol.flags |= OUTQ_RELEASE;
	assert_int_equal(outq_init(&q, &pol), -1);
	pol.flags = OUTQ_PREALLOC;
	assert_int_equal(outq_init(&q, &pol), 0);
	assert_int_equal(q.cap, 1000);
	assert_int_equal(outq_room(&q), 1000);
	outq_free(&q);
}

/* A pipe, like the agent's virtio-serial port, is not a socket. */
static void
test_write_to_a_pipe(void **state)
{
	static struct proto_rx rx;
	struct outq_policy pol = { .limit = 4096, .flags = OUTQ_WRITE };
	struct outq q;
	struct proto_hdr h;
	const uint8_t *p;
	int pfd[2];

	(void)state;
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	/* send(2) does not write to a pipe: the default policy fails. */
	memset(&q, 0, sizeof(q));
	assert_int_equal(outq_frame(&q, PROTO_PING, 0, 7, "abc", 3), 0);
	assert_int_equal(outq_flush(&q, pfd[1]), -1);
	assert_int_equal(errno, ENOTSOCK);
	outq_free(&q);
	/* OUTQ_WRITE: write(2). */
	assert_int_equal(outq_init(&q, &pol), 0);
	assert_int_equal(outq_frame(&q, PROTO_PING, 0, 7, "abc", 3), 0);
	assert_int_equal(outq_flush(&q, pfd[1]), 1);
	assert_int_equal(outq_len(&q), 0);
	proto_rx_init(&rx);
	assert_int_equal(proto_rx_read(&rx, pfd[0]), PROTO_HDR_SIZE + 3);
	assert_int_equal(proto_rx_next(&rx, &h, &p), 1);
	assert_int_equal(h.type, PROTO_PING);
	assert_int_equal(h.chan, 7);
	assert_memory_equal(p, "abc", 3);
	outq_free(&q);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * After outq_reset (the peer went away) the next byte out starts a new
 * frame, even though the last one was only partly written.
 */
static void
test_reset_starts_a_new_stream(void **state)
{
	struct outq q = { 0 };
	const uint8_t *p;
	size_t len;

	(void)state;
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, "0123456789", 10),
	    0);
	assert_non_null(outq_peek(&q, &len));
	outq_advance(&q, 5);
	assert_int_equal(q.part, PROTO_HDR_SIZE + 10 - 5);
	outq_reset(&q);
	assert_true(outq_empty(&q));
	assert_int_equal(q.part, 0);		/* no rest of a frame owed */
	assert_null(outq_peek(&q, &len));
	assert_int_equal(outq_frame(&q, PROTO_HELLO_ACK, 0, 0, NULL, 0), 0);
	p = outq_peek(&q, &len);
	assert_non_null(p);
	assert_int_equal(len, PROTO_HDR_SIZE);
	assert_int_equal(p[4], PROTO_HELLO_ACK);	/* a header, not a rest */
	outq_advance(&q, len);
	assert_true(outq_empty(&q));
	assert_int_equal(q.frames, 0);
	outq_free(&q);
}

/* The default policy (the supervisor's): never full, the ring is kept. */
static void
test_default_policy(void **state)
{
	static uint8_t payload[PROTO_MAX_PAYLOAD];
	struct outq q = { 0 };
	const uint8_t *p;
	size_t len, cap;

	(void)state;
	assert_true(outq_room(&q) == SIZE_MAX);
	for (int i = 0; i < 64; i++)	/* 4 MiB: far above any bound */
		assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, payload,
		    sizeof(payload)), 0);
	assert_int_equal(outq_len(&q), 64 * (PROTO_HDR_SIZE +
	    sizeof(payload)));
	cap = q.cap;
	while ((p = outq_peek(&q, &len)) != NULL)
		outq_advance(&q, len);
	assert_true(outq_empty(&q));
	assert_int_equal(q.cap, cap);		/* kept for the next frames */
	assert_int_equal(q.dropped_total, 0);
	outq_free(&q);
	assert_int_equal(q.cap, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_checked),
		cmocka_unit_test(test_write_to_a_pipe),
		cmocka_unit_test(test_reset_starts_a_new_stream),
		cmocka_unit_test(test_default_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
