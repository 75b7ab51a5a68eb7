/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * blk: the virtio-blk device of isles-diskd (virtio 1.2 section 5.2),
 * one instance per VM export, plugged into the vhost-user library as a
 * struct vu_iface.
 *
 * A kick pops every available request of the queue (batched: one
 * io_uring_submit per kick), copies the 16-byte request header out of
 * guest memory before looking at it, maps the request's whole sector
 * range through vd_map() (a request that leaves the VM's partitions is
 * answered VIRTIO_BLK_S_IOERR without any I/O), and turns each physical
 * piece into an io_uring read/write/fallocate/fsync.  Completions arrive
 * on an eventfd in the daemon's epoll loop; the guest is interrupted
 * through the queue's call eventfd once per batch.  Nothing polls.
 * A kick starts at most BLK_KICK_BUDGET requests, then yields to the
 * event loop.  The export tells the library whether requests of a queue
 * are still running (blk_busy) and reports completions
 * (vu_dev_settled), so a queue being stopped or reset waits for its own
 * requests without holding up any other export.
 *
 * Trusts: the vhost-user library's chain walker (bounded, in-memory
 * iovecs).  Everything in the request itself is the guest's and checked.
 */
#include "diskd/diskd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
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
#define BLK_F_DISCARD		13
#define BLK_F_WRITE_ZEROES	14

/* 5.2.6 request types and status */
#define BLK_T_IN		0
#define BLK_T_OUT		1
#define BLK_T_FLUSH		4
#define BLK_T_GET_ID		8
#define BLK_T_DISCARD		11
#define BLK_T_WRITE_ZEROES	13
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2
#define BLK_ID_BYTES		20
#define BLK_WZ_F_UNMAP		1

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
#define BLK_MAX_DISCARD_SEG	8
#define BLK_MAX_DISCARD_SECT	(1u << 22)

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

struct blk_discard_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

struct blk_req {
	struct blk_req *next_free;
	struct blk_export *ex;
	unsigned qi;
	uint8_t *status;
	uint8_t fail_status;	/* when failed */
	uint32_t written;	/* used-ring length */
	unsigned pending;	/* sub-operations in io_uring */
	bool failed;
	uint64_t expect, got;	/* bytes of read/write sub-operations */
	unsigned nsub;		/* iovecs of sub[] in use */
	struct vq_chain chain;
	struct iovec sub[VQ_MAX_IOV + VD_MAX_SEGS];
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

/* Slice [off, off + len) of iov[0..n) into r->sub; returns its start. */
static struct iovec *
iov_slice(struct blk_req *r, const struct iovec *iov, unsigned n,
    uint64_t off, uint64_t len, unsigned *cnt)
{
	struct iovec *out = &r->sub[r->nsub];
	unsigned i, k = 0;

	for (i = 0; i < n && len > 0; i++) {
		uint64_t l = iov[i].iov_len, take;

		if (off >= l) {
			off -= l;
			continue;
		}
		if (r->nsub + k >= sizeof(r->sub) / sizeof(r->sub[0]))
			return NULL;
		take = l - off < len ? l - off : len;
		out[k].iov_base = (char *)iov[i].iov_base + off;
		out[k].iov_len = (size_t)take;
		k++;
		len -= take;
		off = 0;
	}
	if (len > 0)
		return NULL;
	r->nsub += k;
	*cnt = k;
	return out;
}

/*
 * Submit the prepared SQEs.  liburing returns -errno and leaves errno
 * alone.  On failure the SQEs stay queued and count as pending, so the
 * next batch submits them again.
 */
static void
ring_submit(struct diskd *dd)
{
	int r;

	if (dd->sq_pending == 0)
		return;
	if ((r = io_uring_submit(&dd->ring)) < 0) {
		log_warnx("io_uring_submit: %s", strerror(-r));
		return;
	}
	dd->sq_pending = 0;
}

static struct io_uring_sqe *
get_sqe(struct diskd *dd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dd->ring);

	if (sqe == NULL) {
		ring_submit(dd);
		sqe = io_uring_get_sqe(&dd->ring);
	}
	if (sqe != NULL)
		dd->sq_pending++;
	return sqe;
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

/*
 * One sub-operation of r finished (res: bytes or negative errno).  The
 * request holds one extra reference while it is being built, so this
 * never completes a request that blk_start() is still looking at.
 */
static void
sub_done(struct blk_req *r, int res, bool rw)
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

static void
submit_rw(struct blk_req *r, bool write, const struct iovec *iov,
    unsigned n, uint64_t pos, uint64_t len)
{
	struct diskd *dd = r->ex->dd;
	struct io_uring_sqe *sqe = get_sqe(dd);

	r->expect += len;
	r->pending++;
	if (sqe == NULL) {
		sub_done(r, -EAGAIN, true);
		return;
	}
	if (write)
		io_uring_prep_writev2(sqe, dd->disk_fd, iov, n, pos,
		    r->ex->wce ? 0 : RWF_DSYNC);
	else
		io_uring_prep_readv(sqe, dd->disk_fd, iov, n, pos);
	io_uring_sqe_set_data(sqe, r);
}

static void
submit_other(struct blk_req *r, int op, uint64_t pos, uint64_t len, int mode)
{
	struct diskd *dd = r->ex->dd;
	struct io_uring_sqe *sqe = get_sqe(dd);

	r->pending++;
	if (sqe == NULL) {
		sub_done(r, -EAGAIN, false);
		return;
	}
	if (op == IORING_OP_FSYNC)
		io_uring_prep_fsync(sqe, dd->disk_fd, IORING_FSYNC_DATASYNC);
	else
		io_uring_prep_fallocate(sqe, dd->disk_fd, mode, pos, len);
	/* Low bit tags "not a read/write" for the completion. */
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r | 1);
}

