/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of isles-diskd's partition tables (src/diskd/ptable.c) and
 * per-VM virtual disk map (src/diskd/vdisk.c) on in-memory disk images:
 * MBR primary/extended/logical, GPT, corrupted tables, the synthesized
 * MBR, and the range check at every partition edge.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diskd/ptable.h"
#include "diskd/vdisk.h"

#define NSECT	32768ull	/* 16 MiB image */
#define MiB	(1024ull * 1024)

struct img {
	uint8_t *d;
	uint64_t n;
};

static int
rd(void *ctx, uint64_t lba, void *buf)
{
	struct img *im = ctx;

	if (lba >= im->n)
		return -1;
	memcpy(buf, im->d + lba * 512, 512);
	return 0;
}

static int
wr(void *ctx, uint64_t lba, const void *buf)
{
	struct img *im = ctx;

	if (lba >= im->n)
		return -1;
	memcpy(im->d + lba * 512, buf, 512);
	return 0;
}

static int
setup(void **state)
{
	struct img *im = calloc(1, sizeof(*im));

	im->n = NSECT;
	im->d = calloc(NSECT, 512);
	*state = im;
	return 0;
}

static int
teardown(void **state)
{
	struct img *im = *state;

	free(im->d);
	free(im);
	return 0;
}

static void
parse_ok(struct img *im, struct pt_table *t)
{
	char err[128] = "";
	int r = pt_parse(rd, im, im->n, t, err, sizeof(err));

	if (r != 0)
		print_error("pt_parse: %s\n", err);
	assert_int_equal(r, 0);
}

static void
parse_fails(struct img *im, const char *why)
{
	struct pt_table t;
	char err[128] = "";

	assert_int_equal(pt_parse(rd, im, im->n, &t, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, why));
}

static void
make(struct img *im, enum pt_kind k, const struct pt_newpart *p, size_t n)
{
	char err[128] = "";
	uint8_t seed[16] = { 1, 2, 3 };
	int r = pt_create(k, p, n, im->n, seed, wr, im, err, sizeof(err));

	if (r != 0)
		print_error("pt_create: %s\n", err);
	assert_int_equal(r, 0);
}

static const struct pt_newpart three[] = {
	{ 4 * MiB, 0x83, true, false },
	{ 4 * MiB, 0x82, false, false },
	{ 4 * MiB, 0x0c, false, false },
};

static void
test_mbr_primary(void **state)
{
	struct img *im = *state;
	struct pt_table t;

	make(im, PT_MBR, three, 3);
	parse_ok(im, &t);
	assert_int_equal(t.kind, PT_MBR);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.p[0].num, 1);
	assert_int_equal(t.p[0].start, 2048);
	assert_int_equal(t.p[0].size, 8192);
	assert_true(t.p[0].boot);
	assert_int_equal(t.p[0].type, 0x83);
	assert_int_equal(t.p[1].start, 2048 + 8192);
	assert_false(t.p[1].boot);
	assert_int_equal(t.p[1].type, 0x82);
	assert_int_equal(t.p[2].num, 3);
	assert_int_equal(t.p[2].type, 0x0c);
	assert_null(pt_find(&t, 4));
}

static void
test_mbr_logical(void **state)
{
	struct img *im = *state;
	struct pt_newpart p[] = {
		{ 2 * MiB, 0x83, false, false },
		{ 2 * MiB, 0x83, false, true },
		{ 3 * MiB, 0x82, true, true },
		{ 0, 0x83, false, true },		/* the rest */
	};
	struct pt_table t;
	const struct pt_part *l5, *l6, *l7;

	make(im, PT_MBR, p, 4);
	parse_ok(im, &t);
	assert_int_equal(t.n, 4);
	l5 = pt_find(&t, 5);
	l6 = pt_find(&t, 6);
	l7 = pt_find(&t, 7);
	assert_non_null(l5);
	assert_non_null(l6);
	assert_non_null(l7);
	assert_null(pt_find(&t, 2));	/* slot 2 is the extended one */
	assert_true(l5->logical);
	assert_int_equal(l5->size, 4096);
	assert_int_equal(l6->size, 6144);
	assert_int_equal(l6->type, 0x82);
	assert_true(l6->boot);
	assert_true(l5->start > 2048 + 4096);	/* after its EBR */
	assert_true(l6->start >= l5->start + l5->size);
	assert_int_equal(l7->start + l7->size, NSECT);
}

