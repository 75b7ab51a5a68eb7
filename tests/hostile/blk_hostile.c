/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-blk-hostile: plays a malicious VMM against one isles-diskd
 * export, using the test front-end library (src/vhost/front.h).
 *
 *   isles-blk-hostile SOCKET [RO_SOCKET]
 *
 * SOCKET's export must offer two queues (queues=2); RO_SOCKET's is
 * read-only.
 * Each case runs on a fresh vhost-user connection and states what a
 * correct back-end must do: answer VIRTIO_BLK_S_IOERR (a request leaving
 * the partition, a write to a read-only export), stop the queue (a
 * malformed ring: no completion ever arrives), or drop the connection (a
 * malformed vhost-user message).  After every illegal case a new
 * connection must still be served.  Legal but unusual requests (a header
 * split over several descriptors, indirect tables) must work.
 * The wrapper test (tests/integration/test_blk_hostile.py) checks that
 * the daemon stayed up and that the other partitions did not change.
 *
 * Prints "ok NAME" or "FAIL NAME: why" per case; exit status 1 on any
 * failure.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost/front.h"

#define QSIZE		16
#define MEM_SIZE	(4u << 20)
#define DATA_MAX	(256u << 10)
#define T_IN		0
#define T_OUT		1
#define S_OK		0
#define S_IOERR		1
#define NO_ANSWER	(-1)

struct conn {
	struct vf_dev d;
	struct vf_ring *r;
	uint64_t hdr, data, st, itab;
	uint64_t cap;		/* sectors */
};

static const char *sock_path, *ro_path;
static int failures;

static void
result(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok %s\n", name);
	} else {
		failures++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static int
conn_open(struct conn *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	if (vf_open(&c->d, path, MEM_SIZE) < 0 ||
	    vf_setup(&c->d, 1, QSIZE, 1ull << VU_F_INDIRECT_DESC) < 0 ||
	    vf_get_config(&c->d, 0, &c->cap, sizeof(c->cap)) < 0) {
		vf_close(&c->d);
		return -1;
	}
	c->r = &c->d.q[0];
	c->hdr = vf_alloc(&c->d, 64, 64);
	c->data = vf_alloc(&c->d, DATA_MAX, 4096);
	c->st = vf_alloc(&c->d, 64, 64);
	c->itab = vf_alloc(&c->d, 4096, 4096);
	return 0;
}

static void
conn_close(struct conn *c)
{
	vf_close(&c->d);
}

static void
desc(struct conn *c, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
    uint16_t next)
{
	c->r->desc[i] = (struct vq_desc){ addr, len, flags, next };
}

static void
header(struct conn *c, uint32_t type, uint64_t sector)
{
	uint8_t *h = vf_ptr(&c->d, c->hdr);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
}

/* Offer head, kick, wait up to ms for its completion: status or -1. */
static int
run(struct conn *c, uint16_t head, int ms)
{
	uint32_t id, len;
	uint8_t *st = vf_ptr(&c->d, c->st);

	*st = 0xff;
	vf_avail(c->r, head);
	if (vf_kick(c->r) < 0)
		return NO_ANSWER;
	for (;;) {
		if (vf_used(c->r, &id, &len) == 1)
			return id == head ? *st : NO_ANSWER;
		if (vf_wait(c->r, ms) <= 0)
			return vf_used(c->r, &id, &len) == 1 && id == head ?
			    *st : NO_ANSWER;
	}
}

/* A well-formed read or write of nsect sectors; returns the status. */
static int
rw(struct conn *c, uint32_t type, uint64_t sector, uint32_t nsect)
{
	header(c, type, sector);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, nsect * 512, VQ_DESC_F_NEXT |
	    (type == T_IN ? VQ_DESC_F_WRITE : 0), 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	return run(c, 0, 2000);
}

/* The daemon still serves a new connection correctly. */
static int
still_serving(void)
{
	struct conn c;
	int st;

	if (conn_open(&c, sock_path) < 0)
		return 0;
	st = rw(&c, T_IN, 64, 8);
	conn_close(&c);
	return st == S_OK;
}

typedef int (*attack_fn)(struct conn *c);

/* A malformed ring: the back-end must never complete it. */
static void
ring_case(const char *name, attack_fn fn)
{
	struct conn c;
	int st;

	if (conn_open(&c, sock_path) < 0) {
		result(name, 0, "connect: %s", strerror(errno));
		return;
	}
	st = fn(&c);
	conn_close(&c);
	if (st != NO_ANSWER)
		result(name, 0, "completed with status %d", st);
	else
		result(name, still_serving(), "daemon no longer serving");
}

static int
a_outside_memory(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, MEM_SIZE - 512, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	return run(c, 0, 1000);
}

static int
a_far_address(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, 0xfffffffffffff000ull, 4096, VQ_DESC_F_NEXT |
	    VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	return run(c, 0, 1000);
}

static int
a_loop(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	return run(c, 0, 1000);
}

static int
a_zero_length(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, 0, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	return run(c, 0, 1000);
}

static int
a_avail_jump(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, 512, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	c->r->avail_idx = (uint16_t)(c->r->avail_idx + 1000);
	return run(c, 0, 1000);
}

static int
a_head_out_of_range(struct conn *c)
{
	return run(c, QSIZE + 5, 1000);
}

static int
a_no_status(struct conn *c)
{
	header(c, T_OUT, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, 512, 0, 0);
	return run(c, 0, 1000);
}

static int
a_readable_after_writable(struct conn *c)
{
	header(c, T_IN, 64);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->st, 1, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 2);
	desc(c, 2, c->data, 512, 0, 0);
	return run(c, 0, 1000);
}

