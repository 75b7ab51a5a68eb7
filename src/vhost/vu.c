/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu: see vu.h.  Called from the device daemon's event loop through the
 * watch callbacks it registered.  Trusts nothing the front-end sends:
 * each message is checked against the request table (payload size, fd
 * count, the protocol feature it needs) before its handler runs, every
 * field (queue index, ring size, region table, config range) is validated
 * before use, and fds are counted against what the message allows
 * (surplus fds are closed, never kept).
 */
#include "vhost/vu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define VU_OFFERED_PROTOCOL ((1ull << VU_PF_MQ) | (1ull << VU_PF_REPLY_ACK) | \
	(1ull << VU_PF_SLAVE_REQ) | (1ull << VU_PF_CONFIG) | \
	(1ull << VU_PF_INFLIGHT_SHMFD) | (1ull << VU_PF_RESET_DEVICE))

/* Handler results. */
enum { VU_OK = 0, VU_FAIL = 1, VU_DEFER = 2, VU_CLOSE = -1 };

/* What a request may carry; checked before its handler runs. */
struct vu_req {
	const char *name;
	uint16_t min, max;	/* payload bytes */
	uint8_t maxfds;		/* fds it may bring (handlers check exact) */
	int8_t pf;		/* protocol feature it needs, -1: none */
	bool reply;		/* answered with a reply of its own */
	int (*fn)(struct vu_dev *, struct vu_msg *);
};

static void vu_conn_cb(void *arg, int fd, uint32_t events);
static void vu_listen_cb(void *arg, int fd, uint32_t events);

bool
vu_has_feature(const struct vu_dev *d, unsigned f)
{
	return (d->acked_features >> f) & 1;
}

/*
 * Protocol features take effect once SET_PROTOCOL_FEATURES is handled,
 * before or without SET_FEATURES (vhost-user.rst, "Protocol features").
 */
