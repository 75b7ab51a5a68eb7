/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the block protocol over a dataport (src/dpblk): the
 * layout both sides compute, and every check each side makes of what the
 * other wrote (a hostile host, a hostile driver).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpblk/dpblk.h"

static void
test_layout(void **state)
{
	struct dpb_layout l, m;
	struct dpb_shared h;
	const char *why = NULL;

	/* 4 MiB of 64 KiB slots: 32 slots fit beside the rings, 64 do not. */
	assert_int_equal(dpb_layout(4u << 20, 0, &l, &why), 0);
	assert_int_equal(l.slot_size, 64u << 10);
	assert_int_equal(l.ring_size, 32);
	assert_int_equal(l.req_off, 4096);
	assert_true(l.rsp_off >= l.req_off + 32 * sizeof(struct dpb_req));
	assert_int_equal(l.data_off % 4096, 0);
	assert_true(l.data_off + 32ull * l.slot_size <= (4u << 20));
	/* Big dataports are capped at 256 entries. */
	assert_int_equal(dpb_layout(1ull << 30, 0, &l, &why), 0);
	assert_int_equal(l.ring_size, DPB_MAX_RING);
	/* Too small for two slots. */
	assert_int_equal(dpb_layout(64u << 10, 0, &l, &why), -1);
	assert_non_null(why);
	assert_int_equal(dpb_layout(1u << 20, 1000, &l, &why), -1);
	/* The driver recomputes the same layout from the header. */
	assert_int_equal(dpb_layout(1u << 20, 8192, &l, &why), 0);
	memset(&h, 0, sizeof(h));
	h.magic = DPB_MAGIC;
	h.version = DPB_VERSION;
	h.ring_size = l.ring_size;
	h.slot_size = l.slot_size;
	assert_int_equal(dpb_check_layout(&h, 1u << 20, &m, &why), 0);
	assert_memory_equal(&l, &m, sizeof(l));
}

static void
test_hostile_header(void **state)
{
	struct dpb_shared h, bad;
	struct dpb_layout l;
	const char *why;

	memset(&h, 0, sizeof(h));
	h.magic = DPB_MAGIC;
	h.version = DPB_VERSION;
	h.ring_size = 8;
	h.slot_size = 64u << 10;
	assert_int_equal(dpb_check_layout(&h, 1u << 20, &l, &why), 0);
	bad = h; bad.magic++;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	bad = h; bad.version = 2;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	bad = h; bad.ring_size = 12;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	bad = h; bad.ring_size = 1u << 31;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	bad = h; bad.slot_size = 4097;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	/* Slots that would run past the end of the dataport. */
	bad = h; bad.ring_size = 32;
	assert_int_equal(dpb_check_layout(&bad, 1u << 20, &l, &why), -1);
	bad = h; bad.slot_size = 1u << 20;
	assert_int_equal(dpb_check_layout(&bad, 8u << 20, &l, &why), -1);
}

static void
test_pending(void **state)
{
	uint32_t n;
	const char *why;

	assert_int_equal(dpb_pending(5, 5, 8, &n, &why), 0);
	assert_int_equal(n, 0);
	assert_int_equal(dpb_pending(13, 5, 8, &n, &why), 0);
	assert_int_equal(n, 8);
	/* Across the 32-bit wrap. */
	assert_int_equal(dpb_pending(3, 0xfffffffe, 8, &n, &why), 0);
	assert_int_equal(n, 5);
	/* Ahead by more than the ring, or behind: a broken peer. */
	assert_int_equal(dpb_pending(14, 5, 8, &n, &why), -1);
	assert_int_equal(dpb_pending(4, 5, 8, &n, &why), -1);
}

static void
test_requests(void **state)
{
	const uint64_t cap = 1000;
	const uint32_t slot = 64u << 10;
	struct dpb_req r = { .id = 1, .op = DPB_OP_READ, .len = 4096,
	    .sector = 0 };
	const char *why;

	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why), DPB_S_OK);
	r.sector = cap - 8;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why), DPB_S_OK);
	r.sector = cap - 7;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_RANGE);
	r.sector = UINT64_MAX - 2;	/* sector + count overflows */
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_RANGE);
	r.sector = 0;
	r.len = 0;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_BADREQ);
	r.len = 1000;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_BADREQ);
	r.len = slot + 512;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_BADREQ);
	r.len = 512;
	r.op = DPB_OP_WRITE;
	assert_int_equal(dpb_check_req(&r, cap, slot, true, &why), DPB_S_RO);
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why), DPB_S_OK);
	r.op = 77;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_BADREQ);
	r.op = DPB_OP_FLUSH;
	assert_int_equal(dpb_check_req(&r, cap, slot, false, &why),
	    DPB_S_BADREQ);	/* flush with a length */
	r.len = 0;
	r.sector = UINT64_MAX;	/* sector ignored for flush */
	assert_int_equal(dpb_check_req(&r, cap, slot, true, &why), DPB_S_OK);
}

static void
test_responses(void **state)
{
	struct dpb_req sent = { .id = 42, .op = DPB_OP_READ, .len = 8192 };
	struct dpb_rsp rsp = { .id = 42, .status = DPB_S_OK, .len = 8192 };
	const char *why;

	assert_int_equal(dpb_check_rsp(&rsp, &sent, &why), 0);
	rsp.id = 41;
	assert_int_equal(dpb_check_rsp(&rsp, &sent, &why), -1);
	rsp.id = 42;
	rsp.len = 4096;		/* OK but short: refused */
	assert_int_equal(dpb_check_rsp(&rsp, &sent, &why), -1);
	rsp.status = DPB_S_IOERR;	/* an error may say anything */
	assert_int_equal(dpb_check_rsp(&rsp, &sent, &why), 0);
	rsp.status = 99;
	assert_int_equal(dpb_check_rsp(&rsp, &sent, &why), -1);
}

static void
test_slots(void **state)
{
	static uint8_t mem[1u << 20];
	struct dpb_layout l;

	assert_int_equal(dpb_layout(sizeof(mem), 16384, &l, NULL), 0);
	/* Index k wraps onto slot k % ring_size, and stays inside. */
	for (uint32_t k = 0; k < 3 * l.ring_size; k++) {
		uint8_t *s = dpb_slot_at(mem, &l, k);

		assert_ptr_equal(s, dpb_slot_at(mem, &l, k + l.ring_size));
		assert_true(s >= mem + l.data_off);
		assert_true(s + l.slot_size <= mem + sizeof(mem));
		assert_true((uint8_t *)(dpb_rsp_at(mem, &l, k) + 1) <=
		    mem + l.data_off);
		assert_true((uint8_t *)(dpb_req_at(mem, &l, k) + 1) <=
		    mem + l.rsp_off);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_hostile_header),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
