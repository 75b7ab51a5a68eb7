/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of what the guest agent (src/guest/agent/isles-agent.c)
 * takes from src/proto: the output queue with the agent's policy (bounded,
 * preallocated, nothing dropped; outq.c), which must keep the byte stream
 * to the host made of whole frames even when a frame is only partly
 * written when the queue is discarded (HELLO), and the EXEC payload
 * parser (proto.c), which must reject every malformed argv without
 * reading past the payload.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/outq.h"
#include "proto/proto.h"

/* The agent's policy (isles-agent.c), with the bound of each test. */
static int
agent_outq_init(struct outq *q, size_t limit)
{
	const struct outq_policy pol = {
		.limit = limit,
		.flags = OUTQ_PREALLOC | OUTQ_WRITE,
	};

	return outq_init(q, &pol);
}

/* Read everything available on fd into rx; returns the frames' types. */
static size_t
collect(int fd, struct proto_rx *rx, uint16_t *types, uint32_t *lens,
    size_t max)
{
	struct proto_hdr h;
	const uint8_t *p;
	size_t n = 0;

	while (proto_rx_read(rx, fd) > 0) {
		while (n < max && proto_rx_next(rx, &h, &p) == 1) {
			types[n] = h.type;
			lens[n] = h.len;
			/* Payload bytes are the frame's own fill pattern. */
			for (uint32_t i = 0; i < h.len; i++)
				assert_int_equal(p[i], (uint8_t)h.chan);
			n++;
		}
	}
	return n;
}

/*
 * A frame partly written when HELLO discards the queue is finished, the
 * frames behind it are dropped, and what follows starts on a boundary:
 * the host sees whole frames only (rx->skipped stays 0).
 */
static void
test_outq_discard_keeps_stream_whole(void **state)
{
	static uint8_t payload[PROTO_MAX_PAYLOAD];
	struct outq q;
	struct proto_rx *rx = malloc(sizeof(*rx));
	uint16_t types[16];
	uint32_t lens[16];
	int sv[2], sndbuf = 4096;
	size_t n = 0;

	(void)state;
	assert_non_null(rx);
	proto_rx_init(rx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	assert_int_equal(agent_outq_init(&q, 256 * 1024), 0);

	memset(payload, 1, 100);
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, payload, 100), 0);
	memset(payload, 2, 60000);
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 2, payload, 60000),
	    0);
	memset(payload, 3, 5000);
	assert_int_equal(outq_frame(&q, PROTO_STDERR, 0, 3, payload, 5000), 0);
	assert_int_equal(outq_flush(&q, sv[0]), 0);	/* bytes remain */
	assert_true(q.part > 0 && outq_len(&q) > 0);
	outq_discard(&q);
	assert_int_equal(outq_frame(&q, PROTO_HELLO_ACK, 0, 0, NULL, 0), 0);
	while (outq_len(&q) > 0) {
		assert_true(outq_flush(&q, sv[0]) >= 0);
		n += collect(sv[1], rx, types + n, lens + n, 16 - n);
	}
	n += collect(sv[1], rx, types + n, lens + n, 16 - n);
	assert_int_equal(n, 3);
	assert_int_equal(types[0], PROTO_STDOUT);
	assert_int_equal(lens[0], 100);
	assert_int_equal(types[1], PROTO_STDOUT);
	assert_int_equal(lens[1], 60000);
	assert_int_equal(types[2], PROTO_HELLO_ACK);
	assert_int_equal(lens[2], 0);
	assert_int_equal(rx->skipped, 0);
	outq_free(&q);
	free(rx);
	close(sv[0]);
	close(sv[1]);
}

static void
test_outq_bounds(void **state)
{
	static uint8_t payload[PROTO_MAX_PAYLOAD + 1];
	struct outq q;

	(void)state;
	assert_int_equal(agent_outq_init(&q, 1000), 0);
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, payload,
	    PROTO_MAX_PAYLOAD + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, payload, 900), 0);
	assert_int_equal(outq_room(&q), 1000 - 916);
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 1, payload, 100), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(outq_len(&q), 916);	/* nothing half-queued */
	outq_discard(&q);			/* nothing on the wire yet */
	assert_int_equal(outq_len(&q), 0);
	outq_free(&q);
}

static void
test_parse_argv(void **state)
{
	char buf[64], *argv[4];

	(void)state;
	assert_int_equal(proto_exec_argv((const uint8_t *)"ls\0-l\0", 6, buf,
	    sizeof(buf), argv, 3), 2);
	assert_string_equal(argv[0], "ls");
	assert_string_equal(argv[1], "-l");
	assert_null(argv[2]);
	/* An empty argument is an argument. */
	assert_int_equal(proto_exec_argv((const uint8_t *)"echo\0\0", 6, buf,
	    sizeof(buf), argv, 3), 2);
	assert_string_equal(argv[1], "");
	/* Three arguments fill argv exactly; four do not fit. */
	assert_int_equal(proto_exec_argv((const uint8_t *)"a\0b\0c\0", 6, buf,
	    sizeof(buf), argv, 3), 3);
	assert_null(argv[3]);
	assert_int_equal(proto_exec_argv((const uint8_t *)"a\0b\0c\0d\0", 8,
	    buf, sizeof(buf), argv, 3), -1);
	assert_int_equal(errno, E2BIG);
}

static void
test_parse_argv_rejects_malformed(void **state)
{
	char buf[8], *argv[4];

	(void)state;
	/* Empty payload, no terminating NUL, empty program name. */
	assert_int_equal(proto_exec_argv((const uint8_t *)"", 0, buf,
	    sizeof(buf), argv, 3), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(proto_exec_argv((const uint8_t *)"ls", 2, buf,
	    sizeof(buf), argv, 3), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(proto_exec_argv((const uint8_t *)"\0ls\0", 4, buf,
	    sizeof(buf), argv, 3), -1);
	assert_int_equal(errno, EINVAL);
	/* Larger than the copy buffer. */
	assert_int_equal(proto_exec_argv((const uint8_t *)"abcdefghij\0", 11,
	    buf, sizeof(buf), argv, 3), -1);
	assert_int_equal(errno, ENOBUFS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outq_discard_keeps_stream_whole),
		cmocka_unit_test(test_outq_bounds),
		cmocka_unit_test(test_parse_argv),
		cmocka_unit_test(test_parse_argv_rejects_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
