/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store_dp: the storage back-end whose data lives in a driver VM: the
 * export's requests go into a dataport shared with it, with the block
 * protocol of src/dpblk (docs/driver-vm.md), and the driver VM's
 * dataport_sata_backend answers them.
 *
 * A guest request becomes one or more protocol requests of at most one
 * slot each (write data copied from the guest into the slot, read data
 * copied back from it on the answer), posted in order; when the ring is
 * full, or the driver has not announced itself in our generation yet,
 * requests wait in a FIFO.  Many requests are in flight at once and the
 * guest's vCPU never waits: everything is asynchronous, driven by the
 * driver's doorbell (an eventfd in the daemon's loop) and by one timerfd
 * for the timeout.  A request that the driver does not answer within the
 * timeout (the driver is gone, or never came) fails with IOERR; its ring
 * entry stays reserved until the driver answers it or a new generation
 * starts, so a late answer can never be taken for another request's.
 * The capacity is the driver's (the real size of its image file): 0 until
 * it first answers, then announced to the front-end with a config change.
 *
 * Trust: the driver VM is not trusted.  Its header fields and responses
 * are read once and checked (dpb_pending, dpb_check_rsp); a response that
 * does not fit what we asked fails that request; indices that do not
 * make sense stop the export's data path until the driver starts again.
 * Nothing the driver writes makes us touch memory outside the dataport,
 * or more of the guest's buffers than the request gave us.
 */
#include "diskd/diskd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dpblk/dpblk.h"
#include "host/evloop.h"
#include "log.h"
#include "vhost/iov.h"

/* One ring entry we posted. */
struct dp_ent {
	struct blk_req *r;	/* NULL: free, or answered */
	uint64_t id;
	uint64_t off;		/* into the request's data */
	uint32_t len;
	uint32_t op;
	uint64_t posted_ms;
	bool abandoned;		/* timed out: the answer is dropped */
	bool busy;		/* posted, not answered */
};

