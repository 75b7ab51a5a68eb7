/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: vsock packet validation (src/vsockd/vs_pkt.c).  The input
 * is the sender's CID and features, how its transmit chain is cut into
 * segments (a header may be split across descriptors: legal, and the
 * classic place for a parsing bug), how many writable segments come
 * after, and the bytes.  A packet vs_pkt_parse accepts must satisfy every
 * rule of vs_pkt.h; the RST answer to any header must go back to its
 * sender and carry nothing; decoding an encoded header gives it back.
 */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "vsockd/vs_pkt.h"

#define MAX_SEGS	8

/* Field by field: the struct has padding. */
static bool
hdr_eq(const struct vs_hdr *a, const struct vs_hdr *b)
{
	return a->src_cid == b->src_cid && a->dst_cid == b->dst_cid &&
	    a->src_port == b->src_port && a->dst_port == b->dst_port &&
	    a->len == b->len && a->type == b->type && a->op == b->op &&
	    a->flags == b->flags && a->buf_alloc == b->buf_alloc &&
	    a->fwd_cnt == b->fwd_cnt;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	static uint8_t buf[VS_HDR_LEN + VS_MAX_PAYLOAD + 64];
	uint8_t raw[VS_HDR_LEN], raw2[VS_HDR_LEN];
	struct iovec iov[MAX_SEGS];
	struct vs_hdr h, h2, rst;
	uint8_t f = fuzz_u8(&in);
	uint64_t own = f & 1 ? 3 + fuzz_u8(&in) : fuzz_u64(&in);
	bool seqpacket = f & 2;
	unsigned nseg = 1 + fuzz_u8(&in) % MAX_SEGS, nin = fuzz_u8(&in) % 3;
	uint16_t cut[MAX_SEGS];
	size_t len, off = 0;
	enum vs_why why;

	for (unsigned i = 0; i < nseg; i++)
		cut[i] = fuzz_u16(&in);
	len = in.n < sizeof(buf) ? in.n : sizeof(buf);
	memcpy(buf, in.p, len);
	if (f & 4) {
		/* Make the header's len and src_cid plausible, to go deeper. */
		uint32_t plen = len > VS_HDR_LEN ? (uint32_t)(len -
		    VS_HDR_LEN) : 0;

		if (len >= VS_HDR_LEN) {
			memcpy(buf, &own, 8);
			memcpy(buf + 24, &plen, 4);
		}
	}
	/* Cut [0, len) into nseg readable segments, the last takes the rest. */
	for (unsigned i = 0; i < nseg; i++) {
		size_t l = i + 1 == nseg ? len - off : cut[i] % (len - off + 1);

		iov[i].iov_base = buf + off;
		iov[i].iov_len = l;
		off += l;
	}
	why = vs_pkt_parse(iov, nseg, nin, own, seqpacket, &h);
	FUZZ_CHECK(why >= VS_OK && why < VS_WHY_MAX);
	FUZZ_CHECK(vs_why_name(why) != NULL);
	if (why == VS_OK) {
		FUZZ_CHECK(nin == 0);
		FUZZ_CHECK(len >= VS_HDR_LEN && h.len == len - VS_HDR_LEN);
		FUZZ_CHECK(h.len <= VS_MAX_PAYLOAD);
		FUZZ_CHECK(h.src_cid == own);
		FUZZ_CHECK(h.type == VS_TYPE_STREAM ||
		    (seqpacket && h.type == VS_TYPE_SEQPACKET));
		FUZZ_CHECK(h.op >= VS_OP_REQUEST &&
		    h.op <= VS_OP_CREDIT_REQUEST);
		FUZZ_CHECK(h.op == VS_OP_RW || h.len == 0);
		FUZZ_CHECK(vs_hdr_check(&h, own, h.len, seqpacket) == VS_OK);
		/* What was parsed is what the bytes say. */
		vs_hdr_decode(buf, &h2);
		FUZZ_CHECK(hdr_eq(&h, &h2));
	}
	if (len >= VS_HDR_LEN) {
		vs_hdr_decode(buf, &h);
		vs_hdr_encode(&h, raw);
		FUZZ_CHECK(memcmp(raw, buf, VS_HDR_LEN) == 0);
		vs_hdr_rst(&h, &rst);
		FUZZ_CHECK(rst.op == VS_OP_RST && rst.len == 0);
		FUZZ_CHECK(rst.dst_cid == h.src_cid &&
		    rst.dst_port == h.src_port);
		FUZZ_CHECK(rst.src_cid == h.dst_cid &&
		    rst.src_port == h.dst_port);
		vs_hdr_encode(&rst, raw2);
		vs_hdr_decode(raw2, &h2);
		FUZZ_CHECK(hdr_eq(&rst, &h2));
	}
	return 0;
}
