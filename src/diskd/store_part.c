/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_part: the storage back-end of a partitioned disk (an image file
 * or a block device): each VM's virtual disk (vdisk.h: a synthesized MBR
 * over the partitions it was given) served with io_uring.  A request's
 * whole sector range goes through vd_map() (a request that leaves the
 * VM's partitions is answered IOERR without any I/O) and each physical
 * piece becomes an io_uring read, write, fallocate or fsync; one
 * io_uring_submit per kick, or per BLK_SUBMIT_BYTES of data within one
 * (blk.c).  Completions are reaped right after the submission (page-cache
 * hits complete inside it) and otherwise when the ring's fd becomes
 * readable in the daemon's event loop (blk_reap); the guest is
 * interrupted once per reap, if it asked.
 *
 * Trusts blk.c's checks (header copied out, whole sectors, limits).
 */
#include "diskd/diskd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "vhost/iov.h"

#define RING_ENTRIES	256
#define BLK_F_DISCARD		13
#define BLK_F_WRITE_ZEROES	14

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
void
part_submit(struct diskd *dd)
{
	int r;

	if (dd->sq_pending == 0)
		return;
	if ((r = io_uring_submit(&dd->ring)) < 0) {
		log_warnx("io_uring_submit: %s", strerror(-r));
		return;
	}
	dd->sq_pending = 0;
	dd->sq_bytes = 0;
}

static int
disk_fd(const struct diskd *dd)
{
	return dd->disk_fd;
}

void
part_dio_align(struct diskd *dd)
{
	struct statx sx;

	dd->dio_mem_align = dd->dio_off_align = 4096;
	if (statx(dd->dio_fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 &&
	    (sx.stx_mask & STATX_DIOALIGN) && sx.stx_dio_mem_align != 0 &&
	    sx.stx_dio_offset_align != 0) {
		dd->dio_mem_align = sx.stx_dio_mem_align;
		dd->dio_off_align = sx.stx_dio_offset_align;
	}
	log_info("cache none: O_DIRECT, buffers aligned to %u bytes, "
	    "offsets and lengths to %u", dd->dio_mem_align,
	    dd->dio_off_align);
}

/*
 * The fd for a read or write of iov[0..n) at pos: the O_DIRECT one when
 * there is one and every buffer, length and the offset meet its
 * alignment; otherwise the buffered one.
 */
static int
rw_fd(const struct diskd *dd, const struct iovec *iov, unsigned n,
    uint64_t pos, uint64_t len)
{
	uint64_t ma = dd->dio_mem_align - 1, oa = dd->dio_off_align - 1;

	if (dd->dio_fd < 0 || (pos & oa) || (len & oa))
		return disk_fd(dd);
	for (unsigned i = 0; i < n; i++)
		if (((uintptr_t)iov[i].iov_base & ma) ||
		    (iov[i].iov_len & oa))
			return disk_fd(dd);
	return dd->dio_fd;
}

static struct io_uring_sqe *
get_sqe(struct diskd *dd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dd->ring);

	if (sqe == NULL) {
		part_submit(dd);
		sqe = io_uring_get_sqe(&dd->ring);
	}
	if (sqe != NULL)
		dd->sq_pending++;
	return sqe;
}

static void
submit_rw(struct blk_req *r, bool write, const struct iovec *iov,
    unsigned n, uint64_t pos, uint64_t len)
{
	struct diskd *dd = r->ex->dd;
	struct io_uring_sqe *sqe = get_sqe(dd);

	blk_sub_add(r, len);
	if (sqe == NULL) {
		blk_sub_done(r, -EAGAIN, true);
		return;
	}
	dd->sq_bytes += len;
	if (write)
		io_uring_prep_writev2(sqe, rw_fd(dd, iov, n, pos, len), iov, n,
		    pos, r->ex->wce ? 0 : RWF_DSYNC);
	else
		io_uring_prep_readv(sqe, rw_fd(dd, iov, n, pos, len), iov, n,
		    pos);
	io_uring_sqe_set_data(sqe, r);
}

static void
submit_other(struct blk_req *r, int op, uint64_t pos, uint64_t len, int mode)
{
	struct diskd *dd = r->ex->dd;
	struct io_uring_sqe *sqe = get_sqe(dd);

	blk_sub_add(r, 0);
	if (sqe == NULL) {
		blk_sub_done(r, -EAGAIN, false);
		return;
	}
	if (op == IORING_OP_FSYNC)
		io_uring_prep_fsync(sqe, disk_fd(dd), IORING_FSYNC_DATASYNC);
	else
		io_uring_prep_fallocate(sqe, disk_fd(dd), mode, pos, len);
	/* Low bit tags "not a read/write" for the completion. */
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r | 1);
}

