/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diskd: shared state of isles-diskd, the disk daemon.  main.c owns the
 * process: command line, the event loop, signals.  blk.c is the
 * virtio-blk device (one struct blk_export per VM) behind the vhost-user
 * library: request parsing, limits, GET_ID, completion, config space.
 * Where the data lives is a storage back-end, one small ops table each
 * (struct blk_store_ops):
 *
 *   store_part.c  partitions of a disk image or block device: each VM's
 *                 virtual disk (vdisk.h) over io_uring
 *   store_dp.c    a dataport shared with a driver VM, whose program
 *                 answers the requests (src/dpblk, docs/driver-vm.md)
 *
 * A new back-end is a new table.  Errors: 0 / -1 with errno in this layer
 * unless a function says otherwise.
 */
#ifndef ISLES_DISKD_H
#define ISLES_DISKD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <liburing.h>

#include "diskd/vdisk.h"
#include "vhost/vu.h"

/* 5.2.6 request status */
#define BLK_S_OK		0
#define BLK_S_IOERR		1
#define BLK_S_UNSUPP		2

struct blk_export;
struct diskd;

/* One guest request (a popped chain) and its sub-operations in a store. */
struct blk_req {
	struct blk_req *next_free;
	struct blk_req *next_wait;	/* a store's queue (store_dp) */
	struct blk_export *ex;
	unsigned qi;
	uint8_t *status;
	uint8_t fail_status;	/* when failed */
	uint32_t written;	/* used-ring length */
	unsigned pending;	/* sub-operations not done yet */
	bool failed;
	uint64_t expect, got;	/* bytes of read/write sub-operations */
	unsigned nsub;		/* iovecs of sub[] in use */
	/* The data of a READ or WRITE, for stores that copy (store_dp). */
	const struct iovec *data_iov;
	unsigned data_n;
	size_t data_off;
	uint64_t sector, len, done;	/* bytes handed to the store so far */
	int op;			/* BLK_OP_* while a store holds it */
	struct vq_chain chain;
	struct iovec sub[VQ_MAX_IOV + VD_MAX_SEGS];
};

enum { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH };

struct blk_discard_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

#define BLK_WZ_F_UNMAP		1
#define BLK_MAX_DISCARD_SEG	8
#define BLK_MAX_DISCARD_SECT	(1u << 22)

/*
 * A storage back-end.  Each function starts the storage part of a request
 * that blk.c has parsed and checked (header copied out, lengths whole
 * sectors, limits, read-only): it either answers at once with a status
 * other than BLK_S_OK (nothing started), or returns BLK_S_OK having
 * started zero or more sub-operations with blk_sub_add(), each finished
 * later (or at once) with blk_sub_done().
 */
struct blk_store_ops {
	const char *kind;
	/* Extra virtio-blk features (DISCARD, WRITE_ZEROES) for ex. */
	uint64_t (*features)(const struct blk_export *ex);
	/* The disk's size in sectors, now. */
	uint64_t (*capacity)(const struct blk_export *ex);
	/*
	 * READ (write false) into, or WRITE from, the data bytes of
	 * iov[0..n) that start at byte off and are len long, at sector.
	 */
	int (*rw)(struct blk_req *r, bool write, uint64_t sector,
	    const struct iovec *iov, unsigned n, size_t off, uint64_t len);
	int (*flush)(struct blk_req *r);
	/* NULL: DISCARD and WRITE_ZEROES are not offered. */
	int (*discard)(struct blk_req *r, const struct blk_discard_seg *ds,
	    unsigned n, bool zeroes);
};

extern const struct blk_store_ops blk_store_part;
extern const struct blk_store_ops blk_store_dp;

struct blk_dp;		/* store_dp.c's state */

struct blk_export {
	char name[64];		/* VM name: the vhost-user device's name */
	char serial[21];	/* GET_ID: "<disk>-<vm>-p<N>[,M]" */
	unsigned parts[VD_MAX_PARTS];
	unsigned nparts;
	bool ro;
	bool wce;		/* guest-visible write cache (writeback) */
	unsigned nqueues;
	const struct blk_store_ops *store;
	struct vdisk vd;	/* store_part */
	struct blk_dp *dp;	/* store_dp */
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
	int disk_fd;		/* store_part: the image or device, else -1 */
	bool blockdev;
	uint64_t sectors;	/* physical disk size */
	struct io_uring ring;	/* store_part */
	bool ring_ok;
	int ring_fd;		/* the ring's fd, watched by epoll */
	bool cache_none;	/* --cache none: O_DIRECT where aligned */
	int dio_fd;		/* the disk with O_DIRECT, or -1 */
	uint32_t dio_mem_align, dio_off_align;	/* what dio_fd needs */
	unsigned sq_pending;	/* SQEs prepared, not yet submitted */
	uint64_t sq_bytes;	/* bytes those SQEs read or write */
	struct blk_export *ex;
	unsigned nex;
	struct vu_loop loop;
	struct blk_req *free_reqs;
};

/* blk.c */
int blk_export_start(struct blk_export *ex, struct diskd *dd, int listen_fd,
    int conn_fd);
void blk_export_stop(struct blk_export *ex);
void blk_free_pool(struct diskd *dd);
/* After completions: interrupt guests, resume stalled queues. */
void blk_notify_all(struct diskd *dd);
/*
 * The store's capacity changed: tell the front-end (config change).  A
 * no-op for a front-end that gave no channel; logged.
 */
void blk_capacity_changed(struct blk_export *ex);

/* For stores: one more sub-operation of r expected (len data bytes). */
void blk_sub_add(struct blk_req *r, uint64_t len);
/*
 * A sub-operation of r finished: res is bytes done or a negative errno;
 * rw says whether it moved data (counted against what blk_sub_add
 * expected).  May complete r (then r is gone).
 */
void blk_sub_done(struct blk_req *r, int res, bool rw);

/* store_part.c: io_uring of a partitioned disk. */
int part_ring_init(struct diskd *dd);
/* The alignment O_DIRECT needs on dd->dio_fd (statx, else 4096). */
void part_dio_align(struct diskd *dd);
/* Reap io_uring completions and notify guests; called on the eventfd. */
void blk_reap(struct diskd *dd);
/* Submit what a kick prepared (one io_uring_submit per batch). */
void part_submit(struct diskd *dd);
/*
 * Block until every request of ex (or of all exports: ex NULL) is done;
 * used only at exit.  0, or -1 with errno if io_uring cannot be waited
 * on: requests may still be running and guest memory must stay mapped.
 */
int blk_drain(struct diskd *dd, struct blk_export *ex);

/* store_dp.c: a dataport shared with a driver VM (docs/driver-vm.md). */
struct blk_dp_args {
	int shm_fd;		/* the dataport's memory */
	int ev_in;		/* our eventfd: the driver rings it */
	int ev_out;		/* the driver's eventfd: we ring it */
	uint32_t slot_size;	/* 0: the protocol's default */
	unsigned timeout_s;	/* how long a request waits for the driver */
};
int blk_dp_open(struct blk_export *ex, const struct blk_dp_args *a);
void blk_dp_close(struct blk_export *ex);

#endif
