/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu_mem: see vu_mem.h.  Trusts nothing in the table it is given until
 * vu_mem_check() has passed; vu_mem_gpa() re-checks every range.
 */
#include "vhost/vu_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

void *
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

int
vu_mem_uva_to_gpa(const struct vu_mem *m, uint64_t uaddr, uint64_t len,
    uint64_t *gpa)
{
	unsigned i;

	for (i = 0; i < m->n; i++) {
		const struct vu_mem_region *r = &m->r[i];
		uint64_t off;

		if (uaddr < r->uaddr || uaddr - r->uaddr >= r->size)
			continue;
		off = uaddr - r->uaddr;
		if (len > r->size - off)
			break;
		*gpa = r->gpa + off;
		return 0;
	}
	errno = EFAULT;
	return -1;
}

static bool
overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int
vu_mem_check(const struct vu_mem *m)
{
	unsigned i, j;

	if (m->n == 0 || m->n > VU_MEM_MAX_REGIONS)
		goto bad;
	for (i = 0; i < m->n; i++) {
		const struct vu_mem_region *r = &m->r[i];

		if (r->size == 0 || r->gpa + r->size < r->gpa ||
		    r->uaddr + r->size < r->uaddr ||
		    r->mmap_offset + r->size < r->mmap_offset ||
		    r->mmap_offset + r->size > (uint64_t)SIZE_MAX)
			goto bad;
		for (j = 0; j < i; j++) {
			if (overlap(r->gpa, r->size, m->r[j].gpa, m->r[j].size) ||
			    overlap(r->uaddr, r->size, m->r[j].uaddr,
			    m->r[j].size))
				goto bad;
		}
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
vu_mem_fd_ok(int fd, uint64_t len)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < len) {
		errno = EINVAL;
		return -1;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
vu_mem_map(struct vu_mem *m, unsigned i, int fd)
{
	struct vu_mem_region *r = &m->r[i];
	size_t len = (size_t)(r->mmap_offset + r->size);
	void *p;

	if (vu_mem_fd_ok(fd, len) < 0)
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
	    fd, 0);
	if (p == MAP_FAILED)
		return -1;
	r->map = p;
	r->map_len = len;
	r->host = (uint8_t *)p + r->mmap_offset;
	return 0;
}

void
vu_mem_unmap(struct vu_mem *m)
{
	unsigned i;

	for (i = 0; i < m->n; i++) {
		if (m->r[i].map != NULL)
			munmap(m->r[i].map, m->r[i].map_len);
	}
	memset(m, 0, sizeof(*m));
}