bool
vu_has_protocol(const struct vu_dev *d, unsigned f)
{
	return (d->acked_protocol >> f) & 1;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
msg_close_fds(struct vu_msg *m)
{
	while (m->nfds > 0)
		close(m->fds[--m->nfds]);
}

static bool
dev_busy(struct vu_dev *d, unsigned qi)
{
	return d->iface->busy != NULL && d->iface->busy(d, qi);
}

void
vu_queue_notify(struct vu_dev *d, unsigned qi)
{
	struct vu_queue *q = &d->q[qi];
	uint64_t one = 1;

	if (q->call_fd < 0 || q->vq.num == 0 || !vq_need_notify(&q->vq))
		return;
	if (write(q->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: queue %u: call", d->name, qi);
}

void
vu_queue_rekick(struct vu_dev *d, unsigned qi)
{
	uint64_t one = 1;

	if (qi < d->nqueues && d->q[qi].kick_fd >= 0 &&
	    write(d->q[qi].kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: queue %u: rekick", d->name, qi);
}

void
vu_queue_break(struct vu_dev *d, unsigned qi, const char *why)
{
	struct vu_queue *q = &d->q[qi];
	uint64_t one = 1;

	if (!q->vq.broken)
		log_warnx("%s: queue %u: %s: queue stopped until reset",
		    d->name, qi, why);
	q->vq.broken = true;
	if (q->err_fd >= 0 && write(q->err_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_warn("%s: queue %u: err", d->name, qi);
}

bool
vu_dev_check_fault(struct vu_dev *d)
{
	unsigned i;

	if (!d->mem_fault || d->broken)
		return d->broken;
	d->broken = true;
	log_warnx("%s: the front-end shrank a guest memory file under us: "
	    "device stopped until the front-end resets it", d->name);
	for (i = 0; i < d->nqueues; i++)
		vu_queue_break(d, i, "guest memory gone");
	return true;
}

static void
kick_cb(void *arg, int fd, uint32_t events)
{
	struct vu_queue *q = arg;
	struct vu_dev *d = q->dev;
	unsigned qi = (unsigned)(q - d->q);
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	if (vu_queue_ready(d, qi))
		d->iface->queue_kick(d, qi);
	vu_dev_check_fault(d);
}

/* Stop processing a ring (its kick fd is dropped); nothing else. */
static void
queue_stop(struct vu_dev *d, struct vu_queue *q)
{
	if (q->kick_fd >= 0) {
		d->loop.unwatch(d->loop.loop, q->kick_fd);
		close_fd(&q->kick_fd);
	}
	q->started = false;
}

static void
queue_free(struct vu_dev *d, struct vu_queue *q)
{
	queue_stop(d, q);
	close_fd(&q->call_fd);
	close_fd(&q->err_fd);
	vq_reset(&q->vq);
	q->enabled = false;
	q->addr_set = false;
}

static void
inflight_free(struct vu_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nqueues; i++)
		d->q[i].vq.inflight = NULL;
	if (d->inflight_map != NULL)
		munmap(d->inflight_map, d->inflight_size);
	d->inflight_map = NULL;
	close_fd(&d->inflight_fd);
}

/* The old memory is gone: a new table may start clean. */
static void
mem_release(struct vu_dev *d)
{
	vu_mem_unmap(&d->mem);
	d->mem_fault = 0;
	d->broken = false;
}

/*
 * Drop all per-connection state; the device forgets the front-end.  Only
 * when nothing is running (the callers wait for that).
 */
static void
dev_reset(struct vu_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nqueues; i++)
		queue_free(d, &d->q[i]);
	inflight_free(d);
	mem_release(d);
	close_fd(&d->slave_fd);
	d->acked_features = 0;
	d->acked_protocol = 0;
	d->owner = false;
	if (d->iface->reset != NULL)
		d->iface->reset(d);
}

static void
stop_all(struct vu_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nqueues; i++)
		queue_stop(d, &d->q[i]);
}

/* Connection gone and nothing running: reset and take the next one. */
static void
close_finish(struct vu_dev *d)
{
	d->closing = false;
	d->paused = false;
	dev_reset(d);
	if (d->listen_fd >= 0 &&
	    d->loop.watch(d->loop.loop, d->listen_fd, vu_listen_cb, d) < 0)
		log_warn("%s: watch listening socket", d->name);
	log_info("%s: front-end disconnected", d->name);
}

static void
conn_close(struct vu_dev *d)
{
	if (d->conn_fd < 0)
		return;
	d->loop.unwatch(d->loop.loop, d->conn_fd);
	close_fd(&d->conn_fd);
	while (d->rx.nfds > 0)
		close(d->rx.fds[--d->rx.nfds]);
	d->rx.have = 0;
	if (d->deferred) {
		/* Nobody is left to answer. */
		msg_close_fds(&d->pending);
		d->deferred = false;
	}
	stop_all(d);
	if (dev_busy(d, VU_ALL_QUEUES)) {
		/* Memory stays mapped until the last request is done. */
		log_info("%s: front-end disconnected with requests in flight: "
		    "resetting once they complete", d->name);
		d->closing = true;
		d->paused = true;
		d->wait_q = VU_ALL_QUEUES;
		d->nwaits++;
		return;
	}
	close_finish(d);
}

static int
conn_open(struct vu_dev *d, int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		log_warn("%s: non-blocking socket", d->name);
		return -1;
	}
	memset(&d->rx, 0, sizeof(d->rx));
	d->conn_fd = fd;
	if (d->loop.watch(d->loop.loop, fd, vu_conn_cb, d) < 0) {
		log_warn("%s: watch connection", d->name);
		d->conn_fd = -1;
		return -1;
	}
	return 0;
}

static void
vu_listen_cb(void *arg, int fd, uint32_t events)
{
	struct vu_dev *d = arg;
	int c;

	if (d->conn_fd >= 0 || d->closing)
		return;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: accept", d->name);
		return;
	}
	/* One front-end at a time: others wait in the backlog. */
	d->loop.unwatch(d->loop.loop, d->listen_fd);
	if (conn_open(d, c) < 0) {
		close(c);
		if (d->loop.watch(d->loop.loop, d->listen_fd, vu_listen_cb,
		    d) < 0)
			log_warn("%s: watch listening socket", d->name);
		return;
	}
	log_info("%s: front-end connected", d->name);
}

/*
 * Receive what the socket has of the current message.  Returns 1 (a
 * whole message, moved into m), 0 (not complete yet: wait for the next
 * wake-up), -1 (the peer closed) or -2 (protocol error).
 */
static int
msg_read(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_rx *rx = &d->rx;
	struct vu_hdr h;

	for (;;) {
		char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;
		size_t want;
		ssize_t n;

		if (rx->have >= sizeof(h)) {
			memcpy(&h, rx->buf, sizeof(h));
			if ((h.flags & VU_VERSION_MASK) != VU_VERSION ||
			    h.size > sizeof(union vu_payload)) {
				log_warnx("%s: bad message header (request %u "
				    "size %u)", d->name, h.request, h.size);
				return -2;
			}
			want = sizeof(h) + h.size - rx->have;
			if (want == 0)
				break;
		} else {
			want = sizeof(h) - rx->have;
		}
		iov.iov_base = rx->buf + rx->have;
		iov.iov_len = want;
		n = recvmsg(d->conn_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0)
			return -1;
		if (n < 0)
			return -2;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k, cnt;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < cnt; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int),
				    sizeof(int));
				if (rx->nfds < VU_MAX_FDS) {
					rx->fds[rx->nfds++] = fd;
				} else {
					close(fd);
					rx->bad = true;
				}
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			rx->bad = true;
		rx->have += (size_t)n;
	}
	/* A whole message: hand it over and start the next one. */
	memcpy(&m->hdr, rx->buf, sizeof(m->hdr));
	memset(&m->p, 0, sizeof(m->p));
	memcpy(&m->p, rx->buf + sizeof(m->hdr), m->hdr.size);
	memcpy(m->fds, rx->fds, sizeof(m->fds));
	m->nfds = rx->nfds;
	rx->nfds = 0;
	rx->have = 0;
	if (rx->bad) {
		rx->bad = false;
		msg_close_fds(m);
		log_warnx("%s: too many fds with request %u", d->name,
		    m->hdr.request);
		return -2;
	}
	return 1;
}

