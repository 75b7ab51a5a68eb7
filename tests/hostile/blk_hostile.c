/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-blk-hostile: plays a malicious VMM against one isles-diskd
 * export, using the test front-end library (tests/lib/front.h).
 *
 *   isles-blk-hostile SOCKET RO_SOCKET OTHER_SOCKET FREEZE_DIR
 *   isles-blk-hostile --client SOCKET
 *   isles-blk-hostile --list
 *
 * --client: only the cases that need nothing but one writable export of
 * at least 72 sectors (`client_cases`): what a hostile client VM can do
 * to any virtual disk, such as one a driver VM serves (docs/driver-vm.md).
 *
 * SOCKET's export must offer two queues (queues=2); RO_SOCKET's is
 * read-only; OTHER_SOCKET is a third export of the same daemon, which the
 * stall cases check is still served while SOCKET's is attacked.
 * FREEZE_DIR is the mount point of the file system holding the disk
 * image: one case freezes it (FIFREEZE) so that a write cannot complete.
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
 * The cases are the rows of one table (`cases` below), run in order; each
 * prints exactly one line, "ok NAME" or "FAIL NAME: why", whatever
 * happens inside it.  The last line is "cases: D defined, R run, P passed"
 * with D counted from the table, so that the wrapper can check that every
 * defined case ran and passed without knowing how many there are;
 * --list prints the table's names, one a line.  Exit status 0 only when
 * all D ran and passed; 1 otherwise; 2 for a bad command line.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/front.h"

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

static const char *sock_path, *ro_path, *other_path, *freeze_dir;
/* Why the running case failed, printed after its name. */
static char reason[256];

struct hcase;
typedef int (*attack_fn)(struct conn *c);
/* One case: true when the daemon did what it must, else false with the
 * reason set (verdict, fail). */
typedef bool (*case_fn)(const struct hcase *hc);

struct hcase {
	const char *name;
	case_fn run;
	attack_fn attack;	/* ring cases: the malformed ring to offer */
};

static bool
vfail(const char *fmt, va_list ap)
{
	vsnprintf(reason, sizeof(reason), fmt, ap);
	return false;
}

/* ok, or false with the reason formatted from fmt. */
static bool __attribute__((format(printf, 2, 3)))
verdict(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return true;
	va_start(ap, fmt);
	vfail(fmt, ap);
	va_end(ap);
	return false;
}

