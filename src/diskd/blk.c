/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * blk: the virtio-blk device of isles-diskd (virtio 1.2 section 5.2),
 * one instance per VM export, plugged into the vhost-user library as a
 * struct vu_iface.  Where the data lives is the export's storage
 * back-end (struct blk_store_ops: store_part.c, store_dp.c).
 *
 * A kick pops the available requests of the queue, copies the 16-byte
 * request header out of guest memory before looking at it, enforces the
 * limits it announced (SEG_MAX, SIZE_MAX, whole sectors, read-only),
 * answers GET_ID itself and hands reads, writes, flushes and discards to
 * the store, which checks the sector range against the VM's disk and
 * starts sub-operations; the request completes when its last
 * sub-operation does, and the guest is interrupted once per batch.
 * Nothing polls.  A kick starts at most BLK_KICK_BUDGET requests, then
 * yields to the event loop.  The export tells the library whether
 * requests of a queue are still running (blk_busy) and reports
 * completions (vu_dev_settled), so a queue being stopped or reset waits
 * for its own requests without holding up any other export.
 *
 * Trusts: the vhost-user library's chain walker (bounded, in-memory
 * iovecs).  Everything in the request itself is the guest's and checked.
 */
#include "diskd/diskd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"
#include "vhost/iov.h"

/* virtio 1.2 5.2.3 feature bits */
#define BLK_F_SIZE_MAX		1
#define BLK_F_SEG_MAX		2
#define BLK_F_RO		5
#define BLK_F_BLK_SIZE		6
#define BLK_F_FLUSH		9
#define BLK_F_CONFIG_WCE	11
#define BLK_F_MQ		12

/* 5.2.6 request types */
#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_T_DISCARD		11
#define BLK_T_WRITE_ZEROES	13
#define BLK_ID_BYTES		20

/*
 * What we announce in config space, and enforce: a request with more
 * than SEG_MAX data descriptors (+ header + status) or a descriptor
 * longer than SIZE_MAX (+ a header sharing it) gets IOERR, so a guest
 * cannot make one request cost more I/O than the device offered.
 */
#define BLK_SEG_MAX		126	/* + header + status <= VQ_MAX_IOV/2 */
#define BLK_SIZE_MAX		(1u << 20)
/* Requests started per kick before other exports get a turn. */
#define BLK_KICK_BUDGET		128
#define BLK_SUBMIT_BYTES	(64 * 1024)	/* see blk_kick */

/* config space offsets (5.2.4) */
#define CFG_CAPACITY		0
#define CFG_SIZE_MAX		8
#define CFG_SEG_MAX		12
#define CFG_BLK_SIZE		20
#define CFG_WRITEBACK		32
#define CFG_NUM_QUEUES		34
#define CFG_MAX_DISCARD_SECT	36
#define CFG_MAX_DISCARD_SEG	40
#define CFG_DISCARD_ALIGN	44
#define CFG_MAX_WZ_SECT		48
#define CFG_MAX_WZ_SEG		52
#define CFG_WZ_MAY_UNMAP	56
#define CFG_SIZE		60

struct blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};

static struct blk_req *
req_get(struct diskd *dd)
{
	struct blk_req *r = dd->free_reqs;

	if (r != NULL)
		dd->free_reqs = r->next_free;
	else if ((r = malloc(sizeof(*r))) == NULL)
		return NULL;
	r->pending = 0;
	r->failed = false;
	r->fail_status = BLK_S_OK;
	r->expect = r->got = 0;
	r->nsub = 0;
	r->written = 1;
	r->next_wait = NULL;
	r->done = 0;
	return r;
}

static void
req_put(struct diskd *dd, struct blk_req *r)
{
	r->next_free = dd->free_reqs;
	dd->free_reqs = r;
}

void
blk_free_pool(struct diskd *dd)
{
	struct blk_req *r;

	while ((r = dd->free_reqs) != NULL) {
		dd->free_reqs = r->next_free;
		free(r);
	}
}

/* All sub-operations of r are done: answer the guest. */
static void
req_complete(struct blk_req *r)
{
	struct blk_export *ex = r->ex;
	struct vu_queue *q = &ex->dev.q[r->qi];
	uint8_t status = BLK_S_OK;

	if (r->failed)
		status = r->fail_status;
	else if (r->got != r->expect)
		status = BLK_S_IOERR;
	/* The status byte was checked to be in guest memory by the walker. */
	*r->status = status;
	if (status != BLK_S_OK)
		ex->nerr++;
	vq_push(&q->vq, r->chain.head, r->written);
	ex->dirty |= 1u << r->qi;
	ex->inflight--;
	ex->qinflight[r->qi]--;
	req_put(ex->dd, r);
	/* The library may be waiting for this export to go quiet. */
	vu_dev_settled(&ex->dev);
}

