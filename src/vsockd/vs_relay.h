/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_relay: the data path of isles-vsockd, between the VMs' virtqueues.
 *
 * Each VM has one vhost-user-vsock device: receive queue 0 (the relay
 * writes packets for the VM), transmit queue 1 (the VM's packets for the
 * others); the event queue (2) stays QEMU's.  A transmit kick makes the
 * relay pop the VM's packets (vs_relay_tx), check each header
 * (vs_pkt_parse), decide (vs_decide) and copy the packet into the
 * destination's receive queue, splitting its payload over as many
 * receive buffers as it needs (each piece a packet of its own with the
 * same header and its own len; SEQPACKET end-of-message flags only on the
 * last piece), as Linux's vhost-vsock does.
 *
 * Nothing allowed is ever dropped for want of room.  When the destination
 * has no receive buffer posted, the rest of the packet is held, copied,
 * in a FIFO per (source, destination) pair, and later packets of that
 * pair queue behind it, in order.  Each pair holds at most hold_max bytes
 * (header included; a FIFO that is empty always takes one packet): a
 * packet that does not fit is given back to the source's ring (vq_unpop)
 * and the source's transmit queue is not read again until the pair's FIFO
 * has drained to half (back-pressure: the source's guest finds its ring
 * full and waits).  The destination's receive kick (new buffers,
 * vs_relay_rx) delivers what is held for it, taking one packet from each
 * source in turn, and resumes the sources it unblocks.  RSTs the relay
 * answers with go into the FIFO [sender][sender], under the same bound:
 * a VM that floods refused requests and takes no packets stops itself.
 *
 * A VM that stalls the others: a destination that has kept a source
 * blocked for stall_ms (its guest posts too few receive buffers, or
 * none) is declared stuck: what is held for it is dropped (counted as
 * lost on each pair, and each source gets a RST per connection it lost
 * packets of), the sources blocked on it resume, and until it posts a
 * receive buffer again every packet for it is answered with a RST, as
 * for a VM that is down (vs_relay_tick).  A destination whose device
 * stopped while it blocks a source is treated the same at the next tick,
 * without the wait.  So a VM that does not read can hold up the VMs that
 * talk to it for at most stall_ms (plus a tick); stall_ms 0 disables
 * this (pure back-pressure).
 *
 * Work per call is bounded: at most `budget` transmit chains per
 * vs_relay_tx (more left: want_tx is set and the caller runs it again
 * later), the held bytes per pair by hold_max.  Memory: at most hold_max
 * per pair that carries traffic.
 *
 * Guest memory only through the iovecs vq.c built with vu_mem_gpa(); a
 * malformed ring breaks that VM's queue (ops->broken) and nothing else.
 * Queues, notifications and time come from the caller (struct vs_ops,
 * r->now_ms), so the relay is pure apart from guest memory and malloc:
 * the unit tests (tests/unit/test_vsock_relay.c) run it on rings in plain
 * buffers.  Single-threaded.  Errors: none returned; everything is
 * counted in the table (vs_table.h).
 */
#ifndef ISLES_VS_RELAY_H
#define ISLES_VS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/vq.h"
#include "vsockd/vs_pkt.h"
#include "vsockd/vs_table.h"

#define VS_RXQ		0
#define VS_TXQ		1
#define VS_EVQ		2
#define VS_NQUEUES	3

#define VS_HOLD_MIN	(2 * (VS_HDR_LEN + VS_MAX_PAYLOAD))
#define VS_HOLD_DEFAULT	(256u * 1024)
#define VS_TX_BUDGET	128

/* What the relay needs from the daemon (or a test). */
struct vs_ops {
	/* VM vm's queue qi if it may be used now (started, enabled, not
	 * broken), else NULL. */
	struct vq *(*queue)(void *ctx, unsigned vm, unsigned qi);
	/* Interrupt VM vm for queue qi if its ring asks for one. */
	void (*notify)(void *ctx, unsigned vm, unsigned qi);
	/* Queue qi of VM vm is malformed: stop it (error state). */
	void (*broken)(void *ctx, unsigned vm, unsigned qi, const char *why);
	/* VM vm negotiated VIRTIO_VSOCK_F_SEQPACKET. */
	bool (*seqpacket)(void *ctx, unsigned vm);
};

/* One held packet (or the rest of one): a copy, ours. */
struct vs_held {
	struct vs_held *next;
	struct vs_hdr h;		/* h.len: payload bytes in data */
	uint32_t off;			/* of data already delivered */
	uint8_t data[];
};

struct vs_fifo {
	struct vs_held *head, *tail;
	size_t bytes;			/* VS_HDR_LEN + len - off per packet */
};

struct vs_relay {
	struct vs_table *t;
	const struct vs_ops *ops;
	void *ctx;
	size_t hold_max;
	uint64_t stall_ms;		/* 0: never declare a VM stuck */
	uint64_t now_ms;		/* set by the caller before each call */

	/* [src][dst]; [v][v]: the relay's own RSTs for v. */
	struct vs_fifo fifo[VS_MAX_VMS][VS_MAX_VMS];
	int blocked_on[VS_MAX_VMS];	/* -1, or the dst whose FIFO was full */
	bool want_tx[VS_MAX_VMS];	/* run vs_relay_tx again */
	bool stuck[VS_MAX_VMS];		/* see the top */
	uint64_t waiting_since[VS_MAX_VMS];	/* 0: nothing held for it;
						 * else last progress */
	unsigned rr[VS_MAX_VMS];	/* round-robin start per dst */
	uint64_t notify_rx, notify_tx;	/* VMs to interrupt (bitmasks) */
	struct vq_chain txc, rxc;	/* scratch */
};

/*
 * Set up r over table t (sealed).  hold_max >= VS_HOLD_MIN.  No
 * allocation until something is held.
 */
void vs_relay_init(struct vs_relay *r, struct vs_table *t,
    const struct vs_ops *ops, void *ctx, size_t hold_max, uint64_t stall_ms);

/* Free everything held. */
void vs_relay_close(struct vs_relay *r);

/*
 * VM vm's transmit queue was kicked (or want_tx was set): relay at most
 * budget packets.  Sets r->want_tx[vm] if packets are left and vm is not
 * blocked.  Call vs_relay_flush() after a batch.
 */
void vs_relay_tx(struct vs_relay *r, unsigned vm, unsigned budget);

/*
 * VM vm's receive queue was kicked (new buffers): deliver what is held
 * for it; sources it unblocks get want_tx.
 */
void vs_relay_rx(struct vs_relay *r, unsigned vm);

/*
 * VM vm's device went away or was reset: drop what is held for it
 * (counted as lost), forget that it was stuck, unblock the sources
 * waiting for it; what vm itself sent and is held for others stays.
 */
void vs_relay_down(struct vs_relay *r, unsigned vm);

/*
 * The periodic check while a source is blocked (see the top): a
 * destination that blocks a source and is not running any more, or has
 * blocked one for stall_ms, gets what is held for it dropped (and is
 * stuck in the second case).  Returns vs_relay_blocked(): the caller
 * keeps its timer armed while it is true.
 */
bool vs_relay_tick(struct vs_relay *r);

/* Whether any source is blocked (the caller's timer should run). */
bool vs_relay_blocked(const struct vs_relay *r);

/* Whether anything is held for anyone. */
bool vs_relay_holding(const struct vs_relay *r);

/* Interrupt every VM that got packets or had packets taken. */
void vs_relay_flush(struct vs_relay *r);

#endif
