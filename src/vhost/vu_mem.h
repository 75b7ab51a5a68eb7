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
 * Regions may be backed by any regular file: a sealed or unsealed memfd,
 * a tmpfs or hugetlbfs file (QEMU's memory-backend-file, DPDK's
 * virtio_user).  A file shorter than a region is refused when it is
 * mapped; a file the front-end shrinks later would make our next access
 * raise SIGBUS, so every mapped region is registered with a process-wide
 * SIGBUS guard (vu_mem_guard_init): a fault inside a registered region
 * replaces that region's mapping with private zero pages, sets the
 * owner's fault flag and lets the access complete; the owner then puts
 * only its own device into the broken state.  A SIGBUS anywhere else is
 * fatal as usual.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_VU_MEM_H
#define ISLES_VU_MEM_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VU_MEM_MAX_REGIONS 8
#define VU_MEM_MAX_GUARDS 512	/* mapped regions per process */

struct vu_mem_region {
	uint64_t gpa;		/* guest physical start */
	uint64_t size;		/* bytes */
	uint64_t uaddr;		/* front-end's virtual address of gpa */
	uint64_t mmap_offset;	/* offset of gpa in the region's fd */
	uint8_t *host;		/* our mapping of gpa */
	void *map;		/* what to munmap (NULL: not ours) */
	size_t map_len;
	int guard;		/* slot in the SIGBUS guard table, -1 none */
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
 * Inline: it is on every frame's and request's path, several times.
 */
static inline void *
vu_mem_gpa(const struct vu_mem *m, uint64_t gpa, uint64_t *len)
{
	unsigned i;

	if (*len == 0) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < m->n; i++) {
		const struct vu_mem_region *r = &m->r[i];
		uint64_t off, avail;

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		off = gpa - r->gpa;
		avail = r->size - off;
		if (*len > avail)
			*len = avail;
		return r->host + off;
	}
	errno = EFAULT;
	return NULL;
}

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
 * Whether fd can back len bytes of shared memory: a regular file (memfd,
 * tmpfs, hugetlbfs) at least len long.  0 / -1 with errno EINVAL (not a
 * regular file, or shorter than len).
 */
int vu_mem_fd_ok(int fd, uint64_t len);

/*
 * Install the SIGBUS guard (again: it replaces any other SIGBUS handler;
 * call from the thread that touches guest memory, before mapping any).
 * 0 / -1.
 */
int vu_mem_guard_init(void);

/*
 * Map region i from fd (not closed here) after vu_mem_fd_ok(), and
 * register it with the SIGBUS guard: a fault in it sets *fault.
 * 0 / -1 with errno (ENOMEM: the guard table is full).
 */
int vu_mem_map(struct vu_mem *m, unsigned i, int fd,
    volatile sig_atomic_t *fault);

/*
 * Register [p, p + len) (a MAP_SHARED mapping of a front-end's file) with
 * the guard, as vu_mem_map does for regions.  Returns the slot (for
 * vu_mem_guard_del) or -1 with errno ENOMEM.
 */
int vu_mem_guard_add(void *p, size_t len, volatile sig_atomic_t *fault);
void vu_mem_guard_del(int slot);

/* Unregister and unmap every region we mapped; empty the table. */
void vu_mem_unmap(struct vu_mem *m);

#endif
