/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vq: the device side of a virtio 1.2 split virtqueue.
 *
 * The rings live in guest memory and the guest may rewrite them at any
 * moment: every index and descriptor is copied out once, then checked.
 * The chain walker is bounded by the queue size (or the indirect table
 * size), refuses zero-length descriptors, loops, nested or chained
 * indirect tables, readable-after-writable descriptors and any range
 * outside guest memory, and validates avail->idx jumps.  Guest addresses
 * go only through vu_mem_gpa().  EVENT_IDX and INDIRECT_DESC follow the
 * features the caller sets.  Optionally a queue keeps the inflight
 * record of VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD so that requests popped
 * before a crash are resubmitted after a restart.
 *
 * Pure: no syscalls; the unit tests build rings in a plain buffer.
 * Callers: vu.c (ring setup), device back-ends (pop/push/notify).
 * Errors: negative errno.  A walker error also sets q->broken.
 */
#ifndef ISLES_VQ_H
#define ISLES_VQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vhost/vu_mem.h"

#define VQ_MAX_NUM	32768		/* split ring maximum */
#define VQ_MAX_IOV	260		/* host segments per chain */

#define VQ_DESC_F_NEXT		1
#define VQ_DESC_F_WRITE		2
#define VQ_DESC_F_INDIRECT	4
#define VQ_AVAIL_F_NO_INTERRUPT	1
#define VQ_USED_F_NO_NOTIFY	1

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* num entries, then used_event */
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq_used {
	uint16_t flags;
	uint16_t idx;
	struct vq_used_elem ring[];	/* num entries, then avail_event */
};

/* The inflight record of one queue (shared memory, survives our crash). */
struct vq_inflight_desc {
	uint8_t inflight;
	uint8_t pad[5];
	uint16_t next;
	uint64_t counter;
};

struct vq_inflight {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vq_inflight_desc desc[];
};

/* Size of one queue's inflight record, padded to 64 bytes. */
#define VQ_INFLIGHT_SIZE(num) \
	((sizeof(struct vq_inflight) + (size_t)(num) * \
	sizeof(struct vq_inflight_desc) + 63) & ~(size_t)63)

/* One popped request: readable segments first, then writable ones. */
struct vq_chain {
	uint16_t head;
	unsigned nout;		/* readable iovecs: iov[0 .. nout) */
	unsigned nin;		/* writable iovecs: iov[nout .. nout + nin) */
	uint64_t out_len, in_len;
	unsigned ndesc;		/* descriptors (an indirect head not counted) */
	uint32_t max_len;	/* the longest descriptor */
	struct iovec iov[VQ_MAX_IOV];
};

struct vq {
	const struct vu_mem *mem;
	unsigned num;			/* 0: not configured */
	struct vq_desc *desc;		/* host pointers, checked at setup */
	struct vq_avail *avail;
	struct vq_used *used;
	uint16_t last_avail;
	/*
	 * avail->idx as last read: chains up to it are popped without
	 * reading the index again (it is on a cache line the driver keeps
	 * writing).  Reloaded when last_avail catches up with it.
	 */
	uint16_t avail_shadow;
	uint16_t pf_desc, pf_buf;	/* vq_prefetch() done up to these */
	uint16_t used_idx;		/* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	bool event_idx;
	bool indirect;
	bool broken;
	struct vq_inflight *inflight;	/* NULL: no inflight tracking */
	uint64_t counter;
	uint16_t *resubmit;		/* heads to redo after a restart */
	unsigned nresubmit, resubmit_pos;
};

/*
 * Point q at its rings: gpas of the descriptor table, avail and used
 * rings for a queue of num entries (a power of two, <= VQ_MAX_NUM).
 * Each ring must be contiguous in host memory, and aligned there as
 * virtio aligns it in guest memory (16, 2, 4).  Returns 0, -EINVAL (bad
 * num, a misaligned ring) or -EFAULT (ring outside guest memory).
 */
int vq_set_rings(struct vq *q, const struct vu_mem *mem, unsigned num,
    uint64_t desc, uint64_t avail, uint64_t used);

/*
 * Start processing after set_rings and SET_VRING_BASE: loads used->idx
 * and, with an inflight record, repairs it, recomputes last_avail and
 * queues the unfinished heads for resubmission (the caller passes a
 * buffer of q->num uint16_t for them).  Returns 0 or -EINVAL (inflight
 * record of a different queue size: tracking disabled).
 */
int vq_start(struct vq *q, uint16_t *resubmit_buf);

/*
 * Pop the next request into c.  Returns 1 (a chain), 0 (queue empty) or
 * a negative errno (malformed ring or chain: q->broken is set and the
 * queue must not be used until it is reset).
 */
int vq_pop(struct vq *q, struct vq_chain *c);

/*
 * Walk the chain starting at head (exported for tests): as vq_pop
 * without touching the avail ring or the inflight record.
 */
int vq_walk(struct vq *q, uint16_t head, struct vq_chain *c);

/* Return a finished request: len = bytes written into writable buffers. */
void vq_push(struct vq *q, uint16_t head, uint32_t len);

/*
 * Return n finished requests with one used->idx store (the entries are
 * written first), so the driver sees all of them or none: merged receive
 * buffers of one frame, a batch of completions.
 */
void vq_push_n(struct vq *q, const uint16_t *heads, const uint32_t *lens,
    unsigned n);

/*
 * Give back the last n chains popped from the avail ring (not pushed):
 * the next pops return them again.  For a device that took buffers for
 * something it then could not finish (a frame that did not fit).  Not
 * for resubmitted chains; n at most what was popped since.
 */
void vq_unpop(struct vq *q, uint16_t n);

/*
 * Whether the guest wants an interrupt for what was pushed since the
 * last call (EVENT_IDX or the NO_INTERRUPT flag).
 */
bool vq_need_notify(struct vq *q);

/*
 * Re-arm guest notifications after the queue was found empty; returns
 * true if new requests arrived meanwhile (pop again).
 */
bool vq_rearm(struct vq *q);

/*
 * Tell the driver that kicks are not needed while we drain the queue
 * (without EVENT_IDX: VRING_USED_F_NO_NOTIFY; with it, the stale
 * avail_event already suppresses them).  vq_rearm() turns them back on.
 * Only a hint: a driver may kick anyway.
 */
void vq_kicks_off(struct vq *q);

/*
 * Start fetching what the next pops will read, so that their cache
 * misses overlap instead of coming one after another (the driver wrote
 * the rings on another CPU, a receiver its buffers): the descriptors of
 * the next ndesc available chains, the lines of the first 128 bytes of
 * the next nbuf chains' first buffers (for writing if write is set, as
 * for a receive queue; nbuf <= ndesc), and the next used entries (for
 * writing).  Each entry is fetched once: q->pf_desc and q->pf_buf say how
 * far earlier calls got.  Reads only ring entries already published
 * (avail->idx, reloaded when the published ones run out); a prefetch is
 * a hint that never faults, and nothing read here is trusted: vq_pop()
 * reads and checks it all again.
 */
void vq_prefetch(struct vq *q, unsigned ndesc, unsigned nbuf, bool write);

/* Forget rings and state (not the memory table pointer). */
void vq_reset(struct vq *q);

#endif
