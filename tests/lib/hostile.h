/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hv: the attacks of a hostile front-end (VMM) or guest that every
 * vhost-user daemon must survive, one per class of the real vhost-user
 * CVEs (docs/security.md), for the daemons' own tests to run against
 * their sockets (libvtest; diskd's fuller suite is tests/hostile).
 *
 * Ring attacks (a hostile guest): one malformed chain published on a
 * started ring the back-end reads (a transmit queue), then a kick.  A
 * correct back-end breaks only that queue (its device shows "error") and
 * writes nothing into the ring's used entries.  Message attacks (a
 * hostile VMM): a fresh connection, one malformed vhost-user message; a
 * correct back-end drops the connection.  In both cases the daemon stays
 * up and its other devices go on: the caller checks that with traffic of
 * its own, and that memory and fds stay bounded (hv_rss_kib, hv_nfds).
 *
 * Errors: the attack functions return 0 / -1 with errno (a local
 * failure, not a verdict).
 */
#ifndef ISLES_HV_H
#define ISLES_HV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/front.h"

enum hv_ring_attack {
	HV_DESC_OUTSIDE,	/* address past the end of guest memory */
	HV_DESC_WRAP,		/* address + length wraps 2^64 */
	HV_DESC_LEN_PAST_END,	/* starts inside, runs past the end */
	HV_ZERO_LEN,		/* a zero-length descriptor */
	HV_LOOP,		/* next points back at itself */
	HV_AVAIL_JUMP,		/* avail->idx ahead by more than the ring */
	HV_HEAD_RANGE,		/* head index >= the queue size */
	HV_INDIRECT_OUTSIDE,	/* indirect table outside guest memory */
	HV_INDIRECT_NESTED,	/* an indirect table inside an indirect one */
	HV_RING_ATTACKS
};

const char *hv_ring_attack_name(enum hv_ring_attack a);

/*
 * Publish attack a on ring r of d (started, read by the back-end) and
 * kick.  buf: guest address of 4 KiB the caller owns (for the parts of
 * the chain that are legal).  Uses descriptors 0..3 of the ring.
 */
int hv_ring_attack(struct vf_dev *d, struct vf_ring *r, enum hv_ring_attack a,
    uint64_t buf);

/* The message attacks, by index 0 .. hv_msg_attacks() - 1. */
unsigned hv_msg_attacks(void);
const char *hv_msg_attack_name(unsigned i);

/*
 * Connect to path (a device of nq >= 2 queues), run message attack i.
 * Returns 1 if the back-end dropped the connection (the right answer), 0
 * if it kept it, -1 on a local error.
 */
int hv_msg_attack(const char *path, unsigned nq, unsigned i);

/* VmRSS of pid in KiB, or -1. */
long hv_rss_kib(pid_t pid);
/* Open fds of pid, or -1. */
int hv_nfds(pid_t pid);

#endif
