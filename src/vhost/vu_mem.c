/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu_mem: see vu_mem.h.  Trusts nothing in the table it is given until
 * vu_mem_check() has passed; vu_mem_gpa() re-checks every range.
 *
 * The SIGBUS guard is written by hand because no library offers it: the
 * table of guarded ranges is a fixed array written only by the thread
 * that touches guest memory (SIGBUS from a memory access is delivered
 * synchronously to the faulting thread, so the handler never races with
 * an update of the table it reads).  The handler calls only mmap(2) and
 * stores to sig_atomic_t flags, both async-signal-safe.
 */
#include "vhost/vu_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct vu_guard {
	uintptr_t start, end;		/* end 0: free slot */
	volatile sig_atomic_t *fault;
};

static struct vu_guard guards[VU_MEM_MAX_GUARDS];

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

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < len) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * A fault inside a guarded range: the file behind it shrank.  Put private
 * zero pages over the whole range so that the access (and every later
 * one) completes, and tell the owner.  Anything else is a real bug: die
 * of SIGBUS as we would have without a handler.
 */
static void
guard_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	struct sigaction dfl;
	size_t i;

	for (i = 0; i < VU_MEM_MAX_GUARDS; i++) {
		struct vu_guard *g = &guards[i];
		void *p;

		if (g->end == 0 || a < g->start || a >= g->end)
			continue;
		p = mmap((void *)g->start, g->end - g->start,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_FIXED | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			break;
		*g->fault = 1;
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGBUS, &dfl, NULL);
	/* Returning re-executes the access, which now kills us. */
}

int
vu_mem_guard_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}

int
vu_mem_guard_add(void *p, size_t len, volatile sig_atomic_t *fault)
{
	int i;

	for (i = 0; i < VU_MEM_MAX_GUARDS; i++) {
		if (guards[i].end != 0)
			continue;
		guards[i].start = (uintptr_t)p;
		guards[i].fault = fault;
		/* end last: the slot is live once it is set. */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		guards[i].end = (uintptr_t)p + len;
		return i;
	}
	errno = ENOMEM;
	return -1;
}

void
vu_mem_guard_del(int slot)
{
	if (slot < 0 || slot >= VU_MEM_MAX_GUARDS)
		return;
	guards[slot].end = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	guards[slot].start = 0;
	guards[slot].fault = NULL;
}

int
vu_mem_map(struct vu_mem *m, unsigned i, int fd, volatile sig_atomic_t *fault)
{
	struct vu_mem_region *r = &m->r[i];
	size_t len = (size_t)(r->mmap_offset + r->size);
	void *p;
	int slot;

	r->guard = -1;
	if (vu_mem_fd_ok(fd, len) < 0)
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
	    fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if ((slot = vu_mem_guard_add(p, len, fault)) < 0) {
		munmap(p, len);
		return -1;
	}
	r->map = p;
	r->map_len = len;
	r->host = (uint8_t *)p + r->mmap_offset;
	r->guard = slot;
	return 0;
}

void
vu_mem_unmap(struct vu_mem *m)
{
	unsigned i;

	for (i = 0; i < m->n; i++) {
		if (m->r[i].map == NULL)
			continue;
		/* Unguard first: the range may be reused by the next mmap. */
		vu_mem_guard_del(m->r[i].guard);
		munmap(m->r[i].map, m->r[i].map_len);
	}
	memset(m, 0, sizeof(*m));
}
