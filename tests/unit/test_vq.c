/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the split-virtqueue walker (src/vhost/vq.c) on synthetic
 * rings: guest memory is two plain buffers registered as two regions, so
 * that ranges outside guest memory and ranges spanning regions can be
 * built exactly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vhost/iov.h"
#include "vhost/vq.h"

#define QN	8
#define R0_GPA	0x10000ull	/* region 0: [64K, 128K) */
#define R1_GPA	0x20000ull	/* region 1: [128K, 192K), contiguous gpa */
#define RSIZE	0x10000ull
#define DESC	(R0_GPA)
#define AVAIL	(R0_GPA + 0x1000)
#define USED	(R0_GPA + 0x2000)
#define DATA	(R0_GPA + 0x4000)
#define ITABLE	(R0_GPA + 0x8000)

struct fx {
	uint8_t *r0, *r1;
	struct vu_mem mem;
	struct vq q;
	struct vq_chain c;
};

static void *
host(struct fx *f, uint64_t gpa)
{
	if (gpa >= R1_GPA)
		return f->r1 + (gpa - R1_GPA);
	return f->r0 + (gpa - R0_GPA);
}

static struct vq_desc *
desc(struct fx *f, unsigned i)
{
	return (struct vq_desc *)host(f, DESC) + i;
}

static void
set_desc(struct vq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Make head available as the next avail entry. */
static void
offer(struct fx *f, uint16_t head)
{
	struct vq_avail *a = host(f, AVAIL);

	a->ring[a->idx % QN] = head;
	a->idx++;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->r0 = calloc(1, RSIZE);
	f->r1 = calloc(1, RSIZE);
	f->mem.n = 2;
	f->mem.r[0] = (struct vu_mem_region){ .gpa = R0_GPA, .size = RSIZE,
	    .uaddr = 0x7f0000000000ull, .host = f->r0 };
	f->mem.r[1] = (struct vu_mem_region){ .gpa = R1_GPA, .size = RSIZE,
	    .uaddr = 0x7f0000010000ull, .host = f->r1 };
	assert_int_equal(vq_set_rings(&f->q, &f->mem, QN, DESC, AVAIL, USED),
	    0);
	f->q.indirect = true;
	assert_int_equal(vq_start(&f->q, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	free(f->r0);
	free(f->r1);
	free(f);
	return 0;
}

static void
test_mem_accessor(void **state)
{
	struct fx *f = *state;
	uint64_t len;

	len = 16;
	assert_ptr_equal(vu_mem_gpa(&f->mem, R0_GPA + 5, &len), f->r0 + 5);
	assert_int_equal(len, 16);
	/* Spanning the region boundary: only the contiguous part. */
	len = 100;
	assert_ptr_equal(vu_mem_gpa(&f->mem, R1_GPA - 10, &len),
	    f->r0 + RSIZE - 10);
	assert_int_equal(len, 10);
	len = 1;
	assert_null(vu_mem_gpa(&f->mem, R0_GPA - 1, &len));
	assert_int_equal(errno, EFAULT);
	len = 1;
	assert_null(vu_mem_gpa(&f->mem, R1_GPA + RSIZE, &len));
	len = 0;
	assert_null(vu_mem_gpa(&f->mem, R0_GPA, &len));
	assert_int_equal(errno, EINVAL);
}

static void
test_mem_check(void **state)
{
	struct fx *f = *state;
	struct vu_mem m = f->mem;

	assert_int_equal(vu_mem_check(&m), 0);
	m.r[1].gpa = R0_GPA + RSIZE - 1;	/* overlaps region 0 */
	assert_int_equal(vu_mem_check(&m), -1);
	m = f->mem;
	m.r[1].uaddr = m.r[0].uaddr + 4096;
	assert_int_equal(vu_mem_check(&m), -1);
	m = f->mem;
	m.r[0].gpa = UINT64_MAX - 100;		/* wraps */
	assert_int_equal(vu_mem_check(&m), -1);
	m = f->mem;
	m.r[0].size = 0;
	assert_int_equal(vu_mem_check(&m), -1);
	m.n = 0;
	assert_int_equal(vu_mem_check(&m), -1);
}

/*
 * Rings at aligned guest addresses in a region whose host mapping is not
 * aligned the same way (a front-end's odd mmap_offset): the host pointers
 * would be misaligned, so the rings are refused (found by
 * tests/fuzz/fuzz_vu: UBSan, misaligned struct vq_used).
 */
static void
test_set_rings_host_alignment(void **state)
{
	struct fx *f = *state;
	struct vu_mem m = f->mem;
	struct vq q;

	m.r[0].host = f->r0 + 1;
	memset(&q, 0, sizeof(q));
	assert_int_equal(vq_set_rings(&q, &m, QN, DESC, AVAIL, USED), -EINVAL);
	assert_int_equal(q.num, 0);
	/* Misaligned by 2: the avail ring would do, not the others. */
	m.r[0].host = f->r0 + 2;
	assert_int_equal(vq_set_rings(&q, &m, QN, DESC, AVAIL, USED), -EINVAL);
	m.r[0].host = f->r0 + 16;
	assert_int_equal(vq_set_rings(&q, &m, QN, DESC, AVAIL, USED), 0);
}

static void
test_set_rings(void **state)
{
	struct fx *f = *state;
	struct vq q;

	memset(&q, 0, sizeof(q));
	assert_int_equal(vq_set_rings(&q, &f->mem, 6, DESC, AVAIL, USED),
	    -EINVAL);
	assert_int_equal(vq_set_rings(&q, &f->mem, 0, DESC, AVAIL, USED),
	    -EINVAL);
	assert_int_equal(vq_set_rings(&q, &f->mem, QN, 0x1000, AVAIL, USED),
	    -EFAULT);
	/* Used ring running off the end of guest memory. */
	assert_int_equal(vq_set_rings(&q, &f->mem, QN, DESC, AVAIL,
	    R1_GPA + RSIZE - 16), -EFAULT);
	/* A descriptor table spanning two regions is not contiguous. */
	assert_int_equal(vq_set_rings(&q, &f->mem, QN, R1_GPA - 64, AVAIL,
	    USED), -EFAULT);
}

static void
test_simple_chain(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), DATA + 16, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE,
	    2);
	set_desc(desc(f, 2), DATA + 528, 1, VQ_DESC_F_WRITE, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 0);
	assert_int_equal(f->c.nout, 1);
	assert_int_equal(f->c.nin, 2);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.in_len, 513);
	assert_ptr_equal(f->c.iov[1].iov_base, host(f, DATA + 16));
	assert_int_equal(vq_pop(&f->q, &f->c), 0);
	vq_push(&f->q, 0, 513);
	assert_int_equal(((struct vq_used *)host(f, USED))->idx, 1);
	assert_int_equal(((struct vq_used *)host(f, USED))->ring[0].len, 513);
}