static int
msg_reply(struct vu_dev *d, uint32_t request, const void *p, uint32_t size,
    int fd)
{
	struct vu_hdr h = { request, VU_VERSION | VU_FLAG_REPLY, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)p,
	    size } };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (d->conn_fd < 0)
		return -1;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* A front-end that does not read its replies loses the connection. */
	do {
		n = sendmsg(d->conn_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(h) + size))
		return -1;
	return 0;
}

static int
reply_u64(struct vu_dev *d, uint32_t req, uint64_t v)
{
	return msg_reply(d, req, &v, sizeof(v), -1) < 0 ? VU_CLOSE : VU_OK;
}

/* Wait for the device before handling this message (see vu.h). */
static int
wait_for(struct vu_dev *d, unsigned qi)
{
	d->wait_q = qi;
	return VU_DEFER;
}

/* Queue index from a vring message; -1 if out of range. */
static int
ring_index(const struct vu_dev *d, uint32_t idx)
{
	return idx < d->nqueues ? (int)idx : -1;
}

/*
 * Point the ring at guest memory once it has a size, addresses and a
 * memory table (in any order).  0 (attached, or not everything known
 * yet) / -1 (the rings are not inside guest memory).
 */
static int
ring_attach(struct vu_dev *d, struct vu_queue *q)
{
	uint64_t dg, ag, ug;
	unsigned num = q->vq.num;
	int r;

	if (!q->addr_set || d->mem.n == 0 || num == 0)
		return 0;
	if (vu_mem_uva_to_gpa(&d->mem, q->desc_uaddr, 16ull * num, &dg) < 0 ||
	    vu_mem_uva_to_gpa(&d->mem, q->avail_uaddr, 6ull + 2 * num,
	    &ag) < 0 ||
	    vu_mem_uva_to_gpa(&d->mem, q->used_uaddr, 6ull + 8 * num, &ug) < 0)
		return -1;
	r = vq_set_rings(&q->vq, &d->mem, num, dg, ag, ug);
	return r < 0 ? -1 : 0;
}

static void
queue_features(struct vu_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nqueues; i++) {
		d->q[i].vq.event_idx = vu_has_feature(d, VU_F_EVENT_IDX);
		d->q[i].vq.indirect = vu_has_feature(d, VU_F_INDIRECT_DESC);
	}
}

/*
 * Start a ring that has everything it needs (size, rings in guest
 * memory, kick fd); a ring still missing something starts when it
 * arrives.  0 / -1.
 */
static int
queue_start(struct vu_dev *d, unsigned qi)
{
	struct vu_queue *q = &d->q[qi];
	struct vq_inflight *inf = NULL;

	if (q->started || q->vq.num == 0 || q->vq.desc == NULL ||
	    q->kick_fd < 0)
		return 0;
	if (d->inflight_map != NULL && qi < d->inflight_nq &&
	    d->inflight_qsize == q->vq.num) {
		inf = (struct vq_inflight *)((char *)d->inflight_map +
		    qi * VQ_INFLIGHT_SIZE(d->inflight_qsize));
	}
	q->vq.inflight = inf;
	if (inf != NULL && q->resubmit == NULL) {
		q->resubmit = calloc(VQ_MAX_NUM, sizeof(uint16_t));
		if (q->resubmit == NULL)
			return -1;
	}
	if (vq_start(&q->vq, q->resubmit) < 0)
		log_warnx("%s: queue %u: inflight record does not match",
		    d->name, qi);
	if (q->vq.nresubmit > 0)
		log_info("%s: queue %u: resubmitting %u requests in flight "
		    "before the restart", d->name, qi, q->vq.nresubmit);
	if (d->loop.watch(d->loop.loop, q->kick_fd, kick_cb, q) < 0)
		return -1;
	q->started = true;
	/* Without PROTOCOL_FEATURES rings start enabled (vhost-user.rst). */
	if (!vu_has_feature(d, VU_F_PROTOCOL_FEATURES))
		q->enabled = true;
	if (vu_queue_ready(d, qi))
		d->iface->queue_kick(d, qi);
	return 0;
}

/* ---- request handlers: the table's checks have passed ---- */

static int
h_get_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->hdr.request, d->features);
}

static int
h_set_features(struct vu_dev *d, struct vu_msg *m)
{
	if ((m->p.u64 & ~d->features) != 0) {
		log_warnx("%s: features %#llx were not offered", d->name,
		    (unsigned long long)(m->p.u64 & ~d->features));
		return VU_CLOSE;
	}
	d->acked_features = m->p.u64;
	queue_features(d);
	return VU_OK;
}

static int
h_get_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->hdr.request, d->protocol_features);
}

