/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: the split-virtqueue chain walker (src/vhost/vq.c).
 *
 * Guest memory is two plain buffers registered as two regions, contiguous
 * in guest-physical space but not in host memory (so a descriptor may
 * span them).  The input is a queue size, then a ring image (descriptor
 * table, avail and used rings back to back from the start of guest
 * memory, then data), optionally an inflight record, then a script of what the
 * guest and the device do next: pop, push, unpop, rearm, notify, and
 * rewrite a byte of the rings (the guest may at any moment).  Every chain
 * vq_pop returns is checked against what vq.h promises: segments inside
 * guest memory, readable before writable, lengths adding up, bounded
 * counts; an error breaks the queue for good.
 */
#include <errno.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "vhost/vq.h"

#define R0_GPA	0x10000ull
#define R0_SIZE	0x8000ull
#define R1_GPA	(R0_GPA + R0_SIZE)	/* contiguous in gpa */
#define R1_SIZE	0x1000ull
/* The rings back to back from R0_GPA, as small as the queue size allows. */
#define DESC_OFF(num)	0u
#define AVAIL_OFF(num)	(16u * (num))
#define USED_OFF(num)	((AVAIL_OFF(num) + 6u + 2u * (num) + 3u) & ~3u)
#define IMAGE	0x2000u			/* ring bytes the input may set */
#define MAX_OUT	1024u			/* chains popped, not pushed */

static uint8_t *r0, *r1;
static uint16_t resubmit[VQ_MAX_NUM];
static uint8_t inflight_buf[VQ_INFLIGHT_SIZE(256)] __attribute__((aligned(64)));

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	r0 = malloc(R0_SIZE);
	r1 = malloc(R1_SIZE);
	return r0 == NULL || r1 == NULL;
}

static bool
inside(const uint8_t *p, size_t len, const uint8_t *base, size_t size)
{
	return p >= base && len <= size && (size_t)(p - base) <= size - len;
}

static void
check_chain(const struct vq *q, const struct vq_chain *c)
{
	uint64_t out = 0, in = 0;
	unsigned i;

	FUZZ_CHECK(c->head < q->num);
	FUZZ_CHECK(c->nout + c->nin >= 1 && c->nout + c->nin <= VQ_MAX_IOV);
	FUZZ_CHECK(c->ndesc >= 1 && c->ndesc <= VQ_MAX_NUM);
	for (i = 0; i < c->nout + c->nin; i++) {
		const uint8_t *p = c->iov[i].iov_base;
		size_t len = c->iov[i].iov_len;

		FUZZ_CHECK(len > 0);
		FUZZ_CHECK(inside(p, len, r0, R0_SIZE) ||
		    inside(p, len, r1, R1_SIZE));
		if (i < c->nout)
			out += len;
		else
			in += len;
	}
	FUZZ_CHECK(out == c->out_len && in == c->in_len);
	FUZZ_CHECK(c->max_len > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vu_mem mem = { .n = 2 };
	static struct vq_chain c;
	struct vq q;
	uint16_t out[MAX_OUT];
	uint32_t lens[MAX_OUT];
	unsigned nout = 0, since = 0, steps, num;
	uint8_t flags;
	bool broken = false;
	size_t k;
	int r;

	flags = fuzz_u8(&in);
	num = 1u << (fuzz_u8(&in) % 9);		/* 1 .. 256 */
	memset(r0, 0, R0_SIZE);
	memset(r1, 0, R1_SIZE);
	/* The image: its length first, so the script after it is found. */
	k = fuzz_u16(&in) % IMAGE;
	if (k > in.n)
		k = in.n;
	memcpy(r0, in.p, k);
	in.p += k;
	in.n -= k;
	mem.r[0] = (struct vu_mem_region){ .gpa = R0_GPA, .size = R0_SIZE,
	    .uaddr = 0x7f0000000000ull, .host = r0, .guard = -1 };
	mem.r[1] = (struct vu_mem_region){ .gpa = R1_GPA, .size = R1_SIZE,
	    .uaddr = 0x7f0000100000ull, .host = r1, .guard = -1 };
	memset(&q, 0, sizeof(q));
	FUZZ_CHECK(vq_set_rings(&q, &mem, num, R0_GPA + DESC_OFF(num),
	    R0_GPA + AVAIL_OFF(num), R0_GPA + USED_OFF(num)) == 0);
	q.indirect = flags & 1;
	q.event_idx = (flags >> 1) & 1;
	q.last_avail = fuzz_u16(&in);
	if (flags & 4) {
		/* An inflight record the front-end wrote (shared memory). */
		k = in.n < VQ_INFLIGHT_SIZE(num) ? in.n : VQ_INFLIGHT_SIZE(num);
		memset(inflight_buf, 0, sizeof(inflight_buf));
		memcpy(inflight_buf, in.p, k);
		in.p += k;
		in.n -= k;
		q.inflight = (struct vq_inflight *)(void *)inflight_buf;
		if (!(flags & 8))
			q.inflight->desc_num = (uint16_t)num;
	}
	r = vq_start(&q, resubmit);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(q.nresubmit <= num);
	for (steps = 0; steps < 4096 && (in.n > 0 || steps < 2 * num);
	    steps++) {
		uint8_t cmd = in.n > 0 ? fuzz_u8(&in) % 8 : 0;

		switch (cmd) {
		case 0:
		case 1:
		case 2: {
			bool resub = q.resubmit_pos < q.nresubmit;

			r = vq_pop(&q, &c);
			if (broken) {
				FUZZ_CHECK(r == -EIO);
				break;
			}
			if (r < 0) {
				FUZZ_CHECK(q.broken);
				broken = true;
				break;
			}
			if (r == 0)
				break;
			check_chain(&q, &c);
			if (nout < MAX_OUT) {
				lens[nout] = (uint32_t)(c.in_len > UINT32_MAX ?
				    UINT32_MAX : c.in_len);
				out[nout++] = c.head;
				since = resub ? 0 : since + 1;
			}
			break;
		}
		case 3:
			/* Complete the oldest request. */
			if (nout > 0 && !broken) {
				vq_push(&q, out[0], lens[0]);
				memmove(out, out + 1, --nout * sizeof(out[0]));
				memmove(lens, lens + 1, nout * sizeof(lens[0]));
				if (since > nout)
					since = nout;
			}
			break;
		case 4:
			/* Complete everything at once. */
			if (nout > 0 && !broken) {
				vq_push_n(&q, out, lens, nout);
				nout = since = 0;
			}
			break;
		case 5:
			/* Give back the newest chains popped from avail. */
			if (since > 0 && !broken) {
				unsigned n = 1 + fuzz_u8(&in) % since;

				vq_unpop(&q, (uint16_t)n);
				nout -= n;
				since -= n;
			}
			break;
		case 6:
			/* A hint that must change nothing the checks see. */
			vq_prefetch(&q, fuzz_u8(&in) % 40, fuzz_u8(&in) % 8,
			    (steps & 1) != 0);
			(void)vq_rearm(&q);
			if (q.num != 0 && !broken)
				(void)vq_need_notify(&q);
			break;
		default: {
			/* The guest rewrites a byte of its rings. */
			uint16_t off = fuzz_u16(&in) % IMAGE;

			r0[off] = fuzz_u8(&in);
			break;
		}
		}
	}
	return 0;
}
