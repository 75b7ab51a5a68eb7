/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vu: see vu.h.  Called from the device daemon's event loop through the
 * watch callbacks it registered.  Trusts nothing the front-end sends:
 * each message is size-checked before its payload is read, every field
 * (queue index, ring size, region table, config range) is validated
 * before use, and fds are counted against what the message allows
 * (surplus fds are closed, never kept).
 */
#include "vhost/vu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define VU_OFFERED_PROTOCOL ((1ull << VU_PF_MQ) | (1ull << VU_PF_REPLY_ACK) | \
	(1ull << VU_PF_CONFIG) | (1ull << VU_PF_INFLIGHT_SHMFD) | \
	(1ull << VU_PF_RESET_DEVICE))

/* Handler results. */
enum { VU_OK = 0, VU_FAIL = 1, VU_CLOSE = -1 };

struct vu_in {
	struct vu_hdr hdr;
	union vu_payload p;
	int fds[VU_MAX_FDS];
	unsigned nfds;
};

static void vu_conn_cb(void *arg, int fd, uint32_t events);
static void vu_listen_cb(void *arg, int fd, uint32_t events);

bool
vu_has_feature(const struct vu_dev *d, unsigned f)
{
	return (d->acked_features >> f) & 1;
}

static bool
has_protocol(const struct vu_dev *d, unsigned f)
{
	return vu_has_feature(d, VU_F_PROTOCOL_FEATURES) &&
	    ((d->acked_protocol >> f) & 1);
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

bool
vu_queue_ready(const struct vu_dev *d, unsigned qi)
{
	const struct vu_queue *q;

	if (qi >= d->nqueues)
		return false;
	q = &d->q[qi];
	return q->started && q->enabled && !q->vq.broken && q->vq.num != 0;
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
	if (q->err_fd >= 0 && write(q->err_fd, &one, sizeof(one)) < 0)
		log_warn("%s: queue %u: err", d->name, qi);
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
}

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

/* Drop all per-connection state; the device forgets the front-end. */
static void
dev_reset(struct vu_dev *d)
{
	unsigned i;

	if (d->iface->drain != NULL)
		d->iface->drain(d);
	for (i = 0; i < d->nqueues; i++)
		queue_free(d, &d->q[i]);
	inflight_free(d);
	vu_mem_unmap(&d->mem);
	d->acked_features = 0;
	d->acked_protocol = 0;
	d->owner = false;
	if (d->iface->reset != NULL)
		d->iface->reset(d);
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
	dev_reset(d);
	if (d->listen_fd >= 0 &&
	    d->loop.watch(d->loop.loop, d->listen_fd, vu_listen_cb, d) < 0)
		log_warn("%s: watch listening socket", d->name);
	log_info("%s: front-end disconnected", d->name);
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

	if (d->conn_fd >= 0)
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
msg_read(struct vu_dev *d, struct vu_in *m)
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
		while (m->nfds > 0)
			close(m->fds[--m->nfds]);
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

/* Queue index from a vring message; -1 if out of range. */
static int
ring_index(const struct vu_dev *d, uint32_t idx)
{
	return idx < d->nqueues ? (int)idx : -1;
}

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

static int
do_set_mem_table(struct vu_dev *d, struct vu_in *m)
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
	for (i = 0; i < n; i++) {
		if (vu_mem_map(&nm, i, m->fds[i]) < 0) {
			log_warn("%s: mmap region %u", d->name, i);
			vu_mem_unmap(&nm);
			return VU_CLOSE;
		}
	}
	/* Requests in flight point into the old mappings. */
	if (d->iface->drain != NULL)
		d->iface->drain(d);
	vu_mem_unmap(&d->mem);
	d->mem = nm;
	for (i = 0; i < d->nqueues; i++) {
		if (ring_attach(d, &d->q[i]) < 0) {
			log_warnx("%s: queue %u: rings outside the new memory "
			    "table", d->name, i);
			return VU_CLOSE;
		}
	}
	return VU_OK;
}

static int
queue_start(struct vu_dev *d, unsigned qi)
{
	struct vu_queue *q = &d->q[qi];
	struct vq_inflight *inf = NULL;

	if (q->vq.num == 0 || !q->addr_set || q->kick_fd < 0)
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

static int
do_vring_fd(struct vu_dev *d, struct vu_in *m)
{
	uint64_t v = m->p.u64;
	int qi, fd = -1;
	struct vu_queue *q;

	if (m->hdr.size != sizeof(uint64_t) ||
	    (v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD)) != 0)
		return VU_CLOSE;
	if ((qi = ring_index(d, (uint32_t)(v & VU_VRING_IDX_MASK))) < 0)
		return VU_CLOSE;
	if (v & VU_VRING_NOFD) {
		if (m->nfds != 0)
			return VU_CLOSE;
	} else {
		if (m->nfds != 1)
			return VU_CLOSE;
		fd = m->fds[0];
		m->nfds = 0;
	}
	/*
	 * Non-blocking, all three: a spurious kick wake-up must not block
	 * us in read(), nor a front-end that never drains its call or err
	 * eventfd (or passes a pipe) block us in write().
	 */
	if (fd >= 0 &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		close(fd);
		return VU_CLOSE;
	}
	q = &d->q[qi];
	switch (m->hdr.request) {
	case VU_SET_VRING_KICK:
		/* Without a kick fd we would have to poll: refused. */
		if (fd < 0) {
			log_warnx("%s: queue %d: polling mode refused",
			    d->name, qi);
			return VU_CLOSE;
		}
		/* A restart must not redo requests that are still running. */
		if (q->started && d->iface->drain != NULL) {
			queue_stop(d, q);
			d->iface->drain(d);
		}
		queue_stop(d, q);	/* drops an earlier kick fd */
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
do_config(struct vu_dev *d, struct vu_in *m)
{
	struct vu_config_msg *c = &m->p.config;
	uint32_t off = c->offset, len = c->size;

	if (m->hdr.size < VU_CONFIG_HDR_SIZE ||
	    m->hdr.size != VU_CONFIG_HDR_SIZE + len || len > VU_CONFIG_MAX ||
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
do_get_inflight(struct vu_dev *d, struct vu_in *m)
{
	struct vu_inflight_msg *im = &m->p.inflight;
	unsigned nq = im->num_queues, qs = im->queue_size, i;
	uint64_t per, size;
	int fd, r;

	if (m->hdr.size < 20 || nq == 0 || nq > d->nqueues || qs == 0 ||
	    qs > VQ_MAX_NUM)
		return VU_CLOSE;
	per = VQ_INFLIGHT_SIZE(qs);
	size = per * nq;
	inflight_free(d);
	fd = memfd_create("isles-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	/* Sealed: after a restart we accept it back only if it cannot shrink. */
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
do_set_inflight(struct vu_dev *d, struct vu_in *m)
{
	struct vu_inflight_msg *im = &m->p.inflight;
	unsigned nq = im->num_queues, qs = im->queue_size;
	void *p;

	if (m->hdr.size < 20 || m->nfds != 1 || nq == 0 ||
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

static int
msg_handle(struct vu_dev *d, struct vu_in *m)
{
	uint32_t sz = m->hdr.size;
	struct vu_queue *q;
	int qi;

	/* Messages that carry no fd must not bring any. */
	switch (m->hdr.request) {
	case VU_SET_MEM_TABLE:
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
	case VU_SET_INFLIGHT_FD:
		break;
	default:
		if (m->nfds != 0)
			return VU_CLOSE;
	}
	switch (m->hdr.request) {
	case VU_GET_FEATURES:
		return reply_u64(d, m->hdr.request, d->features);
	case VU_SET_FEATURES:
		if (sz != 8 || (m->p.u64 & ~d->features) != 0)
			return VU_CLOSE;
		d->acked_features = m->p.u64;
		queue_features(d);
		return VU_OK;
	case VU_GET_PROTOCOL_FEATURES:
		return reply_u64(d, m->hdr.request, d->protocol_features);
	case VU_SET_PROTOCOL_FEATURES:
		if (sz != 8 || (m->p.u64 & ~d->protocol_features) != 0)
			return VU_CLOSE;
		d->acked_protocol = m->p.u64;
		return VU_OK;
	case VU_SET_OWNER:
		d->owner = true;
		return VU_OK;
	case VU_RESET_OWNER:
	case VU_RESET_DEVICE: {
		uint64_t proto = d->acked_protocol, feat = d->acked_features;

		dev_reset(d);
		d->acked_protocol = proto;
		d->acked_features = m->hdr.request == VU_RESET_DEVICE ?
		    feat : 0;
		queue_features(d);
		return VU_OK;
	}
	case VU_GET_QUEUE_NUM:
		return reply_u64(d, m->hdr.request, d->nqueues);
	case VU_SET_MEM_TABLE:
		return do_set_mem_table(d, m);
	case VU_SET_VRING_NUM:
		if (sz != sizeof(m->p.state) ||
		    (qi = ring_index(d, m->p.state.index)) < 0)
			return VU_CLOSE;
		q = &d->q[qi];
		if (m->p.state.num == 0 || m->p.state.num > d->max_queue_size ||
		    (m->p.state.num & (m->p.state.num - 1)) != 0 || q->started)
			return VU_CLOSE;
		q->vq.num = m->p.state.num;
		q->vq.mem = &d->mem;
		if (ring_attach(d, q) < 0)
			return VU_CLOSE;
		return VU_OK;
	case VU_SET_VRING_ADDR:
		if (sz != sizeof(m->p.addr) ||
		    (qi = ring_index(d, m->p.addr.index)) < 0)
			return VU_CLOSE;
		q = &d->q[qi];
		if (q->started)
			return VU_CLOSE;
		q->desc_uaddr = m->p.addr.desc;
		q->avail_uaddr = m->p.addr.avail;
		q->used_uaddr = m->p.addr.used;
		q->addr_set = true;
		q->vq.mem = &d->mem;
		if (d->mem.n == 0 || q->vq.num == 0 || ring_attach(d, q) < 0) {
			log_warnx("%s: queue %d: ring addresses outside guest "
			    "memory", d->name, qi);
			return VU_CLOSE;
		}
		/* A kick fd that came first starts the ring now. */
		if (q->kick_fd >= 0 && queue_start(d, (unsigned)qi) < 0)
			return VU_CLOSE;
		return VU_OK;
	case VU_SET_VRING_BASE:
		if (sz != sizeof(m->p.state) ||
		    (qi = ring_index(d, m->p.state.index)) < 0 ||
		    m->p.state.num > 0xffff || d->q[qi].started)
			return VU_CLOSE;
		d->q[qi].vq.last_avail = (uint16_t)m->p.state.num;
		return VU_OK;
	case VU_GET_VRING_BASE: {
		struct vu_vring_state st;

		if (sz != sizeof(m->p.state) ||
		    (qi = ring_index(d, m->p.state.index)) < 0)
			return VU_CLOSE;
		q = &d->q[qi];
		queue_stop(d, q);
		if (d->iface->drain != NULL)
			d->iface->drain(d);
		st.index = (uint32_t)qi;
		st.num = q->vq.last_avail;
		q->enabled = false;
		return msg_reply(d, m->hdr.request, &st, sizeof(st), -1) < 0 ?
		    VU_CLOSE : VU_OK;
	}
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR:
		return do_vring_fd(d, m);
	case VU_SET_VRING_ENABLE:
		if (sz != sizeof(m->p.state) ||
		    (qi = ring_index(d, m->p.state.index)) < 0 ||
		    m->p.state.num > 1)
			return VU_CLOSE;
		d->q[qi].enabled = m->p.state.num == 1;
		if (vu_queue_ready(d, (unsigned)qi))
			d->iface->queue_kick(d, (unsigned)qi);
		return VU_OK;
	case VU_GET_CONFIG:
	case VU_SET_CONFIG:
		return do_config(d, m);
	case VU_GET_INFLIGHT_FD:
		return do_get_inflight(d, m);
	case VU_SET_INFLIGHT_FD:
		return do_set_inflight(d, m);
	default:
		log_warnx("%s: unsupported request %u", d->name,
		    m->hdr.request);
		return VU_FAIL;
	}
}

static bool
has_own_reply(uint32_t req)
{
	return req == VU_GET_FEATURES || req == VU_GET_PROTOCOL_FEATURES ||
	    req == VU_GET_QUEUE_NUM || req == VU_GET_VRING_BASE ||
	    req == VU_GET_CONFIG || req == VU_GET_INFLIGHT_FD;
}

static void
vu_conn_cb(void *arg, int fd, uint32_t events)
{
	struct vu_dev *d = arg;
	struct vu_in m;
	int r;

	/* Every whole message the socket holds; then wait for more. */
	while (d->conn_fd >= 0) {
		r = msg_read(d, &m);
		if (r == 0)
			return;
		if (r < 0) {
			if (r == -2)
				log_warnx("%s: unreadable message", d->name);
			conn_close(d);
			return;
		}
		log_debug("%s: request %u size %u fds %u", d->name,
		    m.hdr.request, m.hdr.size, m.nfds);
		r = msg_handle(d, &m);
		while (m.nfds > 0)
			close(m.fds[--m.nfds]);
		if (r == VU_CLOSE) {
			log_warnx("%s: invalid request %u (size %u): closing "
			    "the connection", d->name, m.hdr.request,
			    m.hdr.size);
			conn_close(d);
			return;
		}
		if ((m.hdr.flags & VU_FLAG_NEED_REPLY) &&
		    has_protocol(d, VU_PF_REPLY_ACK) &&
		    !has_own_reply(m.hdr.request) &&
		    reply_u64(d, m.hdr.request, r == VU_OK ? 0 : 1) != VU_OK) {
			conn_close(d);
			return;
		}
	}
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
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->iface = iface;
	d->loop = *loop;
	d->priv = priv;
	d->listen_fd = listen_fd;
	d->conn_fd = -1;
	d->inflight_fd = -1;
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
	if (conn_fd >= 0)
		return conn_open(d, conn_fd);
	return loop->watch(loop->loop, listen_fd, vu_listen_cb, d);
}

void
vu_dev_close(struct vu_dev *d)
{
	unsigned i;

	if (d->conn_fd >= 0) {
		d->loop.unwatch(d->loop.loop, d->conn_fd);
		close_fd(&d->conn_fd);
		dev_reset(d);
	}
	if (d->listen_fd >= 0) {
		d->loop.unwatch(d->loop.loop, d->listen_fd);
		close_fd(&d->listen_fd);
	}
	for (i = 0; i < VU_MAX_QUEUES; i++) {
		free(d->q[i].resubmit);
		d->q[i].resubmit = NULL;
	}
}