static void
test_split_header(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 3), DATA, 4, VQ_DESC_F_NEXT, 5);
	set_desc(desc(f, 5), DATA + 100, 4, VQ_DESC_F_NEXT, 7);
	set_desc(desc(f, 7), DATA + 200, 8, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), DATA + 300, 1, VQ_DESC_F_WRITE, 0);
	offer(f, 3);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nout, 3);
	assert_int_equal(f->c.out_len, 16);
	assert_int_equal(f->c.nin, 1);
}

static void
test_region_spanning(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), R1_GPA - 8, 24, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), R1_GPA + 100, 1, VQ_DESC_F_WRITE, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nout, 2);
	assert_ptr_equal(f->c.iov[0].iov_base, f->r0 + RSIZE - 8);
	assert_int_equal(f->c.iov[0].iov_len, 8);
	assert_ptr_equal(f->c.iov[1].iov_base, f->r1);
	assert_int_equal(f->c.iov[1].iov_len, 16);
}

static void
expect_broken(struct fx *f, int err)
{
	assert_int_equal(vq_pop(&f->q, &f->c), err);
	assert_true(f->q.broken);
	/* A broken queue stays broken. */
	assert_int_equal(vq_pop(&f->q, &f->c), -EIO);
}

static void
test_loop(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), DATA, 16, VQ_DESC_F_NEXT, 0);
	offer(f, 0);
	expect_broken(f, -ELOOP);
}

static void
test_self_loop(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 2), DATA, 16, VQ_DESC_F_NEXT, 2);
	offer(f, 2);
	expect_broken(f, -ELOOP);
}

static void
test_longest_chain(void **state)
{
	struct fx *f = *state;
	unsigned i;

	/* Exactly QN descriptors is legal. */
	for (i = 0; i < QN; i++)
		set_desc(desc(f, i), DATA + i * 16, 16,
		    i + 1 < QN ? VQ_DESC_F_NEXT : VQ_DESC_F_WRITE, i + 1);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.nout + f->c.nin, QN);
}