static int
h_set_protocol_features(struct vu_dev *d, struct vu_msg *m)
{
	if ((m->p.u64 & ~d->protocol_features) != 0) {
		log_warnx("%s: protocol features %#llx were not offered",
		    d->name, (unsigned long long)(m->p.u64 &
		    ~d->protocol_features));
		return VU_CLOSE;
	}
	d->acked_protocol = m->p.u64;
	return VU_OK;
}

static int
h_set_owner(struct vu_dev *d, struct vu_msg *m)
{
	d->owner = true;
	return VU_OK;
}

static int
h_get_queue_num(struct vu_dev *d, struct vu_msg *m)
{
	return reply_u64(d, m->hdr.request, d->nqueues);
}

/* RESET_OWNER (deprecated) and RESET_DEVICE. */
static int
h_reset(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t proto = d->acked_protocol, feat = d->acked_features;

	stop_all(d);
	if (dev_busy(d, VU_ALL_QUEUES))
		return wait_for(d, VU_ALL_QUEUES);
	dev_reset(d);
	/* The connection stays: what was negotiated on it stays too. */
	d->acked_protocol = proto;
	d->acked_features = m->hdr.request == VU_RESET_DEVICE ? feat : 0;
	queue_features(d);
	return VU_OK;
}

static int
h_set_mem_table(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_mem nm;
	unsigned i, n = m->p.mem.nregions;

	if (n == 0 || n > VU_MEM_MAX_REGIONS ||
	    m->hdr.size != 8 + n * sizeof(struct vu_mem_region_msg) ||
	    m->nfds != n)
		return VU_CLOSE;
	memset(&nm, 0, sizeof(nm));
	nm.n = n;
	for (i = 0; i < n; i++) {
		nm.r[i].gpa = m->p.mem.r[i].gpa;
		nm.r[i].size = m->p.mem.r[i].size;
		nm.r[i].uaddr = m->p.mem.r[i].uaddr;
		nm.r[i].mmap_offset = m->p.mem.r[i].mmap_offset;
	}
	if (vu_mem_check(&nm) < 0) {
		log_warnx("%s: invalid memory table", d->name);
		return VU_CLOSE;
	}
	/* Requests in flight point into the old mappings. */
	if (dev_busy(d, VU_ALL_QUEUES))
		return wait_for(d, VU_ALL_QUEUES);
	for (i = 0; i < n; i++) {
		if (vu_mem_map(&nm, i, m->fds[i], &d->mem_fault) < 0) {
			log_warn("%s: map memory region %u", d->name, i);
			vu_mem_unmap(&nm);
			return VU_CLOSE;
		}
	}
	mem_release(d);
	d->mem = nm;
	for (i = 0; i < d->nqueues; i++) {
		struct vu_queue *q = &d->q[i];

		q->vq.desc = NULL;
		if (ring_attach(d, q) < 0) {
			log_warnx("%s: queue %u: rings outside the new memory "
			    "table", d->name, i);
			return VU_CLOSE;
		}
		/* A ring whose kick fd came before the table starts now. */
		if (queue_start(d, i) < 0)
			return VU_CLOSE;
	}
	return VU_OK;
}

static int
h_vring_num(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_queue *q;
	int qi;

	if ((qi = ring_index(d, m->p.state.index)) < 0)
		return VU_CLOSE;
	q = &d->q[qi];
	if (m->p.state.num == 0 || m->p.state.num > d->max_queue_size ||
	    (m->p.state.num & (m->p.state.num - 1)) != 0 || q->started)
		return VU_CLOSE;
	q->vq.num = m->p.state.num;
	q->vq.mem = &d->mem;
	q->vq.desc = NULL;
	if (ring_attach(d, q) < 0) {
		log_warnx("%s: queue %d: rings of %u entries outside guest "
		    "memory", d->name, qi, m->p.state.num);
		return VU_CLOSE;
	}
	return queue_start(d, (unsigned)qi) < 0 ? VU_CLOSE : VU_OK;
}

static int
h_vring_addr(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_queue *q;
	int qi;

	if ((qi = ring_index(d, m->p.addr.index)) < 0)
		return VU_CLOSE;
	q = &d->q[qi];
	if (q->started)
		return VU_CLOSE;
	q->desc_uaddr = m->p.addr.desc;
	q->avail_uaddr = m->p.addr.avail;
	q->used_uaddr = m->p.addr.used;
	q->addr_set = true;
	q->vq.mem = &d->mem;
	q->vq.desc = NULL;
	/* Without a memory table yet, the addresses are checked with it. */
	if (ring_attach(d, q) < 0) {
		log_warnx("%s: queue %d: ring addresses outside guest memory",
		    d->name, qi);
		return VU_CLOSE;
	}
	/* A kick fd that came first starts the ring now. */
	return queue_start(d, (unsigned)qi) < 0 ? VU_CLOSE : VU_OK;
}