static int
a_indirect_outside(struct conn *c)
{
	desc(c, 0, MEM_SIZE - 32, 64, VQ_DESC_F_INDIRECT, 0);
	return run(c, 0, 1000);
}

static int
a_indirect_nested(struct conn *c)
{
	struct vq_desc *t = vf_ptr(&c->d, c->itab);

	t[0] = (struct vq_desc){ c->itab, 32, VQ_DESC_F_INDIRECT, 0 };
	desc(c, 0, c->itab, 32, VQ_DESC_F_INDIRECT, 0);
	return run(c, 0, 1000);
}

/* The seed's bug: a request spilling 1..7 sectors past the partition. */
static void
spill_cases(void)
{
	struct conn c;
	uint8_t *d, before[4096], after[4096];
	unsigned k;
	int st, ok = 1;
	char why[128] = "";

	if (conn_open(&c, sock_path) < 0) {
		result("spill", 0, "connect: %s", strerror(errno));
		return;
	}
	d = vf_ptr(&c.d, c.data);
	/* The last 8 sectors inside the disk, as they are now. */
	if (rw(&c, T_IN, c.cap - 8, 8) != S_OK) {
		result("spill", 0, "reading the last sectors failed");
		conn_close(&c);
		return;
	}
	memcpy(before, d, sizeof(before));
	for (k = 1; k <= 7 && ok; k++) {
		memset(d, 0xee, 4096);
		st = rw(&c, T_OUT, c.cap - 8 + k, 8);
		if (st != S_IOERR) {
			snprintf(why, sizeof(why), "write spilling %u sectors: "
			    "status %d", k, st);
			ok = 0;
		}
		st = rw(&c, T_IN, c.cap - 8 + k, 8);
		if (ok && st != S_IOERR) {
			snprintf(why, sizeof(why), "read spilling %u sectors: "
			    "status %d", k, st);
			ok = 0;
		}
	}
	/* Nothing of the refused writes reached the disk, not even the part
	 * inside the partition. */
	if (ok && rw(&c, T_IN, c.cap - 8, 8) == S_OK) {
		memcpy(after, d, sizeof(after));
		if (memcmp(before, after, sizeof(before)) != 0) {
			snprintf(why, sizeof(why), "sectors inside the disk "
			    "changed by a refused write");
			ok = 0;
		}
	}
	if (ok && rw(&c, T_IN, UINT64_MAX - 3, 8) != S_IOERR) {
		snprintf(why, sizeof(why), "wrapping sector accepted");
		ok = 0;
	}
	/* The queue is still healthy: an IOERR is an ordinary answer. */
	if (ok && rw(&c, T_IN, 64, 8) != S_OK) {
		snprintf(why, sizeof(why), "queue unusable after IOERR");
		ok = 0;
	}
	conn_close(&c);
	result("spill-1-to-7-sectors", ok, "%s", why);
}

