/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_pkt: the virtio-vsock packet header (virtio 1.2, 5.10.6) as
 * isles-vsockd sees it: its wire layout, a decoded copy, and the checks
 * every packet a guest transmits must pass before the relay looks at
 * where it goes.
 *
 * The relay does no connection or credit logic (the guest kernels do),
 * so it only needs a header it can trust for routing and policy: the
 * 44-byte header is copied out of the sender's memory once (no double
 * fetch), decoded, and checked against the sender's own CID, the features
 * it negotiated and the chain it came in (vs_pkt_parse).  The payload is
 * never interpreted.
 *
 * Pure: no syscalls, no allocation.  Called by the data path (vs_relay.c)
 * and the unit tests (tests/unit/test_vsock_pkt.c).  Errors: enum vs_why
 * (VS_OK = valid).
 */
#ifndef ISLES_VS_PKT_H
#define ISLES_VS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define VS_HDR_LEN		44	/* struct virtio_vsock_hdr, packed */
#define VS_MAX_PAYLOAD		65536	/* Linux VIRTIO_VSOCK_MAX_PKT_BUF_SIZE */

/* Well-known CIDs (virtio 1.2 5.10.4): never a guest's. */
#define VS_CID_HYPERVISOR	0
#define VS_CID_LOCAL		1
#define VS_CID_HOST		2
#define VS_CID_MIN		3		/* first guest CID */
#define VS_CID_MAX		0xfffffffeull	/* 2^32-1 is VMADDR_CID_ANY */

#define VS_TYPE_STREAM		1
#define VS_TYPE_SEQPACKET	2

enum vs_op {
	VS_OP_INVALID = 0,
	VS_OP_REQUEST = 1,
	VS_OP_RESPONSE = 2,
	VS_OP_RST = 3,
	VS_OP_SHUTDOWN = 4,
	VS_OP_RW = 5,
	VS_OP_CREDIT_UPDATE = 6,
	VS_OP_CREDIT_REQUEST = 7,
};

/* flags of VS_OP_SHUTDOWN */
#define VS_SHUTDOWN_RCV		1u
#define VS_SHUTDOWN_SEND	2u
/* flags of VS_OP_RW on a SEQPACKET connection */
#define VS_SEQ_EOM		1u
#define VS_SEQ_EOR		2u

/* Device feature bit (virtio 1.2 5.10.3). */
#define VS_F_SEQPACKET		1

/* A decoded header (host byte order). */
struct vs_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;		/* payload bytes after the header */
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
};

/* Why a packet is not relayed.  Order matters: vs_why_name(). */
enum vs_why {
	VS_OK = 0,
	/* The chain or the header: counted on the sender, never answered. */
	VS_MALFORMED,		/* writable descriptors, short, too long, len
				 * not the chain's payload */
	VS_SPOOFED,		/* src_cid is not the sender's CID */
	VS_BAD_TYPE,		/* not STREAM, or SEQPACKET not negotiated */
	VS_BAD_OP,		/* op 0 or above CREDIT_REQUEST */
	VS_BAD_LEN,		/* payload on an op that carries none */
	VS_BAD_FLAGS,		/* flags the op does not define */
	/* Where it goes: answered with a RST (unless it is one). */
	VS_UNKNOWN_CID,		/* dst_cid is no VM of this relay */
	VS_TO_SELF,		/* dst_cid is the sender's own CID */
	VS_POLICY,		/* no --allow rule covers it */
	VS_DST_DOWN,		/* the destination's device is not running */
	VS_DST_STUCK,		/* the destination took nothing for too long */
	VS_NO_SEQPACKET,	/* SEQPACKET to a VM that did not negotiate it */
	VS_WHY_MAX
};

/* "malformed", "spoofed_cid", ... (JSON keys, log words). */
const char *vs_why_name(enum vs_why why);

/* Decode / encode the 44 wire bytes (little-endian, any alignment). */
void vs_hdr_decode(const uint8_t raw[VS_HDR_LEN], struct vs_hdr *h);
void vs_hdr_encode(const struct vs_hdr *h, uint8_t raw[VS_HDR_LEN]);

/*
 * Check a decoded header from a sender whose CID is own_cid, that came
 * with `payload` bytes after it in its chain; seqpacket: the sender
 * negotiated VIRTIO_VSOCK_F_SEQPACKET.  The rules:
 *   - src_cid == own_cid (VS_SPOOFED);
 *   - type STREAM, or SEQPACKET if negotiated (VS_BAD_TYPE);
 *   - op REQUEST..CREDIT_REQUEST (VS_BAD_OP);
 *   - len == payload (VS_MALFORMED), at most VS_MAX_PAYLOAD (VS_MALFORMED),
 *     and 0 for every op but RW (VS_BAD_LEN);
 *   - flags: SHUTDOWN only RCV|SEND, RW on SEQPACKET only EOM|EOR, every
 *     other packet none (VS_BAD_FLAGS).
 * Returns VS_OK or the first rule broken.
 */
enum vs_why vs_hdr_check(const struct vs_hdr *h, uint64_t own_cid,
    uint64_t payload, bool seqpacket);

/*
 * Parse a transmit chain: iov[0..nout) its readable segments, nin the
 * number of writable ones (a transmit chain has none).  Copies the header
 * out into *h once and checks it with vs_hdr_check.  On VS_OK the payload
 * is the bytes after the first VS_HDR_LEN of the segments (h->len of
 * them).  Returns VS_MALFORMED for a chain with writable segments, shorter
 * than a header or longer than a header and VS_MAX_PAYLOAD; *h is then
 * undefined.
 */
enum vs_why vs_pkt_parse(const struct iovec *iov, unsigned nout,
    unsigned nin, uint64_t own_cid, bool seqpacket, struct vs_hdr *h);

/* The RST the relay answers a refused packet h with (ports swapped). */
void vs_hdr_rst(const struct vs_hdr *h, struct vs_hdr *rst);

#endif