static int
h_set_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	int qi;

	if ((qi = ring_index(d, m->p.state.index)) < 0 ||
	    m->p.state.num > 0xffff || d->q[qi].started)
		return VU_CLOSE;
	d->q[qi].vq.last_avail = (uint16_t)m->p.state.num;
	return VU_OK;
}

static int
h_get_vring_base(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_vring_state st;
	struct vu_queue *q;
	int qi;

	if ((qi = ring_index(d, m->p.state.index)) < 0)
		return VU_CLOSE;
	q = &d->q[qi];
	queue_stop(d, q);
	/* The base must count every request the device finished. */
	if (dev_busy(d, (unsigned)qi))
		return wait_for(d, (unsigned)qi);
	st.index = (uint32_t)qi;
	st.num = q->vq.last_avail;
	return msg_reply(d, m->hdr.request, &st, sizeof(st), -1) < 0 ?
	    VU_CLOSE : VU_OK;
}

static int
h_vring_fd(struct vu_dev *d, struct vu_msg *m)
{
	uint64_t v = m->p.u64;
	int qi, fd = -1;
	struct vu_queue *q;

	if ((v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD)) != 0)
		return VU_CLOSE;
	if ((qi = ring_index(d, (uint32_t)(v & VU_VRING_IDX_MASK))) < 0)
		return VU_CLOSE;
	if (m->nfds != ((v & VU_VRING_NOFD) ? 0u : 1u))
		return VU_CLOSE;
	q = &d->q[qi];
	if (m->hdr.request == VU_SET_VRING_KICK) {
		/* Without a kick fd we would have to poll: refused. */
		if (v & VU_VRING_NOFD) {
			log_warnx("%s: queue %d: polling mode refused",
			    d->name, qi);
			return VU_CLOSE;
		}
		/* A restart must not redo requests that are still running. */
		queue_stop(d, q);	/* drops an earlier kick fd */
		if (dev_busy(d, (unsigned)qi))
			return wait_for(d, (unsigned)qi);
	}
	if (!(v & VU_VRING_NOFD)) {
		fd = m->fds[0];
		m->nfds = 0;
		/*
		 * Non-blocking, all three: a spurious kick wake-up must not
		 * block us in read(), nor a front-end that never drains its
		 * call or err eventfd (or passes a pipe) block us in write().
		 */
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
			close(fd);
			return VU_CLOSE;
		}
	}
	switch (m->hdr.request) {
	case VU_SET_VRING_KICK:
		q->kick_fd = fd;
		if (queue_start(d, (unsigned)qi) < 0) {
			log_warn("%s: queue %d: start", d->name, qi);
			return VU_CLOSE;
		}
		break;
	case VU_SET_VRING_CALL:
		close_fd(&q->call_fd);
		q->call_fd = fd;
		break;
	default:
		close_fd(&q->err_fd);
		q->err_fd = fd;
		break;
	}
	return VU_OK;
}

static int
h_vring_enable(struct vu_dev *d, struct vu_msg *m)
{
	int qi;

	if ((qi = ring_index(d, m->p.state.index)) < 0 ||
	    m->p.state.num > 1)
		return VU_CLOSE;
	d->q[qi].enabled = m->p.state.num == 1;
	if (vu_queue_ready(d, (unsigned)qi))
		d->iface->queue_kick(d, (unsigned)qi);
	return VU_OK;
}

static int
h_config(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_config_msg *c = &m->p.config;
	uint32_t off = c->offset, len = c->size;

	if (m->hdr.size != VU_CONFIG_HDR_SIZE + len || len > VU_CONFIG_MAX ||
	    off > VU_CONFIG_MAX || len > VU_CONFIG_MAX - off)
		return VU_CLOSE;
	if (m->hdr.request == VU_GET_CONFIG) {
		memset(c->payload, 0, sizeof(c->payload));
		if (d->iface->get_config == NULL ||
		    d->iface->get_config(d, c->payload, off, len) < 0)
			return VU_CLOSE;
		return msg_reply(d, VU_GET_CONFIG, c, m->hdr.size, -1) < 0 ?
		    VU_CLOSE : VU_OK;
	}
	if (d->iface->set_config == NULL ||
	    d->iface->set_config(d, c->payload, off, len) < 0)
		return VU_FAIL;
	return VU_OK;
}