static void
test_zero_length(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), DATA, 0, VQ_DESC_F_WRITE, 0);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

static void
test_outside_memory(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(desc(f, 1), R1_GPA + RSIZE - 4, 8, VQ_DESC_F_WRITE, 0);
	offer(f, 0);
	expect_broken(f, -EFAULT);
}

static void
test_huge_address(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), UINT64_MAX - 3, 16, 0, 0);
	offer(f, 0);
	expect_broken(f, -EFAULT);
}

static void
test_readable_after_writable(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 1, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 1);
	set_desc(desc(f, 1), DATA, 16, 0, 0);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

static void
test_next_out_of_range(void **state)
{
	struct fx *f = *state;

	set_desc(desc(f, 0), DATA, 16, VQ_DESC_F_NEXT, QN);
	offer(f, 0);
	expect_broken(f, -EINVAL);
}

static void
test_head_out_of_range(void **state)
{
	struct fx *f = *state;

	offer(f, QN + 3);
	expect_broken(f, -EINVAL);
}

static void
test_avail_jump(void **state)
{
	struct fx *f = *state;
	struct vq_avail *a = host(f, AVAIL);

	set_desc(desc(f, 0), DATA, 16, 0, 0);
	a->idx = QN;		/* a full ring is still legal */
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	a->idx = (uint16_t)(QN + QN + 1);
	/* The chains of the index read before are popped without reading
	 * it again; the jump is caught at the next read. */
	while (f->q.last_avail != QN)
		assert_int_equal(vq_pop(&f->q, &f->c), 1);
	expect_broken(f, -EINVAL);
}

static void
test_indirect(void **state)
{
	struct fx *f = *state;
	struct vq_desc *t = host(f, ITABLE);

	set_desc(&t[0], DATA, 8, VQ_DESC_F_NEXT, 1);
	set_desc(&t[1], DATA + 8, 8, VQ_DESC_F_NEXT, 2);
	set_desc(&t[2], DATA + 16, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 3);
	set_desc(&t[3], DATA + 8192, 1, VQ_DESC_F_WRITE, 0);
	set_desc(desc(f, 4), ITABLE, 4 * 16, VQ_DESC_F_INDIRECT, 0);
	offer(f, 4);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 4);
	assert_int_equal(f->c.nout, 2);
	assert_int_equal(f->c.nin, 2);
	assert_int_equal(f->c.in_len, 4097);
}

static void
test_indirect_refused(void **state)
{
	struct fx *f = *state;
	struct vq_desc *t = host(f, ITABLE);
	struct vq_desc bad[] = {
		{ ITABLE, 4 * 16, VQ_DESC_F_INDIRECT | VQ_DESC_F_NEXT, 1 },
		{ ITABLE, 20, VQ_DESC_F_INDIRECT, 0 },
		{ ITABLE, 0, VQ_DESC_F_INDIRECT, 0 },
		{ R1_GPA + RSIZE - 32, 64, VQ_DESC_F_INDIRECT, 0 },
	};
	unsigned i;

	set_desc(&t[0], DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(&t[1], DATA, 1, VQ_DESC_F_WRITE, 0);
	/* A second table at t[2]: entries 0 and 1 point at each other. */
	set_desc(&t[2], DATA, 16, VQ_DESC_F_NEXT, 1);
	set_desc(&t[3], DATA, 16, VQ_DESC_F_NEXT, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f->q.broken = false;
		*desc(f, 0) = bad[i];
		offer(f, 0);
		assert_true(vq_pop(&f->q, &f->c) < 0);
		assert_true(f->q.broken);
		f->q.last_avail++;
	}
	/* Looping inside the indirect table. */
	f->q.broken = false;
	set_desc(desc(f, 0), ITABLE + 32, 32, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), -ELOOP);
	f->q.last_avail++;
	/* Nested indirect. */
	f->q.broken = false;
	set_desc(&t[0], ITABLE, 32, VQ_DESC_F_INDIRECT, 0);
	set_desc(desc(f, 0), ITABLE, 32, VQ_DESC_F_INDIRECT, 0);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), -EINVAL);
	f->q.last_avail++;
	/* Not negotiated. */
	f->q.broken = false;
	f->q.indirect = false;
	set_desc(&t[0], DATA, 16, VQ_DESC_F_NEXT, 1);
	offer(f, 0);
	assert_int_equal(vq_pop(&f->q, &f->c), -EINVAL);
}