void
blk_sub_add(struct blk_req *r, uint64_t len)
{
	r->expect += len;
	r->pending++;
}

/*
 * The request holds one extra reference while it is being built, so this
 * never completes a request that blk_start() is still looking at.
 */
void
blk_sub_done(struct blk_req *r, int res, bool rw)
{
	if (res < 0 && !r->failed) {
		r->failed = true;
		r->fail_status = BLK_S_IOERR;
	} else if (res >= 0 && rw) {
		r->got += (uint64_t)res;
	}
	if (--r->pending == 0)
		req_complete(r);
}

static int
do_rw(struct blk_req *r, const struct blk_outhdr *h, bool write)
{
	struct blk_export *ex = r->ex;
	struct vq_chain *c = &r->chain;
	const struct iovec *iov;
	uint64_t len;
	size_t off;
	unsigned n;

	if (write) {
		if (ex->ro)
			return BLK_S_IOERR;
		iov = c->iov;
		n = c->nout;
		off = sizeof(*h);
		len = c->out_len - sizeof(*h);
	} else {
		iov = c->iov + c->nout;
		n = c->nin;
		off = 0;
		len = c->in_len - 1;
		r->written = (uint32_t)c->in_len;
	}
	if (len % PT_SECTOR != 0) {
		r->written = 1;
		return BLK_S_IOERR;
	}
	return ex->store->rw(r, write, h->sector, iov, n, off, len);
}

static int
do_discard(struct blk_req *r, const struct blk_outhdr *h, bool zeroes)
{
	struct blk_discard_seg ds[BLK_MAX_DISCARD_SEG];
	struct vq_chain *c = &r->chain;
	uint64_t plen = c->out_len - sizeof(*h);
	unsigned i, nd;

	if (r->ex->store->discard == NULL)
		return BLK_S_UNSUPP;
	if (r->ex->ro)
		return BLK_S_IOERR;
	if (plen == 0 || plen % sizeof(ds[0]) != 0 ||
	    plen / sizeof(ds[0]) > BLK_MAX_DISCARD_SEG)
		return BLK_S_UNSUPP;
	nd = (unsigned)(plen / sizeof(ds[0]));
	iov_to_buf(c->iov, c->nout, sizeof(*h), ds, plen);
	for (i = 0; i < nd; i++) {
		if (ds[i].flags & ~(uint32_t)(zeroes ? BLK_WZ_F_UNMAP : 0))
			return BLK_S_UNSUPP;
		if (ds[i].num_sectors > BLK_MAX_DISCARD_SECT)
			return BLK_S_IOERR;
	}
	return r->ex->store->discard(r, ds, nd, zeroes);
}

/*
 * Start one popped request.  Returns 0, or -1 if the chain cannot even
 * carry a status byte (the queue is broken).
 */
static int
blk_start(struct blk_export *ex, unsigned qi, struct blk_req *r)
{
	struct vq_chain *c = &r->chain;
	const struct iovec *last;
	struct blk_outhdr h;
	int st;

	if (c->nin == 0)
		return -1;	/* nowhere to put a status */
	last = &c->iov[c->nout + c->nin - 1];
	r->ex = ex;
	r->qi = qi;
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	r->pending = 1;		/* held while building */
	ex->nreq++;
	ex->inflight++;
	ex->qinflight[qi]++;
	/* Header copied out first (no double fetch); may span descriptors. */
	if (c->out_len < sizeof(h)) {
		st = BLK_S_IOERR;
		goto done;
	}
	if (c->ndesc > BLK_SEG_MAX + 2 ||
	    c->max_len > BLK_SIZE_MAX + sizeof(h)) {
		log_debug("%s: request of %u descriptors, longest %u bytes: "
		    "over seg_max/size_max", ex->name, c->ndesc, c->max_len);
		st = BLK_S_IOERR;
		goto done;
	}
	iov_to_buf(c->iov, c->nout, 0, &h, sizeof(h));
	switch (h.type) {
	case BLK_T_IN:
		st = do_rw(r, &h, false);
		break;
	case BLK_T_OUT:
		st = do_rw(r, &h, true);
		break;
	case BLK_T_FLUSH:
		st = ex->store->flush(r);
		break;
	case BLK_T_GET_ID: {
		uint64_t n = c->in_len - 1;

		if (n > BLK_ID_BYTES)
			n = BLK_ID_BYTES;
		iov_from_buf(c->iov + c->nout, c->nin, 0, ex->serial, n);
		r->written = (uint32_t)n + 1;
		st = BLK_S_OK;
		break;
	}
	case BLK_T_DISCARD:
	case BLK_T_WRITE_ZEROES:
		st = do_discard(r, &h, h.type == BLK_T_WRITE_ZEROES);
		break;
	default:
		st = BLK_S_UNSUPP;
		break;
	}
done:
	if (st != BLK_S_OK && !r->failed) {
		r->failed = true;
		r->fail_status = (uint8_t)st;
	}
	blk_sub_done(r, 0, false);	/* drop the building reference */
	return 0;
}