static void
test_mbr_rest_of_disk(void **state)
{
	struct img *im = *state;
	struct pt_newpart p[] = { { 1 * MiB, 0x83, false, false },
	    { 0, 0x83, false, false } };
	struct pt_table t;

	make(im, PT_MBR, p, 2);
	parse_ok(im, &t);
	assert_int_equal(t.p[1].start + t.p[1].size, NSECT);
}

/* CHS as fdisk computes it (255 heads, 63 sectors), absolute in EBRs. */
static void
test_mbr_chs(void **state)
{
	struct img *im = *state;
	struct pt_newpart p[] = { { 4 * MiB, 0x83, false, false },
	    { 0, 0x83, false, true } };
	uint8_t big[16];
	struct pt_table t;
	const uint8_t *e = im->d + 446;
	const struct pt_part *l5;
	uint64_t ebr;

	make(im, PT_MBR, p, 2);
	parse_ok(im, &t);
	/* 2048 = 0/32/33; 2048 + 8191 = 10239 = 0/162/34. */
	assert_int_equal(e[1], 32);
	assert_int_equal(e[2], 33);
	assert_int_equal(e[3], 0);
	assert_int_equal(e[5], 162);
	assert_int_equal(e[6], 34);
	assert_int_equal(e[7], 0);
	/* The logical partition's entry, in its EBR: absolute CHS. */
	l5 = pt_find(&t, 5);
	assert_non_null(l5);
	ebr = l5->start - 2048;
	e = im->d + ebr * 512 + 446;
	assert_int_equal(e[1], (l5->start / 63) % 255);
	assert_int_equal(e[2] & 0x3f, l5->start % 63 + 1);
	assert_int_equal(e[3] | ((e[2] & 0xc0) << 2), l5->start / (255 * 63));
	/* Past cylinder 1023: 1023/254/63 (bytes fe ff ff). */
	pt_mbr_entry(big, false, 0x83, 2048, 0xffffff00u);
	assert_int_equal(big[5], 0xfe);
	assert_int_equal(big[6], 0xff);
	assert_int_equal(big[7], 0xff);
	assert_int_equal(big[1], 32);
}

static void
test_create_refuses(void **state)
{
	struct img *im = *state;
	struct pt_newpart toobig[] = { { 64 * MiB, 0x83, false, false } };
	struct pt_newpart five[5] = { { MiB, 0x83, false, false },
	    { MiB, 0x83, false, false }, { MiB, 0x83, false, false },
	    { MiB, 0x83, false, false }, { MiB, 0x83, false, false } };
	struct pt_newpart order[] = { { MiB, 0x83, false, true },
	    { MiB, 0x83, false, false } };
	char err[128];

	assert_int_equal(pt_create(PT_MBR, toobig, 1, im->n, NULL, wr, im, err,
	    sizeof(err)), -1);
	assert_int_equal(pt_create(PT_MBR, five, 5, im->n, NULL, wr, im, err,
	    sizeof(err)), -1);
	assert_int_equal(pt_create(PT_MBR, order, 2, im->n, NULL, wr, im, err,
	    sizeof(err)), -1);
	assert_int_equal(pt_create(PT_GPT, order, 2, im->n, NULL, wr, im, err,
	    sizeof(err)), -1);
}

/* A writer that keeps nothing: only where pt_create writes is checked. */
static int
wr_none(void *ctx, uint64_t lba, const void *buf)
{
	const uint64_t *sectors = ctx;

	(void)buf;
	return lba < *sectors ? 0 : -1;
}

static int
create_on(enum pt_kind k, const struct pt_newpart *p, size_t n,
    uint64_t sectors)
{
	char err[128];

	return pt_create(k, p, n, sectors, NULL, wr_none, &sectors, err,
	    sizeof(err));
}

/*
 * pt_room is the rule pt_create places by (and `isles check` judges a
 * layout by): a layout fits a disk of exactly the room it says, one more
 * sector for a rest-of-disk partition, and not one sector less.
 */
