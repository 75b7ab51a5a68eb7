/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vdisk: see vdisk.h.  Called by isles-diskd at start-up (vd_build) and
 * for every request (vd_map); the request's sector and length come from
 * the guest and are checked here before any mapping is produced.
 */
#include "vdisk.h"

#include <errno.h>
#include <string.h>

#include "le.h"

int
vd_build(struct vdisk *vd, const struct pt_table *t, const unsigned *nums,
    size_t n, uint32_t signature, char *err, size_t errlen)
{
	uint64_t v = VD_DATA_START;
	size_t i, j;

	memset(vd, 0, sizeof(*vd));
	if (n == 0 || n > VD_MAX_PARTS)
		return pt_fail(err, errlen, "a VM gets 1 to %d partitions of a "
		    "disk", VD_MAX_PARTS);
	for (i = 0; i < n; i++) {
		const struct pt_part *p = pt_find(t, nums[i]);
		uint8_t *e = vd->mbr + 446 + 16 * i;

		if (p == NULL)
			return pt_fail(err, errlen,
			    "no partition %u on the disk", nums[i]);
		for (j = 0; j < i; j++) {
			if (nums[j] == nums[i])
				return pt_fail(err, errlen,
				    "partition %u given twice", nums[i]);
		}
		if (v + p->size > 0xffffffffull)
			return pt_fail(err, errlen, "virtual disk larger "
			    "than an MBR can describe (2 TiB)");
		vd->ext[i] = (struct vd_ext){ v, p->size, p->start, p->num };
		pt_mbr_entry(e, p->boot, p->type, v, p->size);
		v += p->size;
	}
	vd->n = (unsigned)n;
	vd->capacity = v;
	le_put32(vd->mbr + 440, signature);
	vd->mbr[510] = 0x55;
	vd->mbr[511] = 0xaa;
	return 0;
}

int
vd_map(const struct vdisk *vd, uint64_t sector, uint64_t nsect,
    struct vd_seg *segs)
{
	uint64_t end, s, off = 0;
	int n = 0;
	unsigned i;

	/* The whole range, not only its first sector. */
	if (sector > vd->capacity || nsect > vd->capacity - sector) {
		errno = ERANGE;
		return -1;
	}
	end = sector + nsect;
	s = sector;
	if (s < end && s == 0) {
		segs[n++] = (struct vd_seg){ VD_MBR, off, PT_SECTOR, 0 };
		off += PT_SECTOR;
		s = 1;
	}
	if (s < end && s < VD_DATA_START) {
		uint64_t e = end < VD_DATA_START ? end : VD_DATA_START;

		segs[n++] = (struct vd_seg){ VD_ZERO, off,
		    (e - s) * PT_SECTOR, 0 };
		off += (e - s) * PT_SECTOR;
		s = e;
	}
	for (i = 0; i < vd->n && s < end; i++) {
		const struct vd_ext *x = &vd->ext[i];
		uint64_t e;

		if (s >= x->vstart + x->size)
			continue;
		e = end < x->vstart + x->size ? end : x->vstart + x->size;
		segs[n++] = (struct vd_seg){ VD_PHYS, off,
		    (e - s) * PT_SECTOR,
		    (x->pstart + (s - x->vstart)) * PT_SECTOR };
		off += (e - s) * PT_SECTOR;
		s = e;
	}
	return n;
}
