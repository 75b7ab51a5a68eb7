/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptable: see ptable.h.  Layouts from the UEFI 2.x specification (GPT,
 * protective MBR) and the classic PC MBR/EBR format.  Nothing read from
 * the disk is used before it has been bounds-checked.
 */
#include "ptable.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "le.h"

#define MBR_TABLE	446
#define GPT_ENTRIES_MAX	(1u << 20)	/* bytes of entry array we read */

static const uint8_t guid_linux[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84,
    0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
static const uint8_t guid_swap[16] = { 0x6d, 0xfd, 0x57, 0x06, 0xab, 0xa4,
    0xc4, 0x43, 0x84, 0xe5, 0x09, 0x33, 0xc8, 0x4b, 0x4f, 0x4f };
static const uint8_t guid_efi[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8,
    0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t guid_lvm[16] = { 0x79, 0xd3, 0xd6, 0xe6, 0x07, 0xf5,
    0xc2, 0x44, 0xa2, 0x3c, 0x23, 0x8f, 0x2a, 0x3d, 0xf9, 0x28 };

int
pt_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

uint32_t
pt_crc32(const void *buf, size_t len)
{
	static uint32_t table[256];
	static bool init;
	const uint8_t *p = buf;
	uint32_t c = 0xffffffffu;
	size_t i;

	if (!init) {
		for (i = 0; i < 256; i++) {
			uint32_t v = (uint32_t)i;
			int k;

			for (k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		init = true;
	}
	for (i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static bool
is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

const struct pt_part *
pt_find(const struct pt_table *t, unsigned num)
{
	unsigned i;

	for (i = 0; i < t->n; i++) {
		if (t->p[i].num == num)
			return &t->p[i];
	}
	return NULL;
}

static int
cmp_start(const void *a, const void *b)
{
	const struct pt_part *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* No two partitions may share a sector. */
static int
check_overlaps(const struct pt_table *t, char *err, size_t errlen)
{
	struct pt_part s[PT_MAX_PARTS];
	unsigned i;

	memcpy(s, t->p, t->n * sizeof(s[0]));
	qsort(s, t->n, sizeof(s[0]), cmp_start);
	for (i = 1; i < t->n; i++) {
		if (s[i - 1].start + s[i - 1].size > s[i].start)
			return pt_fail(err, errlen,
			    "partitions %u and %u overlap", s[i - 1].num,
			    s[i].num);
	}
	return 0;
}

static int
add_part(struct pt_table *t, unsigned num, uint64_t start, uint64_t size,
    uint8_t type, bool boot, bool logical)
{
	if (t->n >= PT_MAX_PARTS)
		return -1;
	t->p[t->n++] = (struct pt_part){ num, start, size, type, boot,
	    logical };
	return 0;
}

static int
parse_ebr_chain(pt_read_fn rd, void *ctx, uint64_t ext_start,
    uint64_t ext_size, struct pt_table *t, char *err, size_t errlen)
{
	uint64_t visited[PT_MAX_LOGICAL], ebr = ext_start;
	uint8_t s[PT_SECTOR];
	unsigned n = 0, i, num = 5;

	for (;;) {
		const uint8_t *e0 = s + MBR_TABLE, *e1 = s + MBR_TABLE + 16;

		for (i = 0; i < n; i++) {
			if (visited[i] == ebr)
				return pt_fail(err, errlen, "EBR chain loops "
				    "at sector %llu", (unsigned long long)ebr);
		}
		if (n == PT_MAX_LOGICAL)
			return pt_fail(err, errlen, "more than %d logical "
			    "partitions", PT_MAX_LOGICAL);
		visited[n++] = ebr;
		if (rd(ctx, ebr, s) < 0) {
			errno = EIO;
			return -1;
		}
		if (s[510] != 0x55 || s[511] != 0xaa)
			return pt_fail(err, errlen, "EBR at sector %llu: no "
			    "signature", (unsigned long long)ebr);
		if (e0[4] != 0) {
			uint64_t st = ebr + le_get32(e0 + 8);
			uint64_t sz = le_get32(e0 + 12);

			if (le_get32(e0 + 8) == 0 || sz == 0 ||
			    st + sz > ext_start + ext_size)
				return pt_fail(err, errlen, "logical partition "
				    "%u outside the extended partition", num);
			if ((e0[0] & 0x7f) != 0)
				return pt_fail(err, errlen, "logical partition "
				    "%u: bad boot flag", num);
			if (add_part(t, num, st, sz, e0[4], e0[0] == 0x80,
			    true) < 0)
				return pt_fail(err, errlen,
				    "too many partitions");
			num++;
		}
		if (e1[4] == 0)
			return 0;
		if (!is_extended(e1[4]) || le_get32(e1 + 8) == 0 ||
		    le_get32(e1 + 8) >= ext_size)
			return pt_fail(err, errlen,
			    "EBR at sector %llu: bad link",
			    (unsigned long long)ebr);
		ebr = ext_start + le_get32(e1 + 8);
	}
}

static int parse_gpt(pt_read_fn rd, void *ctx, uint64_t sectors,
    struct pt_table *t, char *err, size_t errlen);

int
pt_parse(pt_read_fn rd, void *ctx, uint64_t sectors, struct pt_table *t,
    char *err, size_t errlen)
{
	uint8_t s[PT_SECTOR];
	uint64_t ext_start = 0, ext_size = 0;
	unsigned i;

	memset(t, 0, sizeof(*t));
	if (sectors < 2)
		return pt_fail(err, errlen, "disk too small");
	if (rd(ctx, 0, s) < 0) {
		errno = EIO;
		return -1;
	}
	if (s[510] != 0x55 || s[511] != 0xaa)
		return pt_fail(err, errlen, "no partition table (no MBR "
		    "signature)");
	for (i = 0; i < 4; i++) {
		if (s[MBR_TABLE + 16 * i + 4] == 0xee)
			return parse_gpt(rd, ctx, sectors, t, err, errlen);
	}
	t->kind = PT_MBR;
	for (i = 0; i < 4; i++) {
		const uint8_t *e = s + MBR_TABLE + 16 * i;
		uint64_t st = le_get32(e + 8), sz = le_get32(e + 12);

		if (e[4] == 0)
			continue;
		if ((e[0] & 0x7f) != 0)
			return pt_fail(err, errlen,
			    "partition %u: bad boot flag", i + 1);
		if (st == 0 || sz == 0 || st + sz > sectors)
			return pt_fail(err, errlen, "partition %u outside the "
			    "disk", i + 1);
		if (is_extended(e[4])) {
			if (ext_size != 0)
				return pt_fail(err, errlen, "two extended "
				    "partitions");
			ext_start = st;
			ext_size = sz;
			continue;
		}
		add_part(t, i + 1, st, sz, e[4], e[0] == 0x80, false);
	}
	for (i = 0; i < t->n; i++) {
		if (ext_size != 0 && t->p[i].start < ext_start + ext_size &&
		    ext_start < t->p[i].start + t->p[i].size)
			return pt_fail(err, errlen, "partition %u overlaps the "
			    "extended partition", t->p[i].num);
	}
	if (ext_size != 0 &&
	    parse_ebr_chain(rd, ctx, ext_start, ext_size, t, err, errlen) < 0)
		return -1;
	return check_overlaps(t, err, errlen);
}

static uint8_t
gpt_type_to_mbr(const uint8_t *g)
{
	if (memcmp(g, guid_swap, 16) == 0)
		return 0x82;
	if (memcmp(g, guid_efi, 16) == 0)
		return 0xef;
	if (memcmp(g, guid_lvm, 16) == 0)
		return 0x8e;
	return 0x83;
}

/* Check a GPT header in hdr (one sector) read from lba. */
static int
gpt_header_ok(uint8_t *hdr, uint64_t lba, uint64_t sectors, char *err,
    size_t errlen)
{
	uint32_t hsize = le_get32(hdr + 12), crc = le_get32(hdr + 16);
	uint64_t first = le_get64(hdr + 40), last = le_get64(hdr + 48);
	uint64_t elba = le_get64(hdr + 72);
	uint32_t nent = le_get32(hdr + 80), esize = le_get32(hdr + 84);
	uint64_t ebytes;

	if (memcmp(hdr, "EFI PART", 8) != 0)
		return pt_fail(err, errlen, "GPT header at sector %llu: no "
		    "signature", (unsigned long long)lba);
	if (hsize < 92 || hsize > PT_SECTOR)
		return pt_fail(err, errlen, "GPT header: bad size %u", hsize);
	le_put32(hdr + 16, 0);
	if (pt_crc32(hdr, hsize) != crc)
		return pt_fail(err, errlen, "GPT header: bad CRC");
	le_put32(hdr + 16, crc);
	if (le_get64(hdr + 24) != lba)
		return pt_fail(err, errlen, "GPT header: wrong own LBA");
	if (esize < 128 || esize > 4096 || (esize & (esize - 1)) != 0 ||
	    nent == 0 || nent > PT_MAX_PARTS * 8)
		return pt_fail(err, errlen, "GPT header: bad entry array");
	ebytes = (uint64_t)nent * esize;
	if (ebytes > GPT_ENTRIES_MAX || elba < 2 ||
	    elba + (ebytes + PT_SECTOR - 1) / PT_SECTOR > sectors)
		return pt_fail(err, errlen, "GPT entry array outside the disk");
	if (first > last || last >= sectors || first < 2)
		return pt_fail(err, errlen, "GPT header: bad usable range");
	return 0;
}

static int
parse_gpt(pt_read_fn rd, void *ctx, uint64_t sectors, struct pt_table *t,
    char *err, size_t errlen)
{
	uint8_t hdr[PT_SECTOR], *ents;
	uint64_t first, last, elba, ebytes, i;
	uint32_t nent, esize;
	int r = -1;

	t->kind = PT_GPT;
	if (rd(ctx, 1, hdr) < 0) {
		errno = EIO;
		return -1;
	}
	if (gpt_header_ok(hdr, 1, sectors, err, errlen) < 0)
		return -1;
	first = le_get64(hdr + 40);
	last = le_get64(hdr + 48);
	elba = le_get64(hdr + 72);
	nent = le_get32(hdr + 80);
	esize = le_get32(hdr + 84);
	ebytes = (uint64_t)nent * esize;
	ents = calloc(1, (ebytes + PT_SECTOR - 1) / PT_SECTOR * PT_SECTOR);
	if (ents == NULL)
		return -1;
	for (i = 0; i * PT_SECTOR < ebytes; i++) {
		if (rd(ctx, elba + i, ents + i * PT_SECTOR) < 0) {
			errno = EIO;
			goto out;
		}
	}
	if (pt_crc32(ents, ebytes) != le_get32(hdr + 88)) {
		pt_fail(err, errlen, "GPT entry array: bad CRC");
		goto out;
	}
	for (i = 0; i < nent; i++) {
		const uint8_t *e = ents + i * esize;
		static const uint8_t zero[16];
		uint64_t st = le_get64(e + 32), en = le_get64(e + 40);

		if (memcmp(e, zero, 16) == 0)
			continue;
		if (st > en || st < first || en > last) {
			pt_fail(err, errlen, "GPT partition %llu outside the "
			    "usable area", (unsigned long long)i + 1);
			goto out;
		}
		if (add_part(t, (unsigned)i + 1, st, en - st + 1,
		    gpt_type_to_mbr(e), (le_get64(e + 48) >> 2) & 1,
		    false) < 0) {
			pt_fail(err, errlen, "too many GPT partitions");
			goto out;
		}
	}
	r = check_overlaps(t, err, errlen);
out:
	free(ents);
	return r;
}

/* ---- creation ---- */

/*
 * A sector as CHS in the 255-head, 63-sector geometry fdisk uses; past
 * cylinder 1023 the "too far, use LBA" value 1023/254/63.  Nothing reads
 * CHS any more, but fdisk warns of a partition whose CHS and LBA differ.
 */
static void
chs_put(uint8_t *p, uint64_t lba)
{
	uint64_t c = lba / (255 * 63);
	unsigned h = (unsigned)(lba / 63 % 255), s = (unsigned)(lba % 63 + 1);

	if (c > 1023) {
		c = 1023;
		h = 254;
		s = 63;
	}
	p[0] = (uint8_t)h;
	p[1] = (uint8_t)(s | ((c >> 2) & 0xc0));
	p[2] = (uint8_t)(c & 0xff);
}

/* An entry whose LBA start is relative to base (an EBR's); CHS is not. */
static void
mbr_entry_at(uint8_t *e, bool boot, uint8_t type, uint64_t base,
    uint64_t start, uint64_t size)
{
	e[0] = boot ? 0x80 : 0;
	chs_put(e + 1, base + start);
	e[4] = type;
	chs_put(e + 5, base + start + (size > 0 ? size - 1 : 0));
	le_put32(e + 8, (uint32_t)start);
	le_put32(e + 12, (uint32_t)size);
}

void
pt_mbr_entry(uint8_t *e, bool boot, uint8_t type, uint64_t start,
    uint64_t size)
{
	mbr_entry_at(e, boot, type, 0, start, size);
}

static uint64_t
align_up(uint64_t v)
{
	if (v > UINT64_MAX - PT_ALIGN)
		return UINT64_MAX;
	return (v + PT_ALIGN - 1) / PT_ALIGN * PT_ALIGN;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
pt_room(enum pt_kind kind, const struct pt_newpart *parts, size_t n,
    struct pt_room *room)
{
	uint64_t end = PT_ALIGN, used = 0;
	unsigned primaries = 0;
	bool logicals = false;

	for (size_t i = 0; i < n; i++) {
		uint64_t start = align_up(end);
		uint64_t sz = parts[i].size / PT_SECTOR +
		    (parts[i].size % PT_SECTOR != 0);

		if (kind == PT_MBR && parts[i].logical) {
			logicals = true;
			start = sat_add(start, PT_ALIGN);	/* its EBR */
		} else {
			primaries++;
		}
		end = sat_add(start, sz);
		used = sat_add(used, sz);
	}
	room->slots = kind == PT_MBR ? primaries + logicals : 0;
	room->need = end;
	room->limit = kind == PT_MBR ? PT_MBR_LIMIT : UINT64_MAX;
	if (kind == PT_GPT)
		room->need = sat_add(end, PT_GPT_TAIL);
	room->overhead = room->need - (used < room->need ? used : room->need);
}

/* Sectors of part i starting at start, up to end (exclusive). */
static int
part_sectors(const struct pt_newpart *p, bool last, uint64_t start,
    uint64_t end, uint64_t *out)
{
	if (p->size % PT_SECTOR != 0)
		return -1;
	if (p->size == 0) {
		if (!last || start >= end)
			return -1;
		*out = end - start;
		return 0;
	}
	*out = p->size / PT_SECTOR;
	return start + *out <= end ? 0 : -1;
}

static int
create_mbr(const struct pt_newpart *parts, size_t n, uint64_t sectors,
    pt_write_fn wr, void *ctx, char *err, size_t errlen)
{
	uint8_t mbr[PT_SECTOR], ebr[PT_SECTOR];
	uint64_t cur = PT_ALIGN, end, ext_start = 0, sz;
	uint64_t lebr[PT_MAX_LOGICAL], lsize[PT_MAX_LOGICAL];
	size_t i, nprim = 0, nlog = 0;
	struct pt_room room;

	pt_room(PT_MBR, parts, n, &room);
	end = sectors > room.limit ? room.limit : sectors;
	for (i = 0; i < n; i++) {
		if (parts[i].logical)
			nlog++;
		else if (nlog > 0)
			return pt_fail(err, errlen, "primary partition after a "
			    "logical one");
		else
			nprim++;
	}
	if (room.slots > PT_MBR_SLOTS)
		return pt_fail(err, errlen, "more than 4 primary partitions");
	if (nlog > PT_MAX_LOGICAL)
		return pt_fail(err, errlen, "too many logical partitions");
	memset(mbr, 0, sizeof(mbr));
	for (i = 0; i < nprim; i++) {
		if (part_sectors(&parts[i], i + 1 == n, cur, end, &sz) < 0)
			return pt_fail(err, errlen,
			    "partition %zu does not fit", i + 1);
		pt_mbr_entry(mbr + MBR_TABLE + 16 * i, parts[i].boot,
		    parts[i].type, cur, sz);
		cur = align_up(cur + sz);
	}
	if (nlog > 0) {
		ext_start = cur;
		pt_mbr_entry(mbr + MBR_TABLE + 16 * nprim, false, 0x05, ext_start,
		    end - ext_start);
		if (ext_start >= end)
			return pt_fail(err, errlen, "no room for logical "
			    "partitions");
	}
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (wr(ctx, 0, mbr) < 0)
		goto ioerr;
	/* Logical i: its EBR at lebr[i], data 1 MiB later. */
	for (i = nprim; i < n; i++) {
		uint64_t ebr_lba = cur, start = cur + PT_ALIGN;

		if (start >= end || part_sectors(&parts[i], i + 1 == n, start,
		    end, &sz) < 0)
			return pt_fail(err, errlen,
			    "partition %zu does not fit", i + 1);
		lebr[i - nprim] = ebr_lba;
		lsize[i - nprim] = sz;
		cur = align_up(start + sz);
	}
	for (i = nprim; i < n; i++) {
		size_t k = i - nprim;

		memset(ebr, 0, sizeof(ebr));
		mbr_entry_at(ebr + MBR_TABLE, parts[i].boot, parts[i].type,
		    lebr[k], PT_ALIGN, lsize[k]);
		/* Entry 1 links to the next EBR, relative to the extended. */
		if (i + 1 < n)
			mbr_entry_at(ebr + MBR_TABLE + 16, false, 0x05,
			    ext_start, lebr[k + 1] - ext_start,
			    PT_ALIGN + lsize[k + 1]);
		ebr[510] = 0x55;
		ebr[511] = 0xaa;
		if (wr(ctx, lebr[k], ebr) < 0)
			goto ioerr;
	}
	return 0;
ioerr:
	errno = EIO;
	return -1;
}

static void
make_guid(uint8_t *g, const uint8_t *seed, unsigned salt)
{
	unsigned i;

	for (i = 0; i < 16; i++)
		g[i] = (uint8_t)((seed != NULL ? seed[i] : 0) ^ (salt * 37 + i));
	g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);	/* version 4 */
	g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);	/* variant */
}

static const uint8_t *
mbr_to_gpt_type(uint8_t type)
{
	switch (type) {
	case 0x82:
		return guid_swap;
	case 0xef:
		return guid_efi;
	case 0x8e:
		return guid_lvm;
	default:
		return guid_linux;
	}
}

#define GPT_NENT	128
#define GPT_ESIZE	128
#define GPT_ESECT	(GPT_NENT * GPT_ESIZE / PT_SECTOR)

_Static_assert(PT_GPT_TAIL == 1 + GPT_ESECT, "GPT tail: header + entries");

static int
create_gpt(const struct pt_newpart *parts, size_t n, uint64_t sectors,
    const uint8_t *seed, pt_write_fn wr, void *ctx, char *err, size_t errlen)
{
	uint8_t mbr[PT_SECTOR], hdr[PT_SECTOR];
	uint8_t ents[GPT_NENT * GPT_ESIZE];
	uint64_t first = 2 + GPT_ESECT, last, cur = PT_ALIGN, sz;
	uint32_t ecrc;
	size_t i;
	int copy;

	if (n > GPT_NENT)
		return pt_fail(err, errlen, "too many partitions");
	if (sectors < PT_GPT_MIN)
		return pt_fail(err, errlen, "disk too small for GPT");
	last = sectors - 1 - PT_GPT_TAIL;
	memset(ents, 0, sizeof(ents));
	for (i = 0; i < n; i++) {
		uint8_t *e = ents + i * GPT_ESIZE;
		unsigned k;

		if (parts[i].logical)
			return pt_fail(err, errlen, "GPT has no logical "
			    "partitions");
		if (part_sectors(&parts[i], i + 1 == n, cur, last + 1, &sz) < 0)
			return pt_fail(err, errlen,
			    "partition %zu does not fit", i + 1);
		memcpy(e, mbr_to_gpt_type(parts[i].type), 16);
		make_guid(e + 16, seed, (unsigned)i + 1);
		le_put64(e + 32, cur);
		le_put64(e + 40, cur + sz - 1);
		le_put64(e + 48, parts[i].boot ? 1ull << 2 : 0);
		for (k = 0; k < 8; k++)		/* name "isles-N", UTF-16LE */
			e[56 + 2 * k] = (uint8_t)"isles-"[k < 6 ? k : 5];
		e[56 + 12] = (uint8_t)('0' + (i + 1) / 10 % 10);
		e[56 + 14] = (uint8_t)('0' + (i + 1) % 10);
		cur = align_up(cur + sz);
	}
	ecrc = pt_crc32(ents, sizeof(ents));
	memset(mbr, 0, sizeof(mbr));
	pt_mbr_entry(mbr + MBR_TABLE, false, 0xee, 1,
	    sectors - 1 > 0xffffffffull ? 0xffffffffull : sectors - 1);
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	if (wr(ctx, 0, mbr) < 0)
		goto ioerr;
	for (copy = 0; copy < 2; copy++) {
		uint64_t my = copy == 0 ? 1 : sectors - 1;
		uint64_t alt = copy == 0 ? sectors - 1 : 1;
		uint64_t elba = copy == 0 ? 2 : sectors - 1 - GPT_ESECT;

		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, "EFI PART", 8);
		le_put32(hdr + 8, 0x00010000);
		le_put32(hdr + 12, 92);
		le_put64(hdr + 24, my);
		le_put64(hdr + 32, alt);
		le_put64(hdr + 40, first);
		le_put64(hdr + 48, last);
		make_guid(hdr + 56, seed, 0);
		le_put64(hdr + 72, elba);
		le_put32(hdr + 80, GPT_NENT);
		le_put32(hdr + 84, GPT_ESIZE);
		le_put32(hdr + 88, ecrc);
		le_put32(hdr + 16, pt_crc32(hdr, 92));
		if (wr(ctx, my, hdr) < 0)
			goto ioerr;
		for (i = 0; i < GPT_ESECT; i++) {
			if (wr(ctx, elba + i, ents + i * PT_SECTOR) < 0)
				goto ioerr;
		}
	}
	return 0;
ioerr:
	errno = EIO;
	return -1;
}

int
pt_create(enum pt_kind kind, const struct pt_newpart *parts, size_t n,
    uint64_t sectors, const uint8_t *guid_seed, pt_write_fn wr, void *ctx,
    char *err, size_t errlen)
{
	if (n == 0)
		return pt_fail(err, errlen, "no partitions in the layout");
	if (kind == PT_GPT)
		return create_gpt(parts, n, sectors, guid_seed, wr, ctx, err,
		    errlen);
	if (kind == PT_MBR)
		return create_mbr(parts, n, sectors, wr, ctx, err, errlen);
	return pt_fail(err, errlen, "unknown partition table kind");
}