static void
test_room_is_what_create_needs(void **state)
{
	static const struct {
		enum pt_kind k;
		size_t n;
		struct pt_newpart p[4];
	} cases[] = {
		{ PT_MBR, 3, { { 4 * MiB, 0x83, true, false },
		    { 4 * MiB, 0x82, false, false },
		    { 4 * MiB, 0x0c, false, false } } },
		{ PT_MBR, 3, { { 4 * MiB, 0x83, false, false },
		    { 3 * MiB, 0x83, false, true },
		    { 5 * MiB, 0x83, false, true } } },
		{ PT_MBR, 2, { { 4 * MiB, 0x83, false, false },
		    { 0, 0x83, false, false } } },
		{ PT_MBR, 3, { { 1536 * 1024, 0x83, false, false },
		    { 1000 * 1024, 0x83, false, true },
		    { 0, 0x83, false, true } } },
		{ PT_GPT, 3, { { 4 * MiB, 0x83, false, false },
		    { 3 * MiB + 512, 0x82, false, false },
		    { 2 * MiB, 0xef, false, false } } },
		{ PT_GPT, 2, { { 4 * MiB, 0x83, false, false },
		    { 0, 0x83, false, false } } },
	};
	struct pt_room room;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool rest = cases[i].p[cases[i].n - 1].size == 0;
		uint64_t s;

		pt_room(cases[i].k, cases[i].p, cases[i].n, &room);
		s = room.need + rest;
		assert_int_equal(create_on(cases[i].k, cases[i].p, cases[i].n,
		    s), 0);
		assert_int_equal(create_on(cases[i].k, cases[i].p, cases[i].n,
		    s - 1), -1);
		assert_int_equal(errno, EINVAL);
	}
	/* 1 MiB before the first, 1 MiB for each logical's EBR. */
	pt_room(PT_MBR, cases[1].p, 3, &room);
	assert_int_equal(room.overhead, 3 * MiB / 512);
	assert_int_equal(room.slots, 2);
	/* GPT: 1 MiB before the first, the backup table after the last. */
	pt_room(PT_GPT, cases[4].p, 3, &room);
	assert_int_equal(room.overhead, (2 * MiB - 512) / 512 + PT_GPT_TAIL);
}

/* The MBR's 2 TiB and its four slots, the extended partition counted. */
static void
test_room_mbr_limits(void **state)
{
	struct pt_newpart fits[] = { { (2ull << 40) - 2 * MiB, 0x83, false,
	    false } };
	struct pt_newpart over[] = { { (2ull << 40) - MiB, 0x83, false,
	    false } };
	struct pt_newpart p[5];
	struct pt_room room;

	(void)state;
	pt_room(PT_MBR, fits, 1, &room);
	assert_true(room.need <= room.limit);
	assert_int_equal(create_on(PT_MBR, fits, 1, 1ull << 33), 0);
	pt_room(PT_MBR, over, 1, &room);
	assert_true(room.need > room.limit);
	assert_int_equal(create_on(PT_MBR, over, 1, 1ull << 33), -1);
	pt_room(PT_GPT, over, 1, &room);
	assert_int_equal(create_on(PT_GPT, over, 1, room.need), 0);

	for (size_t i = 0; i < 5; i++)
		p[i] = (struct pt_newpart){ MiB, 0x83, false, i >= 3 };
	pt_room(PT_MBR, p, 5, &room);	/* 3 primaries + the extended */
	assert_int_equal(room.slots, 4);
	assert_int_equal(create_on(PT_MBR, p, 5, room.need), 0);
	p[3].logical = false;		/* 4 primaries + the extended */
	pt_room(PT_MBR, p, 5, &room);
	assert_int_equal(room.slots, 5);
	assert_int_equal(create_on(PT_MBR, p, 5, 1ull << 20), -1);
}

static void
test_gpt(void **state)
{
	struct img *im = *state;
	struct pt_table t;

	make(im, PT_GPT, three, 3);
	parse_ok(im, &t);
	assert_int_equal(t.kind, PT_GPT);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.p[0].num, 1);
	assert_int_equal(t.p[0].start, 2048);
	assert_int_equal(t.p[0].size, 8192);
	assert_true(t.p[0].boot);
	assert_int_equal(t.p[0].type, 0x83);
	assert_int_equal(t.p[1].type, 0x82);
	assert_int_equal(t.p[2].num, 3);
	/* The backup header is at the last sector. */
	assert_memory_equal(im->d + (NSECT - 1) * 512, "EFI PART", 8);
}

static void
test_gpt_corrupt(void **state)
{
	struct img *im = *state;

	make(im, PT_GPT, three, 3);
	im->d[2 * 512 + 40] ^= 1;		/* entry 1's last LBA */
	parse_fails(im, "entry array: bad CRC");
	im->d[2 * 512 + 40] ^= 1;
	im->d[512 + 48] ^= 1;			/* header's last usable */
	parse_fails(im, "header: bad CRC");
	im->d[512] = 'X';
	parse_fails(im, "no signature");
}

