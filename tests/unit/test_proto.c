/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the receive side of the control framing (src/lib/proto.c):
 * frames split across feeds come out whole and in order, garbage between
 * frames is skipped and counted, and the cost of taking frames or of
 * resynchronising over garbage stays linear in the input (a guest agent
 * streaming junk or tiny frames must not pin the supervisor's CPU).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "proto.h"

static size_t
frame(uint8_t *out, uint16_t type, uint32_t chan, const void *p, uint32_t len)
{
	proto_hdr_encode(out, type, 0, chan, len);
	memcpy(out + PROTO_HDR_SIZE, p, len);
	return PROTO_HDR_SIZE + len;
}

static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_split_frames_and_garbage(void **state)
{
	static struct proto_rx rx;
	uint8_t in[256], junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
	size_t n = 0, fed;
	struct proto_hdr h;
	const uint8_t *p;

	(void)state;
	proto_rx_init(&rx);
	n += frame(in + n, PROTO_STDOUT, 5, "hello", 5);
	memcpy(in + n, junk, sizeof(junk));
	n += sizeof(junk);
	n += frame(in + n, PROTO_STDERR, 6, "world!", 6);
	/* One byte at a time: every frame still comes out whole. */
	int got = 0;
	for (fed = 0; fed < n; fed++) {
		assert_int_equal(proto_rx_feed(&rx, in + fed, 1), 1);
		while (proto_rx_next(&rx, &h, &p) == 1) {
			if (got == 0) {
				assert_int_equal(h.type, PROTO_STDOUT);
				assert_int_equal(h.chan, 5);
				assert_memory_equal(p, "hello", 5);
			} else {
				assert_int_equal(h.type, PROTO_STDERR);
				assert_int_equal(h.chan, 6);
				assert_int_equal(h.len, 6);
				assert_memory_equal(p, "world!", 6);
			}
			got++;
		}
	}
	assert_int_equal(got, 2);
	assert_int_equal(rx.skipped, sizeof(junk));
	assert_int_equal(proto_rx_next(&rx, &h, &p), 0);
}

/* A buffer's worth of garbage, many times over, then one good frame. */
static void
test_resync_is_linear(void **state)
{
	static struct proto_rx rx;
	static uint8_t junk[PROTO_MAX_PAYLOAD];
	uint8_t good[64];
	struct proto_hdr h;
	const uint8_t *p;
	size_t glen;
	double t0;
	int rounds = 64;

	(void)state;
	memset(junk, 0xa5, sizeof(junk));
	glen = frame(good, PROTO_PONG, 0, "", 0);
	proto_rx_init(&rx);
	t0 = cpu_seconds();
	for (int i = 0; i < rounds; i++) {
		assert_int_equal(proto_rx_feed(&rx, junk, sizeof(junk)),
		    sizeof(junk));
		assert_int_equal(proto_rx_next(&rx, &h, &p), 0);
	}
	assert_int_equal(proto_rx_feed(&rx, good, glen), glen);
	assert_int_equal(proto_rx_next(&rx, &h, &p), 1);
	assert_int_equal(h.type, PROTO_PONG);
	/* Every junk byte was skipped, none taken for a frame. */
	assert_int_equal(rx.skipped, (uint64_t)rounds * sizeof(junk));
	/* Linear: a few ms; byte-by-byte memmove took seconds here. */
	assert_true(cpu_seconds() - t0 < 0.5);
}

/* Buffers full of the smallest valid frames, many times over. */
static void
test_small_frames_are_linear(void **state)
{
	static struct proto_rx rx;
	static uint8_t in[PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD];
	struct proto_hdr h;
	const uint8_t *p;
	size_t n = 0;
	double t0;
	int rounds = 512, got = 0;

	(void)state;
	while (n + PROTO_HDR_SIZE <= sizeof(in))
		n += frame(in + n, PROTO_PONG, 0, "", 0);
	proto_rx_init(&rx);
	t0 = cpu_seconds();
	for (int i = 0; i < rounds; i++) {
		assert_int_equal(proto_rx_feed(&rx, in, n), n);
		while (proto_rx_next(&rx, &h, &p) == 1)
			got++;
	}
	assert_int_equal(got, rounds * (int)(n / PROTO_HDR_SIZE));
	assert_int_equal(rx.skipped, 0);
	assert_true(cpu_seconds() - t0 < 0.5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_frames_and_garbage),
		cmocka_unit_test(test_resync_is_linear),
		cmocka_unit_test(test_small_frames_are_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
