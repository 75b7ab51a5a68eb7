/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu: the back-end side of the vhost-user protocol, for one device
 * (one listening socket, at most one front-end connection at a time).
 *
 * The library parses and validates every message against one table
 * (request, payload size, fd count, protocol feature it needs, whether it
 * has a reply of its own), keeps the memory table and the virtqueues, and
 * calls the device through a small ops table (struct vu_iface) for what is
 * device-specific: config space, "queue i was kicked", "are requests of
 * queue i still running".  It does not own the event loop: it asks the
 * caller to watch and unwatch file descriptors (struct vu_loop).
 *
 * Message order: anything the spec (QEMU docs/interop/vhost-user.rst)
 * allows.  Protocol features take effect once SET_PROTOCOL_FEATURES is
 * handled, whether or not SET_FEATURES came yet; a ring starts once it
 * has a size, addresses and a kick fd, in whatever order they came.
 *
 * Requests in flight: a message that must not run while the device still
 * has requests running (GET_VRING_BASE of that queue, a second
 * SET_VRING_KICK, SET_MEM_TABLE, RESET_*, a disconnect) is deferred: the
 * library stops processing the device's queues, stops reading the
 * connection, and handles the message (and sends its reply) once the
 * device reports through vu_dev_settled() that nothing is running any
 * more.  Other devices of the same daemon are never held up, and guest
 * memory is never unmapped while a request may still write into it.
 *
 * Guest memory may be any regular file (memfd sealed or not, tmpfs,
 * hugetlbfs): a front-end that shrinks the file under us gets its own
 * device broken (vu_mem.h), the daemon and its other devices go on.
 *
 * The front-end is not trusted: a malformed message closes the
 * connection (the device is reset and waits for the next one); a
 * malformed ring breaks only that queue.  The socket is non-blocking and
 * messages are assembled across wake-ups, so a front-end that stops in
 * the middle of a message (or does not read its replies) cannot stall
 * the caller's event loop and the other devices it serves.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_VU_H
#define ISLES_VU_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/vq.h"
#include "vhost/vu_mem.h"
#include "vhost/vu_proto.h"

#define VU_MAX_QUEUES	16
#define VU_ALL_QUEUES	(~0u)	/* vu_iface.busy(): any queue */

struct vu_dev;

/* Callback for a watched fd; events are EPOLLIN etc. */
typedef void (*vu_watch_cb)(void *arg, int fd, uint32_t events);

/* The caller's event loop. */
struct vu_loop {
	int (*watch)(void *loop, int fd, vu_watch_cb cb, void *arg);
	void (*unwatch)(void *loop, int fd);
	void *loop;
};

/* What a device type provides (a block device, a NIC, ...). */
struct vu_iface {
	/* Copy config space [off, off+len) into buf; 0 / -1. */
	int (*get_config)(struct vu_dev *d, uint8_t *buf, uint32_t off,
	    uint32_t len);
	/* Guest wrote config space; 0 / -1 (refused). */
	int (*set_config)(struct vu_dev *d, const uint8_t *buf, uint32_t off,
	    uint32_t len);
	/* Queue qi has work (kick, or started with requests pending). */
	void (*queue_kick)(struct vu_dev *d, unsigned qi);
	/*
	 * Whether requests popped from queue qi (VU_ALL_QUEUES: from any
	 * queue) are still running.  NULL: the device completes every
	 * request inside queue_kick.  A device that answers true must call
	 * vu_dev_settled() after completing requests.
	 */
	bool (*busy)(struct vu_dev *d, unsigned qi);
	/* The front-end went away or reset the device (nothing running). */
	void (*reset)(struct vu_dev *d);
};

struct vu_queue {
	struct vq vq;
	struct vu_dev *dev;
	int kick_fd, call_fd, err_fd;
	bool enabled;
	bool started;
	uint64_t desc_uaddr, avail_uaddr, used_uaddr;
	bool addr_set;
	uint16_t *resubmit;
};

/* One vhost-user message (header, payload, the fds that came with it). */
struct vu_msg {
	struct vu_hdr hdr;
	union vu_payload p;
	int fds[VU_MAX_FDS];
	unsigned nfds;
};

/* A vhost-user message being received (the socket is non-blocking). */
struct vu_rx {
	uint8_t buf[sizeof(struct vu_hdr) + sizeof(union vu_payload)];
	size_t have;
	int fds[VU_MAX_FDS];
	unsigned nfds;
	bool bad;		/* too many fds or truncated control data */
};

struct vu_dev {
	const char *name;		/* for log messages */
	const struct vu_iface *iface;
	struct vu_loop loop;
	void *priv;			/* the device's own state */

