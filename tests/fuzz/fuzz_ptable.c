/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: partition tables and the virtual disk (src/diskd/ptable.c,
 * vdisk.c).  Two modes, by the first byte:
 *
 * parse: the input is a disk (its size, then its first sectors and its
 *   last one, where GPT keeps the backup header); pt_parse must refuse it
 *   or return partitions inside the disk that do not overlap.  GPT CRCs
 *   are made right first if the input asks (a fuzzer does not forge
 *   CRC-32).  A VM's virtual disk is then built from up to four of the
 *   partitions and requests are mapped on it: every piece of a request
 *   must be the synthesized MBR, zeros, or sectors of one of that VM's
 *   partitions, the pieces must cover the request exactly and in order,
 *   and a request leaving the virtual disk must map to nothing.
 *
 * create: the input is a layout and a disk size; pt_room and pt_create
 *   must agree on whether it fits (the rule `isles check` judges layouts
 *   by), and what pt_create writes must parse back to the same
 *   partitions.
 */
#include <errno.h>
#include <string.h>

#include "diskd/ptable.h"
#include "diskd/vdisk.h"
#include "host/le.h"
#include "tests/fuzz/fuzz.h"

#define MAX_IMG		80		/* sectors of disk the input gives */
#define MAX_STORE	512		/* sectors pt_create may write */

/* A parse-mode disk: img[0 .. n-1) at the start, img[n-1] at the end. */
struct disk {
	uint8_t img[MAX_IMG][PT_SECTOR];
	unsigned n;
	uint64_t sectors;
};

static struct disk dk;

static int
disk_read(void *ctx, uint64_t lba, void *buf)
{
	struct disk *d = ctx;

	FUZZ_CHECK(lba < d->sectors);
	if (d->n > 0 && lba == d->sectors - 1)
		memcpy(buf, d->img[d->n - 1], PT_SECTOR);
	else if (lba + 1 < d->n)
		memcpy(buf, d->img[lba], PT_SECTOR);
	else
		memset(buf, 0, PT_SECTOR);
	return 0;
}

static void
disk_write(struct disk *d, uint64_t lba, const uint8_t *buf)
{
	if (d->n > 0 && lba == d->sectors - 1)
		memcpy(d->img[d->n - 1], buf, PT_SECTOR);
	else if (lba + 1 < d->n)
		memcpy(d->img[lba], buf, PT_SECTOR);
}

/* Make the GPT header's CRCs right (entries, then the header itself). */
static void
fix_gpt(struct disk *d, uint64_t lba)
{
	static uint8_t ents[1u << 20];
	uint8_t hdr[PT_SECTOR];
	uint32_t hsize, nent, esize;
	uint64_t elba, ebytes;

	if (lba >= d->sectors)
		return;
	disk_read(d, lba, hdr);
	if (memcmp(hdr, "EFI PART", 8) != 0)
		return;
	hsize = le_get32(hdr + 12);
	nent = le_get32(hdr + 80);
	esize = le_get32(hdr + 84);
	elba = le_get64(hdr + 72);
	ebytes = (uint64_t)nent * esize;
	if (ebytes <= sizeof(ents) && elba < d->sectors &&
	    (ebytes + PT_SECTOR - 1) / PT_SECTOR <= d->sectors - elba) {
		for (uint64_t i = 0; i * PT_SECTOR < ebytes; i++)
			disk_read(d, elba + i, ents + i * PT_SECTOR);
		le_put32(hdr + 88, pt_crc32(ents, ebytes));
	}
	if (hsize >= 92 && hsize <= PT_SECTOR) {
		le_put32(hdr + 16, 0);
		le_put32(hdr + 16, pt_crc32(hdr, hsize));
	}
	disk_write(d, lba, hdr);
}

static void
check_table(const struct pt_table *t, uint64_t sectors)
{
	FUZZ_CHECK(t->n <= PT_MAX_PARTS);
	for (unsigned i = 0; i < t->n; i++) {
		const struct pt_part *p = &t->p[i];

		FUZZ_CHECK(p->size > 0 && p->start > 0);
		FUZZ_CHECK(p->start < sectors && p->size <= sectors - p->start);
		for (unsigned j = 0; j < i; j++) {
			const struct pt_part *q = &t->p[j];

			FUZZ_CHECK(p->num != q->num);
			FUZZ_CHECK(p->start >= q->start + q->size ||
			    q->start >= p->start + p->size);
		}
	}
}