struct blk_dp {
	struct blk_export *ex;
	int shm_fd, ev_in, ev_out, timer_fd;
	uint8_t *base;
	uint64_t size;
	struct dpb_shared *sh;
	struct dpb_layout l;
	uint32_t gen;
	uint32_t prod, cons;	/* requests posted, answers taken */
	uint64_t capacity;	/* sectors, the driver's */
	bool ready;		/* the driver follows our generation */
	bool broken;		/* until the driver starts again */
	uint32_t drv_starts;
	uint64_t timeout_ms;
	uint64_t next_id;
	struct dp_ent ent[DPB_MAX_RING];
	struct blk_req *wait_head, *wait_tail;
	uint64_t wait_since_ms;	/* when the head began to wait */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t
load32(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
ring_driver(struct blk_dp *dp)
{
	uint64_t one = 1;

	if (write(dp->ev_out, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: driver doorbell", dp->ex->name);
}

/* Fail r now (its queue reference is dropped by the caller). */
static void
req_fail(struct blk_req *r)
{
	if (!r->failed) {
		r->failed = true;
		r->fail_status = BLK_S_IOERR;
	}
}

static void
wait_push(struct blk_dp *dp, struct blk_req *r)
{
	r->next_wait = NULL;
	if (dp->wait_tail != NULL)
		dp->wait_tail->next_wait = r;
	else {
		dp->wait_head = r;
		dp->wait_since_ms = now_ms();
	}
	dp->wait_tail = r;
}

static struct blk_req *
wait_pop(struct blk_dp *dp)
{
	struct blk_req *r = dp->wait_head;

	if (r == NULL)
		return NULL;
	dp->wait_head = r->next_wait;
	if (dp->wait_head == NULL)
		dp->wait_tail = NULL;
	dp->wait_since_ms = now_ms();
	return r;
}

/* Arm the timer for the earliest deadline, or disarm it. */
static void
arm_timer(struct blk_dp *dp)
{
	uint64_t first = UINT64_MAX, now = now_ms();

	if (dp->wait_head != NULL)
		first = dp->wait_since_ms;
	for (uint32_t k = dp->cons; k != dp->prod; k++) {
		struct dp_ent *e = &dp->ent[k & (dp->l.ring_size - 1)];

		if (e->busy && !e->abandoned && e->posted_ms < first)
			first = e->posted_ms;
	}
	if (first == UINT64_MAX) {
		ev_timer_arm(dp->timer_fd, 0);
		return;
	}
	first += dp->timeout_ms;
	ev_timer_arm(dp->timer_fd, first > now ? first - now : 1);
}

/*
 * Post what waits while the driver follows us and the ring has room;
 * ring the driver once for the batch.
 */
static void
pump(struct blk_dp *dp)
{
	uint32_t start = dp->prod;

	while (dp->ready && !dp->broken && dp->wait_head != NULL &&
	    dp->prod - dp->cons < dp->l.ring_size) {
		struct blk_req *r = dp->wait_head;
		uint32_t k = dp->prod;
		struct dp_ent *e = &dp->ent[k & (dp->l.ring_size - 1)];
		struct dpb_req *q = dpb_req_at(dp->base, &dp->l, k);
		struct dpb_req w;

		memset(&w, 0, sizeof(w));
		w.id = ++dp->next_id;
		if (r->op == BLK_OP_FLUSH || r->done == r->len) {
			/* A flush, or the flush after a write-through write. */
			w.op = DPB_OP_FLUSH;
		} else {
			uint64_t n = r->len - r->done;

			if (n > dp->l.slot_size)
				n = dp->l.slot_size;
			w.op = r->op == BLK_OP_WRITE ? DPB_OP_WRITE :
			    DPB_OP_READ;
			w.len = (uint32_t)n;
			w.sector = r->sector + r->done / DPB_SECTOR;
			if (w.op == DPB_OP_WRITE)
				iov_to_buf(r->data_iov, r->data_n,
				    r->data_off + r->done,
				    dpb_slot_at(dp->base, &dp->l, k), n);
		}
		*e = (struct dp_ent){ r, w.id, r->done, w.len, w.op,
		    now_ms(), false, true };
		memcpy(q, &w, sizeof(w));
		blk_sub_add(r, w.len);
		dp->prod++;
		if (w.op != DPB_OP_FLUSH)
			r->done += w.len;
		/* Done posting r: a write-through write ends with a flush. */
		if (w.op == DPB_OP_FLUSH || (r->done == r->len &&
		    (r->op != BLK_OP_WRITE || r->ex->wce))) {
			wait_pop(dp);
			blk_sub_done(r, 0, false);	/* the queue's reference */
		}
	}
	if (dp->prod != start) {
		store32(&dp->sh->req_prod, dp->prod);
		ring_driver(dp);
	}
	arm_timer(dp);
}

/* Start (or restart) our generation: the driver must follow it. */
static void
gen_start(struct blk_dp *dp)
{
	uint32_t old = 0;

	if (dp->sh->magic == DPB_MAGIC)
		old = load32(&dp->sh->host_gen);
	dp->gen = old + 1 == 0 ? 1 : old + 1;
	store32(&dp->sh->host_state, 0);
	dp->sh->magic = DPB_MAGIC;
	dp->sh->version = DPB_VERSION;
	dp->sh->ring_size = dp->l.ring_size;
	dp->sh->slot_size = dp->l.slot_size;
	store32(&dp->sh->req_prod, 0);
	store32(&dp->sh->host_gen, dp->gen);
	store32(&dp->sh->host_state, 1);
	dp->prod = dp->cons = 0;
	memset(dp->ent, 0, sizeof(dp->ent));
	dp->ready = false;
	dp->broken = false;
	ring_driver(dp);
}

/* The driver's side of the header: has it (re)started, is it ready? */
static void
driver_state(struct blk_dp *dp)
{
	struct blk_export *ex = dp->ex;
	uint32_t starts = load32(&dp->sh->drv_starts);
	bool ready = load32(&dp->sh->drv_state) == 1 &&
	    load32(&dp->sh->drv_gen) == dp->gen;
	uint64_t cap;

	if (starts != dp->drv_starts) {
		if (dp->drv_starts != 0 || dp->broken)
			log_info("%s: the driver started again", ex->name);
		dp->drv_starts = starts;
		dp->broken = false;
	}
	if (ready && !dp->ready) {
		cap = __atomic_load_n(&dp->sh->capacity, __ATOMIC_ACQUIRE);
		/* The driver says; the guest sees no more than 2^53 bytes. */
		if (cap > (1ull << 44))
			cap = 1ull << 44;
		ex->ro = ex->ro || (load32(&dp->sh->drv_flags) & DPB_DRV_RO);
		log_info("%s: driver ready: %llu sectors%s", ex->name,
		    (unsigned long long)cap, ex->ro ? ", read-only" : "");
		if (cap != dp->capacity) {
			dp->capacity = cap;
			blk_capacity_changed(ex);
		}
	}
	dp->ready = ready;
}

/* Take the driver's answers. */
static void
answers(struct blk_dp *dp)
{
	uint32_t rp = load32(&dp->sh->rsp_prod), n, sent;
	const char *why = NULL;

	if (dpb_pending(rp, dp->cons, dp->l.ring_size, &n, &why) < 0 ||
	    dpb_pending(dp->prod, dp->cons, dp->l.ring_size, &sent,
	    &why) < 0 || n > sent) {
		if (!dp->broken)
			log_warnx("%s: driver's answer index refused (%s): "
			    "waiting for the driver to start again",
			    dp->ex->name, why != NULL ? why : "answers to "
			    "requests never sent");
		dp->broken = true;
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = dp->cons;
		struct dp_ent *e = &dp->ent[k & (dp->l.ring_size - 1)];
		struct dpb_rsp rsp;
		struct dpb_req sent_req = { .id = e->id, .op = e->op,
		    .len = e->len };
		struct blk_req *r = e->r;
		int res;

		memcpy(&rsp, dpb_rsp_at(dp->base, &dp->l, k), sizeof(rsp));
		dp->cons++;
		e->busy = false;
		e->r = NULL;
		if (r == NULL || e->abandoned)
			continue;	/* timed out: the guest has its error */
		if (dpb_check_rsp(&rsp, &sent_req, &why) < 0) {
			log_warnx("%s: driver's answer refused: %s",
			    dp->ex->name, why);
			res = -EPROTO;
		} else if (rsp.status != DPB_S_OK) {
			log_debug("%s: driver answered status %u",
			    dp->ex->name, rsp.status);
			res = -EIO;
		} else {
			if (e->op == DPB_OP_READ)
				iov_from_buf(r->data_iov, r->data_n,
				    r->data_off + e->off,
				    dpb_slot_at(dp->base, &dp->l, k), e->len);
			res = (int)e->len;
		}
		blk_sub_done(r, res, true);
	}
}

static void
doorbell_cb(void *arg, int fd, uint32_t events)
{
	struct blk_dp *dp = arg;

	ev_drain(fd);
	driver_state(dp);
	if (!dp->broken)
		answers(dp);
	pump(dp);
	blk_notify_all(dp->ex->dd);
	vu_dev_check_fault(&dp->ex->dev);
}

/* Requests the driver did not answer in time fail. */
static void
timer_cb(void *arg, int fd, uint32_t events)
{
	struct blk_dp *dp = arg;
	uint64_t now = now_ms();
	unsigned failed = 0;

	ev_drain(fd);
	for (uint32_t k = dp->cons; k != dp->prod; k++) {
		struct dp_ent *e = &dp->ent[k & (dp->l.ring_size - 1)];

		if (!e->busy || e->abandoned || e->r == NULL ||
		    now < e->posted_ms + dp->timeout_ms)
			continue;
		e->abandoned = true;
		blk_sub_done(e->r, -ETIMEDOUT, true);
		e->r = NULL;
		failed++;
	}
	while (dp->wait_head != NULL &&
	    now >= dp->wait_since_ms + dp->timeout_ms) {
		struct blk_req *r = wait_pop(dp);

		req_fail(r);
		blk_sub_done(r, 0, false);	/* the queue's reference */
		failed++;
	}
	if (failed > 0)
		log_warnx("%s: %u request%s not answered by the driver in %llu "
		    "s: I/O error", dp->ex->name, failed, failed == 1 ? "" :
		    "s", (unsigned long long)(dp->timeout_ms / 1000));
	arm_timer(dp);
	blk_notify_all(dp->ex->dd);
}

static int
dp_rw(struct blk_req *r, bool write, uint64_t sector,
    const struct iovec *iov, unsigned n, size_t off, uint64_t len)
{
	struct blk_dp *dp = r->ex->dp;
	uint64_t ns = len / DPB_SECTOR;

	if (sector > dp->capacity || ns > dp->capacity - sector) {
		log_debug("%s: sectors %llu+%llu outside the disk (%llu)",
		    r->ex->name, (unsigned long long)sector,
		    (unsigned long long)ns, (unsigned long long)dp->capacity);
		r->written = 1;
		return BLK_S_IOERR;
	}
	r->op = write ? BLK_OP_WRITE : BLK_OP_READ;
	r->sector = sector;
	r->len = len;
	r->done = 0;
	r->data_iov = iov;
	r->data_n = n;
	r->data_off = off;
	if (len == 0 && (!write || r->ex->wce))
		return BLK_S_OK;
	blk_sub_add(r, 0);	/* held while it waits to be posted */
	wait_push(dp, r);
	pump(dp);
	return BLK_S_OK;
}

static int
dp_flush(struct blk_req *r)
{
	struct blk_dp *dp = r->ex->dp;

	r->op = BLK_OP_FLUSH;
	r->len = r->done = 0;
	blk_sub_add(r, 0);
	wait_push(dp, r);
	pump(dp);
	return BLK_S_OK;
}

static uint64_t
dp_features(const struct blk_export *ex)
{
	return 0;	/* no DISCARD / WRITE_ZEROES over the protocol */
}

static uint64_t
dp_capacity(const struct blk_export *ex)
{
	return ex->dp != NULL ? ex->dp->capacity : 0;
}

const struct blk_store_ops blk_store_dp = {
	.kind = "dataport",
	.features = dp_features,
	.capacity = dp_capacity,
	.rw = dp_rw,
	.flush = dp_flush,
	.discard = NULL,
};

int
blk_dp_open(struct blk_export *ex, const struct blk_dp_args *a)
{
	struct blk_dp *dp;
	struct stat st;
	const char *why = NULL;

	if (fstat(a->shm_fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return -1;
	}
	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return -1;
	dp->ex = ex;
	dp->shm_fd = a->shm_fd;
	dp->ev_in = a->ev_in;
	dp->ev_out = a->ev_out;
	dp->size = (uint64_t)st.st_size;
	dp->timeout_ms = (uint64_t)(a->timeout_s ? a->timeout_s : 60) * 1000;
	if (dpb_layout(dp->size, a->slot_size, &dp->l, &why) < 0) {
		log_warnx("%s: dataport of %llu bytes: %s", ex->name,
		    (unsigned long long)dp->size, why);
		free(dp);
		errno = EINVAL;
		return -1;
	}
	dp->base = mmap(NULL, dp->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    a->shm_fd, 0);
	if (dp->base == MAP_FAILED) {
		free(dp);
		return -1;
	}
	dp->sh = (struct dpb_shared *)dp->base;
	dp->timer_fd = ev_timer_new();
	if (dp->timer_fd < 0 ||
	    ex->dd->loop.watch(ex->dd->loop.loop, dp->ev_in, doorbell_cb,
	    dp) < 0 ||
	    ex->dd->loop.watch(ex->dd->loop.loop, dp->timer_fd, timer_cb,
	    dp) < 0) {
		if (dp->timer_fd >= 0)
			close(dp->timer_fd);
		munmap(dp->base, dp->size);
		free(dp);
		return -1;
	}
	ex->dp = dp;
	dp->drv_starts = load32(&dp->sh->drv_starts);
	gen_start(dp);
	log_info("%s: dataport of %llu bytes: %u slots of %u bytes, "
	    "generation %u; waiting for the driver", ex->name,
	    (unsigned long long)dp->size, dp->l.ring_size, dp->l.slot_size,
	    dp->gen);
	/* A driver that runs already answers the doorbell we just rang. */
	return 0;
}

void
blk_dp_close(struct blk_export *ex)
{
	struct blk_dp *dp = ex->dp;

	if (dp == NULL)
		return;
	ex->dd->loop.unwatch(ex->dd->loop.loop, dp->ev_in);
	ex->dd->loop.unwatch(ex->dd->loop.loop, dp->timer_fd);
	close(dp->timer_fd);
	munmap(dp->base, dp->size);
	free(dp);
	ex->dp = NULL;
}
