/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/vsockd/vs_pkt.c: the virtio-vsock header's wire
 * layout (every field at its virtio 1.2 offset, little-endian, any
 * alignment), each check of vs_hdr_check on its own (spoofed source CID,
 * types with and without SEQPACKET, ops at and past both ends, len
 * against the chain and the 64 KiB bound, payload only on RW, the flags
 * each op allows), vs_pkt_parse on chains split anywhere in the header,
 * with writable segments, short or too long, and the RST answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsockd/vs_pkt.h"

static struct vs_hdr
good(void)
{
	struct vs_hdr h = {
		.src_cid = 4, .dst_cid = 3, .src_port = 0x11223344,
		.dst_port = 1234, .len = 0, .type = VS_TYPE_STREAM,
		.op = VS_OP_REQUEST, .flags = 0, .buf_alloc = 262144,
		.fwd_cnt = 9,
	};

	return h;
}

static void
test_layout(void **state)
{
	/* Hand-made wire bytes of struct virtio_vsock_hdr. */
	static const uint8_t raw[VS_HDR_LEN] = {
		0x04, 0, 0, 0, 0, 0, 0, 0,		/* src_cid */
		0x03, 0, 0, 0, 0x01, 0, 0, 0,		/* dst_cid */
		0x44, 0x33, 0x22, 0x11,			/* src_port */
		0xd2, 0x04, 0, 0,			/* dst_port 1234 */
		0x00, 0x10, 0, 0,			/* len 4096 */
		0x01, 0x00,				/* type STREAM */
		0x05, 0x00,				/* op RW */
		0x02, 0, 0, 0,				/* flags */
		0x00, 0x00, 0x04, 0x00,			/* buf_alloc 256K */
		0x78, 0x56, 0x34, 0x12,			/* fwd_cnt */
	};
	uint8_t buf[VS_HDR_LEN + 1], out[VS_HDR_LEN];
	struct vs_hdr h;

	/* Decoded at an odd address too. */
	memcpy(buf + 1, raw, sizeof(raw));
	vs_hdr_decode(buf + 1, &h);
	assert_int_equal(h.src_cid, 4);
	assert_int_equal(h.dst_cid, 0x100000003ull);
	assert_int_equal(h.src_port, 0x11223344);
	assert_int_equal(h.dst_port, 1234);
	assert_int_equal(h.len, 4096);
	assert_int_equal(h.type, VS_TYPE_STREAM);
	assert_int_equal(h.op, VS_OP_RW);
	assert_int_equal(h.flags, 2);
	assert_int_equal(h.buf_alloc, 262144);
	assert_int_equal(h.fwd_cnt, 0x12345678);
	vs_hdr_encode(&h, out);
	assert_memory_equal(out, raw, sizeof(raw));
}

static void
test_check(void **state)
{
	struct vs_hdr h = good();

	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_OK);
	/* Source CID: the sender's own only. */
	assert_int_equal(vs_hdr_check(&h, 5, 0, false), VS_SPOOFED);
	h.src_cid = 4 | 1ull << 32;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_SPOOFED);
	h = good();
	/* Types. */
	h.type = VS_TYPE_SEQPACKET;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_TYPE);
	assert_int_equal(vs_hdr_check(&h, 4, 0, true), VS_OK);
	h.type = 0;
	assert_int_equal(vs_hdr_check(&h, 4, 0, true), VS_BAD_TYPE);
	h.type = 3;
	assert_int_equal(vs_hdr_check(&h, 4, 0, true), VS_BAD_TYPE);
	h = good();
	/* Ops: 1..7. */
	for (uint16_t op = 0; op < 10; op++) {
		h.op = op;
		h.flags = 0;
		assert_int_equal(vs_hdr_check(&h, 4, 0, false),
		    op >= VS_OP_REQUEST && op <= VS_OP_CREDIT_REQUEST ? VS_OK :
		    VS_BAD_OP);
	}
	h.op = 0xffff;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_OP);
	/* len: the chain's payload exactly, at most 64 KiB, RW only. */
	h = good();
	h.op = VS_OP_RW;
	h.len = 100;
	assert_int_equal(vs_hdr_check(&h, 4, 100, false), VS_OK);
	assert_int_equal(vs_hdr_check(&h, 4, 99, false), VS_MALFORMED);
	assert_int_equal(vs_hdr_check(&h, 4, 101, false), VS_MALFORMED);
	h.len = VS_MAX_PAYLOAD;
	assert_int_equal(vs_hdr_check(&h, 4, VS_MAX_PAYLOAD, false), VS_OK);
	h.len = VS_MAX_PAYLOAD + 1;
	assert_int_equal(vs_hdr_check(&h, 4, VS_MAX_PAYLOAD + 1, false),
	    VS_MALFORMED);
	h.len = UINT32_MAX;
	assert_int_equal(vs_hdr_check(&h, 4, UINT32_MAX, false), VS_MALFORMED);
	for (uint16_t op = VS_OP_REQUEST; op <= VS_OP_CREDIT_REQUEST; op++) {
		if (op == VS_OP_RW)
			continue;
		h = good();
		h.op = op;
		h.len = 1;
		assert_int_equal(vs_hdr_check(&h, 4, 1, false), VS_BAD_LEN);
	}
	/* Flags: SHUTDOWN RCV|SEND, SEQPACKET RW EOM|EOR, else none. */
	h = good();
	h.op = VS_OP_SHUTDOWN;
	h.flags = VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_OK);
	h.flags = 4;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_FLAGS);
	h.op = VS_OP_RW;
	h.flags = VS_SEQ_EOM;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_FLAGS);
	h.type = VS_TYPE_SEQPACKET;
	h.flags = VS_SEQ_EOM | VS_SEQ_EOR;
	assert_int_equal(vs_hdr_check(&h, 4, 0, true), VS_OK);
	h.flags = 4;
	assert_int_equal(vs_hdr_check(&h, 4, 0, true), VS_BAD_FLAGS);
	h = good();
	h.flags = 1;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_FLAGS);
	h.op = VS_OP_CREDIT_UPDATE;
	h.flags = 0x80000000u;
	assert_int_equal(vs_hdr_check(&h, 4, 0, false), VS_BAD_FLAGS);
}