	int listen_fd, conn_fd;
	struct vu_rx rx;
	uint64_t features;		/* offered */
	uint64_t acked_features;
	uint64_t protocol_features;	/* offered */
	uint64_t acked_protocol;
	bool owner;
	unsigned nqueues;
	unsigned max_queue_size;
	struct vu_queue q[VU_MAX_QUEUES];
	struct vu_mem mem;
	/* Set from the SIGBUS handler: our guest memory file shrank. */
	volatile sig_atomic_t mem_fault;
	bool broken;			/* mem_fault handled: all queues stopped */

	/* Waiting for the device's requests to finish (see the top). */
	bool paused;			/* queues not processed meanwhile */
	bool deferred;			/* `pending` is to be handled */
	bool closing;			/* the connection is gone: reset */
	unsigned wait_q;		/* what busy() is asked about */
	struct vu_msg pending;
	int settle_fd;			/* eventfd: vu_dev_settled() */
	uint64_t nwaits;		/* deferrals so far (tests, logs) */

	int slave_fd;			/* SET_SLAVE_REQ_FD channel, or -1 */

	/* INFLIGHT_SHMFD: one memfd for every queue's record. */
	int inflight_fd;
	void *inflight_map;
	uint64_t inflight_size;
	uint16_t inflight_qsize;
	uint16_t inflight_nq;
};

/*
 * Set up d for listen_fd (a listening unix socket, owned by d from now
 * on) or, with listen_fd < 0 and conn_fd >= 0, for an already connected
 * socket.  features: the device's virtio features (the library adds
 * VERSION_1, INDIRECT_DESC, EVENT_IDX and PROTOCOL_FEATURES).
 * nqueues 1..VU_MAX_QUEUES.  Also installs the process's SIGBUS guard
 * for guest memory (vu_mem_guard_init).  Returns 0 / -1.
 */
int vu_dev_init(struct vu_dev *d, const char *name, int listen_fd,
    int conn_fd, unsigned nqueues, uint64_t features,
    const struct vu_iface *iface, const struct vu_loop *loop, void *priv);

/*
 * Close everything.  The caller has made sure that no request is still
 * running (the device's busy() is false), e.g. by draining at exit.
 */
void vu_dev_close(struct vu_dev *d);

/* Whether feature bit f was negotiated. */
bool vu_has_feature(const struct vu_dev *d, unsigned f);

/* Whether protocol feature bit f was negotiated (SET_PROTOCOL_FEATURES). */
bool vu_has_protocol(const struct vu_dev *d, unsigned f);

/*
 * Interrupt the guest for queue qi if the ring's notification rules
 * want one (call after a batch of vq_push).
 */
void vu_queue_notify(struct vu_dev *d, unsigned qi);

/*
 * Ask for queue qi to be processed again from the event loop (signals its
 * kick eventfd): for a device that stopped popping to bound its work.
 */
void vu_queue_rekick(struct vu_dev *d, unsigned qi);

/*
 * Whether queue qi is ready to process: started, enabled, not broken, and
 * the device neither paused (waiting for requests to finish) nor broken.
 */
static inline bool
vu_queue_ready(const struct vu_dev *d, unsigned qi)
{
	const struct vu_queue *q;

	if (qi >= d->nqueues || d->paused || d->broken || d->mem_fault)
		return false;
	q = &d->q[qi];
	return q->started && q->enabled && !q->vq.broken && q->vq.num != 0;
}

/*
 * Mark queue qi broken after a malformed ring or request: it is not
 * processed again until the front-end resets it; the guest is told
 * through the error eventfd if it gave one.
 */
void vu_queue_break(struct vu_dev *d, unsigned qi, const char *why);

/*
 * The device completed requests.  If the library is waiting for the
 * device (a deferred message or a disconnect) and busy() now says false,
 * the deferred work runs from the event loop shortly after (never from
 * inside this call).  Cheap when nothing waits.
 */
void vu_dev_settled(struct vu_dev *d);

/*
 * Tell the front-end that the device's config space changed (e.g. the
 * capacity of a disk), so that it reads it again and interrupts the guest:
 * VHOST_USER_SLAVE_CONFIG_CHANGE_MSG on the channel the front-end gave
 * with SET_SLAVE_REQ_FD (protocol feature SLAVE_REQ).  Never blocks.
 * 0, or -1 with errno (ENOTCONN: no channel; EAGAIN: it is full).
 */
int vu_dev_config_changed(struct vu_dev *d);

/*
 * If a SIGBUS hit d's guest memory (the front-end shrank the file), stop
 * every queue of d and log it, once.  The library checks after its own
 * callbacks; a device calls it after touching guest memory from a
 * callback of its own (e.g. completions).  Returns true if d is broken.
 */
bool vu_dev_check_fault(struct vu_dev *d);

#endif
