/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-consoled's bounded buffers (src/consoled/conbuf.c):
 * the 64 KiB replay ring, and the per-client output queue (the shared
 * src/proto/outq.c with the console's policy, coutq_init) that drops the
 * oldest output of a slow client, counts it and reports it in a NOTICE
 * placed where the gap is.
 */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#if defined(__SANITIZE_ADDRESS__)
/* From sanitizer/allocator_interface.h, which GCC does not install. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "consoled/conbuf.h"
#include "proto/proto.h"

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
drain(struct outq *q, struct proto_hdr *hdrs, char data[][256], int max)
{
	static struct proto_rx rx;
	const uint8_t *p, *pl;
	struct proto_hdr h;
	size_t len;
	int n = 0;

	proto_rx_init(&rx);
	while ((p = outq_peek(q, &len)) != NULL) {
		len = proto_rx_feed(&rx, p, len);
		assert_true(len > 0);
		outq_advance(q, len);
		while (proto_rx_next(&rx, &h, &pl) == 1 && n < max) {
			hdrs[n] = h;
			memset(data[n], 0, 256);
			memcpy(data[n], pl, h.len < 255 ? h.len : 255);
			n++;
		}
	}
	assert_true(outq_empty(q));
	return n;
}

static void
test_queue_in_order_and_merged(void **state)
{
	struct outq q;
	struct proto_hdr h[8];
	char d[8][256];

	(void)state;
	coutq_init(&q, 1000);
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 0, "ab", 2), 0);
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 0, "cd", 2), 0);
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 1, "xy", 2), 0);
	assert_int_equal(q.frames, 2);		/* vm0's two chunks merged */
	assert_int_equal(drain(&q, h, d, 8), 2);
	assert_int_equal(h[0].type, CON_OUTPUT);
	assert_int_equal(h[0].chan, 0);
	assert_string_equal(d[0], "abcd");
	assert_int_equal(h[1].chan, 1);
	assert_string_equal(d[1], "xy");
	outq_free(&q);
}

static void
test_overflow_drops_oldest_with_notice(void **state)
{
	struct outq q;
	struct proto_hdr h[8];
	char d[8][256];
	struct con_notice nt;
	char chunk[40];

	(void)state;
	/* The bound counts headers: two 40-byte frames fit. */
	coutq_init(&q, 2 * (PROTO_HDR_SIZE + 40));
	/* Alternate VMs so that nothing merges: five 40-byte frames. */
	for (int i = 0; i < 5; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, (uint32_t)i % 2,
		    chunk, sizeof(chunk)), 0);
		assert_true(q.bytes <= 2 * (PROTO_HDR_SIZE + 40));
	}
	/* 200 bytes offered, 80 fit: 'a', 'b', 'c' frames dropped. */
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
	outq_free(&q);
}

static void
test_partly_written_frame_kept(void **state)
{
	struct outq q;
	size_t len;
	const uint8_t *p;
	char chunk[60];

	(void)state;
	coutq_init(&q, 100);
	memset(chunk, 'a', sizeof(chunk));
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 0, chunk, 60), 0);
	p = outq_peek(&q, &len);
	assert_non_null(p);
	outq_advance(&q, 10);			/* the socket took 10 bytes */
	memset(chunk, 'b', sizeof(chunk));
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 1, chunk, 60), 0);
	/*
	 * The half-sent frame stays (66 bytes left of it); the new one fits
	 * with its header in the 34 bytes left of the bound: it lost its
	 * oldest 42 bytes.
	 */
	assert_int_equal(q.bytes, 100);
	assert_int_equal(q.dropped[1], 60 - (100 - 66 - PROTO_HDR_SIZE));
	/* First the rest of the half-sent frame, alone: the gap is next. */
	p = outq_peek(&q, &len);
	assert_int_equal(len, PROTO_HDR_SIZE + 60 - 10);
	assert_int_equal(p[len - 1], 'a');
	outq_advance(&q, len);
	/* Then the notice of vm1's 42 bytes and the 18 it kept. */
	p = outq_peek(&q, &len);
	assert_int_equal(len, PROTO_HDR_SIZE + CON_NOTICE_SIZE +
	    PROTO_HDR_SIZE + 18);
	assert_int_equal(p[4], CON_NOTICE);
	assert_int_equal(p[PROTO_HDR_SIZE + 8], 42);
	assert_int_equal(p[len - 1], 'b');
	outq_free(&q);
}

