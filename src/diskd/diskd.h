/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diskd: shared state of isles-diskd, the disk daemon (one process per
 * physical disk).  main.c owns the process: command line, the disk, the
 * epoll loop, io_uring and signals; blk.c is the virtio-blk device
 * (one struct blk_export per VM) behind the vhost-user library.
 *
 * Errors: 0 / -1 with errno in this layer.
 */
#ifndef ISLES_DISKD_H
#define ISLES_DISKD_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "diskd/vdisk.h"
#include "vhost/vu.h"

struct blk_req;

struct blk_export {
	char name[64];		/* VM name: the vhost-user device's name */
	char serial[21];	/* GET_ID: "<disk>-<vm>-p<N>[,M]" */
	unsigned parts[VD_MAX_PARTS];
	unsigned nparts;
	bool ro;
	bool wce;		/* guest-visible write cache (writeback) */
	unsigned nqueues;
	struct vdisk vd;
	struct vu_dev dev;
	struct diskd *dd;
	unsigned inflight;	/* requests submitted, not yet completed */
	uint32_t dirty;		/* queues with completions to notify */
	uint32_t stalled;	/* queues that hit the in-flight limit */
	unsigned qinflight[VU_MAX_QUEUES];
	uint64_t nreq, nerr;
};

struct diskd {
	const char *name;	/* disk name (log prefix) */
	int disk_fd;
	bool blockdev;
	uint64_t sectors;	/* physical disk size */
	struct io_uring ring;
	int ring_efd;		/* io_uring completions -> epoll */
	unsigned sq_pending;	/* SQEs prepared, not yet submitted */
	struct blk_export *ex;
	unsigned nex;
	struct vu_loop loop;
	struct blk_req *free_reqs;
};

/* blk.c */
int blk_export_start(struct blk_export *ex, struct diskd *dd, int listen_fd,
    int conn_fd);
void blk_export_stop(struct blk_export *ex);
/* Reap io_uring completions and notify guests; called on the eventfd. */
void blk_reap(struct diskd *dd);
/*
 * Block until every request of ex (or of all exports: ex NULL) is done;
 * used only at exit.  0, or -1 with errno if io_uring cannot be waited
 * on: requests may still be running and guest memory must stay mapped.
 */
int blk_drain(struct diskd *dd, struct blk_export *ex);
void blk_free_pool(struct diskd *dd);

#endif