static int
h_get_inflight(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_inflight_msg *im = &m->p.inflight;
	unsigned nq = im->num_queues, qs = im->queue_size, i;
	uint64_t per, size;
	int fd, r;

	if (nq == 0 || nq > d->nqueues || qs == 0 || qs > VQ_MAX_NUM)
		return VU_CLOSE;
	per = VQ_INFLIGHT_SIZE(qs);
	size = per * nq;
	inflight_free(d);
	fd = memfd_create("isles-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* Sealed: it is ours, and never changes size. */
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		goto fail;
	d->inflight_map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (d->inflight_map == MAP_FAILED) {
		d->inflight_map = NULL;
		goto fail;
	}
	for (i = 0; i < nq; i++) {
		struct vq_inflight *inf = (struct vq_inflight *)
		    ((char *)d->inflight_map + i * per);

		inf->version = 1;
		inf->desc_num = (uint16_t)qs;
	}
	d->inflight_fd = fd;
	d->inflight_size = size;
	d->inflight_nq = (uint16_t)nq;
	d->inflight_qsize = (uint16_t)qs;
	im->mmap_size = size;
	im->mmap_offset = 0;
	r = msg_reply(d, VU_GET_INFLIGHT_FD, im, sizeof(*im), fd);
	return r < 0 ? VU_CLOSE : VU_OK;
fail:
	log_warn("%s: inflight region", d->name);
	if (fd >= 0)
		close(fd);
	return VU_CLOSE;
}

static int
h_set_inflight(struct vu_dev *d, struct vu_msg *m)
{
	struct vu_inflight_msg *im = &m->p.inflight;
	unsigned nq = im->num_queues, qs = im->queue_size;
	void *p;

	if (m->nfds != 1 || nq == 0 ||
	    nq > d->nqueues || qs == 0 || qs > VQ_MAX_NUM ||
	    im->mmap_size != VQ_INFLIGHT_SIZE(qs) * nq ||
	    im->mmap_offset % 4096 != 0 ||
	    im->mmap_offset > UINT64_MAX - im->mmap_size)
		return VU_CLOSE;
	if (vu_mem_fd_ok(m->fds[0], im->mmap_offset + im->mmap_size) < 0) {
		log_warn("%s: inflight region", d->name);
		return VU_CLOSE;
	}
	p = mmap(NULL, im->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    m->fds[0], (off_t)im->mmap_offset);
	if (p == MAP_FAILED) {
		log_warn("%s: map inflight region", d->name);
		return VU_CLOSE;
	}
	inflight_free(d);
	d->inflight_map = p;
	d->inflight_size = im->mmap_size;
	d->inflight_fd = m->fds[0];
	m->nfds = 0;
	d->inflight_nq = (uint16_t)nq;
	d->inflight_qsize = (uint16_t)qs;
	return VU_OK;
}

/* The channel for our requests to the front-end (config changes). */
static int
h_slave_fd(struct vu_dev *d, struct vu_msg *m)
{
	if (m->nfds != 1)
		return VU_CLOSE;
	close_fd(&d->slave_fd);
	d->slave_fd = m->fds[0];
	m->nfds = 0;
	if (fcntl(d->slave_fd, F_SETFL, fcntl(d->slave_fd, F_GETFL) |
	    O_NONBLOCK) < 0)
		return VU_CLOSE;
	return VU_OK;
}

int
vu_dev_config_changed(struct vu_dev *d)
{
	struct vu_hdr h = { VU_SLAVE_CONFIG_CHANGE, VU_VERSION, 0 };
	ssize_t n;

	if (d->slave_fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	/* No NEED_REPLY: we never wait on the front-end. */
	do {
		n = send(d->slave_fd, &h, sizeof(h), MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(h)) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

#define CFG_MIN	VU_CONFIG_HDR_SIZE
#define CFG_MAX	(VU_CONFIG_HDR_SIZE + VU_CONFIG_MAX)
#define MEM_MIN	(8 + sizeof(struct vu_mem_region_msg))
#define MEM_MAX	(8 + VU_MEM_MAX_REGIONS * sizeof(struct vu_mem_region_msg))
/* QEMU sends its unpacked 24-byte struct; the fields end at 20. */
#define INF_MIN	20
#define INF_MAX	sizeof(struct vu_inflight_msg)

static const struct vu_req reqs[VU_MAX_REQUEST] = {
	[VU_GET_FEATURES] = { "GET_FEATURES", 0, 0, 0, -1, true,
	    h_get_features },
	[VU_SET_FEATURES] = { "SET_FEATURES", 8, 8, 0, -1, false,
	    h_set_features },
	[VU_SET_OWNER] = { "SET_OWNER", 0, 0, 0, -1, false, h_set_owner },
	[VU_RESET_OWNER] = { "RESET_OWNER", 0, 0, 0, -1, false, h_reset },
	[VU_SET_MEM_TABLE] = { "SET_MEM_TABLE", MEM_MIN, MEM_MAX,
	    VU_MEM_MAX_REGIONS, -1, false, h_set_mem_table },
	[VU_SET_VRING_NUM] = { "SET_VRING_NUM", 8, 8, 0, -1, false,
	    h_vring_num },
	[VU_SET_VRING_ADDR] = { "SET_VRING_ADDR", sizeof(struct vu_vring_addr),
	    sizeof(struct vu_vring_addr), 0, -1, false, h_vring_addr },
	[VU_SET_VRING_BASE] = { "SET_VRING_BASE", 8, 8, 0, -1, false,
	    h_set_vring_base },
	[VU_GET_VRING_BASE] = { "GET_VRING_BASE", 8, 8, 0, -1, true,
	    h_get_vring_base },
	[VU_SET_VRING_KICK] = { "SET_VRING_KICK", 8, 8, 1, -1, false,
	    h_vring_fd },
	[VU_SET_VRING_CALL] = { "SET_VRING_CALL", 8, 8, 1, -1, false,
	    h_vring_fd },
	[VU_SET_VRING_ERR] = { "SET_VRING_ERR", 8, 8, 1, -1, false,
	    h_vring_fd },
	[VU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", 0, 0, 0, -1,
	    true, h_get_protocol_features },
	[VU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", 8, 8, 0, -1,
	    false, h_set_protocol_features },
	/* Legal once MQ is in GET_PROTOCOL_FEATURES' answer: not gated. */
	[VU_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", 0, 0, 0, -1, true,
	    h_get_queue_num },
	[VU_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", 8, 8, 0, -1, false,
	    h_vring_enable },
	[VU_SET_SLAVE_REQ_FD] = { "SET_SLAVE_REQ_FD", 0, 8, 1, VU_PF_SLAVE_REQ,
	    false, h_slave_fd },
	[VU_GET_CONFIG] = { "GET_CONFIG", CFG_MIN, CFG_MAX, 0, VU_PF_CONFIG,
	    true, h_config },
	[VU_SET_CONFIG] = { "SET_CONFIG", CFG_MIN, CFG_MAX, 0, VU_PF_CONFIG,
	    false, h_config },
	[VU_GET_INFLIGHT_FD] = { "GET_INFLIGHT_FD", INF_MIN, INF_MAX, 0,
	    VU_PF_INFLIGHT_SHMFD, true, h_get_inflight },
	[VU_SET_INFLIGHT_FD] = { "SET_INFLIGHT_FD", INF_MIN, INF_MAX, 1,
	    VU_PF_INFLIGHT_SHMFD, false, h_set_inflight },
	[VU_RESET_DEVICE] = { "RESET_DEVICE", 0, 0, 0, VU_PF_RESET_DEVICE,
	    false, h_reset },
};

static const struct vu_req *
req_of(uint32_t request)
{
	if (request >= VU_MAX_REQUEST || reqs[request].fn == NULL)
		return NULL;
	return &reqs[request];
}

/* Check m against the table, then run its handler. */
static int
msg_dispatch(struct vu_dev *d, struct vu_msg *m)
{
	const struct vu_req *rq = req_of(m->hdr.request);

	if (rq == NULL) {
		log_warnx("%s: unsupported request %u", d->name,
		    m->hdr.request);
		/* Refused; fds it brought mean we cannot even skip it. */
		return m->nfds != 0 ? VU_CLOSE : VU_FAIL;
	}
	if (m->hdr.size < rq->min || m->hdr.size > rq->max) {
		log_warnx("%s: %s with %u payload bytes", d->name, rq->name,
		    m->hdr.size);
		return VU_CLOSE;
	}
	if (m->nfds > rq->maxfds) {
		log_warnx("%s: %s with %u fds", d->name, rq->name, m->nfds);
		return VU_CLOSE;
	}
	if (rq->pf >= 0 && !vu_has_protocol(d, (unsigned)rq->pf)) {
		log_warnx("%s: %s without protocol feature %d negotiated",
		    d->name, rq->name, rq->pf);
		return VU_CLOSE;
	}
	return rq->fn(d, m);
}

/*
 * After a handler: close what it did not keep, answer NEED_REPLY with
 * REPLY_ACK, or close the connection.  Returns 0, or -1 if the
 * connection is gone.
 */
static int
msg_finish(struct vu_dev *d, struct vu_msg *m, int r)
{
	const struct vu_req *rq = req_of(m->hdr.request);

	msg_close_fds(m);
	if (r == VU_CLOSE) {
		log_warnx("%s: invalid request %u (size %u): closing the "
		    "connection", d->name, m->hdr.request, m->hdr.size);
		conn_close(d);
		return -1;
	}
	if ((m->hdr.flags & VU_FLAG_NEED_REPLY) &&
	    vu_has_protocol(d, VU_PF_REPLY_ACK) &&
	    (rq == NULL || !rq->reply) &&
	    reply_u64(d, m->hdr.request, r == VU_OK ? 0 : 1) != VU_OK) {
		conn_close(d);
		return -1;
	}
	return 0;
}

/*
 * Park m until the device settles: stop reading the connection (later
 * messages wait in the socket, in order), and for a device-wide wait
 * stop processing every queue.
 */
static void
msg_defer(struct vu_dev *d, struct vu_msg *m)
{
	d->pending = *m;
	m->nfds = 0;		/* the fds belong to `pending` now */
	d->deferred = true;
	d->paused = d->wait_q == VU_ALL_QUEUES;
	d->nwaits++;
	d->loop.unwatch(d->loop.loop, d->conn_fd);
	log_debug("%s: request %u waits for requests in flight", d->name,
	    d->pending.hdr.request);
}

static void
vu_conn_cb(void *arg, int fd, uint32_t events)
{
	struct vu_dev *d = arg;
	struct vu_msg m;
	int r;

	/* Every whole message the socket holds; then wait for more. */
	while (d->conn_fd >= 0 && !d->deferred) {
		r = msg_read(d, &m);
		if (r == 0)
			break;
		if (r < 0) {
			if (r == -2)
				log_warnx("%s: unreadable message", d->name);
			conn_close(d);
			break;
		}
		log_debug("%s: request %u size %u fds %u", d->name,
		    m.hdr.request, m.hdr.size, m.nfds);
		r = msg_dispatch(d, &m);
		if (r == VU_DEFER) {
			msg_defer(d, &m);
			break;
		}
		if (msg_finish(d, &m, r) < 0)
			break;
	}
	vu_dev_check_fault(d);
}

void
vu_dev_settled(struct vu_dev *d)
{
	uint64_t one = 1;

	if ((d->deferred || d->closing) && !dev_busy(d, d->wait_q) &&
	    write(d->settle_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: settle eventfd", d->name);
}

/* The device settled: finish the close or the deferred message. */
static void
settle_cb(void *arg, int fd, uint32_t events)
{
	struct vu_dev *d = arg;
	struct vu_msg m;
	unsigned i;
	uint64_t n;
	int r;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("%s: settle eventfd", d->name);
	if ((!d->deferred && !d->closing) || dev_busy(d, d->wait_q))
		return;
	if (d->closing) {
		close_finish(d);
		return;
	}
	m = d->pending;
	d->deferred = false;
	d->paused = false;
	r = msg_dispatch(d, &m);
	if (r == VU_DEFER) {
		/* Something else is still running: wait again. */
		d->pending = m;
		d->deferred = true;
		d->paused = d->wait_q == VU_ALL_QUEUES;
		return;
	}
	if (msg_finish(d, &m, r) < 0)
		return;
	if (d->loop.watch(d->loop.loop, d->conn_fd, vu_conn_cb, d) < 0) {
		log_warn("%s: watch connection", d->name);
		conn_close(d);
		return;
	}
	/* Requests that came while we waited. */
	for (i = 0; i < d->nqueues; i++)
		if (vu_queue_ready(d, i))
			d->iface->queue_kick(d, i);
	/* And messages: the socket may hold some already. */
	vu_conn_cb(d, d->conn_fd, 0);
}

int
vu_dev_init(struct vu_dev *d, const char *name, int listen_fd, int conn_fd,
    unsigned nqueues, uint64_t features, const struct vu_iface *iface,
    const struct vu_loop *loop, void *priv)
{
	unsigned i;

	if (nqueues == 0 || nqueues > VU_MAX_QUEUES ||
	    (listen_fd < 0 && conn_fd < 0)) {
		errno = EINVAL;
		return -1;
	}
	if (vu_mem_guard_init() < 0)
		return -1;
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->iface = iface;
	d->loop = *loop;
	d->priv = priv;
	d->listen_fd = listen_fd;
	d->conn_fd = -1;
	d->inflight_fd = -1;
	d->slave_fd = -1;
	d->nqueues = nqueues;
	d->max_queue_size = 1024;
	d->features = features | (1ull << VU_F_VERSION_1) |
	    (1ull << VU_F_INDIRECT_DESC) | (1ull << VU_F_EVENT_IDX) |
	    (1ull << VU_F_PROTOCOL_FEATURES);
	d->protocol_features = VU_OFFERED_PROTOCOL;
	for (i = 0; i < VU_MAX_QUEUES; i++) {
		d->q[i].kick_fd = d->q[i].call_fd = d->q[i].err_fd = -1;
		d->q[i].vq.mem = &d->mem;
		d->q[i].dev = d;
	}
	d->settle_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->settle_fd < 0)
		return -1;
	if (loop->watch(loop->loop, d->settle_fd, settle_cb, d) < 0) {
		close_fd(&d->settle_fd);
		return -1;
	}
	if (conn_fd >= 0)
		return conn_open(d, conn_fd);
	return loop->watch(loop->loop, listen_fd, vu_listen_cb, d);
}

void
vu_dev_close(struct vu_dev *d)
{
	unsigned i;

	if (d->deferred) {
		msg_close_fds(&d->pending);
		d->deferred = false;
	}
	if (d->conn_fd >= 0) {
		d->loop.unwatch(d->loop.loop, d->conn_fd);
		close_fd(&d->conn_fd);
		dev_reset(d);
	} else if (d->closing) {
		dev_reset(d);
	}
	d->closing = false;
	if (d->listen_fd >= 0) {
		d->loop.unwatch(d->loop.loop, d->listen_fd);
		close_fd(&d->listen_fd);
	}
	if (d->settle_fd >= 0) {
		d->loop.unwatch(d->loop.loop, d->settle_fd);
		close_fd(&d->settle_fd);
	}
	for (i = 0; i < VU_MAX_QUEUES; i++) {
		free(d->q[i].resubmit);
		d->q[i].resubmit = NULL;
	}
}
