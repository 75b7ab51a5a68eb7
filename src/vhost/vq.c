/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vq: see vq.h.  Everything read from the rings is read once into a
 * local (the guest may change it concurrently) and checked there; the
 * only guest addresses ever dereferenced are those vu_mem_gpa() returned.
 */
#include "vhost/vq.h"

#include <errno.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio rings are little-endian; only little-endian hosts supported"
#endif

static uint16_t
load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint16_t
load16_acquire(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void *
ring_ptr(const struct vu_mem *mem, uint64_t gpa, uint64_t len)
{
	uint64_t got = len;
	void *p = vu_mem_gpa(mem, gpa, &got);

	if (p == NULL || got != len)
		return NULL;
	return p;
}

int
vq_set_rings(struct vq *q, const struct vu_mem *mem, unsigned num,
    uint64_t desc, uint64_t avail, uint64_t used)
{
	void *d, *a, *u;

	if (num == 0 || num > VQ_MAX_NUM || (num & (num - 1)) != 0)
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	d = ring_ptr(mem, desc, 16ull * num);
	a = ring_ptr(mem, avail, 6ull + 2ull * num);
	u = ring_ptr(mem, used, 6ull + 8ull * num);
	if (d == NULL || a == NULL || u == NULL)
		return -EFAULT;
	/*
	 * The gpas are aligned; the host pointers need not be: a region's
	 * mapping is as aligned as the front-end's mmap_offset.  Refused,
	 * as every ring access would be a misaligned one.
	 */
	if (((uintptr_t)d & 15) || ((uintptr_t)a & 1) || ((uintptr_t)u & 3))
		return -EINVAL;
	q->mem = mem;
	q->num = num;
	q->desc = d;
	q->avail = a;
	q->used = u;
	return 0;
}

static void
inflight_recover(struct vq *q, uint16_t *buf)
{
	struct vq_inflight *inf = q->inflight;
	unsigned i, j, inuse = 0;

	/* Crash between publishing used->idx and clearing the record. */
	if (inf->used_idx != q->used_idx) {
		/* Front-end-writable memory: read the index once, then check. */
		uint16_t last = __atomic_load_n(&inf->last_batch_head,
		    __ATOMIC_RELAXED);

		if (last < q->num)
			inf->desc[last].inflight = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		inf->used_idx = q->used_idx;
	}
	q->counter = 0;
	for (i = 0; i < q->num; i++) {
		uint64_t counter;

		if (__atomic_load_n(&inf->desc[i].inflight,
		    __ATOMIC_RELAXED) != 1)
			continue;
		counter = __atomic_load_n(&inf->desc[i].counter,
		    __ATOMIC_RELAXED);
		if (counter > q->counter)
			q->counter = counter;
		/*
		 * Insertion sort by submission order (counter).  Only the
		 * order depends on what the front-end writes here; every
		 * index is ours and below q->num.
		 */
		for (j = inuse; j > 0 &&
		    inf->desc[buf[j - 1]].counter > counter; j--)
			buf[j] = buf[j - 1];
		buf[j] = (uint16_t)i;
		inuse++;
	}
	q->resubmit = buf;
	q->nresubmit = inuse;
	q->resubmit_pos = 0;
	/* Every popped request is either in used or still in flight. */
	q->last_avail = (uint16_t)(q->used_idx + inuse);
}

int
vq_start(struct vq *q, uint16_t *resubmit_buf)
{
	q->used_idx = load16_acquire(&q->used->idx);
	q->signalled_valid = false;
	q->broken = false;
	q->nresubmit = q->resubmit_pos = 0;
	/* A back-end before us may have left kicks turned off. */
	if (__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
	    VQ_USED_F_NO_NOTIFY)
		__atomic_store_n(&q->used->flags, 0, __ATOMIC_RELAXED);
	if (q->inflight != NULL && q->inflight->desc_num != q->num) {
		q->inflight = NULL;
		q->avail_shadow = q->last_avail;
		return -EINVAL;
	}
	if (q->inflight != NULL)
		inflight_recover(q, resubmit_buf);
	q->avail_shadow = q->pf_desc = q->pf_buf = q->last_avail;
	return 0;
}

static int
add_iov(struct vq *q, struct vq_chain *c, const struct vq_desc *d)
{
	uint64_t gpa = d->addr, left = d->len;

	while (left > 0) {
		uint64_t got = left;
		void *p;

		if (c->nout + c->nin >= VQ_MAX_IOV)
			return -E2BIG;
		p = vu_mem_gpa(q->mem, gpa, &got);
		if (p == NULL)
			return -EFAULT;
		c->iov[c->nout + c->nin].iov_base = p;
		c->iov[c->nout + c->nin].iov_len = (size_t)got;
		if (d->flags & VQ_DESC_F_WRITE) {
			c->nin++;
			c->in_len += got;
		} else {
			c->nout++;
			c->out_len += got;
		}
		gpa += got;
		left -= got;
	}
	return 0;
}

int
vq_walk(struct vq *q, uint16_t head, struct vq_chain *c)
{
	const struct vq_desc *table = q->desc;
	unsigned table_num = q->num, count = 0, i = head;
	bool in_indirect = false;
	struct vq_desc d;
	int r;

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	c->ndesc = 0;
	c->max_len = 0;
	for (;;) {
		if (i >= table_num)
			return -EINVAL;
		/* More descriptors than the table holds: a loop. */
		if (++count > table_num)
			return -ELOOP;
		memcpy(&d, &table[i], sizeof(d));
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (d.flags & VQ_DESC_F_INDIRECT) {
			uint64_t len = d.len;

			/* Only as the head; never nested or chained on. */
			if (!q->indirect || in_indirect || count != 1 ||
			    (d.flags & VQ_DESC_F_NEXT) || d.len == 0 ||
			    d.len % sizeof(struct vq_desc) != 0 ||
			    d.len / sizeof(struct vq_desc) > VQ_MAX_NUM)
				return -EINVAL;
			table = vu_mem_gpa(q->mem, d.addr, &len);
			if (table == NULL || len != d.len)
				return -EFAULT;
			table_num = d.len / sizeof(struct vq_desc);
			in_indirect = true;
			count = 0;
			i = 0;
			continue;
		}
		if (d.len == 0)
			return -EINVAL;
		/* Readable after writable is a driver bug (virtio 2.7.4.2). */
		if (!(d.flags & VQ_DESC_F_WRITE) && c->nin > 0)
			return -EINVAL;
		if ((r = add_iov(q, c, &d)) < 0)
			return r;
		c->ndesc++;
		if (d.len > c->max_len)
			c->max_len = d.len;
		if (!(d.flags & VQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

/*
 * How many chains the driver has published past last_avail.  Chains up
 * to the index read last time need no new read (the acquire then covers
 * their ring entries and descriptors too); avail->idx is read again once
 * they are used up.  -EINVAL: the guest published more than the ring
 * holds (the index is not kept).
 */
static int
avail_ahead(struct vq *q)
{
	uint16_t n = (uint16_t)(q->avail_shadow - q->last_avail), idx;

	if (n != 0 && n <= q->num)
		return n;
	idx = load16_acquire(&q->avail->idx);
	n = (uint16_t)(idx - q->last_avail);
	if (n > q->num)
		return -EINVAL;
	q->avail_shadow = idx;
	return n;
}

int
vq_pop(struct vq *q, struct vq_chain *c)
{
	uint16_t head;
	int r;

	if (q->broken || q->num == 0)
		return -EIO;
	if (q->resubmit_pos < q->nresubmit) {
		head = q->resubmit[q->resubmit_pos++];
		if ((r = vq_walk(q, head, c)) < 0)
			goto broken;
		return 1;
	}
	if ((r = avail_ahead(q)) <= 0) {
		if (r < 0)
			goto broken;
		return 0;
	}
	head = load16(&q->avail->ring[q->last_avail & (q->num - 1)]);
	if ((r = vq_walk(q, head, c)) < 0)
		goto broken;
	if (q->inflight != NULL) {
		q->inflight->desc[head].counter = ++q->counter;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		q->inflight->desc[head].inflight = 1;
	}
	q->last_avail++;
	return 1;
broken:
	q->broken = true;
	return r;
}

void
vq_push(struct vq *q, uint16_t head, uint32_t len)
{
	struct vq_used_elem *e = &q->used->ring[q->used_idx & (q->num - 1)];
	struct vq_inflight *inf = q->inflight;

	e->id = head;
	e->len = len;
	if (inf != NULL)
		inf->last_batch_head = head;
	q->used_idx++;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	if (inf != NULL && head < q->num) {
		inf->desc[head].inflight = 0;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		inf->used_idx = q->used_idx;
	}
}

void
vq_push_n(struct vq *q, const uint16_t *heads, const uint32_t *lens,
    unsigned n)
{
	struct vq_inflight *inf = q->inflight;

	for (unsigned i = 0; i < n; i++) {
		struct vq_used_elem *e =
		    &q->used->ring[(uint16_t)(q->used_idx + i) & (q->num - 1)];

		e->id = heads[i];
		e->len = lens[i];
		if (inf != NULL)
			inf->last_batch_head = heads[i];
	}
	q->used_idx = (uint16_t)(q->used_idx + n);
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	if (inf != NULL) {
		for (unsigned i = 0; i < n; i++)
			if (heads[i] < q->num)
				inf->desc[heads[i]].inflight = 0;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		inf->used_idx = q->used_idx;
	}
}

void
vq_unpop(struct vq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

bool
vq_need_notify(struct vq *q)
{
	uint16_t old, new, event;
	bool valid;

	/* Our used->idx store must be visible before we read the guest's. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!q->event_idx)
		return !(load16(&q->avail->flags) & VQ_AVAIL_F_NO_INTERRUPT);
	old = q->signalled_used;
	valid = q->signalled_valid;
	new = q->signalled_used = q->used_idx;
	q->signalled_valid = true;
	event = load16(&q->avail->ring[q->num]);
	if (!valid)
		return true;
	/* virtio 1.2 2.7.10: notify if event is in (old, new]. */
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

bool
vq_rearm(struct vq *q)
{
	uint16_t *avail_event;

	if (q->broken || q->num == 0)
		return false;
	if (!q->event_idx) {
		if (__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
		    VQ_USED_F_NO_NOTIFY) {
			__atomic_store_n(&q->used->flags, 0, __ATOMIC_RELAXED);
			/* Flag cleared before we look at avail->idx. */
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		}
		return load16_acquire(&q->avail->idx) != q->last_avail;
	}
	avail_event = (uint16_t *)(void *)((uint8_t *)q->used + 4 +
	    8 * (size_t)q->num);
	__atomic_store_n(avail_event, q->last_avail, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16_acquire(&q->avail->idx) != q->last_avail;
}

void
vq_kicks_off(struct vq *q)
{
	if (q->broken || q->num == 0 || q->event_idx)
		return;
	if (!(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) &
	    VQ_USED_F_NO_NOTIFY))
		__atomic_store_n(&q->used->flags, VQ_USED_F_NO_NOTIFY,
		    __ATOMIC_RELAXED);
}

/*
 * PREFETCHW (fetch a line for writing: one transfer instead of a shared
 * copy and then an upgrade) is in every x86-64 CPU since Broadwell, and
 * a no-op hint on the ones before.
 */
#if defined(__x86_64__)
#define PREFETCH_W(p)	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)(p)))
#else
#define PREFETCH_W(p)	__builtin_prefetch((p), 1)
#endif

/* Where a prefetch cursor is: behind last_avail (or lost) means at it. */
static uint16_t
pf_from(const struct vq *q, uint16_t pf)
{
	return (uint16_t)(pf - q->last_avail) > q->num ? q->last_avail : pf;
}

/* Ring index i comes before end (both within a ring of num from here). */
static bool
pf_before(const struct vq *q, uint16_t i, uint16_t end)
{
	return (uint16_t)(end - i) - 1u < q->num;
}

void
vq_prefetch(struct vq *q, unsigned ndesc, unsigned nbuf, bool write)
{
	uint16_t head, i, end;
	struct vq_desc d;
	int ahead;

	/* A bad avail->idx is left for vq_pop() to find and report. */
	if (q->broken || q->num == 0 || (ahead = avail_ahead(q)) <= 0)
		return;
	if (ndesc > (unsigned)ahead)
		ndesc = (unsigned)ahead;
	if (nbuf > ndesc)
		nbuf = ndesc;
	/* Each entry once: the cursors remember how far we got. */
	end = (uint16_t)(q->last_avail + ndesc);
	for (i = pf_from(q, q->pf_desc); pf_before(q, i, end); i++) {
		head = load16(&q->avail->ring[i & (q->num - 1)]);
		if (head < q->num)
			__builtin_prefetch(&q->desc[head], 0);
	}
	q->pf_desc = end;
	end = (uint16_t)(q->last_avail + nbuf);
	for (i = pf_from(q, q->pf_buf); pf_before(q, i, end); i++) {
		uint64_t len;
		void *p;

		/*
		 * Near ones: the descriptor is in by now, fetch the lines of
		 * the first 128 bytes of its buffer (a virtio-net header
		 * before a frame commonly straddles two lines).
		 */
		head = load16(&q->avail->ring[i & (q->num - 1)]);
		if (head >= q->num)
			continue;
		memcpy(&d, &q->desc[head], sizeof(d));
		len = d.len < 128 ? d.len : 128;
		if ((d.flags & VQ_DESC_F_INDIRECT) || len == 0 ||
		    (p = vu_mem_gpa(q->mem, d.addr, &len)) == NULL)
			continue;
		/* Each line holding a byte of [p, p + len). */
		for (uintptr_t l = (uintptr_t)p & ~(uintptr_t)63;
		    l < (uintptr_t)p + len; l += 64) {
			if (write)
				PREFETCH_W((const void *)l);
			else
				__builtin_prefetch((const void *)l, 0);
		}
	}
	q->pf_buf = end;
	/* The used entries we write next (8 to a line). */
	PREFETCH_W(&q->used->ring[(uint16_t)(q->used_idx + 8) & (q->num - 1)]);
}

void
vq_reset(struct vq *q)
{
	const struct vu_mem *mem = q->mem;

	memset(q, 0, sizeof(*q));
	q->mem = mem;
}