static void
test_no_table(void **state)
{
	parse_fails(*state, "no partition table");
}

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void
entry(struct img *im, uint64_t lba, int slot, uint8_t type, uint32_t start,
    uint32_t size)
{
	uint8_t *e = im->d + lba * 512 + 446 + 16 * slot;

	e[4] = type;
	put32(e + 8, start);
	put32(e + 12, size);
	im->d[lba * 512 + 510] = 0x55;
	im->d[lba * 512 + 511] = 0xaa;
}

static void
test_mbr_bad(void **state)
{
	struct img *im = *state;

	entry(im, 0, 0, 0x83, 2048, (uint32_t)NSECT);	/* runs past the end */
	parse_fails(im, "outside the disk");
	entry(im, 0, 0, 0x83, 2048, 4096);
	entry(im, 0, 1, 0x83, 4000, 4096);
	parse_fails(im, "overlap");
	entry(im, 0, 1, 0x83, 6144, 4096);
	im->d[446] = 0x12;				/* boot flag */
	parse_fails(im, "boot flag");
}

static void
test_ebr_loop(void **state)
{
	struct img *im = *state;

	entry(im, 0, 0, 0x05, 2048, 20000);
	entry(im, 2048, 0, 0x83, 2048, 1000);
	entry(im, 2048, 1, 0x05, 4096, 3000);		/* -> 6144 */
	entry(im, 6144, 0, 0x83, 100, 1000);
	entry(im, 6144, 1, 0x05, 0 + 1, 3000);		/* -> 2049 */
	entry(im, 2049, 1, 0x05, 4096, 1000);		/* -> 6144 again */
	parse_fails(im, "loops");
}

static void
test_ebr_escape(void **state)
{
	struct img *im = *state;

	entry(im, 0, 0, 0x05, 2048, 8192);
	entry(im, 0, 1, 0x83, 12000, 1000);
	/* The logical claims sectors beyond the extended partition. */
	entry(im, 2048, 0, 0x83, 2048, 6145);
	parse_fails(im, "outside the extended");
}

/* ---- virtual disk ---- */

static struct pt_table
table3(void)
{
	struct pt_table t = { .kind = PT_MBR, .n = 3 };

	t.p[0] = (struct pt_part){ 1, 2048, 1000, 0x83, true, false };
	t.p[1] = (struct pt_part){ 2, 4096, 2000, 0x0c, false, false };
	t.p[2] = (struct pt_part){ 5, 8192, 3000, 0x82, false, true };
	return t;
}

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
test_vdisk_mbr(void **state)
{
	struct pt_table t = table3();
	unsigned nums[] = { 5, 1 };
	struct vdisk vd;
	struct pt_table vt;
	struct img im = { NULL, 0 };
	char err[128];

	assert_int_equal(vd_build(&vd, &t, nums, 2, 0x1234abcd, err,
	    sizeof(err)), 0);
	assert_int_equal(vd.capacity, 64 + 3000 + 1000);
	assert_int_equal(vd.mbr[446 + 4], 0x82);
	assert_int_equal(vd.mbr[446], 0);
	assert_int_equal(get32(vd.mbr + 446 + 8), 64);
	assert_int_equal(get32(vd.mbr + 446 + 12), 3000);
	assert_int_equal(vd.mbr[462 + 4], 0x83);
	assert_int_equal(vd.mbr[462], 0x80);
	assert_int_equal(get32(vd.mbr + 462 + 8), 3064);
	assert_int_equal(vd.mbr[478 + 4], 0);
	assert_int_equal(get32(vd.mbr + 440), 0x1234abcd);
	/* The synthesized MBR parses as the guest would see it. */
	im.n = vd.capacity;
	im.d = calloc(vd.capacity, 512);
	memcpy(im.d, vd.mbr, 512);
	parse_ok(&im, &vt);
	assert_int_equal(vt.n, 2);
	assert_int_equal(vt.p[1].start, 3064);
	free(im.d);
}

