/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdisk: the virtual disk one VM sees, built from its physical
 * partitions (the seed's layout, see docs/disk-server.md):
 *
 *   sector 0           a synthesized MBR listing only the VM's partitions
 *                      (type and boot flag kept), back to back from 64
 *   sectors 1..63      read as zeros; writes are ignored
 *   sectors 64..       partition 1, then 2, ... mapped 1:1 onto the disk
 *   capacity           64 + the partitions' sizes
 *
 * vd_map() is the range check of every request: it covers the request's
 * whole sector range, and a request that leaves the virtual disk maps
 * to nothing at all, so no byte outside the VM's partitions is touched.
 *
 * Pure.  Errors: 0 / -1 with errno (EINVAL: bad build request, message
 * in err; ERANGE: request outside the disk).
 */
#ifndef ISLES_VDISK_H
#define ISLES_VDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptable.h"

#define VD_MAX_PARTS	4	/* primary slots of the synthesized MBR */
#define VD_DATA_START	64
#define VD_MAX_SEGS	(VD_MAX_PARTS + 2)

struct vd_ext {
	uint64_t vstart;	/* first virtual sector */
	uint64_t size;		/* sectors */
	uint64_t pstart;	/* first physical sector */
	unsigned num;		/* physical partition number */
};

struct vdisk {
	unsigned n;
	struct vd_ext ext[VD_MAX_PARTS];
	uint64_t capacity;	/* sectors */
	uint8_t mbr[PT_SECTOR];
};

enum vd_kind { VD_MBR, VD_ZERO, VD_PHYS };

/* One piece of a request: [voff, voff + len) bytes of the request. */
struct vd_seg {
	enum vd_kind kind;
	uint64_t off;		/* byte offset within the request */
	uint64_t len;		/* bytes */
	uint64_t pos;		/* VD_MBR: offset in mbr; VD_PHYS: disk byte */
};

/*
 * Build the virtual disk of partitions nums[0..n) of table t (n 1..4,
 * each present, no duplicates).  signature: the MBR disk signature.
 */
int vd_build(struct vdisk *vd, const struct pt_table *t,
    const unsigned *nums, size_t n, uint32_t signature, char *err,
    size_t errlen);

/*
 * Split the request [sector, sector + nsect) into at most VD_MAX_SEGS
 * pieces in request order.  Returns the number of pieces, or -1 with
 * errno ERANGE if any sector of the range is outside the virtual disk
 * (including overflow); then nothing may be read or written.
 */
int vd_map(const struct vdisk *vd, uint64_t sector, uint64_t nsect,
    struct vd_seg *segs);

#endif
