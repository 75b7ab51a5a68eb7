/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_pkt: virtio-vsock header decoding and checks; see vs_pkt.h.  The
 * header is read from guest memory only through the iovecs vq.c built
 * with vu_mem_gpa(), once, into a local copy.
 */
#include "vsockd/vs_pkt.h"

#include <string.h>

#include "le.h"
#include "vhost/iov.h"

static const char *const why_names[VS_WHY_MAX] = {
	[VS_OK] = "ok",
	[VS_MALFORMED] = "malformed",
	[VS_SPOOFED] = "spoofed_cid",
	[VS_BAD_TYPE] = "bad_type",
	[VS_BAD_OP] = "bad_op",
	[VS_BAD_LEN] = "bad_len",
	[VS_BAD_FLAGS] = "bad_flags",
	[VS_UNKNOWN_CID] = "unknown_cid",
	[VS_TO_SELF] = "to_self",
	[VS_POLICY] = "policy",
	[VS_DST_DOWN] = "dst_down",
	[VS_DST_STUCK] = "dst_stuck",
	[VS_NO_SEQPACKET] = "no_seqpacket",
};

const char *
vs_why_name(enum vs_why why)
{
	return (unsigned)why < VS_WHY_MAX ? why_names[why] : "?";
}

/* Wire offsets of struct virtio_vsock_hdr (packed, little-endian). */
enum {
	OFF_SRC_CID = 0,
	OFF_DST_CID = 8,
	OFF_SRC_PORT = 16,
	OFF_DST_PORT = 20,
	OFF_LEN = 24,
	OFF_TYPE = 28,
	OFF_OP = 30,
	OFF_FLAGS = 32,
	OFF_BUF_ALLOC = 36,
	OFF_FWD_CNT = 40,
};

void
vs_hdr_decode(const uint8_t raw[VS_HDR_LEN], struct vs_hdr *h)
{
	h->src_cid = le_get64(raw + OFF_SRC_CID);
	h->dst_cid = le_get64(raw + OFF_DST_CID);
	h->src_port = le_get32(raw + OFF_SRC_PORT);
	h->dst_port = le_get32(raw + OFF_DST_PORT);
	h->len = le_get32(raw + OFF_LEN);
	h->type = le_get16(raw + OFF_TYPE);
	h->op = le_get16(raw + OFF_OP);
	h->flags = le_get32(raw + OFF_FLAGS);
	h->buf_alloc = le_get32(raw + OFF_BUF_ALLOC);
	h->fwd_cnt = le_get32(raw + OFF_FWD_CNT);
}

void
vs_hdr_encode(const struct vs_hdr *h, uint8_t raw[VS_HDR_LEN])
{
	le_put64(raw + OFF_SRC_CID, h->src_cid);
	le_put64(raw + OFF_DST_CID, h->dst_cid);
	le_put32(raw + OFF_SRC_PORT, h->src_port);
	le_put32(raw + OFF_DST_PORT, h->dst_port);
	le_put32(raw + OFF_LEN, h->len);
	le_put16(raw + OFF_TYPE, h->type);
	le_put16(raw + OFF_OP, h->op);
	le_put32(raw + OFF_FLAGS, h->flags);
	le_put32(raw + OFF_BUF_ALLOC, h->buf_alloc);
	le_put32(raw + OFF_FWD_CNT, h->fwd_cnt);
}

enum vs_why
vs_hdr_check(const struct vs_hdr *h, uint64_t own_cid, uint64_t payload,
    bool seqpacket)
{
	uint32_t allowed = 0;

	if (h->src_cid != own_cid)
		return VS_SPOOFED;
	if (h->type != VS_TYPE_STREAM &&
	    !(seqpacket && h->type == VS_TYPE_SEQPACKET))
		return VS_BAD_TYPE;
	if (h->op < VS_OP_REQUEST || h->op > VS_OP_CREDIT_REQUEST)
		return VS_BAD_OP;
	if (h->len != payload || h->len > VS_MAX_PAYLOAD)
		return VS_MALFORMED;
	if (h->op != VS_OP_RW && h->len != 0)
		return VS_BAD_LEN;
	if (h->op == VS_OP_SHUTDOWN)
		allowed = VS_SHUTDOWN_RCV | VS_SHUTDOWN_SEND;
	else if (h->op == VS_OP_RW && h->type == VS_TYPE_SEQPACKET)
		allowed = VS_SEQ_EOM | VS_SEQ_EOR;
	if ((h->flags & ~allowed) != 0)
		return VS_BAD_FLAGS;
	return VS_OK;
}

enum vs_why
vs_pkt_parse(const struct iovec *iov, unsigned nout, unsigned nin,
    uint64_t own_cid, bool seqpacket, struct vs_hdr *h)
{
	uint8_t raw[VS_HDR_LEN];
	uint64_t total = 0;

	if (nin != 0)
		return VS_MALFORMED;
	for (unsigned i = 0; i < nout; i++) {
		total += iov[i].iov_len;
		/* Bounded before it can wrap: segments are at most 4 GiB. */
		if (total > VS_HDR_LEN + VS_MAX_PAYLOAD)
			return VS_MALFORMED;
	}
	if (total < VS_HDR_LEN)
		return VS_MALFORMED;
	if (iov_to_buf(iov, nout, 0, raw, sizeof(raw)) != sizeof(raw))
		return VS_MALFORMED;
	vs_hdr_decode(raw, h);
	return vs_hdr_check(h, own_cid, total - VS_HDR_LEN, seqpacket);
}

void
vs_hdr_rst(const struct vs_hdr *h, struct vs_hdr *rst)
{
	memset(rst, 0, sizeof(*rst));
	rst->src_cid = h->dst_cid;
	rst->dst_cid = h->src_cid;
	rst->src_port = h->dst_port;
	rst->dst_port = h->src_port;
	rst->type = h->type;
	rst->op = VS_OP_RST;
}
