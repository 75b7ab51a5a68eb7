/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vf: a minimal vhost-user FRONT-END (the VMM side), for tests and
 * benchmarks only (libvtest, never linked by a daemon): the hostile-VMM
 * test, the switch port tests, the block load generator and the switch
 * benchmark drive Isles' daemons with it.
 *
 * Guest memory is one file mapped at guest physical address 0 (a sealed
 * memfd as QEMU's memory-backend-memfd, an unsealed memfd, or a file
 * of the caller's, e.g. on hugetlbfs: enum vf_mem); the
 * caller allocates ring and buffer space in it with vf_alloc() and
 * builds descriptor chains itself (raw access is the point: the hostile
 * test writes rings no real driver would).  No event loop: calls block,
 * completions are waited for with poll() on the call eventfd.
 *
 * Negotiation follows the order of vhost-user.rst and QEMU: features and
 * protocol features are read, protocol features set (REPLY_ACK, ...),
 * queue number read, owner set (acked), and only then SET_FEATURES and
 * the memory table and rings.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_VF_H
#define ISLES_VF_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/vq.h"
#include "vhost/vu_proto.h"

#define VF_MAX_QUEUES 16

enum vf_mem {
	VF_MEM_SEALED,		/* memfd sealed against shrinking (QEMU's) */
	VF_MEM_UNSEALED,	/* memfd the front-end may still truncate */
	VF_MEM_FILE,		/* a file at a path (hugetlbfs, /dev/shm) */
};

struct vf_ring {
	unsigned num;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct vq_desc *desc;
	struct vq_avail *avail;
	struct vq_used *used;
	uint16_t avail_idx;	/* next avail->idx we publish */
	uint16_t used_seen;	/* used entries consumed */
	int kick_fd, call_fd;
};

struct vf_dev {
	int sock;
	int mem_fd;
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t brk;		/* bump allocator in guest memory */
	uint64_t features;	/* offered by the back-end */
	uint64_t acked;
	uint64_t protocol;
	unsigned nq;
	struct vf_ring q[VF_MAX_QUEUES];
	int reply_fd;		/* fd of the last reply (caller's), or -1 */
	/* INFLIGHT_SHMFD, if wanted before vf_setup_rings() */
	bool want_inflight;
	void *inflight;
	uint64_t inflight_size;
	int inflight_fd;
	uint16_t base[VF_MAX_QUEUES];	/* SET_VRING_BASE values */
};

/* Connect to a back-end socket and create mem_size bytes of guest RAM. */
int vf_open(struct vf_dev *d, const char *path, uint64_t mem_size);

/*
 * The same with the kind of guest memory: for VF_MEM_FILE, mem_path is
 * a file to create (it is unlinked at once; the fd keeps it); ignored
 * otherwise.
 */
int vf_open_mem(struct vf_dev *d, const char *path, uint64_t mem_size,
    enum vf_mem kind, const char *mem_path);

/*
 * Connect to path with the very memory of o (same guest addresses, as
 * two devices of one VM): d allocates after o's allocations, which must
 * all be made by then.
 */
int vf_open_shared(struct vf_dev *d, const char *path, const struct vf_dev *o);
void vf_close(struct vf_dev *d);

/*
 * Send one message (fds attached) and, if reply is not NULL, read the
 * reply of the same request into reply (at most *reply_size bytes; set
 * to the size received).  need_reply sets the NEED_REPLY flag.
 */
int vf_msg(struct vf_dev *d, uint32_t req, const void *payload, uint32_t size,
    const int *fds, unsigned nfds, bool need_reply, void *reply,
    uint32_t *reply_size);

/*
 * The usual start-up: features (the back-end's offer masked with want,
 * plus VERSION_1 and PROTOCOL_FEATURES), protocol features (REPLY_ACK,
 * CONFIG, MQ), owner, memory table, then nq rings of qsize entries,
 * enabled.  0 / -1.
 */
int vf_setup(struct vf_dev *d, unsigned nq, unsigned qsize, uint64_t want);

/*
 * vf_setup in two steps: everything up to the rings' addresses (and the
 * inflight region if want_inflight), then call/kick fds and enable.  A
 * test can write ring contents in between, before the back-end looks.
 */
int vf_setup_rings(struct vf_dev *d, unsigned nq, unsigned qsize,
    uint64_t want);
int vf_start_rings(struct vf_dev *d);

/* Read the device's config space [off, off + len). */
int vf_get_config(struct vf_dev *d, uint32_t off, void *buf, uint32_t len);

/* Allocate len bytes of guest memory aligned to align; returns the gpa. */
uint64_t vf_alloc(struct vf_dev *d, uint64_t len, uint64_t align);

/* Host pointer of guest address gpa (no checks: our own memory). */
void *vf_ptr(struct vf_dev *d, uint64_t gpa);

/* Publish head as the next available entry (not yet visible). */
void vf_avail(struct vf_ring *r, uint16_t head);

/* Make published entries visible and kick the back-end. */
int vf_kick(struct vf_ring *r);

/* Next used element; returns 1 (got one), 0 (none yet). */
int vf_used(struct vf_ring *r, uint32_t *id, uint32_t *len);

/*
 * Wait up to timeout_ms for the back-end's interrupt on r.  1: signalled,
 * 0: timeout, -1: error.
 */
int vf_wait(struct vf_ring *r, int timeout_ms);

#endif