/* false with the reason formatted from fmt. */
static bool __attribute__((format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(fmt, ap);
	va_end(ap);
	return false;
}

/* A connection with one ring of qsize entries and guest memory of kind. */
static int
conn_open_as(struct conn *c, const char *path, unsigned qsize,
    enum vf_mem kind)
{
	memset(c, 0, sizeof(*c));
	if (vf_open_mem(&c->d, path, MEM_SIZE, kind, NULL) < 0 ||
	    vf_setup(&c->d, 1, qsize, 1ull << VU_F_INDIRECT_DESC) < 0 ||
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

static int
conn_open(struct conn *c, const char *path)
{
	return conn_open_as(c, path, QSIZE, VF_MEM_SEALED);
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

/* A plain read works: the export is there to be attacked. */
static bool
baseline_case(const struct hcase *hc)
{
	return verdict(still_serving(), "a plain read failed");
}

/* A malformed ring: the back-end must never complete it. */
static bool
ring_case(const struct hcase *hc)
{
	struct conn c;
	int st;

	if (conn_open(&c, sock_path) < 0)
		return fail("connect: %s", strerror(errno));
	st = hc->attack(&c);
	conn_close(&c);
	if (st != NO_ANSWER)
		return fail("completed with status %d", st);
	return verdict(still_serving(), "daemon no longer serving");
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
static bool
spill_case(const struct hcase *hc)
{
	struct conn c;
	uint8_t *d, before[4096], after[4096];
	unsigned k;
	int st, ok = 1;
	char why[128] = "";

	if (conn_open(&c, sock_path) < 0)
		return fail("connect: %s", strerror(errno));
	d = vf_ptr(&c.d, c.data);
	/* The last 8 sectors inside the disk, as they are now. */
	if (rw(&c, T_IN, c.cap - 8, 8) != S_OK) {
		conn_close(&c);
		return fail("reading the last sectors failed");
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
	return verdict(ok, "%s", why);
}

/* Legal: the 16-byte header split over three descriptors. */
static bool
split_header_case(const struct hcase *hc)
{
	struct conn c;
	uint8_t *d, *h;
	uint64_t h2;
	int st, ok;

	if (conn_open(&c, sock_path) < 0)
		return fail("connect: %s", strerror(errno));
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
	return verdict(ok, "status %d or data differs", st);
}

/*
 * Restart without loss: the state a crash leaves behind, as the next
 * daemon instance finds it.  Request A (head 0, position 0) was popped
 * and is still in flight; request B (head 3, position 1) completed
 * first.  QEMU restores last_avail to used->idx (1), which without the
 * inflight record would run B again and lose A.  The daemon must redo A
 * and only A.
 */
static bool
inflight_case(const struct hcase *hc)
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
	return verdict(ok, "%s", why);
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
static bool
other_requests_case(const struct hcase *hc)
{
	struct conn c;
	struct dseg seg;
	uint8_t *d;
	char id[21];
	const char *why = "";
	int ok = 0, st;
	unsigned i;

	if (conn_open(&c, sock_path) < 0)
		return fail("connect: %s", strerror(errno));
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
	return verdict(ok, "%s", why);
}

/* An unknown request type is UNSUPP, and the queue goes on working. */
static bool
unknown_type_case(const struct hcase *hc)
{
	struct conn c;
	int st, a, b;

	if (conn_open(&c, sock_path) < 0)
		return fail("connect: %s", strerror(errno));
	header(&c, 0xdead, 64);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.data, 4096, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(&c, 2, c.st, 1, VQ_DESC_F_WRITE, 0);
	st = run(&c, 0, 2000);
	header(&c, 0x7fffffff, 0);
	desc(&c, 0, c.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&c, 1, c.st, 1, VQ_DESC_F_WRITE, 0);
	a = run(&c, 0, 2000);
	b = rw(&c, T_IN, 64, 8);
	conn_close(&c);
	return verdict(st == 2 && a == 2 && b == S_OK, "types 0xdead: %d, "
	    "0x7fffffff: %d, then a read: %d (want 2 2 0)", st, a, b);
}

/* Two virtqueues, I/O on both (the export must have queues=2). */
static bool
multiqueue_case(const struct hcase *hc)
{
	struct vf_dev d;
	uint64_t hdr, data, st;
	unsigned qi;
	int ok = 1;

	if (vf_open(&d, sock_path, MEM_SIZE) < 0 ||
	    vf_setup(&d, 2, QSIZE, 0) < 0) {
		vf_close(&d);
		return fail("two queues refused");
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
	return verdict(ok, "no completion on queue %u", qi - 1);
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
static bool
stall_case(const struct hcase *hc)
{
	struct vf_dev a;
	struct vu_hdr h = { VU_GET_FEATURES, VU_VERSION, 0 };
	struct conn c;
	uint64_t feat = 0;
	double t = 0;
	int ok = 0, st = -1;
	const char *why = "connect";

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
	return verdict(ok, "%s (%.2f s, status %d)", why, t, st);
}

/*
 * The same head offered again and again while it is still being served
 * (a driver never does this): the daemon must bound its work and memory
 * and keep serving other exports.
 */
static bool
recycled_heads_case(const struct hcase *hc)
{
	struct conn c;
	double t, end;
	unsigned offered = 0;
	int st = -1, ok = 0;
	const char *why = "connect";

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
	if (ok && !still_serving()) {
		ok = 0;
		why = "daemon no longer serving";
	}
	return verdict(ok, "%s", why);
}

static bool
ro_case(const struct hcase *hc)
{
	struct conn c;
	int st;

	if (conn_open(&c, ro_path) < 0)
		return fail("connect: %s", strerror(errno));
	memset(vf_ptr(&c.d, c.data), 0xab, 4096);
	st = rw(&c, T_OUT, 64, 8);
	conn_close(&c);
	return verdict(st == S_IOERR, "write status %d", st);
}

/* A malformed vhost-user message: the connection must be dropped. */
static bool
msg_case(uint32_t req, const void *p, uint32_t size, const int *fds,
    unsigned nfds, bool setup)
{
	struct vf_dev d;
	uint8_t junk[64];
	uint32_t sz = sizeof(junk);
	struct pollfd pf;
	int closed;

	if (vf_open(&d, sock_path, MEM_SIZE) < 0 ||
	    (setup && vf_setup(&d, 1, QSIZE, 0) < 0)) {
		vf_close(&d);
		return fail("connect");
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
		return fail("connection kept after a malformed message");
	return verdict(still_serving(), "daemon no longer serving");
}

static bool
m_vring_index(const struct hcase *hc)
{
	struct vu_vring_state st = { 200, 16 };

	return msg_case(VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, false);
}

static bool
m_vring_size(const struct hcase *hc)
{
	struct vu_vring_state st = { 0, 100 };

	return msg_case(VU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, false);
}

static bool
m_ring_outside(const struct hcase *hc)
{
	struct vu_vring_addr a = { 0, 0, 1ull << 50, 1ull << 50, 1ull << 50,
	    0 };

	return msg_case(VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, true);
}

static bool
m_config_range(const struct hcase *hc)
{
	struct vu_config_msg cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.offset = 200;
	cfg.size = 100;
	return msg_case(VU_GET_CONFIG, &cfg, VU_CONFIG_HDR_SIZE + 100, NULL, 0,
	    false);
}

static bool
m_payload_size(const struct hcase *hc)
{
	uint64_t huge[64];

	memset(huge, 0, sizeof(huge));
	return msg_case(VU_SET_FEATURES, huge, 24, NULL, 0, false);
}

/* A message that carries nfds eventfds. */
static bool
msg_with_eventfds(uint32_t req, unsigned nfds)
{
	uint64_t idx = 0;
	int efd[3];
	bool ok;

	for (unsigned i = 0; i < nfds; i++)
		if ((efd[i] = eventfd(0, 0)) < 0) {
			while (i-- > 0)
				close(efd[i]);
			return fail("eventfd: %s", strerror(errno));
		}
	if (req == VU_SET_OWNER)	/* a message without payload */
		ok = msg_case(req, NULL, 0, efd, nfds, false);
	else
		ok = msg_case(req, &idx, sizeof(idx), efd, nfds, false);
	for (unsigned i = 0; i < nfds; i++)
		close(efd[i]);
	return ok;
}

static bool
m_surplus_fds(const struct hcase *hc)
{
	return msg_with_eventfds(VU_SET_VRING_CALL, 3);
}

static bool
m_fd_on_fdless(const struct hcase *hc)
{
	return msg_with_eventfds(VU_SET_OWNER, 1);
}

/* SET_MEM_TABLE with n regions, all on one memfd of size bytes. */
static bool
mem_table_case(const char *what, uint64_t size, unsigned n,
    const struct vu_mem_region_msg *r)
{
	struct vu_mem_table_msg mt;
	int memfd, fds[2];
	bool ok;

	if ((memfd = memfd_create(what, 0)) < 0 ||
	    ftruncate(memfd, (off_t)size) < 0) {
		ok = fail("memfd: %s", strerror(errno));
		goto out;
	}
	memset(&mt, 0, sizeof(mt));
	mt.nregions = n;
	for (unsigned i = 0; i < n; i++) {
		mt.r[i] = r[i];
		fds[i] = memfd;
	}
	ok = msg_case(VU_SET_MEM_TABLE, &mt, 8 + 32 * n, fds, n, false);
out:
	if (memfd >= 0)
		close(memfd);
	return ok;
}

/* A region larger than its memfd: mapping it would SIGBUS. */
static bool
m_region_larger(const struct hcase *hc)
{
	const struct vu_mem_region_msg r = { 0, 1u << 30, 1ull << 40, 0 };

	return mem_table_case("small", 4096, 1, &r);
}

/* Large enough but not sealed: we could shrink it under the daemon. */
/* Reads on OTHER_SOCKET's export: true if all n completed (2 s each). */
static bool
other_served(unsigned n, double *worst_ms)
{
	struct conn c;
	bool ok = true;

	*worst_ms = 0;
	if (conn_open(&c, other_path) < 0)
		return false;
	for (unsigned i = 0; i < n && ok; i++) {
		double t0 = mono(), dt;

		ok = rw(&c, T_IN, 64 + 8 * (i % 64), 8) == S_OK;
		dt = (mono() - t0) * 1000;
		if (dt > *worst_ms)
			*worst_ms = dt;
	}
	conn_close(&c);
	return ok;
}

/*
 * Unsealed guest memory is served; when the front-end then truncates the
 * file under a running ring, the daemon's next access faults: only this
 * export stops, the daemon and the other exports go on.
 */
static bool
shrink_case(const struct hcase *hc)
{
	struct conn c;
	uint64_t one = 1;
	double worst;
	int st;

	if (conn_open_as(&c, sock_path, QSIZE, VF_MEM_UNSEALED) < 0)
		return fail("unsealed guest memory refused");
	st = rw(&c, T_IN, 64, 8);
	if (st != S_OK) {
		conn_close(&c);
		return fail("read with unsealed memory: status %d", st);
	}
	if (ftruncate(c.d.mem_fd, 0) < 0) {
		conn_close(&c);
		return fail("truncate: %s", strerror(errno));
	}
	/* Our own mapping is gone too: only the kick, no ring writes. */
	if (write(c.r->kick_fd, &one, sizeof(one)) != sizeof(one)) {
		conn_close(&c);
		return fail("kick");
	}
	usleep(200 * 1000);
	if (!other_served(4, &worst)) {
		conn_close(&c);
		return fail("another export stopped after the fault");
	}
	conn_close(&c);
	return verdict(still_serving(), "the export was not served again "
	    "after a new connection");
}

#define FLOOD_QSIZE	1024

/* The pid at the other end of a connected Unix socket (the daemon). */
static pid_t
peer_pid(int sock)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	return getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0 ?
	    cr.pid : -1;
}

/* Wait until pid is stopped (SIGSTOP delivered); false after 5 s. */
static bool
wait_stopped(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		size_t n;

		if (f == NULL)
			return false;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
		    (p[2] == 'T' || p[2] == 't'))
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* A GET_ID chain at head 0 whose 20 id bytes go to gpa id. */
static void
getid_chain(struct conn *c, uint64_t id)
{
	header(c, 8 /* GET_ID */, 0);
	desc(c, 0, c->hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(c, 1, id, 20, VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, 2);
	desc(c, 2, c->st, 1, VQ_DESC_F_WRITE, 0);
}

/*
 * Deterministic half of the flood case: export A (SOCKET) has a ring's
 * worth of GET_ID requests pending, export B (OTHER_SOCKET) one; both
 * write their 20-byte serial to the same guest bytes X (the two
 * connections share their guest memory, like two disks of one VM).  The
 * daemon is stopped while both are kicked, A first, so its next epoll
 * batch holds A's kick then B's.  A daemon that runs A's whole ring in one
 * go answers B last and X holds B's serial; one that yields after a
 * bounded batch answers B in the middle of A's flood and X ends with A's.
 */
static bool
interleave(void)
{
	struct conn a, b;
	uint64_t x, one = 1;
	char got[21], a_id[21];
	pid_t pid;
	bool done = false;

	if (conn_open_as(&a, sock_path, FLOOD_QSIZE, VF_MEM_SEALED) < 0)
		return fail("connect");
	x = vf_alloc(&a.d, 32, 32);
	memset(&b, 0, sizeof(b));
	if (vf_open_shared(&b.d, other_path, &a.d) < 0 ||
	    vf_setup(&b.d, 1, QSIZE, 0) < 0) {
		conn_close(&a);
		vf_close(&b.d);
		return fail("connect a second export on the same memory");
	}
	b.r = &b.d.q[0];
	b.hdr = vf_alloc(&b.d, 64, 64);
	b.st = vf_alloc(&b.d, 64, 64);
	getid_chain(&a, x);
	getid_chain(&b, x);
	for (unsigned i = 0; i < FLOOD_QSIZE - 1; i++)
		vf_avail(a.r, 0);
	vf_avail(b.r, 0);
	__atomic_store_n(&a.r->avail->idx, a.r->avail_idx, __ATOMIC_RELEASE);
	__atomic_store_n(&b.r->avail->idx, b.r->avail_idx, __ATOMIC_RELEASE);
	pid = peer_pid(a.d.sock);
	if (pid <= 0 || kill(pid, SIGSTOP) < 0 || !wait_stopped(pid)) {
		if (pid > 0)
			kill(pid, SIGCONT);
		conn_close(&b);
		conn_close(&a);
		return fail("cannot stop the daemon");
	}
	done = write(a.r->kick_fd, &one, 8) != 8 ||
	    write(b.r->kick_fd, &one, 8) != 8;
	kill(pid, SIGCONT);
	if (done) {
		conn_close(&b);
		conn_close(&a);
		return fail("kick");
	}
	for (int i = 0; i < 500 && !done; i++) {
		done = a.r->used->idx == (uint16_t)(FLOOD_QSIZE - 1) &&
		    b.r->used->idx == 1;
		if (!done)
			usleep(10 * 1000);
	}
	memcpy(got, vf_ptr(&a.d, x), 20);
	got[20] = '\0';
	snprintf(a_id, sizeof(a_id), "%s", "hostile-vm0-p1");
	conn_close(&b);
	conn_close(&a);
	if (!done)
		return fail("the requests did not all complete");
	return verdict(strcmp(got, a_id) == 0, "another export's request was "
	    "answered only after the whole flood (last serial written: %s)",
	    got);
}

/*
 * One export floods: first the deterministic interleaving above; then a
 * front-end process keeps re-posting a GET_ID request (it completes at
 * once, freeing its slot) and bumping avail->idx as fast as it can while
 * another export of the same daemon is read 200 times: every read must
 * complete (2 s each); the slowest is reported, not asserted.
 */
static bool
flood_case(const struct hcase *hc)
{
	int pfd[2];
	pid_t pid;
	double worst = 0;
	uint64_t seen = 0;
	bool ok;

	if (!interleave())
		return false;
	if (pipe(pfd) < 0)
		return fail("pipe");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		struct conn c;
		uint64_t id, one = 1, done = 0;
		unsigned k = 0;
		uint16_t used;

		close(pfd[0]);
		/* Progress reports must never stop the flood. */
		fcntl(pfd[1], F_SETFL, O_NONBLOCK);
		if (conn_open_as(&c, sock_path, FLOOD_QSIZE, VF_MEM_SEALED) < 0)
			_exit(1);
		id = vf_alloc(&c.d, 32, 32);
		getid_chain(&c, id);
		for (unsigned i = 0; i < FLOOD_QSIZE; i++)
			c.r->avail->ring[i] = 0;
		/* Tell the parent we are set up. */
		if (write(pfd[1], &done, sizeof(done)) != sizeof(done))
			_exit(1);
		for (;;) {
			used = __atomic_load_n(&c.r->used->idx,
			    __ATOMIC_ACQUIRE);
			__atomic_store_n(&c.r->avail->idx,
			    (uint16_t)(used + FLOOD_QSIZE - 1),
			    __ATOMIC_RELEASE);
			done = used;
			if ((++k & 1023) == 0) {
				if (write(c.r->kick_fd, &one, 8) < 0)
					_exit(1);
				/* Report progress (non-blocking pipe). */
				(void)!write(pfd[1], &done, sizeof(done));
			}
		}
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	{
		uint64_t v;
		struct pollfd p = { pfd[0], POLLIN, 0 };

		if (poll(&p, 1, 10000) != 1 || read(pfd[0], &v, 8) != 8) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pfd[0]);
			return fail("flooding front-end did not start");
		}
	}
	usleep(200 * 1000);
	ok = other_served(200, &worst);
	/* The flood must have been real while we measured. */
	{
		uint64_t v;
		uint16_t prev = 0;

		while (read(pfd[0], &v, sizeof(v)) == sizeof(v)) {
			seen += (uint16_t)((uint16_t)v - prev);
			prev = (uint16_t)v;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	printf("# flood: %llu flood requests completed around 200 reads of "
	    "another export; slowest read %.1f ms\n",
	    (unsigned long long)seen, worst);
	if (!ok)
		return fail("another export was not served during the flood");
	return verdict(seen > 1000 && still_serving(), "flood too small "
	    "(%llu) or export not served after it", (unsigned long long)seen);
}

/*
 * The advertised SEG_MAX (126) and SIZE_MAX (1 MiB) are enforced: one
 * descriptor more, or a longer descriptor, is IOERR; exactly the limits
 * work.
 */
static int
segs_req(struct conn *c, unsigned nseg, uint32_t seglen, uint64_t buf)
{
	struct vq_desc *t = vf_ptr(&c->d, c->itab);
	unsigned i;

	header(c, T_IN, 64);
	t[0] = (struct vq_desc){ c->hdr, 16, VQ_DESC_F_NEXT, 1 };
	for (i = 0; i < nseg; i++)
		t[1 + i] = (struct vq_desc){ buf + (uint64_t)i * seglen, seglen,
		    VQ_DESC_F_NEXT | VQ_DESC_F_WRITE, (uint16_t)(2 + i) };
	t[1 + nseg] = (struct vq_desc){ c->st, 1, VQ_DESC_F_WRITE, 0 };
	desc(c, 0, c->itab, (uint32_t)(16 * (nseg + 2)), VQ_DESC_F_INDIRECT,
	    0);
	return run(c, 0, 3000);
}

static bool
limits_case(const struct hcase *hc)
{
	struct conn c;
	uint64_t big;
	int a, b, e, f;

	if (conn_open(&c, sock_path) < 0)
		return fail("connect");
	big = vf_alloc(&c.d, 2u << 20, 4096);
	if (big == 0) {
		conn_close(&c);
		return fail("no room for a 2 MiB buffer");
	}
	a = segs_req(&c, 126, 512, c.data);
	b = segs_req(&c, 127, 512, c.data);
	e = segs_req(&c, 1, 1u << 20, big);
	f = segs_req(&c, 1, (1u << 20) + 512, big);
	conn_close(&c);
	return verdict(a == S_OK && b == S_IOERR && e == S_OK && f == S_IOERR,
	    "126 segments: %d, 127: %d, 1 MiB: %d, 1 MiB + 512: %d "
	    "(want 0 1 0 1)", a, b, e, f);
}

/*
 * A reset while the export's I/O cannot complete (its file system is
 * frozen): GET_VRING_BASE must wait for that write without holding up
 * the other exports, and be answered once the write completes.
 */
static bool
frozen_io_case(const struct hcase *hc)
{
	struct conn a, b;
	struct vu_vring_state st = { 0, 0 };
	struct pollfd p;
	struct vu_hdr h;
	uint32_t id, len;
	double worst;
	bool other_ok, early;
	int dfd, n;

	if ((dfd = open(freeze_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail("%s: %s", freeze_dir, strerror(errno));
	if (conn_open(&a, sock_path) < 0) {
		close(dfd);
		return fail("connect");
	}
	if (ioctl(dfd, FIFREEZE, 0) < 0) {
		conn_close(&a);
		close(dfd);
		return fail("FIFREEZE %s: %s", freeze_dir, strerror(errno));
	}
	/* A write that cannot finish while the file system is frozen. */
	header(&a, T_OUT, 128);
	memset(vf_ptr(&a.d, a.data), 0x5c, 4096);
	desc(&a, 0, a.hdr, 16, VQ_DESC_F_NEXT, 1);
	desc(&a, 1, a.data, 4096, VQ_DESC_F_NEXT, 2);
	desc(&a, 2, a.st, 1, VQ_DESC_F_WRITE, 0);
	vf_avail(a.r, 0);
	vf_kick(a.r);
	early = vf_wait(a.r, 300) > 0 && vf_used(a.r, &id, &len) == 1;
	/* What QEMU sends when the guest resets the device. */
	vf_msg(&a.d, VU_GET_VRING_BASE, &st, sizeof(st), NULL, 0, false, NULL,
	    NULL);
	other_ok = other_served(20, &worst);
	p = (struct pollfd){ a.d.sock, POLLIN, 0 };
	n = poll(&p, 1, 100);
	ioctl(dfd, FITHAW, 0);
	close(dfd);
	if (early || n != 0) {
		conn_close(&a);
		return fail(early ? "the write completed on a frozen file "
		    "system: nothing to test" : "GET_VRING_BASE answered while "
		    "its write was still running");
	}
	if (!other_ok) {
		conn_close(&a);
		return fail("another export was not served while one export's "
		    "reset waited for its I/O");
	}
	/* Thawed: the write completes, then the base comes. */
	p = (struct pollfd){ a.d.sock, POLLIN, 0 };
	n = poll(&p, 1, 10000);
	if (n != 1 || recv(a.d.sock, &h, sizeof(h), MSG_WAITALL) != sizeof(h) ||
	    h.request != VU_GET_VRING_BASE ||
	    recv(a.d.sock, &st, sizeof(st), MSG_WAITALL) != sizeof(st)) {
		conn_close(&a);
		return fail("no GET_VRING_BASE reply after the thaw");
	}
	n = vf_used(a.r, &id, &len);
	other_ok = *(uint8_t *)vf_ptr(&a.d, a.st) == S_OK;	/* write status */
	conn_close(&a);
	if (conn_open(&b, sock_path) < 0)
		return fail("reconnect");
	conn_close(&b);
	printf("# frozen: slowest read of another export %.1f ms while one "
	    "export's reset waited\n", worst);
	return verdict(n == 1 && id == 0 && st.num == 1 && other_ok, "the stuck "
	    "write did not complete before the base (used %d, base %u)", n,
	    st.num);
}

static bool
m_overlapping(const struct hcase *hc)
{
	const struct vu_mem_region_msg r[2] = {
		{ 0, 1 << 20, 1ull << 40, 0 },
		{ 4096, 1 << 19, 1ull << 41, 0 },
	};

	return mem_table_case("two", 1 << 20, 2, r);
}

/* A header announcing more than any message holds. */
static bool
m_oversized(const struct hcase *hc)
{
	struct vf_dev d;
	struct vu_hdr h = { VU_SET_FEATURES, VU_VERSION, 1u << 20 };
	bool wrote;

	if (vf_open(&d, sock_path, MEM_SIZE) < 0)
		return fail("connect");
	wrote = write(d.sock, &h, sizeof(h)) == sizeof(h);
	vf_close(&d);
	if (!wrote)
		return fail("write: %s", strerror(errno));
	return verdict(still_serving(), "daemon no longer serving");
}

/* Every case, in the order they run. */
static const struct hcase cases[] = {
	{ "baseline-read", baseline_case, NULL },
	{ "split-header-and-indirect", split_header_case, NULL },
	{ "spill-1-to-7-sectors", spill_case, NULL },
	{ "descriptor-outside-guest-memory", ring_case, a_outside_memory },
	{ "descriptor-at-wrapping-address", ring_case, a_far_address },
	{ "looping-chain", ring_case, a_loop },
	{ "zero-length-descriptor", ring_case, a_zero_length },
	{ "avail-idx-jump", ring_case, a_avail_jump },
	{ "head-index-out-of-range", ring_case, a_head_out_of_range },
	{ "chain-without-status-byte", ring_case, a_no_status },
	{ "readable-after-writable", ring_case, a_readable_after_writable },
	{ "indirect-table-outside-memory", ring_case, a_indirect_outside },
	{ "nested-indirect-table", ring_case, a_indirect_nested },
	{ "flush-getid-discard-writezeroes", other_requests_case, NULL },
	{ "unknown-request-type", unknown_type_case, NULL },
	{ "multiqueue", multiqueue_case, NULL },
	{ "vring-index-out-of-range", m_vring_index, NULL },
	{ "vring-size-not-power-of-two", m_vring_size, NULL },
	{ "ring-outside-guest-memory", m_ring_outside, NULL },
	{ "config-out-of-range", m_config_range, NULL },
	{ "payload-size-mismatch", m_payload_size, NULL },
	{ "surplus-fds", m_surplus_fds, NULL },
	{ "fd-on-fdless-message", m_fd_on_fdless, NULL },
	{ "region-larger-than-its-file", m_region_larger, NULL },
	{ "shrunk-guest-memory-breaks-only-its-export", shrink_case, NULL },
	{ "overlapping-regions", m_overlapping, NULL },
	{ "oversized-message", m_oversized, NULL },
	{ "inflight-resubmit-after-crash", inflight_case, NULL },
	{ "stalled-half-message", stall_case, NULL },
	{ "recycled-heads-flood", recycled_heads_case, NULL },
	{ "read-only-export", ro_case, NULL },
	{ "flood-on-one-export-does-not-stall-another", flood_case, NULL },
	{ "requests-over-seg-max-or-size-max", limits_case, NULL },
	{ "reset-during-stuck-io-does-not-stall-others", frozen_io_case,
	    NULL },
};
#define NCASES	(sizeof(cases) / sizeof(cases[0]))

/* The cases --client runs: one writable export, nothing else known. */
static const char *const client_cases[] = {
	"baseline-read",
	"split-header-and-indirect",
	"spill-1-to-7-sectors",
	"descriptor-outside-guest-memory",
	"descriptor-at-wrapping-address",
	"looping-chain",
	"zero-length-descriptor",
	"avail-idx-jump",
	"head-index-out-of-range",
	"chain-without-status-byte",
	"readable-after-writable",
	"indirect-table-outside-memory",
	"nested-indirect-table",
	"unknown-request-type",
	"vring-index-out-of-range",
	"vring-size-not-power-of-two",
	"ring-outside-guest-memory",
	"config-out-of-range",
	"payload-size-mismatch",
	"oversized-message",
	"requests-over-seg-max-or-size-max",
};
#define NCLIENT	(sizeof(client_cases) / sizeof(client_cases[0]))

static bool
in_client_set(const char *name)
{
	for (size_t i = 0; i < NCLIENT; i++)
		if (strcmp(client_cases[i], name) == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	unsigned run = 0, passed = 0;
	bool client = false;
	size_t defined = NCASES;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NCASES; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--client") == 0) {
		client = true;
		defined = NCLIENT;
		sock_path = argv[2];
	} else if (argc == 5) {
		sock_path = argv[1];
		ro_path = argv[2];
		other_path = argv[3];
		freeze_dir = argv[4];
	} else {
		fprintf(stderr, "usage: isles-blk-hostile SOCKET RO_SOCKET "
		    "OTHER_SOCKET FREEZE_DIR\n"
		    "       isles-blk-hostile --client SOCKET\n"
		    "       isles-blk-hostile --list\n");
		return 2;
	}
	for (size_t i = 0; i < NCASES; i++) {
		bool ok;

		if (client && !in_client_set(cases[i].name))
			continue;
		reason[0] = '\0';
		ok = cases[i].run(&cases[i]);
		run++;
		if (ok) {
			passed++;
			printf("ok %s\n", cases[i].name);
		} else {
			printf("FAIL %s: %s\n", cases[i].name,
			    reason[0] ? reason : "(no reason given)");
		}
		fflush(stdout);
	}
	printf("cases: %zu defined, %u run, %u passed\n", defined, run, passed);
	return run == defined && passed == defined ? 0 : 1;
}