static int
part_rw(struct blk_req *r, bool write, uint64_t sector,
    const struct iovec *iov, unsigned n, size_t base, uint64_t len)
{
	struct vd_seg segs[VD_MAX_SEGS];
	unsigned i;
	int nseg;

	nseg = vd_map(&r->ex->vd, sector, len / PT_SECTOR, segs);
	if (nseg < 0) {
		log_debug("%s: request sectors %llu+%llu outside the disk",
		    r->ex->name, (unsigned long long)sector,
		    (unsigned long long)(len / PT_SECTOR));
		r->written = 1;
		return BLK_S_IOERR;
	}
	for (i = 0; i < (unsigned)nseg; i++) {
		uint64_t off = segs[i].off + base;
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
part_flush(struct blk_req *r)
{
	submit_other(r, IORING_OP_FSYNC, 0, 0, 0);
	return BLK_S_OK;
}

static int
part_discard(struct blk_req *r, const struct blk_discard_seg *ds,
    unsigned nd, bool zeroes)
{
	struct vd_seg segs[VD_MAX_SEGS];
	unsigned i, j;

	/* Check every segment before doing any of them. */
	for (i = 0; i < nd; i++)
		if (vd_map(&r->ex->vd, ds[i].sector, ds[i].num_sectors,
		    segs) < 0)
			return BLK_S_IOERR;
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

static uint64_t
part_features(const struct blk_export *ex)
{
	return 1ull << BLK_F_DISCARD | 1ull << BLK_F_WRITE_ZEROES;
}

static uint64_t
part_capacity(const struct blk_export *ex)
{
	return ex->vd.capacity;
}

const struct blk_store_ops blk_store_part = {
	.kind = "partitions",
	.features = part_features,
	.capacity = part_capacity,
	.rw = part_rw,
	.flush = part_flush,
	.discard = part_discard,
};

int
part_ring_init(struct diskd *dd)
{
	struct io_uring_params p;
	int c;

	/*
	 * One thread submits and reaps (SINGLE_ISSUER).  Completions reach
	 * the event loop through the ring's own fd, which epoll reports
	 * readable while the completion queue holds entries: a read served
	 * from the page cache completes inside io_uring_submit and is
	 * reaped right after it (blk.c), so it costs no wake-up and no
	 * eventfd write and read, where a registered eventfd is signalled
	 * for every completion, inline ones included.  Completions io_uring
	 * posts later (from task work or io-wq) make the fd readable.
	 */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER;
	c = io_uring_queue_init_params(RING_ENTRIES, &dd->ring, &p);
	if (c == -EINVAL) {
		memset(&p, 0, sizeof(p));
		c = io_uring_queue_init_params(RING_ENTRIES, &dd->ring, &p);
	}
	if (c < 0) {
		errno = -c;
		return -1;
	}
	/*
	 * No registered files: the ring would keep the disk's file (and
	 * its flock) referenced until the kernel tears the ring down, some
	 * time after we exit, and a daemon restarted at once would find the
	 * disk "in use".
	 */
	dd->ring_fd = dd->ring.ring_fd;
	dd->ring_ok = true;
	return 0;
}

void
blk_reap(struct diskd *dd)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&dd->ring, head, cqe) {
		uint64_t u = io_uring_cqe_get_data64(cqe);
		struct blk_req *r = (struct blk_req *)(uintptr_t)(u & ~1ull);

		blk_sub_done(r, cqe->res, !(u & 1));
		n++;
	}
	io_uring_cq_advance(&dd->ring, n);
	blk_notify_all(dd);
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
		part_submit(dd);
		/* liburing returns -errno and leaves errno alone. */
		if ((r = io_uring_wait_cqe(&dd->ring, &cqe)) < 0 &&
		    r != -EINTR) {
			errno = -r;
			return -1;
		}
		blk_reap(dd);
	}
}