/* Legal: the 16-byte header split over three descriptors. */
static void
split_header_case(void)
{
	struct conn c;
	uint8_t *d, *h;
	uint64_t h2;
	int st, ok;

	if (conn_open(&c, sock_path) < 0) {
		result("split-header", 0, "connect");
		return;
	}
	d = vf_ptr(&c.d, c.data);
	h = vf_ptr(&c.d, c.hdr);
	h2 = vf_alloc(&c.d, 64, 64);
	for (unsigned i = 0; i < 1024; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	/* type in one descriptor, ioprio in another, sector in a third. */
	header(&c, T_OUT, 100);
	memcpy(vf_ptr(&c.d, h2), h + 4, 12);
	desc(&c, 0, c.hdr, 4, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, h2, 4, VQ_DESC_F_NEXT, 2);
	desc(&c, 2, h2 + 4, 8, VQ_DESC_F_NEXT, 3);
	desc(&c, 3, c.data, 1024, VQ_DESC_F_NEXT, 4);
	desc(&c, 4, c.st, 1, VQ_DESC_F_WRITE, 0);
	st = run(&c, 0, 2000);
	ok = st == S_OK;
	memset(d, 0, 1024);
	if (ok) {
		/* Read it back through an indirect table. */
		struct vq_desc *t = vf_ptr(&c.d, c.itab);

		header(&c, T_IN, 100);
		t[0] = (struct vq_desc){ c.hdr, 16, VQ_DESC_F_NEXT, 1 };
		t[1] = (struct vq_desc){ c.data, 512, VQ_DESC_F_NEXT |
		    VQ_DESC_F_WRITE, 2 };
		t[2] = (struct vq_desc){ c.data + 512, 512, VQ_DESC_F_NEXT |
		    VQ_DESC_F_WRITE, 3 };
		t[3] = (struct vq_desc){ c.st, 1, VQ_DESC_F_WRITE, 0 };
		desc(&c, 5, c.itab, 4 * 16, VQ_DESC_F_INDIRECT, 0);
		st = run(&c, 5, 2000);
		ok = st == S_OK;
		for (unsigned i = 0; ok && i < 1024; i++)
			ok = d[i] == (uint8_t)(i * 7 + 3);
	}
	conn_close(&c);
	result("split-header-and-indirect", ok, "status %d or data differs",
	    st);
}

/*
 * Restart without loss: the state a crash leaves behind, as the next
 * daemon instance finds it.  Request A (head 0, position 0) was popped
 * and is still in flight; request B (head 3, position 1) completed
 * first.  QEMU restores last_avail to used->idx (1), which without the
 * inflight record would run B again and lose A.  The daemon must redo A
 * and only A.
 */
static void
inflight_case(void)
{
	struct conn c;
	struct vq_inflight *inf;
	uint64_t st2, dataB;
	uint8_t *d, *sa, *sb;
	uint32_t id, len;
	int ok = 0, got = 0;
	const char *why = "setup failed";

	memset(&c, 0, sizeof(c));
	if (vf_open(&c.d, sock_path, MEM_SIZE) < 0)
		goto out;
	c.d.want_inflight = true;
	c.d.base[0] = 1;		/* what QEMU sends after a crash */
	if (vf_setup_rings(&c.d, 1, QSIZE, 0) < 0 || c.d.inflight == NULL)
		goto out;
	c.r = &c.d.q[0];
	c.hdr = vf_alloc(&c.d, 64, 64);
	c.data = vf_alloc(&c.d, DATA_MAX, 4096);
	c.st = vf_alloc(&c.d, 64, 64);
	st2 = vf_alloc(&c.d, 64, 64);
	dataB = vf_alloc(&c.d, 4096, 4096);
	d = vf_ptr(&c.d, c.data);
	sa = vf_ptr(&c.d, c.st);
	sb = vf_ptr(&c.d, st2);
	/* A: write 0x11 to sector 200.  B: write 0x22 to sector 300. */
	header(&c, T_OUT, 200);
	memset(d, 0x11, 4096);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.data, 4096, VQ_DESC_F_NEXT, 2);
	desc(&c, 2, c.st, 1, VQ_DESC_F_WRITE, 0);
	{
		uint64_t hb = vf_alloc(&c.d, 64, 64);
		uint8_t *h = vf_ptr(&c.d, hb);
		uint32_t t = T_OUT;
		uint64_t sec = 300;

		memset(h, 0, 16);
		memcpy(h, &t, 4);
		memcpy(h + 8, &sec, 8);
		memset(vf_ptr(&c.d, dataB), 0x22, 4096);
		desc(&c, 3, hb, 16, VQ_DESC_F_NEXT, 4);
		desc(&c, 4, dataB, 4096, VQ_DESC_F_NEXT, 5);
		desc(&c, 5, st2, 1, VQ_DESC_F_WRITE, 0);
	}
	*sa = 0xff;
	*sb = 0;
	c.r->avail->ring[0] = 0;
	c.r->avail->ring[1] = 3;
	c.r->avail->idx = 2;
	c.r->avail_idx = 2;
	c.r->used->ring[0] = (struct vq_used_elem){ 3, 1 };
	c.r->used->idx = 1;
	c.r->used_seen = 1;
	inf = c.d.inflight;
	if (inf->desc_num != QSIZE) {
		why = "inflight region of another queue size";
		goto out;
	}
	inf->desc[0].inflight = 1;
	inf->desc[0].counter = 1;
	inf->used_idx = 1;
	if (vf_start_rings(&c.d) < 0)
		goto out;
	while (vf_used(c.r, &id, &len) == 1 || vf_wait(c.r, 2000) > 0) {
		if (c.r->used_seen > 1) {
			got++;
			if (id != 0 || *sa != S_OK) {
				why = "wrong request completed";
				goto out;
			}
			break;
		}
	}
	if (got != 1) {
		why = "the request in flight was never completed";
		goto out;
	}
	if (vf_wait(c.r, 300) > 0 && vf_used(c.r, &id, &len) == 1) {
		why = "a completed request was run again";
		goto out;
	}
	/* On disk: A's data at 200; B was never redone (still zeros). */
	if (rw(&c, T_IN, 200, 8) != S_OK || d[0] != 0x11 || d[4095] != 0x11) {
		why = "request in flight not written";
		goto out;
	}
	if (rw(&c, T_IN, 300, 8) != S_OK || d[0] == 0x22) {
		why = "completed request executed twice";
		goto out;
	}
	ok = 1;
out:
	vf_close(&c.d);
	result("inflight-resubmit-after-crash", ok, "%s", why);
}