/* Kicks off while draining: NO_NOTIFY without EVENT_IDX, off at rearm. */
static void
test_kicks_off(void **state)
{
	struct fx *f = *state;
	struct vq_used *u = host(f, USED);

	vq_kicks_off(&f->q);
	assert_int_equal(u->flags, VQ_USED_F_NO_NOTIFY);
	assert_false(vq_rearm(&f->q));
	assert_int_equal(u->flags, 0);
	/* With EVENT_IDX the flag is never set (avail_event does it). */
	f->q.event_idx = true;
	vq_kicks_off(&f->q);
	assert_int_equal(u->flags, 0);
	/* A restart clears a flag a previous back-end left set. */
	f->q.event_idx = false;
	vq_kicks_off(&f->q);
	assert_int_equal(vq_start(&f->q, NULL), 0);
	assert_int_equal(u->flags, 0);
}

static void
test_notify(void **state)
{
	struct fx *f = *state;
	struct vq_avail *a = host(f, AVAIL);
	uint16_t ev;

	/* Without EVENT_IDX: the NO_INTERRUPT flag decides. */
	vq_push(&f->q, 0, 0);
	assert_true(vq_need_notify(&f->q));
	a->flags = VQ_AVAIL_F_NO_INTERRUPT;
	vq_push(&f->q, 0, 0);
	assert_false(vq_need_notify(&f->q));
	/* With EVENT_IDX: notify when used crosses used_event. */
	f->q.event_idx = true;
	assert_true(vq_need_notify(&f->q));	/* first one always */
	a->ring[QN] = 5;			/* used_event */
	vq_push(&f->q, 0, 0);			/* used idx 3 */
	assert_false(vq_need_notify(&f->q));
	vq_push(&f->q, 0, 0);
	vq_push(&f->q, 0, 0);
	vq_push(&f->q, 0, 0);			/* used idx 6 passes 5 */
	assert_true(vq_need_notify(&f->q));
	vq_push(&f->q, 0, 0);
	assert_false(vq_need_notify(&f->q));
	/* Re-arming publishes avail_event and sees new work. */
	assert_false(vq_rearm(&f->q));
	memcpy(&ev, (uint8_t *)host(f, USED) + 4 + 8 * QN, sizeof(ev));
	assert_int_equal(ev, f->q.last_avail);
	set_desc(desc(f, 0), DATA, 16, 0, 0);
	offer(f, 0);
	assert_true(vq_rearm(&f->q));
}