static void
test_parse(void **state)
{
	struct vs_hdr h = good(), p;
	uint8_t raw[VS_HDR_LEN + 300];
	struct iovec iov[4];

	h.op = VS_OP_RW;
	h.len = 300;
	vs_hdr_encode(&h, raw);
	memset(raw + VS_HDR_LEN, 0x5a, 300);
	/* The header split at every byte. */
	for (size_t cut = 1; cut < VS_HDR_LEN; cut++) {
		iov[0].iov_base = raw;
		iov[0].iov_len = cut;
		iov[1].iov_base = raw + cut;
		iov[1].iov_len = sizeof(raw) - cut;
		memset(&p, 0, sizeof(p));
		assert_int_equal(vs_pkt_parse(iov, 2, 0, 4, false, &p), VS_OK);
		assert_int_equal(p.len, 300);
		assert_int_equal(p.src_port, h.src_port);
		assert_int_equal(p.buf_alloc, h.buf_alloc);
	}
	/* One piece; three pieces. */
	iov[0].iov_base = raw;
	iov[0].iov_len = sizeof(raw);
	assert_int_equal(vs_pkt_parse(iov, 1, 0, 4, false, &p), VS_OK);
	iov[0].iov_len = 10;
	iov[1].iov_base = raw + 10;
	iov[1].iov_len = 50;
	iov[2].iov_base = raw + 60;
	iov[2].iov_len = sizeof(raw) - 60;
	assert_int_equal(vs_pkt_parse(iov, 3, 0, 4, false, &p), VS_OK);
	/* Writable segments in a transmit chain. */
	assert_int_equal(vs_pkt_parse(iov, 3, 1, 4, false, &p), VS_MALFORMED);
	/* Short: less than a header; a header with less payload than len. */
	iov[0].iov_len = VS_HDR_LEN - 1;
	assert_int_equal(vs_pkt_parse(iov, 1, 0, 4, false, &p), VS_MALFORMED);
	iov[0].iov_len = VS_HDR_LEN + 299;
	assert_int_equal(vs_pkt_parse(iov, 1, 0, 4, false, &p), VS_MALFORMED);
	assert_int_equal(vs_pkt_parse(iov, 0, 0, 4, false, &p), VS_MALFORMED);
	/* Too long: more than a header and 64 KiB, however it is cut. */
	{
		uint8_t *big = calloc(1, VS_HDR_LEN + VS_MAX_PAYLOAD + 1);
		struct iovec b[2] = {
			{ big, VS_HDR_LEN }, { big + VS_HDR_LEN,
			    VS_MAX_PAYLOAD + 1 },
		};

		assert_non_null(big);
		h.len = VS_MAX_PAYLOAD + 1;
		vs_hdr_encode(&h, big);
		assert_int_equal(vs_pkt_parse(b, 2, 0, 4, false, &p),
		    VS_MALFORMED);
		h.len = VS_MAX_PAYLOAD;
		vs_hdr_encode(&h, big);
		b[1].iov_len = VS_MAX_PAYLOAD;
		assert_int_equal(vs_pkt_parse(b, 2, 0, 4, false, &p), VS_OK);
		/* Segments that would wrap a 32-bit sum. */
		b[0].iov_len = (size_t)UINT32_MAX;
		assert_int_equal(vs_pkt_parse(b, 2, 0, 4, false, &p),
		    VS_MALFORMED);
		free(big);
	}
	/* A header check failing through parse: the CID. */
	h = good();
	vs_hdr_encode(&h, raw);
	iov[0].iov_base = raw;
	iov[0].iov_len = VS_HDR_LEN;
	assert_int_equal(vs_pkt_parse(iov, 1, 0, 3, false, &p), VS_SPOOFED);
}

static void
test_rst(void **state)
{
	struct vs_hdr h = good(), r;

	h.op = VS_OP_RW;
	h.len = 10;
	h.flags = 3;
	h.type = VS_TYPE_SEQPACKET;
	vs_hdr_rst(&h, &r);
	assert_int_equal(r.src_cid, h.dst_cid);
	assert_int_equal(r.dst_cid, h.src_cid);
	assert_int_equal(r.src_port, h.dst_port);
	assert_int_equal(r.dst_port, h.src_port);
	assert_int_equal(r.op, VS_OP_RST);
	assert_int_equal(r.type, VS_TYPE_SEQPACKET);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.buf_alloc, 0);
	assert_int_equal(r.fwd_cnt, 0);
	/* What the relay sends is what the receiver would accept. */
	assert_int_equal(vs_hdr_check(&r, h.dst_cid, 0, true), VS_OK);
	assert_string_equal(vs_why_name(VS_POLICY), "policy");
	assert_string_equal(vs_why_name(VS_SPOOFED), "spoofed_cid");
	assert_string_equal(vs_why_name(VS_WHY_MAX), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_rst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