static void
test_vdisk_build_errors(void **state)
{
	struct pt_table t = table3();
	unsigned missing[] = { 3 }, dup[] = { 1, 1 }, many[] = { 1, 2, 5, 1,
	    2 };
	struct vdisk vd;
	char err[128];

	assert_int_equal(vd_build(&vd, &t, missing, 1, 0, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no partition 3"));
	assert_int_equal(vd_build(&vd, &t, dup, 2, 0, err, sizeof(err)), -1);
	assert_int_equal(vd_build(&vd, &t, many, 5, 0, err, sizeof(err)), -1);
	assert_int_equal(vd_build(&vd, &t, many, 0, 0, err, sizeof(err)), -1);
}

static void
test_vdisk_map_header(void **state)
{
	struct pt_table t = table3();
	unsigned nums[] = { 2 };
	struct vdisk vd;
	struct vd_seg s[VD_MAX_SEGS];
	char err[128];

	assert_int_equal(vd_build(&vd, &t, nums, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(vd_map(&vd, 0, 66, s), 3);
	assert_int_equal(s[0].kind, VD_MBR);
	assert_int_equal(s[0].len, 512);
	assert_int_equal(s[1].kind, VD_ZERO);
	assert_int_equal(s[1].off, 512);
	assert_int_equal(s[1].len, 63 * 512);
	assert_int_equal(s[2].kind, VD_PHYS);
	assert_int_equal(s[2].off, 64 * 512);
	assert_int_equal(s[2].len, 2 * 512);
	assert_int_equal(s[2].pos, 4096 * 512);
	assert_int_equal(vd_map(&vd, 63, 1, s), 1);
	assert_int_equal(s[0].kind, VD_ZERO);
	assert_int_equal(vd_map(&vd, 5, 0, s), 0);
}

static void
test_vdisk_edges(void **state)
{
	struct pt_table t = table3();
	unsigned nums[] = { 1, 2, 5 };
	struct vdisk vd;
	struct vd_seg s[VD_MAX_SEGS];
	char err[128];
	uint64_t k, edge[] = { 64, 1064, 3064 }, pstart[] = { 2048, 4096,
	    8192 }, size[] = { 1000, 2000, 3000 };
	unsigned i;

	assert_int_equal(vd_build(&vd, &t, nums, 3, 0, err, sizeof(err)), 0);
	assert_int_equal(vd.capacity, 6064);
	for (i = 0; i < 3; i++) {
		uint64_t end = edge[i] + size[i];

		/* Last sector of the partition: its own last sector. */
		assert_int_equal(vd_map(&vd, end - 1, 1, s), 1);
		assert_int_equal(s[0].pos, (pstart[i] + size[i] - 1) * 512);
		/* First sector: its own first sector. */
		assert_int_equal(vd_map(&vd, edge[i], 1, s), 1);
		assert_int_equal(s[0].pos, pstart[i] * 512);
		/* Crossing into the next partition: split at the edge. */
		for (k = 1; k <= 8 && i < 2; k++) {
			assert_int_equal(vd_map(&vd, end - k, 2 * k, s), 2);
			assert_int_equal(s[0].len, k * 512);
			assert_int_equal(s[0].pos, (pstart[i] + size[i] - k) *
			    512);
			assert_int_equal(s[1].pos, pstart[i + 1] * 512);
			assert_int_equal(s[1].len, k * 512);
		}
	}
	/* The disk's end: 1..7 sectors past it are refused whole. */
	assert_int_equal(vd_map(&vd, 6064 - 8, 8, s), 1);
	for (k = 1; k <= 7; k++) {
		errno = 0;
		assert_int_equal(vd_map(&vd, 6064 - 8 + k, 8, s), -1);
		assert_int_equal(errno, ERANGE);
	}
	assert_int_equal(vd_map(&vd, 6064, 1, s), -1);
	assert_int_equal(vd_map(&vd, 6065, 0, s), -1);
	assert_int_equal(vd_map(&vd, UINT64_MAX, 2, s), -1);
	assert_int_equal(vd_map(&vd, 1, UINT64_MAX, s), -1);
	assert_int_equal(vd_map(&vd, 6064, 0, s), 0);
}

static void
test_vdisk_single_partition_end(void **state)
{
	struct pt_table t = table3();
	unsigned nums[] = { 1 };
	struct vdisk vd;
	struct vd_seg s[VD_MAX_SEGS];
	char err[128];
	uint64_t k;

	/* The seed's bug: a request near the end spilling into partition 2. */
	assert_int_equal(vd_build(&vd, &t, nums, 1, 0, err, sizeof(err)), 0);
	for (k = 1; k <= 7; k++)
		assert_int_equal(vd_map(&vd, 1064 - 8 + k, 8, s), -1);
	assert_int_equal(vd_map(&vd, 1064 - 8, 8, s), 1);
	assert_int_equal(s[0].pos + s[0].len, (2048 + 1000) * 512);
}

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Whatever a disk holds, an accepted table fits the disk, no overlaps. */
static void
check_sane(const struct pt_table *t, uint64_t nsect)
{
	unsigned i, j;

	for (i = 0; i < t->n; i++) {
		assert_true(t->p[i].size > 0);
		assert_true(t->p[i].start + t->p[i].size <= nsect);
		for (j = 0; j < i; j++) {
			assert_true(t->p[i].num != t->p[j].num);
			assert_true(t->p[i].start >= t->p[j].start + t->p[j].size ||
			    t->p[j].start >= t->p[i].start + t->p[i].size);
		}
	}
}

static void
test_random_tables(void **state)
{
	struct img *im = *state;
	struct pt_newpart p[] = {
		{ 2 * MiB, 0x83, false, false },
		{ 2 * MiB, 0x83, false, true },
		{ 2 * MiB, 0x83, false, true },
	};
	unsigned iter, k, accepted = 0, refused = 0;

	/* Start from valid tables (MBR with EBRs, GPT) and flip bytes in
	 * the sectors the parser reads. */
	for (iter = 0; iter < 4000; iter++) {
		struct pt_table t;
		char err[128];
		static const uint64_t hot[] = { 0, 1, 2, 3, 2048 + 4096,
		    2048 + 4096 + 6144 };

		memset(im->d, 0, 64 * 512);
		memset(im->d + 6144 * 512, 0, 8192 * 512);
		make(im, iter & 1 ? PT_GPT : PT_MBR, p, iter & 1 ? 1 : 3);
		for (k = 0; k < 1 + rnd() % 6; k++) {
			uint64_t lba = hot[rnd() % 6];
			unsigned off = iter & 1 && lba == 0 ? (unsigned)(rnd() % 512) :
			    446 + (unsigned)(rnd() % 66);

			im->d[lba * 512 + off] = (uint8_t)rnd();
		}
		if (pt_parse(rd, im, im->n, &t, err, sizeof(err)) == 0) {
			check_sane(&t, im->n);
			accepted++;
		} else {
			refused++;
		}
	}
	assert_true(accepted > 50 && refused > 50);
}

static void
test_random_requests(void **state)
{
	struct pt_table t = table3();
	unsigned nums[] = { 5, 1, 2 };
	struct vdisk vd;
	struct vd_seg s[VD_MAX_SEGS];
	char err[128];
	unsigned iter, i;

	assert_int_equal(vd_build(&vd, &t, nums, 3, 0, err, sizeof(err)), 0);
	for (iter = 0; iter < 100000; iter++) {
		uint64_t sector = rnd() % (vd.capacity + 16), n = rnd() % 300;
		uint64_t off = 0;
		int k;

		if (rnd() % 50 == 0)
			sector = UINT64_MAX - rnd() % 1000;
		k = vd_map(&vd, sector, n, s);
		if (sector + n > vd.capacity || sector + n < sector) {
			assert_int_equal(k, -1);
			continue;
		}
		assert_true(k >= 0 && k <= VD_MAX_SEGS);
		/* The pieces cover the request exactly, in order ... */
		for (i = 0; i < (unsigned)k; i++) {
			assert_int_equal(s[i].off, off);
			off += s[i].len;
			if (s[i].kind != VD_PHYS)
				continue;
			/* ... and each physical piece lies in one partition. */
			bool in = false;
			for (unsigned j = 0; j < t.n; j++) {
				uint64_t a = t.p[j].start * 512,
				    b = (t.p[j].start + t.p[j].size) * 512;

				in |= s[i].pos >= a && s[i].pos + s[i].len <= b;
			}
			assert_true(in);
		}
		assert_int_equal(off, n * 512);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_mbr_primary),
		T(test_mbr_logical),
		T(test_mbr_rest_of_disk),
		T(test_mbr_chs),
		T(test_create_refuses),
		cmocka_unit_test(test_room_is_what_create_needs),
		cmocka_unit_test(test_room_mbr_limits),
		T(test_gpt),
		T(test_gpt_corrupt),
		T(test_no_table),
		T(test_mbr_bad),
		T(test_ebr_loop),
		T(test_ebr_escape),
		T(test_vdisk_mbr),
		T(test_vdisk_build_errors),
		T(test_vdisk_map_header),
		T(test_vdisk_edges),
		T(test_vdisk_single_partition_end),
		T(test_random_tables),
		T(test_random_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