static void
blk_notify(struct blk_export *ex)
{
	unsigned qi;

	for (qi = 0; ex->dirty != 0 && qi < ex->nqueues; qi++) {
		if (ex->dirty & (1u << qi))
			vu_queue_notify(&ex->dev, qi);
	}
	ex->dirty = 0;
}

static void
blk_kick(struct vu_dev *d, unsigned qi)
{
	struct blk_export *ex = d->priv;
	struct diskd *dd = ex->dd;
	struct vq *q = &d->q[qi].vq;
	struct blk_req *r = NULL;
	unsigned started = 0;
	int rc;

	for (;;) {
		/*
		 * A bounded batch per kick: requests that complete at once
		 * (GET_ID, out-of-range sectors, the synthesized MBR) free
		 * their slot immediately, so without a budget a guest that
		 * keeps re-posting them would keep us here forever, away
		 * from every other export and from SIGTERM.  The rest is
		 * picked up from the event loop.
		 */
		if (started == BLK_KICK_BUDGET) {
			vu_queue_rekick(d, qi);
			break;
		}
		/*
		 * At most a ring's worth of requests in flight per queue: a
		 * guest re-offering heads that are still running cannot make
		 * us allocate without bound or keep us here forever.  The
		 * queue is kicked again when completions make room.
		 */
		if (ex->qinflight[qi] >= q->num) {
			ex->stalled |= 1u << qi;
			break;
		}
		if (r == NULL && (r = req_get(dd)) == NULL) {
			log_warn("%s: request", ex->name);
			break;
		}
		rc = vq_pop(q, &r->chain);
		if (rc > 0) {
			if (blk_start(ex, qi, r) < 0) {
				vu_queue_break(d, qi, "request without a "
				    "status byte");
				break;
			}
			r = NULL;
			started++;
			/*
			 * Large page-cache reads complete inside the submit,
			 * one after the other on this thread: answering a
			 * whole kick's worth at the end would leave the guest
			 * idle until the last is copied, and us idle while it
			 * refills the ring.  Submit and answer every
			 * BLK_SUBMIT_BYTES instead, so the guest refills while
			 * we copy (a system call per 64 KiB copied costs
			 * little; small requests still go in one batch).
			 */
			if (dd->ring_ok && dd->sq_bytes >= BLK_SUBMIT_BYTES) {
				part_submit(dd);
				blk_reap(dd);
				if (!vu_queue_ready(d, qi))
					break;
			}
			continue;
		}
		if (rc < 0) {
			vu_queue_break(d, qi, "malformed ring or descriptor "
			    "chain");
			break;
		}
		if (!vq_rearm(q))
			break;
	}
	if (r != NULL)
		req_put(dd, r);
	if (dd->ring_ok) {
		part_submit(dd);
		/* Page-cache hits complete inline: answer them in this batch. */
		blk_reap(dd);
	} else {
		blk_notify_all(dd);
	}
}

void
blk_notify_all(struct diskd *dd)
{
	for (unsigned i = 0; i < dd->nex; i++) {
		struct blk_export *ex = &dd->ex[i];
		unsigned qi;

		blk_notify(ex);
		/* Status bytes went into guest memory: did the file shrink? */
		vu_dev_check_fault(&ex->dev);
		/* Resume stalled queues through the event loop (no recursion). */
		for (qi = 0; ex->stalled != 0 && qi < ex->nqueues; qi++) {
			if ((ex->stalled & (1u << qi)) &&
			    ex->qinflight[qi] < ex->dev.q[qi].vq.num) {
				ex->stalled &= ~(1u << qi);
				vu_queue_rekick(&ex->dev, qi);
			}
		}
	}
}

