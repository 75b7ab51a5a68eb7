/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ptable: partition tables of a physical disk: parsing MBR (primary,
 * extended and logical) and GPT, and writing a new layout onto a freshly
 * created image.
 *
 * Pure functions over a sector callback: isles-diskd passes pread on the
 * disk, unit tests pass an in-memory image.  The disk's contents are not
 * trusted: every table is checked (signatures, CRCs, bounds against the
 * disk size, overlaps, EBR chain loops) and a bad one is refused as a
 * whole.  Numbering follows Linux: MBR primaries 1-4 by slot, logicals
 * from 5 in chain order, GPT entries by slot index + 1.
 *
 * Errors: 0 / -1 with errno (EINVAL: bad table, message in err; EIO:
 * the callback failed).
 */
#ifndef ISLES_PTABLE_H
#define ISLES_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_SECTOR	512
#define PT_MAX_PARTS	128
#define PT_MAX_LOGICAL	60	/* EBRs followed at most */
#define PT_ALIGN	2048	/* new partitions start on 1 MiB */

enum pt_kind { PT_NONE, PT_MBR, PT_GPT };

struct pt_part {
	unsigned num;		/* Linux partition number */
	uint64_t start;		/* first sector */
	uint64_t size;		/* sectors */
	uint8_t type;		/* MBR type byte (GPT: mapped from the GUID) */
	bool boot;		/* MBR 0x80 flag / GPT legacy-BIOS-bootable */
	bool logical;
};

struct pt_table {
	enum pt_kind kind;
	unsigned n;
	struct pt_part p[PT_MAX_PARTS];
};

/* Read sector lba (512 bytes) into buf; 0 / -1. */
typedef int (*pt_read_fn)(void *ctx, uint64_t lba, void *buf);
/* Write sector lba from buf; 0 / -1. */
typedef int (*pt_write_fn)(void *ctx, uint64_t lba, const void *buf);

/*
 * Parse the table of a disk of `sectors` sectors into t.  A disk
 * without a valid MBR signature is an error.  err gets a one-line
 * reason on failure.
 */
int pt_parse(pt_read_fn rd, void *ctx, uint64_t sectors, struct pt_table *t,
    char *err, size_t errlen);

/* Find partition num; NULL if absent. */
const struct pt_part *pt_find(const struct pt_table *t, unsigned num);

/* A partition of a layout to create. */
struct pt_newpart {
	uint64_t size;		/* bytes, multiple of 512; 0 = rest (last) */
	uint8_t type;		/* MBR type; GPT: 0x83/0x82/0xef mapped */
	bool boot;
	bool logical;		/* MBR only: inside the extended partition */
};

#define PT_MBR_SLOTS	4		/* primary entries of an MBR */
#define PT_MBR_LIMIT	0xffffffffull	/* sectors an MBR addresses: 2 TiB */
#define PT_GPT_TAIL	33		/* backup entries and header at the end */
#define PT_GPT_MIN	(PT_ALIGN + 2 * PT_GPT_TAIL + 1)	/* smallest GPT disk */

/*
 * The room a new layout takes, by the rules pt_create places it with:
 * the first partition starts at 1 MiB (PT_ALIGN) and each next one on
 * the first 1 MiB boundary after the one before; an MBR logical partition
 * has its EBR in the 1 MiB before it, and the extended partition that
 * holds the logical ones takes one of the PT_MBR_SLOTS table slots; an
 * MBR addresses PT_MBR_LIMIT sectors; GPT keeps its backup table in the
 * last PT_GPT_TAIL sectors of a disk of at least PT_GPT_MIN.  This is the
 * one statement of those rules: pt_create writes by them, and `isles
 * check` (src/sysconf/disks.c) judges a declared layout with them before
 * the image exists.
 *
 * A layout fits a disk of S sectors when slots <= PT_MBR_SLOTS (MBR),
 * need <= S and need <= limit (and, GPT, S >= PT_GPT_MIN); a last
 * partition of size 0 (the rest of the disk) gets the sectors from need
 * up to the smaller of S and limit, so it needs need < both.  Sizes are bytes as pt_create takes them
 * (multiples of 512); logical is ignored for GPT.  Pure; never fails
 * (sums saturate at UINT64_MAX).
 */
struct pt_room {
	unsigned slots;		/* MBR table slots taken (GPT: 0) */
	uint64_t need;		/* sectors up to the end of the last partition
				   (the start of a last one of size 0), and the
				   GPT backup table after it */
	uint64_t overhead;	/* the sectors of need in no partition */
	uint64_t limit;		/* sectors the table can address */
};

void pt_room(enum pt_kind kind, const struct pt_newpart *parts, size_t n,
    struct pt_room *room);

/*
 * Write a new partition table for parts[0..n) on a zeroed disk of
 * `sectors` sectors.  MBR: primaries in slots 1.., logicals (which must
 * come last in parts) inside one extended partition; GPT: protective MBR,
 * primary and backup headers and entry arrays.  Partitions are placed as
 * pt_room says.  guid_seed: 16 random bytes for GPT GUIDs (NULL: zeros).
 */
int pt_create(enum pt_kind kind, const struct pt_newpart *parts, size_t n,
    uint64_t sectors, const uint8_t *guid_seed, pt_write_fn wr, void *ctx,
    char *err, size_t errlen);

/*
 * Fill the 16-byte MBR partition entry e: boot flag, type, LBA start and
 * size (sectors, both < 2^32), CHS as fdisk computes it.
 */
void pt_mbr_entry(uint8_t *e, bool boot, uint8_t type, uint64_t start,
    uint64_t size);

/* CRC-32 (IEEE 802.3, as GPT uses it). */
uint32_t pt_crc32(const void *buf, size_t len);

/*
 * The EINVAL error of diskd's pure parts (ptable, vdisk): format the
 * one-line reason into err (truncated to errlen), set errno to EINVAL and
 * return -1.
 */
int pt_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