static void
check_map(const struct vdisk *vd, uint64_t sector, uint64_t nsect)
{
	struct vd_seg segs[VD_MAX_SEGS];
	uint64_t off = 0, s = sector;
	int n = vd_map(vd, sector, nsect, segs);

	if (sector > vd->capacity || nsect > vd->capacity - sector) {
		FUZZ_CHECK(n == -1 && errno == ERANGE);
		return;
	}
	FUZZ_CHECK(n >= 0 && n <= VD_MAX_SEGS);
	for (int i = 0; i < n; i++) {
		const struct vd_seg *g = &segs[i];
		uint64_t ns = g->len / PT_SECTOR;

		FUZZ_CHECK(g->off == off && g->len > 0 &&
		    g->len % PT_SECTOR == 0);
		switch (g->kind) {
		case VD_MBR:
			FUZZ_CHECK(s == 0 && g->len == PT_SECTOR && g->pos == 0);
			break;
		case VD_ZERO:
			FUZZ_CHECK(s >= 1 && s + ns <= VD_DATA_START);
			break;
		case VD_PHYS: {
			bool ok = false;

			/* Inside one extent, at the matching place. */
			for (unsigned k = 0; k < vd->n; k++) {
				const struct vd_ext *x = &vd->ext[k];

				if (s >= x->vstart && s - x->vstart < x->size &&
				    ns <= x->size - (s - x->vstart) &&
				    g->pos == (x->pstart + s - x->vstart) *
				    PT_SECTOR)
					ok = true;
			}
			FUZZ_CHECK(ok);
			break;
		}
		default:
			FUZZ_CHECK(0);
		}
		off += g->len;
		s += ns;
	}
	FUZZ_CHECK(off == nsect * PT_SECTOR);
}

static void
parse_mode(struct fuzz_in *in, uint8_t mode)
{
	static struct pt_table t;
	struct vdisk vd;
	unsigned nums[VD_MAX_PARTS];
	uint64_t extra = fuzz_u64(in) % (1ull << 38);
	unsigned nparts = 1 + fuzz_u8(in) % VD_MAX_PARTS;
	char err[128];
	size_t k;

	for (unsigned i = 0; i < nparts; i++)
		nums[i] = fuzz_u8(in) % (PT_MAX_PARTS + 2);
	/* Then ~10 requests; the disk is what is left. */
	uint8_t reqs[10 * 12];
	k = in->n < sizeof(reqs) ? in->n : sizeof(reqs);
	memset(reqs, 0, sizeof(reqs));
	memcpy(reqs, in->p, k);
	in->p += k;
	in->n -= k;
	memset(&dk, 0, sizeof(dk));
	dk.n = (unsigned)((in->n + PT_SECTOR - 1) / PT_SECTOR);
	if (dk.n > MAX_IMG)
		dk.n = MAX_IMG;
	k = in->n < sizeof(dk.img) ? in->n : sizeof(dk.img);
	memcpy(dk.img, in->p, k);
	dk.sectors = dk.n + extra;
	if (dk.sectors < 1)
		dk.sectors = 1;
	if (mode & 2) {
		fix_gpt(&dk, 1);
		fix_gpt(&dk, dk.sectors - 1);
	}
	if (pt_parse(disk_read, &dk, dk.sectors, &t, err, sizeof(err)) < 0) {
		FUZZ_CHECK(errno == EINVAL);
		FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL);
		return;
	}
	check_table(&t, dk.sectors);
	for (unsigned i = 1; i <= PT_MAX_PARTS + 1; i++) {
		const struct pt_part *p = pt_find(&t, i);

		FUZZ_CHECK(p == NULL || p->num == i);
	}
	if (vd_build(&vd, &t, nums, nparts, 0x12345678, err,
	    sizeof(err)) < 0) {
		FUZZ_CHECK(errno == EINVAL);
		return;
	}
	FUZZ_CHECK(vd.capacity >= VD_DATA_START && vd.n == nparts);
	FUZZ_CHECK(vd.mbr[510] == 0x55 && vd.mbr[511] == 0xaa);
	for (unsigned i = 0; i < sizeof(reqs) / 12; i++) {
		uint64_t s = le_get64(reqs + 12 * i);
		uint32_t n = le_get32(reqs + 12 * i + 8);

		/* Near the interesting places: start, boundaries, the end. */
		if (i & 1)
			s = (s % (vd.capacity + 2));
		check_map(&vd, s, n);
	}
	/* The synthesized MBR parses back to the VM's partitions. */
	{
		static struct disk vdk;
		static struct pt_table vt;

		memset(&vdk, 0, sizeof(vdk));
		memcpy(vdk.img[0], vd.mbr, PT_SECTOR);
		vdk.n = 2;
		vdk.sectors = vd.capacity;
		FUZZ_CHECK(pt_parse(disk_read, &vdk, vdk.sectors, &vt, err,
		    sizeof(err)) == 0);
		FUZZ_CHECK(vt.kind == PT_MBR && vt.n == nparts);
		for (unsigned i = 0; i < nparts; i++) {
			const struct pt_part *p = pt_find(&t, nums[i]);

			FUZZ_CHECK(vt.p[i].num == i + 1);
			FUZZ_CHECK(vt.p[i].start == vd.ext[i].vstart);
			FUZZ_CHECK(vt.p[i].size == p->size);
			FUZZ_CHECK(vt.p[i].type == p->type);
		}
	}
}

