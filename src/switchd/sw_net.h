/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_net: the virtio-net data path of isles-switchd, between a sender's
 * transmit chain and a receiver's receive virtqueue.
 *
 *   sw_frame_parse()  takes the readable segments of a transmit chain
 *                     (virtio-net header + Ethernet frame, in the sender's
 *                     guest memory), copies the header and the frame's
 *                     head (the Ethernet header; for TSO, the first
 *                     SW_HEAD_MAX bytes: Ethernet, IP and TCP headers) out
 *                     once, checks them, and keeps the rest as segments to
 *                     copy from.
 *   sw_rx_deliver()   copies a parsed frame into a receiver's receive
 *                     queue: one chain, or several with MRG_RXBUF
 *                     (num_buffers set in the first), published with one
 *                     used->idx update so the guest never sees part of a
 *                     merged frame.  A frame that does not fit is dropped,
 *                     never truncated; buffers taken for it are given
 *                     back (vq_unpop).
 *
 * What the switch decides on (the header, the Ethernet addresses, and the
 * IP and TCP headers a TSO header is checked against) is copied out and
 * checked, and the receiver gets those copies, never a second read of the
 * sender's memory: a sender cannot change its source MAC after the
 * anti-spoofing check, nor its TCP header after the TSO check.  The
 * payload after the head is copied straight from the sender's memory
 * (whatever the sender scribbles there only hurts its own frame).  All guest memory access goes
 * through the iovecs that vq.c built with vu_mem_gpa().
 *
 * Pure apart from guest memory: no syscalls, so the unit tests
 * (tests/unit/test_switch_net.c) run it on rings in plain buffers.
 * Errors: enum sw_drop (SW_DROP_NONE = done).
 */
#ifndef ISLES_SW_NET_H
#define ISLES_SW_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "switchd/sw_frame.h"
#include "vhost/vq.h"

/* Most receive buffers one merged frame may take (64 KiB / 128 B). */
#define SW_MAX_RXBUFS	512

/* One frame on its way through the switch. */
struct sw_frame {
	struct sw_vnet_hdr hdr;		/* checked, normalised copy */
	/* Copy of the frame's first head_len bytes: the Ethernet header
	 * (head_len = SW_ETH_HLEN), or for a TSO header min(len,
	 * SW_HEAD_MAX) bytes. */
	uint8_t head[SW_HEAD_MAX];
	size_t head_len;
	size_t len;			/* frame bytes, Ethernet header included */
	unsigned niov;			/* the rest of the frame, in place */
	struct iovec iov[VQ_MAX_IOV];
};

/*
 * Parse a transmitted frame: iov[0..niov) are the readable segments of
 * the chain, starting with a hdr_len-byte virtio-net header (hdr_len from
 * sw_vnet_hdr_len(features)), then the Ethernet frame.  The header is
 * checked against the sender's negotiated features and, for TSO, against
 * the frame's head (sw_vnet_hdr_check_tx).  Returns SW_DROP_NONE with f
 * filled, SW_DROP_MALFORMED (short, oversized, bad header) or
 * SW_DROP_BADGSO (a TSO header that does not fit the frame).
 */
enum sw_drop sw_frame_parse(struct sw_frame *f, const struct iovec *iov,
    unsigned niov, size_t hdr_len, uint64_t features);

/*
 * Copy the whole frame (header excluded) into a flat buffer of at least
 * f->len bytes; used for the uplink (writev takes the iovecs directly) and
 * tests.  Returns f->len.
 */
size_t sw_frame_flatten(const struct sw_frame *f, uint8_t *out);

/*
 * How far ahead vq_prefetch() reaches on both rings: descriptors of the
 * next SW_PF_DESC chains, the first bytes of the next SW_PF_BUF buffers
 * (at ~100 ns a frame, four frames cover a cache miss to the other CPU).
 */
#define SW_PF_DESC	16
#define SW_PF_BUF	4

/* Scratch space of one receiver (kept per port: too large for a stack). */
/* Used entries staged for one receive queue before they are published. */
#define SW_RX_STAGE	(2 * SW_MAX_RXBUFS)

struct sw_rx_scratch {
	struct vq_chain first;		/* holds the virtio-net header */
	struct vq_chain cur;
	/* Filled chains not yet in the used ring: [0, nstaged). */
	unsigned nstaged;
	uint16_t heads[SW_RX_STAGE];
	uint32_t lens[SW_RX_STAGE];
};

/*
 * Deliver f into receive queue q of a receiver that negotiated
 * `features`.  Returns:
 *   SW_DROP_NONE     delivered and published (the caller notifies the
 *                    guest when vq_need_notify() says so),
 *   SW_DROP_OFFLOAD  GSO or partial checksum the receiver cannot take,
 *   SW_DROP_NOBUF    not enough receive buffers posted right now,
 *   SW_DROP_TOOBIG   without MRG_RXBUF: the next buffer is too small;
 *                    with it: more than SW_MAX_RXBUFS buffers needed,
 *   SW_DROP_DOWN     the queue is not running, or is broken: q->broken is
 *                    then true (a malformed ring or a receive chain with
 *                    readable descriptors) and the caller puts the port
 *                    into its error state.
 * Buffers taken for a frame that is then dropped are given back.
 */
enum sw_drop sw_rx_deliver(struct vq *q, uint64_t features,
    const struct sw_frame *f, struct sw_rx_scratch *s);

/*
 * The same, except that the filled chains are only staged in s: the
 * guest sees them at the next sw_rx_publish() (which sw_rx_stage() also
 * calls itself when s is full), so a burst of frames costs one used->idx
 * store and one notification check.  The caller publishes before it
 * returns to its event loop, and before the queue can be reset.
 */
enum sw_drop sw_rx_stage(struct vq *q, uint64_t features,
    const struct sw_frame *f, struct sw_rx_scratch *s);

/* Publish what s staged on q (one used->idx store); true if any. */
bool sw_rx_publish(struct vq *q, struct sw_rx_scratch *s);

#endif
