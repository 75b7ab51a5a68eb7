/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu_mem: the guest memory table of one vhost-user device.
 *
 * The front-end (QEMU) shares guest RAM as a few file-descriptor backed
 * regions (VHOST_USER_SET_MEM_TABLE).  This module maps them and provides
 * the ONE checked translation from a guest physical address range to a
 * host pointer, vu_mem_gpa(): every access to guest memory in Isles goes
 * through it.  Region tables come from the front-end and are untrusted:
 * vu_mem_check() validates a table before anything is mapped.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_VU_MEM_H
#define ISLES_VU_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_MEM_MAX_REGIONS 8

struct vu_mem_region {
	uint64_t gpa;		/* guest physical start */
	uint64_t size;		/* bytes */
	uint64_t uaddr;		/* front-end's virtual address of gpa */
	uint64_t mmap_offset;	/* offset of gpa in the region's fd */
	uint8_t *host;		/* our mapping of gpa */
	void *map;		/* what to munmap (NULL: not ours) */
	size_t map_len;
};

struct vu_mem {
	unsigned n;
	struct vu_mem_region r[VU_MEM_MAX_REGIONS];
};

/*
 * Translate [gpa, gpa + *len) into a host pointer.  On entry *len is the
 * wanted length (> 0); on success it is set to the length that is
 * contiguous in host memory from the returned pointer (<= the wanted
 * length: a range spanning two regions is walked by calling again with
 * gpa + *len).  Returns NULL with errno EFAULT if gpa is not inside any
 * region, EINVAL if *len is 0.
 */
void *vu_mem_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t *len);

/*
 * Translate a front-end virtual address (ring addresses of
 * SET_VRING_ADDR) to a guest physical address; the whole range
 * [uaddr, uaddr + len) must lie in one region.  0 / -1 errno EFAULT.
 */
int vu_mem_uva_to_gpa(const struct vu_mem *m, uint64_t uaddr, uint64_t len,
    uint64_t *gpa);

/*
 * Validate a region table: 1..VU_MEM_MAX_REGIONS regions, nonzero sizes,
 * no overflow of gpa/uaddr/mmap_offset + size, no two regions overlapping
 * in guest-physical or front-end-virtual space.  0 / -1 errno EINVAL.
 */
int vu_mem_check(const struct vu_mem *m);

/*
 * Whether fd can back len bytes of shared memory safely: a regular file
 * (memfd) at least len long (EINVAL) that can never shrink, i.e. sealed
 * with F_SEAL_SHRINK (EPERM).  Touching a mapping beyond the end of its
 * file raises SIGBUS, so an unsealed file would let the front-end kill
 * the daemon by truncating it.  QEMU's memory-backend-memfd seals by
 * default.  0 / -1 with errno.
 */
int vu_mem_fd_ok(int fd, uint64_t len);

/*
 * Map region i from fd (not closed here) after vu_mem_fd_ok().
 * 0 / -1 with errno.
 */
int vu_mem_map(struct vu_mem *m, unsigned i, int fd);

/* Unmap every region we mapped and empty the table. */
void vu_mem_unmap(struct vu_mem *m);

#endif