/* A sparse disk for pt_create: the sectors it writes, in order. */
struct store {
	uint64_t lba[MAX_STORE];
	uint8_t s[MAX_STORE][PT_SECTOR];
	unsigned n;
	uint64_t sectors;
};

static struct store st;

static int
store_write(void *ctx, uint64_t lba, const void *buf)
{
	struct store *s = ctx;

	FUZZ_CHECK(lba < s->sectors);
	for (unsigned i = 0; i < s->n; i++) {
		if (s->lba[i] == lba) {
			memcpy(s->s[i], buf, PT_SECTOR);
			return 0;
		}
	}
	FUZZ_CHECK(s->n < MAX_STORE);
	s->lba[s->n] = lba;
	memcpy(s->s[s->n++], buf, PT_SECTOR);
	return 0;
}

static int
store_read(void *ctx, uint64_t lba, void *buf)
{
	struct store *s = ctx;

	FUZZ_CHECK(lba < s->sectors);
	for (unsigned i = 0; i < s->n; i++) {
		if (s->lba[i] == lba) {
			memcpy(buf, s->s[i], PT_SECTOR);
			return 0;
		}
	}
	memset(buf, 0, PT_SECTOR);
	return 0;
}

static void
create_mode(struct fuzz_in *in, uint8_t mode)
{
	static struct pt_table t;
	struct pt_newpart parts[12];
	enum pt_kind kind = (mode & 2) ? PT_GPT : PT_MBR;
	size_t n = 1 + fuzz_u8(in) % 12, nlog = 0;
	uint64_t sectors = fuzz_u64(in) % (1ull << 36);
	struct pt_room room;
	bool fits;
	char err[128];
	int r;

	for (size_t i = 0; i < n; i++) {
		uint8_t f = fuzz_u8(in);
		uint64_t sz = fuzz_u32(in) % (1u << 26);

		/* Sizes in sectors, some MiB-sized, some the rest (0). */
		if (f & 0x80)
			sz <<= 11;
		parts[i].size = (f & 0x40) && i + 1 == n ? 0 : sz * PT_SECTOR;
		parts[i].type = fuzz_u8(in);
		if (parts[i].type == 0 || parts[i].type == 0x05 ||
		    parts[i].type == 0x0f || parts[i].type == 0x85 ||
		    parts[i].type == 0xee)
			parts[i].type = 0x83;
		parts[i].boot = f & 1;
		/* MBR: logical ones last, as pt_create wants them. */
		parts[i].logical = kind == PT_MBR && ((f & 2) || nlog > 0);
		nlog += parts[i].logical;
		if (parts[i].size == 0 && i + 1 != n)
			parts[i].size = PT_SECTOR;
	}
	pt_room(kind, parts, n, &room);
	fits = room.need <= sectors && room.need <= room.limit &&
	    (kind == PT_MBR ? room.slots <= PT_MBR_SLOTS :
	    sectors >= PT_GPT_MIN);
	if (parts[n - 1].size == 0)
		fits = fits && room.need < sectors && room.need < room.limit;
	if (kind == PT_MBR && nlog > PT_MAX_LOGICAL)
		fits = false;
	memset(&st, 0, offsetof(struct store, s));
	st.n = 0;
	st.sectors = sectors;
	r = pt_create(kind, parts, n, sectors, NULL, store_write, &st, err,
	    sizeof(err));
	FUZZ_CHECK((r == 0) == fits);
	if (r < 0)
		return;
	FUZZ_CHECK(pt_parse(store_read, &st, sectors, &t, err,
	    sizeof(err)) == 0);
	check_table(&t, sectors);
	FUZZ_CHECK(t.n == n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(t.p[i].start % PT_ALIGN == 0);
		if (parts[i].size != 0)
			FUZZ_CHECK(t.p[i].size == parts[i].size / PT_SECTOR);
		FUZZ_CHECK(t.p[i].logical == parts[i].logical);
		FUZZ_CHECK(t.p[i].start + t.p[i].size <= room.limit);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_u8(&in);

	if (mode & 1)
		create_mode(&in, mode);
	else
		parse_mode(&in, mode);
	return 0;
}