struct dseg {
	uint64_t sector;
	uint32_t num;
	uint32_t flags;
};

/* One request with a payload of segs (discard / write-zeroes). */
static int
seg_req(struct conn *c, uint32_t type, const void *segs, uint32_t len)
{
	header(c, type, 0);
	memcpy(vf_ptr(&c->d, c->data), segs, len);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, c->data, len, VQ_DESC_F_NEXT, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
	return run(c, 0, 2000);
}

/* FLUSH, GET_ID, DISCARD and WRITE_ZEROES, legal and spilling. */
static void
other_requests_case(void)
{
	struct conn c;
	struct dseg seg;
	uint8_t *d;
	char id[21];
	const char *why = "";
	int ok = 0, st;
	unsigned i;

	if (conn_open(&c, sock_path) < 0) {
		result("flush-getid-discard-writezeroes", 0, "connect");
		return;
	}
	d = vf_ptr(&c.d, c.data);
	header(&c, 4 /* FLUSH */, 0);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.st, 1, VQ_DESC_F_WRITE, 0);
	if ((st = run(&c, 0, 2000)) != S_OK) {
		why = "flush failed";
		goto out;
	}
	header(&c, 8 /* GET_ID */, 0);
	memset(d, 0, 64);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.data, 20, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(&c, 2, c.st, 1, VQ_DESC_F_WRITE, 0);
	if (run(&c, 0, 2000) != S_OK) {
		why = "GET_ID failed";
		goto out;
	}
	memcpy(id, d, 20);
	id[20] = '\0';
	printf("# serial: %s\n", id);
	if (strstr(id, "-p") == NULL) {
		why = "serial does not name the partition";
		goto out;
	}
	/* Write a pattern, zero it with WRITE_ZEROES, read zeros back. */
	memset(d, 0x77, 4096);
	if (rw(&c, T_OUT, 500, 8) != S_OK) {
		why = "write failed";
		goto out;
	}
	seg = (struct dseg){ 500, 8, 0 };
	if (seg_req(&c, 13 /* WRITE_ZEROES */, &seg, 16) != S_OK) {
		why = "write-zeroes failed";
		goto out;
	}
	memset(d, 0x55, 4096);
	if (rw(&c, T_IN, 500, 8) != S_OK) {
		why = "read failed";
		goto out;
	}
	for (i = 0; i < 4096; i++) {
		if (d[i] != 0) {
			why = "write-zeroes left data";
			goto out;
		}
	}
	seg = (struct dseg){ 600, 16, 0 };
	if (seg_req(&c, 11 /* DISCARD */, &seg, 16) != S_OK) {
		why = "discard failed";
		goto out;
	}
	seg = (struct dseg){ c.cap - 4, 8, 0 };
	if (seg_req(&c, 11, &seg, 16) != S_IOERR ||
	    seg_req(&c, 13, &seg, 16) != S_IOERR) {
		why = "discard/write-zeroes spilling past the end accepted";
		goto out;
	}
	seg = (struct dseg){ 600, 8, 1 };	/* unmap flag on discard */
	if (seg_req(&c, 11, &seg, 16) != 2 /* UNSUPP */) {
		why = "discard with flags accepted";
		goto out;
	}
	ok = 1;