void
blk_capacity_changed(struct blk_export *ex)
{
	log_info("%s: capacity %llu sectors", ex->name,
	    (unsigned long long)ex->store->capacity(ex));
	if (vu_dev_config_changed(&ex->dev) < 0 && errno != ENOTCONN)
		log_warn("%s: config change notification", ex->name);
}

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static int
blk_get_config(struct vu_dev *d, uint8_t *buf, uint32_t off, uint32_t len)
{
	struct blk_export *ex = d->priv;
	uint8_t cfg[VU_CONFIG_MAX];
	uint64_t cap;

	memset(cfg, 0, sizeof(cfg));
	cap = ex->store->capacity(ex);
	memcpy(cfg + CFG_CAPACITY, &cap, 8);
	put32(cfg + CFG_SIZE_MAX, BLK_SIZE_MAX);
	put32(cfg + CFG_SEG_MAX, BLK_SEG_MAX);
	put32(cfg + CFG_BLK_SIZE, PT_SECTOR);
	cfg[CFG_WRITEBACK] = ex->wce;
	put16(cfg + CFG_NUM_QUEUES, (uint16_t)ex->nqueues);
	put32(cfg + CFG_MAX_DISCARD_SECT, BLK_MAX_DISCARD_SECT);
	put32(cfg + CFG_MAX_DISCARD_SEG, BLK_MAX_DISCARD_SEG);
	put32(cfg + CFG_DISCARD_ALIGN, 8);
	put32(cfg + CFG_MAX_WZ_SECT, BLK_MAX_DISCARD_SECT);
	put32(cfg + CFG_MAX_WZ_SEG, BLK_MAX_DISCARD_SEG);
	cfg[CFG_WZ_MAY_UNMAP] = 1;
	memcpy(buf, cfg + off, len);	/* off + len <= VU_CONFIG_MAX: vu.c */
	return 0;
}

static int
blk_set_config(struct vu_dev *d, const uint8_t *buf, uint32_t off,
    uint32_t len)
{
	struct blk_export *ex = d->priv;

	/* Only the write-cache byte is writable (CONFIG_WCE). */
	if (off != CFG_WRITEBACK || len != 1 || buf[0] > 1 ||
	    !vu_has_feature(d, BLK_F_CONFIG_WCE))
		return -1;
	ex->wce = buf[0];
	log_info("%s: write cache %s", ex->name, ex->wce ? "on" : "off");
	return 0;
}

static bool
blk_busy(struct vu_dev *d, unsigned qi)
{
	struct blk_export *ex = d->priv;

	if (qi == VU_ALL_QUEUES)
		return ex->inflight > 0;
	return qi < VU_MAX_QUEUES && ex->qinflight[qi] > 0;
}

static void
blk_reset(struct vu_dev *d)
{
	struct blk_export *ex = d->priv;

	ex->wce = true;
	ex->dirty = 0;
	ex->stalled = 0;
	memset(ex->qinflight, 0, sizeof(ex->qinflight));
}

static const struct vu_iface blk_iface = {
	.get_config = blk_get_config,
	.set_config = blk_set_config,
	.queue_kick = blk_kick,
	.busy = blk_busy,
	.reset = blk_reset,
};

int
blk_export_start(struct blk_export *ex, struct diskd *dd, int listen_fd,
    int conn_fd)
{
	uint64_t f = 1ull << BLK_F_SIZE_MAX | 1ull << BLK_F_SEG_MAX |
	    1ull << BLK_F_BLK_SIZE | 1ull << BLK_F_FLUSH |
	    1ull << BLK_F_CONFIG_WCE | 1ull << BLK_F_MQ;

	if (ex->ro)
		f |= 1ull << BLK_F_RO;
	else
		f |= ex->store->features(ex);
	ex->dd = dd;
	ex->wce = true;
	return vu_dev_init(&ex->dev, ex->name, listen_fd, conn_fd, ex->nqueues,
	    f, &blk_iface, &dd->loop, ex);
}

void
blk_export_stop(struct blk_export *ex)
{
	vu_dev_close(&ex->dev);
}