static void
test_control_frames_never_dropped(void **state)
{
	struct outq q;
	struct proto_hdr h[8];
	char d[8][256];
	char chunk[90];

	(void)state;
	/* Room for VMS and one 90-byte frame, headers included. */
	coutq_init(&q, PROTO_HDR_SIZE + 4 + PROTO_HDR_SIZE + 90);
	memset(chunk, 'x', sizeof(chunk));
	assert_int_equal(outq_frame(&q, CON_VMS, 0, 0, "vm0", 4), 0);
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 0, chunk, 90), 0);
	assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, 1, chunk, 90), 0);
	assert_int_equal(drain(&q, h, d, 8), 3);
	assert_int_equal(h[0].type, CON_NOTICE);
	assert_int_equal(h[1].type, CON_VMS);
	assert_int_equal(h[2].type, CON_OUTPUT);
	assert_int_equal(h[2].chan, 1);
	outq_free(&q);
}

/*
 * Heap bytes in use, as the allocator counts them (chunk overhead
 * included): glibc's own statistics, or ASan's in the sanitizer build,
 * whose allocator replaces glibc's.
 */
static size_t
heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#endif
}

#define SMALL_VMS	4
#define SMALL_LIMIT	(64u * 1024u)
#define SMALL_PUSHES	(256u * 1024u)

/* The Nth byte vm prints in test_small_frames_bounded. */
static uint8_t
small_byte(uint32_t vm, uint64_t n)
{
	return (uint8_t)((n + vm * 7) % 251);
}

/*
 * Many VMs printing a byte at a time into a client that does not read:
 * the queue must hold at most its limit (plus a small constant) of heap,
 * whatever the frames cost, and still deliver the newest output of every
 * VM, with the dropped rest counted in NOTICEs before it.
 */
static void
test_small_frames_bounded(void **state)
{
	static struct proto_rx rx;
	struct outq q;
	uint64_t sent[SMALL_VMS] = { 0 }, got[SMALL_VMS] = { 0 };
	uint64_t dropped[SMALL_VMS] = { 0 };
	const uint8_t *p, *pl;
	struct proto_hdr h;
	size_t before, held, len;

	(void)state;
	before = heap_in_use();
	coutq_init(&q, SMALL_LIMIT);
	for (uint32_t i = 0; i < SMALL_PUSHES; i++) {
		uint32_t vm = i % SMALL_VMS;
		uint8_t b = small_byte(vm, sent[vm]++);

		assert_int_equal(outq_frame(&q, CON_OUTPUT, 0, vm, &b, 1), 0);
	}
	held = heap_in_use() - before;
	print_message("queue of limit %u holds %zu heap bytes after %u "
	    "1-byte frames\n", SMALL_LIMIT, held, SMALL_PUSHES);
	assert_true(held <= SMALL_LIMIT + 4096);

	/* Drain: per VM, NOTICE(DROPPED) counts + the newest bytes. */
	proto_rx_init(&rx);
	while ((p = outq_peek(&q, &len)) != NULL) {
		len = proto_rx_feed(&rx, p, len);
		assert_true(len > 0);
		outq_advance(&q, len);
		while (proto_rx_next(&rx, &h, &pl) == 1) {
			struct con_notice nt = { 0 };

			assert_true(h.chan < SMALL_VMS);
			if (h.type == CON_NOTICE) {
				assert_int_equal(con_notice_decode(pl, h.len,
				    &nt), 0);
				assert_int_equal(nt.kind, CON_NOTICE_DROPPED);
				/* Notices come before the output they precede. */
				assert_int_equal(got[h.chan], 0);
				dropped[h.chan] += nt.count;
				continue;
			}
			assert_int_equal(h.type, CON_OUTPUT);
			for (uint32_t k = 0; k < h.len; k++) {
				assert_int_equal(pl[k], small_byte(h.chan,
				    dropped[h.chan] + got[h.chan]));
				got[h.chan]++;
			}
		}
	}
	assert_true(outq_empty(&q));
	for (uint32_t vm = 0; vm < SMALL_VMS; vm++) {
		assert_true(got[vm] > 0);
		assert_int_equal(dropped[vm] + got[vm], sent[vm]);
	}
	outq_free(&q);
}

/* xorshift64: a fixed sequence, so a failure repeats. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct model {
	uint64_t sent[SMALL_VMS];	/* OUTPUT bytes pushed per VM */
	uint64_t pos[SMALL_VMS];	/* received + announced as dropped */
	uint32_t ctl_sent, ctl_got;	/* ATTACHED frames, numbered in chan */
};