static int
do_rw(struct blk_req *r, const struct blk_outhdr *h, bool write)
{
	struct vq_chain *c = &r->chain;
	const struct iovec *iov;
	struct vd_seg segs[VD_MAX_SEGS];
	uint64_t len;
	unsigned n, i;
	int nseg;

	if (write) {
		if (r->ex->ro)
			return BLK_S_IOERR;
		iov = c->iov;
		n = c->nout;
		len = c->out_len - sizeof(*h);
	} else {
		iov = c->iov + c->nout;
		n = c->nin;
		len = c->in_len - 1;
		r->written = (uint32_t)c->in_len;
	}
	if (len % PT_SECTOR != 0)
		return BLK_S_IOERR;
	nseg = vd_map(&r->ex->vd, h->sector, len / PT_SECTOR, segs);
	if (nseg < 0) {
		log_debug("%s: request sectors %llu+%llu outside the disk",
		    r->ex->name, (unsigned long long)h->sector,
		    (unsigned long long)(len / PT_SECTOR));
		r->written = 1;
		return BLK_S_IOERR;
	}
	for (i = 0; i < (unsigned)nseg; i++) {
		uint64_t off = segs[i].off + (write ? sizeof(*h) : 0);
		const struct iovec *s;
		unsigned cnt;

		if (segs[i].kind != VD_PHYS) {
			/* Sectors 0..63: synthesized; writes ignored. */
			if (!write)
				iov_from_buf(iov, n, off, segs[i].kind == VD_MBR ?
				    r->ex->vd.mbr : NULL, segs[i].len);
			continue;
		}
		s = iov_slice(r, iov, n, off, segs[i].len, &cnt);
		if (s == NULL)
			return BLK_S_IOERR;
		submit_rw(r, write, s, cnt, segs[i].pos, segs[i].len);
	}
	return BLK_S_OK;
}

static int
do_discard(struct blk_req *r, const struct blk_outhdr *h, bool zeroes)
{
	struct blk_discard_seg ds[BLK_MAX_DISCARD_SEG];
	struct vd_seg segs[VD_MAX_SEGS];
	struct vq_chain *c = &r->chain;
	uint64_t plen = c->out_len - sizeof(*h);
	unsigned i, j, nd;

	if (r->ex->ro)
		return BLK_S_IOERR;
	if (plen == 0 || plen % sizeof(ds[0]) != 0 ||
	    plen / sizeof(ds[0]) > BLK_MAX_DISCARD_SEG)
		return BLK_S_UNSUPP;
	nd = (unsigned)(plen / sizeof(ds[0]));
	iov_to_buf(c->iov, c->nout, sizeof(*h), ds, plen);
	/* Check every segment before doing any of them. */
	for (i = 0; i < nd; i++) {
		if (ds[i].flags & ~(uint32_t)(zeroes ? BLK_WZ_F_UNMAP : 0))
			return BLK_S_UNSUPP;
		if (ds[i].num_sectors > BLK_MAX_DISCARD_SECT ||
		    vd_map(&r->ex->vd, ds[i].sector, ds[i].num_sectors,
		    segs) < 0)
			return BLK_S_IOERR;
	}
	for (i = 0; i < nd; i++) {
		int mode = FALLOC_FL_KEEP_SIZE;
		int n = vd_map(&r->ex->vd, ds[i].sector, ds[i].num_sectors,
		    segs);

		if (!zeroes || (ds[i].flags & BLK_WZ_F_UNMAP))
			mode |= FALLOC_FL_PUNCH_HOLE;
		else
			mode |= FALLOC_FL_ZERO_RANGE;
		for (j = 0; j < (unsigned)n; j++) {
			if (segs[j].kind == VD_PHYS)
				submit_other(r, IORING_OP_FALLOCATE,
				    segs[j].pos, segs[j].len, mode);
		}
	}
	return BLK_S_OK;
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
		submit_other(r, IORING_OP_FSYNC, 0, 0, 0);
		st = BLK_S_OK;
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
	sub_done(r, 0, false);	/* drop the building reference */
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
	ring_submit(dd);
	/* Page-cache hits complete inline: answer them in this batch. */
	blk_reap(dd);
}

void
blk_reap(struct diskd *dd)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0, i;

	io_uring_for_each_cqe(&dd->ring, head, cqe) {
		uint64_t u = io_uring_cqe_get_data64(cqe);
		struct blk_req *r = (struct blk_req *)(uintptr_t)(u & ~1ull);

		sub_done(r, cqe->res, !(u & 1));
		n++;
	}
	io_uring_cq_advance(&dd->ring, n);
	for (i = 0; i < dd->nex; i++) {
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

int
blk_drain(struct diskd *dd, struct blk_export *ex)
{
	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned i, busy = 0;
		int r;

		for (i = 0; i < dd->nex; i++) {
			if (ex == NULL || ex == &dd->ex[i])
				busy += dd->ex[i].inflight;
		}
		if (busy == 0)
			return 0;
		ring_submit(dd);
		/* liburing returns -errno and leaves errno alone. */
		if ((r = io_uring_wait_cqe(&dd->ring, &cqe)) < 0 &&
		    r != -EINTR) {
			errno = -r;
			return -1;
		}
		blk_reap(dd);
	}
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

	memset(cfg, 0, sizeof(cfg));
	memcpy(cfg + CFG_CAPACITY, &ex->vd.capacity, 8);
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
		f |= 1ull << BLK_F_DISCARD | 1ull << BLK_F_WRITE_ZEROES;
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
