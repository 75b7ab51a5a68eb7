/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-webd's pure parts (src/webd/webmsg.c): the framing
 * of the messages between the page and the server (what the page may
 * send on which connection, sizes and contents checked), the bounded
 * per-client queue (oldest output dropped and reported, a newer status
 * replacing an older one, what cannot be dropped refused), the token
 * comparison, the Origin check and the --listen parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webd/webmsg.h"

static int
parse(const char *bytes, size_t len, enum webmsg_conn c, struct webmsg *m)
{
	return webmsg_parse((const uint8_t *)bytes, len, c, m);
}

static void
test_parse_console(void **state)
{
	struct webmsg m;
	uint8_t w[5], big[WEBMSG_INPUT_MAX + 2];

	assert_int_equal(parse("Ils\n", 4, WEBMSG_CONN_CONSOLE, &m), 0);
	assert_int_equal(m.type, WEBMSG_INPUT);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.data, "ls\n", 3);

	webmsg_winsize(w, 24, 80);
	assert_int_equal(webmsg_parse(w, 5, WEBMSG_CONN_CONSOLE, &m), 0);
	assert_int_equal(m.type, WEBMSG_WINSIZE);
	assert_int_equal(m.rows, 24);
	assert_int_equal(m.cols, 80);
	webmsg_winsize(w, 300, 1000);
	assert_int_equal(webmsg_parse(w, 5, WEBMSG_CONN_CONSOLE, &m), 0);
	assert_int_equal(m.rows, 300);
	assert_int_equal(m.cols, 1000);

	/* Sizes: empty input, too much input, short or zero window sizes. */
	errno = 0;
	assert_int_equal(parse("I", 1, WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(errno, EPROTO);
	memset(big, 'x', sizeof(big));
	big[0] = 'I';
	assert_int_equal(webmsg_parse(big, WEBMSG_INPUT_MAX + 1,
	    WEBMSG_CONN_CONSOLE, &m), 0);
	assert_int_equal(webmsg_parse(big, WEBMSG_INPUT_MAX + 2,
	    WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(parse("W\x18\x00\x50", 4, WEBMSG_CONN_CONSOLE, &m),
	    -1);
	assert_int_equal(parse("W\x00\x00\x50\x00", 5, WEBMSG_CONN_CONSOLE,
	    &m), -1);
	webmsg_winsize(w, 24, 1001);
	assert_int_equal(webmsg_parse(w, 5, WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(errno, EPROTO);
}

static void
test_parse_status(void **state)
{
	struct webmsg m;

	assert_int_equal(parse("Rvm1", 4, WEBMSG_CONN_STATUS, &m), 0);
	assert_int_equal(m.type, WEBMSG_RESTART);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.data, "vm1", 3);
	assert_int_equal(parse("D", 1, WEBMSG_CONN_STATUS, &m), 0);
	assert_int_equal(m.type, WEBMSG_DOWN);

	/* Names as the system file allows them, nothing else. */
	assert_int_equal(parse("R", 1, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("R-vm", 4, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("Rvm 1", 5, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("RVM1", 4, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("Rvm1\0", 5, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("R0123456789012345678901234567890", 32,
	    WEBMSG_CONN_STATUS, &m), 0);
	assert_int_equal(parse("R01234567890123456789012345678901", 33,
	    WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(parse("Dx", 2, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(errno, EPROTO);
}

static void
test_parse_wrong_conn_or_type(void **state)
{
	struct webmsg m;
	uint8_t w[5];

	/* Console input on the status connection and the reverse: EPERM. */
	errno = 0;
	assert_int_equal(parse("Ils", 3, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(errno, EPERM);
	webmsg_winsize(w, 24, 80);
	assert_int_equal(webmsg_parse(w, 5, WEBMSG_CONN_STATUS, &m), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(parse("Rvm1", 4, WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(parse("D", 1, WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(errno, EPERM);

	/* The server's own types, unknown ones, nothing at all: EPROTO. */
	for (const char *t = "GSOPANMx\xff"; *t != '\0'; t++) {
		char b[2] = { *t, 'a' };

		errno = 0;
		assert_int_equal(parse(b, 2, WEBMSG_CONN_CONSOLE, &m), -1);
		assert_int_equal(errno, EPROTO);
		assert_int_equal(parse(b, 2, WEBMSG_CONN_STATUS, &m), -1);
		assert_int_equal(errno, EPROTO);
	}
	assert_int_equal(webmsg_parse((const uint8_t *)"", 0,
	    WEBMSG_CONN_CONSOLE, &m), -1);
	assert_int_equal(errno, EPROTO);
}

static void
test_encode(void **state)
{
	uint8_t out[8];

	assert_int_equal(webmsg_encode(out, sizeof(out), WEBMSG_OUTPUT, "abc",
	    3), 4);
	assert_memory_equal(out, "Oabc", 4);
	assert_int_equal(webmsg_encode(out, sizeof(out), WEBMSG_ATTACHED, NULL,
	    0), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(webmsg_encode(out, sizeof(out), WEBMSG_OUTPUT,
	    "1234567", 7), 8);
	errno = 0;
	assert_int_equal(webmsg_encode(out, sizeof(out), WEBMSG_OUTPUT,
	    "12345678", 8), -1);
	assert_int_equal(errno, EMSGSIZE);
}

/* Pop the next message into buf; returns its length (0: none). */
static size_t
next(struct webq *q, char *buf, size_t cap)
{
	struct webq_msg *m = webq_peek(q);
	size_t n;

	if (m == NULL)
		return 0;
	n = m->len < cap - 1 ? m->len : cap - 1;
	memcpy(buf, m->data, n);
	buf[n] = '\0';
	/* The headroom before the message is there for libwebsockets. */
	assert_ptr_equal(m->data, m->buf + q->pre);
	webq_pop(q);
	return n;
}

static void
test_queue_order(void **state)
{
	struct webq q;
	char b[64];

	webq_init(&q, 1000, 16);
	assert_int_equal(webq_push(&q, WEBMSG_GRAPH, "<svg/>", 6), 0);
	assert_int_equal(webq_push(&q, WEBMSG_REPLAY, "old", 3), 0);
	assert_int_equal(webq_push(&q, WEBMSG_ATTACHED, NULL, 0), 0);
	assert_int_equal(webq_push(&q, WEBMSG_OUTPUT, "new", 3), 0);
	assert_int_equal(q.bytes, 7 + 4 + 1 + 4);
	assert_int_equal(next(&q, b, sizeof(b)), 7);
	assert_string_equal(b, "G<svg/>");
	assert_int_equal(next(&q, b, sizeof(b)), 4);
	assert_string_equal(b, "Pold");
	assert_int_equal(next(&q, b, sizeof(b)), 1);
	assert_string_equal(b, "A");
	assert_int_equal(next(&q, b, sizeof(b)), 4);
	assert_string_equal(b, "Onew");
	assert_int_equal(next(&q, b, sizeof(b)), 0);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.count, 0);
	webq_free(&q);
}

static void
test_queue_drops_oldest_output(void **state)
{
	struct webq q;
	char b[256];

	/* Room for four 10-byte output messages. */
	webq_init(&q, 40, 0);
	assert_int_equal(webq_push(&q, WEBMSG_ATTACHED, NULL, 0), 0);
	for (int i = 0; i < 6; i++) {
		char p[10];

		memset(p, '0' + i, 9);
		assert_int_equal(webq_push(&q, WEBMSG_OUTPUT, p, 9), 0);
		assert_true(q.bytes <= 40);
	}
	/* 1 + 4 * 10 > 40: three messages of 9 bytes went. */
	assert_int_equal(q.dropped_total, 27);
	/* The notice comes first, then what was kept, in order. */
	assert_true(next(&q, b, sizeof(b)) > 0);
	assert_string_equal(b, "N{\"kind\":\"dropped\",\"count\":27}");
	assert_int_equal(next(&q, b, sizeof(b)), 1);
	assert_string_equal(b, "A");
	assert_int_equal(next(&q, b, sizeof(b)), 10);
	assert_string_equal(b, "O333333333");
	assert_int_equal(next(&q, b, sizeof(b)), 10);
	assert_int_equal(next(&q, b, sizeof(b)), 10);
	assert_string_equal(b, "O555555555");
	assert_int_equal(next(&q, b, sizeof(b)), 0);
	/* Reported once. */
	assert_int_equal(q.dropped, 0);
	webq_free(&q);
}

static void
test_queue_huge_output_keeps_newest(void **state)
{
	struct webq q;
	char big[100], b[256];

	for (int i = 0; i < 100; i++)
		big[i] = (char)('a' + i % 26);
	webq_init(&q, 21, 0);
	assert_int_equal(webq_push(&q, WEBMSG_OUTPUT, big, 100), 0);
	assert_int_equal(q.dropped_total, 80);
	assert_true(next(&q, b, sizeof(b)) > 0);
	assert_string_equal(b, "N{\"kind\":\"dropped\",\"count\":80}");
	assert_int_equal(next(&q, b, sizeof(b)), 21);
	assert_memory_equal(b + 1, big + 80, 20);
	webq_free(&q);
}

static void
test_queue_status_replaced(void **state)
{
	struct webq q;
	char b[64];

	webq_init(&q, 1000, 0);
	assert_int_equal(webq_push(&q, WEBMSG_STATUS, "{1}", 3), 0);
	assert_int_equal(webq_push(&q, WEBMSG_MESSAGE, "hi", 2), 0);
	assert_int_equal(webq_push(&q, WEBMSG_STATUS, "{2}", 3), 0);
	assert_int_equal(webq_push(&q, WEBMSG_STATUS, "{3}", 3), 0);
	assert_int_equal(q.count, 2);
	/* A status is not output: no dropped notice for it. */
	assert_int_equal(q.dropped_total, 0);
	assert_int_equal(next(&q, b, sizeof(b)), 3);
	assert_string_equal(b, "Mhi");
	assert_int_equal(next(&q, b, sizeof(b)), 4);
	assert_string_equal(b, "S{3}");
	assert_int_equal(next(&q, b, sizeof(b)), 0);
	webq_free(&q);
}

static void
test_queue_refuses_undroppable(void **state)
{
	struct webq q;

	webq_init(&q, 20, 0);
	assert_int_equal(webq_push(&q, WEBMSG_OUTPUT, "0123456789", 10), 0);
	/* Output makes room for a message that cannot be dropped ... */
	assert_int_equal(webq_push(&q, WEBMSG_MESSAGE, "0123456789abc", 13),
	    0);
	assert_int_equal(q.dropped_total, 10);
	/* ... but such messages are never dropped for one another. */
	errno = 0;
	assert_int_equal(webq_push(&q, WEBMSG_MESSAGE, "0123456789", 10), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(q.count, 1);
	webq_free(&q);
	assert_int_equal(q.count, 0);
	assert_int_equal(q.bytes, 0);
}

static void
test_token(void **state)
{
	const char *t = "0123456789abcdef0123456789abcdef";

	assert_true(webmsg_token_eq(t, "0123456789abcdef0123456789abcdef"));
	assert_false(webmsg_token_eq(t, "0123456789abcdef0123456789abcdee"));
	assert_false(webmsg_token_eq(t, "1123456789abcdef0123456789abcdef"));
	assert_false(webmsg_token_eq(t, "0123456789abcdef0123456789abcde"));
	assert_false(webmsg_token_eq(t, "0123456789abcdef0123456789abcdef0"));
	assert_false(webmsg_token_eq(t, ""));
	assert_false(webmsg_token_eq(t, NULL));
	assert_false(webmsg_token_eq("", ""));
}

static void
test_origin(void **state)
{
	assert_true(webmsg_origin_ok("http://127.0.0.1:8080",
	    "127.0.0.1:8080"));
	assert_true(webmsg_origin_ok("HTTP://LOCALHOST:8080",
	    "localhost:8080"));
	assert_false(webmsg_origin_ok("http://evil.example",
	    "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("http://127.0.0.1:8081",
	    "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("http://127.0.0.1:8080.evil.example",
	    "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("https://127.0.0.1:8080",
	    "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("null", "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("", "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok(NULL, "127.0.0.1:8080"));
	assert_false(webmsg_origin_ok("http://", ""));
}

static void
test_listen(void **state)
{
	char a[16];
	unsigned port = 0;
	bool lo = false;

	assert_int_equal(webmsg_parse_listen("127.0.0.1:8080", a, &port, &lo),
	    0);
	assert_string_equal(a, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_true(lo);
	assert_int_equal(webmsg_parse_listen("0.0.0.0:1", a, &port, &lo), 0);
	assert_false(lo);
	assert_int_equal(webmsg_parse_listen("192.168.10.20:65535", a, &port,
	    &lo), 0);
	assert_false(lo);
	assert_int_equal(webmsg_parse_listen("127.1.2.3:80", a, &port, &lo), 0);
	assert_true(lo);
	for (const char *bad = "8080\0:8080\0localhost:8080\0""127.0.0.1:\0"
	    "127.0.0.1:0\0""127.0.0.1:65536\0""127.0.0.1:80x\0""127.0.0.1:-1\0"
	    "1.2.3.4.5:80\0""1234567890123456:1\0"; *bad != '\0';
	    bad += strlen(bad) + 1) {
		errno = 0;
		assert_int_equal(webmsg_parse_listen(bad, a, &port, &lo), -1);
		assert_int_equal(errno, EINVAL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_console),
		cmocka_unit_test(test_parse_status),
		cmocka_unit_test(test_parse_wrong_conn_or_type),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_queue_drops_oldest_output),
		cmocka_unit_test(test_queue_huge_output_keeps_newest),
		cmocka_unit_test(test_queue_status_replaced),
		cmocka_unit_test(test_queue_refuses_undroppable),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