out:
	conn_close(&c);
	result("flush-getid-discard-writezeroes", ok, "%s", why);
}

/* Two virtqueues, I/O on both (the export must have queues=2). */
static void
multiqueue_case(void)
{
	struct vf_dev d;
	uint64_t hdr, data, st;
	unsigned qi;
	int ok = 1;

	if (vf_open(&d, sock_path, MEM_SIZE) < 0 ||
	    vf_setup(&d, 2, QSIZE, 0) < 0) {
		vf_close(&d);
		result("multiqueue", 0, "two queues refused");
		return;
	}
	hdr = vf_alloc(&d, 64, 64);
	data = vf_alloc(&d, 4096, 4096);
	st = vf_alloc(&d, 64, 64);
	for (qi = 0; qi < 2 && ok; qi++) {
		struct vf_ring *r = &d.q[qi];
		uint8_t *h = vf_ptr(&d, hdr);
		uint64_t sector = 64 + qi;
		uint32_t id, len, type = T_IN;
		int got = 0;

		memset(h, 0, 16);
		memcpy(h, &type, 4);
		memcpy(h + 8, &sector, 8);
		*(uint8_t *)vf_ptr(&d, st) = 0xff;
		r->desc[0] = (struct vq_desc){ hdr, 16, VQ_DESC_F_NEXT, 1 };
		r->desc[1] = (struct vq_desc){ data, 512, VQ_DESC_F_NEXT |
		    VQ_DESC_F_WRITE, 2 };
		r->desc[2] = (struct vq_desc){ st, 1, VQ_DESC_F_WRITE, 0 };
		vf_avail(r, 0);
		vf_kick(r);
		for (int tries = 0; tries < 3 && !got; tries++) {
			if (vf_used(r, &id, &len) == 1)
				got = id == 0;
			else
				vf_wait(r, 1000);
		}
		ok = got && *(uint8_t *)vf_ptr(&d, st) == S_OK;
	}
	vf_close(&d);
	result("multiqueue", ok, "no completion on queue %u", qi - 1);
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A front-end that stops in the middle of a message must not stall the
 * daemon: another export answers at once, and a message that arrives in
 * pieces is still understood.
 */
static void
stall_case(void)
{
	struct vf_dev a;
	struct vu_hdr h = { VU_GET_FEATURES, VU_VERSION, 0 };
	struct conn c;
	uint64_t feat = 0;
	double t = 0;
	int ok = 0, st = -1;
	const char *why = "connect";

	if (ro_path == NULL)
		return;
	if (vf_open(&a, sock_path, MEM_SIZE) < 0)
		goto out0;
	/* Half a header, then silence. */
	if (write(a.sock, &h, 6) != 6)
		goto out1;
	usleep(100000);
	t = mono();
	if (conn_open(&c, ro_path) < 0)
		goto out1;
	st = rw(&c, T_IN, 64, 8);
	conn_close(&c);
	t = mono() - t;
	if (st != S_OK || t > 1.0) {
		why = "another export stalled behind a half-sent message";
		goto out1;
	}
	/* The rest of the header: a complete, answered message. */
	if (write(a.sock, (char *)&h + 6, sizeof(h) - 6) != sizeof(h) - 6)
		goto out1;
	{
		struct pollfd pf = { a.sock, POLLIN, 0 };
		struct vu_hdr rh;

		why = "a message sent in two pieces was not answered";
		if (poll(&pf, 1, 2000) != 1 ||
		    recv(a.sock, &rh, sizeof(rh), 0) != sizeof(rh) ||
		    rh.request != VU_GET_FEATURES || rh.size != 8 ||
		    recv(a.sock, &feat, 8, 0) != 8 ||
		    !(feat & (1ull << VU_F_VERSION_1)))
			goto out1;
	}
	ok = 1;
out1:
	vf_close(&a);
out0:
	result("stalled-half-message", ok, "%s (%.2f s, status %d)", why, t,
	    st);
}

/*
 * The same head offered again and again while it is still being served
 * (a driver never does this): the daemon must bound its work and memory
 * and keep serving other exports.
 */
static void
recycled_heads_case(void)
{
	struct conn c;
	double t, end;
	unsigned offered = 0;
	int st = -1, ok = 0;
	const char *why = "connect";

	if (ro_path == NULL)
		return;
	if (conn_open(&c, sock_path) < 0)
		goto out0;
	header(&c, T_IN, 64);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.data, 64 * 1024, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(&c, 2, c.st, 1, VQ_DESC_F_WRITE, 0);
	end = mono() + 1.0;
	while (mono() < end) {
		/* Keep the ring full of head 0, whatever was consumed. */
		uint16_t used = __atomic_load_n(&c.r->used->idx,
		    __ATOMIC_ACQUIRE);

		while ((uint16_t)(c.r->avail_idx - used) < QSIZE) {
			vf_avail(c.r, 0);
			offered++;
		}
		vf_kick(c.r);
	}
	t = mono();
	{
		struct conn o;

		why = "another export stalled during the flood";
		if (conn_open(&o, ro_path) < 0)
			goto out1;
		st = rw(&o, T_IN, 64, 8);
		conn_close(&o);
	}
	t = mono() - t;
	if (st != S_OK || t > 1.0)
		goto out1;
	printf("# recycled heads: %u offers in 1 s\n", offered);
	ok = 1;
out1:
	conn_close(&c);
out0:
	result("recycled-heads-flood", ok && still_serving(), "%s", why);
}

static void
ro_case(void)
{
	struct conn c;
	int st;

	if (ro_path == NULL)
		return;
	if (conn_open(&c, ro_path) < 0) {
		result("read-only-export", 0, "connect");
		return;
	}
	memset(vf_ptr(&c.d, c.data), 0xab, 4096);
	st = rw(&c, T_OUT, 64, 8);
	conn_close(&c);
	result("read-only-export", st == S_IOERR, "write status %d", st);
}

/* A malformed vhost-user message: the connection must be dropped. */
static void
msg_case(const char *name, uint32_t req, const void *p, uint32_t size,
    const int *fds, unsigned nfds, bool setup)
{
	struct vf_dev d;
	uint8_t junk[64];
	uint32_t sz = sizeof(junk);
	struct pollfd pf;
	int closed;

	if (vf_open(&d, sock_path, MEM_SIZE) < 0 ||
	    (setup && vf_setup(&d, 1, QSIZE, 0) < 0)) {
		result(name, 0, "connect");
		vf_close(&d);
		return;
	}
	vf_msg(&d, req, p, size, fds, nfds, false, NULL, NULL);
	/* Ask for something with a reply: a dropped connection gives EOF. */
	pf = (struct pollfd){ d.sock, POLLIN, 0 };
	closed = vf_msg(&d, VU_GET_FEATURES, NULL, 0, NULL, 0, false, junk,
	    &sz) < 0;
	if (!closed)
		closed = poll(&pf, 1, 1000) == 1 && recv(d.sock, junk, 1,
		    MSG_DONTWAIT) == 0;
	vf_close(&d);
	if (!closed)
		result(name, 0, "connection kept after a malformed message");
	else
		result(name, still_serving(), "daemon no longer serving");
}

static void
message_cases(void)
{
	struct vu_mem_table_msg mt;
	struct vu_vring_state st = { 200, 16 };
	struct vu_vring_addr a = { 0, 0, 1ull << 50, 1ull << 50, 1ull << 50, 0 };
	struct vu_config_msg cfg;
	uint64_t idx = 0, huge[64];
	int efd[3], memfd;

	memset(huge, 0, sizeof(huge));
	msg_case("vring-index-out-of-range", VU_SET_VRING_NUM, &st,
	    sizeof(st), NULL, 0, false);
	st = (struct vu_vring_state){ 0, 100 };
	msg_case("vring-size-not-power-of-two", VU_SET_VRING_NUM, &st,
	    sizeof(st), NULL, 0, false);
	msg_case("ring-outside-guest-memory", VU_SET_VRING_ADDR, &a, sizeof(a),
	    NULL, 0, true);
	memset(&cfg, 0, sizeof(cfg));
	cfg.offset = 200;
	cfg.size = 100;
	msg_case("config-out-of-range", VU_GET_CONFIG, &cfg,
	    VU_CONFIG_HDR_SIZE + 100, NULL, 0, false);
	msg_case("payload-size-mismatch", VU_SET_FEATURES, huge, 24, NULL, 0,
	    false);
	efd[0] = eventfd(0, 0);
	efd[1] = eventfd(0, 0);
	efd[2] = eventfd(0, 0);
	msg_case("surplus-fds", VU_SET_VRING_CALL, &idx, sizeof(idx), efd, 3,
	    false);
	msg_case("fd-on-fdless-message", VU_SET_OWNER, NULL, 0, efd, 1, false);
	close(efd[0]);
	close(efd[1]);
	close(efd[2]);
	/* A region larger than its memfd: mapping it would SIGBUS. */
	memfd = memfd_create("small", 0);
	if (ftruncate(memfd, 4096) == 0) {
		memset(&mt, 0, sizeof(mt));
		mt.nregions = 1;
		mt.r[0] = (struct vu_mem_region_msg){ 0, 1u << 30, 1ull << 40,
		    0 };
		msg_case("region-larger-than-its-file", VU_SET_MEM_TABLE, &mt,
		    8 + 32, &memfd, 1, false);
	}
	close(memfd);
	memset(&mt, 0, sizeof(mt));
	mt.nregions = 2;
	memfd = memfd_create("two", 0);
	if (ftruncate(memfd, 1 << 20) == 0) {
		int fds[2] = { memfd, memfd };

		mt.r[0] = (struct vu_mem_region_msg){ 0, 1 << 20, 1ull << 40, 0 };
		mt.r[1] = (struct vu_mem_region_msg){ 4096, 1 << 19,
		    1ull << 41, 0 };
		msg_case("overlapping-regions", VU_SET_MEM_TABLE, &mt, 8 + 64,
		    fds, 2, false);
	}
	close(memfd);
	{
		/* A header announcing more than any message holds. */
		struct vf_dev d;
		struct vu_hdr h = { VU_SET_FEATURES, VU_VERSION, 1u << 20 };

		if (vf_open(&d, sock_path, MEM_SIZE) == 0) {
			if (write(d.sock, &h, sizeof(h)) != sizeof(h))
				result("oversized-message", 0, "write");
			vf_close(&d);
			result("oversized-message", still_serving(),
			    "daemon no longer serving");
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: isles-blk-hostile SOCKET [RO_SOCKET]\n");
		return 2;
	}
	sock_path = argv[1];
	ro_path = argc == 3 ? argv[2] : NULL;
	result("baseline-read", still_serving(), "a plain read failed");
	split_header_case();
	spill_cases();
	ring_case("descriptor-outside-guest-memory", a_outside_memory);
	ring_case("descriptor-at-wrapping-address", a_far_address);
	ring_case("looping-chain", a_loop);
	ring_case("zero-length-descriptor", a_zero_length);
	ring_case("avail-idx-jump", a_avail_jump);
	ring_case("head-index-out-of-range", a_head_out_of_range);
	ring_case("chain-without-status-byte", a_no_status);
	ring_case("readable-after-writable", a_readable_after_writable);
	ring_case("indirect-table-outside-memory", a_indirect_outside);
	ring_case("nested-indirect-table", a_indirect_nested);
	other_requests_case();
	multiqueue_case();
	message_cases();
	inflight_case();
	stall_case();
	recycled_heads_case();
	ro_case();
	printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