static void
test_inflight_resubmit(void **state)
{
	struct fx *f = *state;
	size_t sz = VQ_INFLIGHT_SIZE(QN);
	struct vq_inflight *inf = calloc(1, sz);
	uint16_t buf[QN];
	struct vq q2;

	inf->desc_num = QN;
	f->q.inflight = inf;
	set_desc(desc(f, 0), DATA, 16, 0, 0);
	set_desc(desc(f, 1), DATA, 16, 0, 0);
	set_desc(desc(f, 2), DATA, 16, 0, 0);
	offer(f, 2);
	offer(f, 0);
	offer(f, 1);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	vq_push(&f->q, 0, 0);	/* 2 and 1 still in flight, in that order */

	/* "Restart": a fresh queue on the same rings and record. */
	memset(&q2, 0, sizeof(q2));
	assert_int_equal(vq_set_rings(&q2, &f->mem, QN, DESC, AVAIL, USED), 0);
	q2.inflight = inf;
	assert_int_equal(vq_start(&q2, buf), 0);
	assert_int_equal(q2.nresubmit, 2);
	assert_int_equal(q2.last_avail, 3);
	assert_int_equal(vq_pop(&q2, &f->c), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(vq_pop(&q2, &f->c), 1);
	assert_int_equal(f->c.head, 1);
	assert_int_equal(vq_pop(&q2, &f->c), 0);

	/* Crash between used->idx and the record update: not redone. */
	inf->last_batch_head = 2;
	((struct vq_used *)host(f, USED))->ring[1].id = 2;
	((struct vq_used *)host(f, USED))->idx = 2;
	memset(&q2, 0, sizeof(q2));
	assert_int_equal(vq_set_rings(&q2, &f->mem, QN, DESC, AVAIL, USED), 0);
	q2.inflight = inf;
	assert_int_equal(vq_start(&q2, buf), 0);
	assert_int_equal(q2.nresubmit, 1);
	assert_int_equal(buf[0], 1);
	assert_int_equal(inf->used_idx, 2);
	free(inf);
}

/* A host pointer range lies entirely inside one of the two regions. */
static int
inside(struct fx *f, const void *p, size_t len)
{
	const uint8_t *b = p;

	return (b >= f->r0 && b + len <= f->r0 + RSIZE) ||
	    (b >= f->r1 && b + len <= f->r1 + RSIZE);
}

static void
test_random_rings(void **state)
{
	struct fx *f = *state;
	struct vq_desc *t = host(f, ITABLE);
	uint64_t seed = 0x1234567, ok = 0, bad = 0;
	unsigned iter, i;

	/* Random descriptor tables, heads and indirect tables: the walker
	 * either refuses (and breaks the queue) or returns segments that are
	 * all inside guest memory, never more than the bound. */
	for (iter = 0; iter < 20000; iter++) {
		int r;

		for (i = 0; i < QN + 8; i++) {
			struct vq_desc *d = i < QN ? desc(f, i) : &t[i - QN];
			uint64_t x;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			x = seed >> 11;
			d->addr = R0_GPA - 4096 + (x % (2 * RSIZE + 8192));
			d->len = (uint32_t)((x >> 20) % 9000);
			d->flags = (uint16_t)((x >> 34) & 7);
			d->next = (uint16_t)((x >> 40) % (QN + 2));
			if (((x >> 50) & 15) == 0)
				d->addr = ITABLE;
		}
		f->q.broken = false;
		offer(f, (uint16_t)((seed >> 5) % (QN + 1)));
		r = vq_pop(&f->q, &f->c);
		if (r == 1) {
			ok++;
			assert_true(f->c.nout + f->c.nin <= VQ_MAX_IOV);
			for (i = 0; i < f->c.nout + f->c.nin; i++) {
				assert_true(f->c.iov[i].iov_len > 0);
				assert_true(inside(f, f->c.iov[i].iov_base,
				    f->c.iov[i].iov_len));
			}
		} else {
			assert_true(r < 0);
			assert_true(f->q.broken);
			f->q.last_avail++;
			bad++;
		}
	}
	/* Both outcomes were exercised. */
	assert_true(ok > 100 && bad > 100);
}

/*
 * vq_prefetch() is a hint: on hostile rings (heads out of range, buffers
 * outside guest memory, indirect tables, zero lengths, an avail->idx
 * that jumps) it never faults and never changes what vq_pop() returns.
 * Each step pops from a copy of the queue that never prefetched and
 * from the queue itself after a prefetch; the two must agree.
 */
static void
test_prefetch_changes_nothing(void **state)
{
	struct fx *f = *state;
	struct vq_avail *a = host(f, AVAIL);
	uint64_t seed = 0xfeedull, ok = 0, bad = 0, empty = 0;
	static struct vq_chain plain;

	for (unsigned iter = 0; iter < 20000; iter++) {
		struct vq shadow;
		uint64_t x;
		int r, rp;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		x = seed >> 11;
		/* Rewrite one descriptor, maybe publish more or jump. */
		set_desc(desc(f, (unsigned)(x % QN)),
		    R0_GPA - 4096 + ((x >> 4) % (2 * RSIZE + 8192)),
		    (uint32_t)((x >> 24) % 300), (uint16_t)((x >> 36) & 7), 0);
		if (((x >> 40) & 3) == 0)
			offer(f, (uint16_t)((x >> 42) % (QN + 2)));
		if (((x >> 50) & 63) == 0)
			a->idx = (uint16_t)(a->idx + QN + 1);
		shadow = f->q;
		r = vq_pop(&shadow, &plain);
		vq_prefetch(&f->q, 1 + (unsigned)((x >> 56) % 20),
		    (unsigned)((x >> 60) % 6), (x >> 63) != 0);
		rp = vq_pop(&f->q, &f->c);
		assert_int_equal(rp, r);
		assert_int_equal(f->q.broken, shadow.broken);
		assert_int_equal(f->q.last_avail, shadow.last_avail);
		if (r == 1) {
			ok++;
			assert_int_equal(f->c.head, plain.head);
			assert_int_equal(f->c.nout, plain.nout);
			assert_int_equal(f->c.nin, plain.nin);
			assert_memory_equal(f->c.iov, plain.iov,
			    (plain.nout + plain.nin) * sizeof(plain.iov[0]));
			/* Sometimes give it back: the cursors stay valid. */
			if ((x & 7) == 0)
				vq_unpop(&f->q, 1);
		} else if (r < 0) {
			bad++;
			/* Start over from a sane ring. */
			a->idx = f->q.last_avail;
			f->q.broken = false;
			f->q.avail_shadow = f->q.last_avail;
		} else {
			empty++;
		}
	}
	assert_true(ok > 100 && bad > 100 && empty > 100);
}

/* The iov cursor: reads, writes, copies and skips stop at the end. */
static void
test_iov_cursor(void **state)
{
	uint8_t a[3] = { 1, 2, 3 }, b[5] = { 4, 5, 6, 7, 8 }, c[4], out[16];
	struct iovec src[2] = { { a, 3 }, { b, 5 } }, dst[1] = { { c, 4 } };
	struct iov_cur s, d;

	iov_cur_init(&s, src, 2);
	assert_int_equal(iov_cur_skip(&s, 2), 2);
	assert_int_equal(iov_cur_read(&s, out, 4), 4);
	assert_memory_equal(out, ((uint8_t[]){ 3, 4, 5, 6 }), 4);
	assert_int_equal(iov_cur_read(&s, out, 16), 2);	/* only 7, 8 left */
	assert_int_equal(iov_cur_room(&s), 0);
	assert_int_equal(iov_cur_skip(&s, 1), 0);
	iov_cur_init(&s, src, 2);
	iov_cur_init(&d, dst, 1);
	assert_int_equal(iov_cur_copy(&d, &s, 100), 4);	/* dst is full */
	assert_memory_equal(c, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	iov_cur_init(&d, dst, 1);
	assert_int_equal(iov_cur_write(&d, NULL, 9), 4);	/* zeros */
	assert_memory_equal(c, ((uint8_t[]){ 0, 0, 0, 0 }), 4);
	assert_int_equal(iov_from_buf(src, 2, 2, "xyz", 3), 3);
	assert_memory_equal(a, "\x01\x02x", 3);
	assert_memory_equal(b, "yz", 2);
	assert_int_equal(iov_to_buf(src, 2, 7, out, 16), 1);
	assert_int_equal(out[0], 8);
	assert_int_equal(iov_to_buf(src, 2, 9, out, 16), 0);	/* past the end */
}

/* vq_push_n publishes a batch with one used->idx; vq_unpop gives back. */
static void
test_push_n_and_unpop(void **state)
{
	struct fx *f = *state;
	struct vq_used *u = host(f, USED);
	uint16_t heads[3];
	uint32_t lens[3] = { 10, 20, 30 };

	for (uint16_t i = 0; i < 3; i++) {
		set_desc(desc(f, i), DATA + 64 * i, 64, VQ_DESC_F_WRITE, 0);
		offer(f, i);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vq_pop(&f->q, &f->c), 1);
		heads[i] = f->c.head;
	}
	/* Two given back: popped again, in the same order. */
	vq_unpop(&f->q, 2);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 1);
	assert_int_equal(vq_pop(&f->q, &f->c), 1);
	assert_int_equal(f->c.head, 2);
	assert_int_equal(vq_pop(&f->q, &f->c), 0);
	vq_push_n(&f->q, heads, lens, 3);
	assert_int_equal(u->idx, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(u->ring[i].id, heads[i]);
		assert_int_equal(u->ring[i].len, lens[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		cmocka_unit_test(test_iov_cursor),
		T(test_push_n_and_unpop),
		T(test_prefetch_changes_nothing),
		T(test_mem_accessor),
		T(test_mem_check),
		T(test_set_rings),
		T(test_set_rings_host_alignment),
		T(test_simple_chain),
		T(test_split_header),
		T(test_region_spanning),
		T(test_loop),
		T(test_self_loop),
		T(test_longest_chain),
		T(test_zero_length),
		T(test_outside_memory),
		T(test_huge_address),
		T(test_readable_after_writable),
		T(test_next_out_of_range),
		T(test_head_out_of_range),
		T(test_avail_jump),
		T(test_indirect),
		T(test_indirect_refused),
		T(test_notify),
		T(test_kicks_off),
		T(test_inflight_resubmit),
		T(test_random_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