static void
model_frame(struct model *m, const struct proto_hdr *h, const uint8_t *pl)
{
	struct con_notice nt = { 0 };

	switch (h->type) {
	case CON_OUTPUT:
		assert_true(h->chan < SMALL_VMS);
		assert_true(h->len > 0 && h->len <= COUTQ_FRAME_MAX);
		for (uint32_t k = 0; k < h->len; k++)
			assert_int_equal(pl[k], small_byte(h->chan,
			    m->pos[h->chan]++));
		break;
	case CON_NOTICE:
		assert_int_equal(con_notice_decode(pl, h->len, &nt), 0);
		assert_int_equal(nt.kind, CON_NOTICE_DROPPED);
		assert_true(nt.count > 0);
		m->pos[h->chan] += nt.count;
		break;
	case CON_ATTACHED:
		/* Control frames are never dropped and keep their order. */
		assert_int_equal(h->chan, m->ctl_got++);
		break;
	default:
		fail_msg("unexpected frame type %u", h->type);
	}
}

/*
 * Random pushes (1 byte to 9 KB, 4 VMs, replay and live flags, a control
 * frame now and then) and random partial writes, stalls included, into
 * queues of several limits.  Checked at every step: the ring stays within
 * limit + COUTQ_RESERVE; and on the wire: every frame parses, each VM's
 * bytes come in order with every gap announced, before it, by NOTICEs
 * that count it exactly, and no control frame is lost.
 */
static void
test_random_pushes_and_writes(void **state)
{
	static const size_t limits[] = { 200, 3000, 20000, 70000 };
	static struct proto_rx rx;
	static uint8_t chunk[9000];

	(void)state;
	for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
		uint64_t seed = 0x9e3779b97f4a7c15ull + li;
		struct model m = { 0 };
		struct proto_hdr h;
		const uint8_t *pl;
		struct outq q;
		int stall = 0;

		coutq_init(&q, limits[li]);
		proto_rx_init(&rx);
		for (int step = 0; step < 100000; step++) {
			uint64_t r = rnd(&seed);

			if (r % 16 == 0) {
				if (outq_frame(&q, CON_ATTACHED, 0, m.ctl_sent,
				    NULL, 0) == 0)
					m.ctl_sent++;
				else
					assert_int_equal(errno, ENOBUFS);
			} else if (r % 2 == 0) {
				uint32_t vm = (uint32_t)(r >> 8) % SMALL_VMS;
				size_t n = (r >> 16) % 8 == 0 ?
				    1 + (r >> 24) % sizeof(chunk) :
				    1 + (r >> 24) % 40;

				for (size_t k = 0; k < n; k++)
					chunk[k] = small_byte(vm, m.sent[vm]++);
				assert_int_equal(outq_frame(&q, CON_OUTPUT,
				    (r >> 40) % 4 == 0 ? CON_OUTPUT_REPLAY : 0,
				    vm, chunk, n), 0);
			} else {
				const uint8_t *p;
				size_t len;

				if (stall > 0) {
					stall--;
				} else if ((r >> 8) % 64 == 0) {
					stall = (int)((r >> 16) % 400);
				} else if ((p = outq_peek(&q, &len)) != NULL) {
					size_t n = 1 + (r >> 16) % len;

					n = proto_rx_feed(&rx, p, n);
					outq_advance(&q, n);
					while (proto_rx_next(&rx, &h, &pl) == 1)
						model_frame(&m, &h, pl);
				}
			}
			assert_true(q.cap <= limits[li] + COUTQ_RESERVE);
			assert_true(q.bytes <= q.cap);
		}
		for (;;) {
			const uint8_t *p;
			size_t len;

			while (proto_rx_next(&rx, &h, &pl) == 1)
				model_frame(&m, &h, pl);
			if ((p = outq_peek(&q, &len)) == NULL)
				break;
			len = proto_rx_feed(&rx, p, len);
			outq_advance(&q, len);
		}
		assert_true(outq_empty(&q));
		assert_int_equal(rx.skipped, 0);
		assert_int_equal(q.cap, 0);		/* an empty queue holds nothing */
		for (uint32_t vm = 0; vm < SMALL_VMS; vm++)
			assert_int_equal(m.pos[vm], m.sent[vm]);
		assert_int_equal(m.ctl_got, m.ctl_sent);
		outq_free(&q);
	}
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
		cmocka_unit_test(test_small_frames_bounded),
		cmocka_unit_test(test_random_pushes_and_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
