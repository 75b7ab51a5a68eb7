/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vf: see front.h.  Used by test and benchmark programs against a
 * back-end under test; it trusts nothing the back-end replies beyond
 * checking the reply's request number and size.
 */
#include "tests/lib/front.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "unixsock.h"

int
vf_open(struct vf_dev *d, const char *path, uint64_t mem_size)
{
	return vf_open_mem(d, path, mem_size, VF_MEM_SEALED, NULL);
}

int
vf_open_mem(struct vf_dev *d, const char *path, uint64_t mem_size,
    enum vf_mem kind, const char *mem_path)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->sock = d->mem_fd = d->reply_fd = d->inflight_fd = -1;
	for (i = 0; i < VF_MAX_QUEUES; i++)
		d->q[i].kick_fd = d->q[i].call_fd = -1;
	d->sock = unixsock_connect(path, 0);
	if (d->sock < 0)
		goto fail;
	if (kind == VF_MEM_FILE) {
		d->mem_fd = open(mem_path, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600);
		if (d->mem_fd >= 0)
			unlink(mem_path);
	} else {
		d->mem_fd = memfd_create("vf-guest-ram", MFD_CLOEXEC |
		    MFD_ALLOW_SEALING);
	}
	if (d->mem_fd < 0 || ftruncate(d->mem_fd, (off_t)mem_size) < 0)
		goto fail;
	/* Sealed against shrinking, as QEMU's memfd backend does. */
	if (kind == VF_MEM_SEALED && fcntl(d->mem_fd, F_ADD_SEALS,
	    F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		goto fail;
	d->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    d->mem_fd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		goto fail;
	}
	d->mem_size = mem_size;
	d->brk = 4096;		/* gpa 0 stays unused */
	return 0;
fail:
	vf_close(d);
	return -1;
}

int
vf_open_shared(struct vf_dev *d, const char *path, const struct vf_dev *o)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	d->sock = d->mem_fd = d->reply_fd = d->inflight_fd = -1;
	for (i = 0; i < VF_MAX_QUEUES; i++)
		d->q[i].kick_fd = d->q[i].call_fd = -1;
	if ((d->sock = unixsock_connect(path, 0)) < 0 ||
	    (d->mem_fd = fcntl(o->mem_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		goto fail;
	d->mem = mmap(NULL, o->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    d->mem_fd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		goto fail;
	}
	d->mem_size = o->mem_size;
	d->brk = o->brk;	/* allocations go after the other's */
	return 0;
fail:
	vf_close(d);
	return -1;
}

void
vf_close(struct vf_dev *d)
{
	unsigned i;

	for (i = 0; i < VF_MAX_QUEUES; i++) {
		if (d->q[i].kick_fd >= 0)
			close(d->q[i].kick_fd);
		if (d->q[i].call_fd >= 0)
			close(d->q[i].call_fd);
		d->q[i].kick_fd = d->q[i].call_fd = -1;
	}
	if (d->inflight != NULL)
		munmap(d->inflight, d->inflight_size);
	d->inflight = NULL;
	if (d->inflight_fd >= 0)
		close(d->inflight_fd);
	if (d->reply_fd >= 0)
		close(d->reply_fd);
	d->inflight_fd = d->reply_fd = -1;
	if (d->mem != NULL)
		munmap(d->mem, d->mem_size);
	d->mem = NULL;
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	if (d->sock >= 0)
		close(d->sock);
	d->mem_fd = d->sock = -1;
}

static int
read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* The reply header, and the fd that may come with it (d->reply_fd). */
static int
recv_hdr(struct vf_dev *d, struct vu_hdr *rh)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { rh, sizeof(*rh) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	do {
		n = recvmsg(d->sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			if (d->reply_fd >= 0)
				close(d->reply_fd);
			memcpy(&d->reply_fd, CMSG_DATA(cm), sizeof(int));
		}
	}
	if ((size_t)n < sizeof(*rh))
		return read_full(d->sock, (char *)rh + n, sizeof(*rh) -
		    (size_t)n);
	return 0;
}

int
vf_msg(struct vf_dev *d, uint32_t req, const void *payload, uint32_t size,
    const int *fds, unsigned nfds, bool need_reply, void *reply,
    uint32_t *reply_size)
{
	struct vu_hdr h = { req, VU_VERSION | (need_reply ?
	    VU_FLAG_NEED_REPLY : 0), size };
	struct iovec iov[2] = { { &h, sizeof(h) },
	    { (void *)(uintptr_t)payload, size } };
	char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	struct vu_hdr rh;
	uint8_t sink[512];

	if (nfds > 0) {
		struct cmsghdr *cm;

		if (nfds > VU_MAX_FDS) {
			errno = EINVAL;
			return -1;
		}
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	if (sendmsg(d->sock, &mh, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(h) + size))
		return -1;
	if (reply == NULL)
		return 0;
	if (recv_hdr(d, &rh) < 0)
		return -1;
	if (rh.request != req || !(rh.flags & VU_FLAG_REPLY) ||
	    rh.size > *reply_size) {
		/* Swallow what we can, report a protocol error. */
		if (rh.size <= sizeof(sink))
			read_full(d->sock, sink, rh.size);
		errno = EPROTO;
		return -1;
	}
	if (read_full(d->sock, reply, rh.size) < 0)
		return -1;
	*reply_size = rh.size;
	return 0;
}

static int
get_u64(struct vf_dev *d, uint32_t req, uint64_t *v)
{
	uint32_t sz = sizeof(*v);

	if (vf_msg(d, req, NULL, 0, NULL, 0, false, v, &sz) < 0)
		return -1;
	if (sz != sizeof(*v)) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Send a message that needs no reply; with REPLY_ACK, wait for the ack. */
static int
send_acked(struct vf_dev *d, uint32_t req, const void *p, uint32_t size,
    const int *fds, unsigned nfds)
{
	uint64_t ack = 0;
	uint32_t sz = sizeof(ack);

	if (!(d->protocol & (1ull << VU_PF_REPLY_ACK)))
		return vf_msg(d, req, p, size, fds, nfds, false, NULL, NULL);
	if (vf_msg(d, req, p, size, fds, nfds, true, &ack, &sz) < 0)
		return -1;
	if (ack != 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

uint64_t
vf_alloc(struct vf_dev *d, uint64_t len, uint64_t align)
{
	uint64_t gpa = (d->brk + align - 1) & ~(align - 1);

	if (gpa + len > d->mem_size)
		return 0;
	d->brk = gpa + len;
	return gpa;
}

void *
vf_ptr(struct vf_dev *d, uint64_t gpa)
{
	return d->mem + gpa;
}

int
vf_setup(struct vf_dev *d, unsigned nq, unsigned qsize, uint64_t want)
{
	if (vf_setup_rings(d, nq, qsize, want) < 0)
		return -1;
	return vf_start_rings(d);
}

static int
setup_inflight(struct vf_dev *d, unsigned nq, unsigned qsize)
{
	struct vu_inflight_msg im;
	uint32_t sz = sizeof(im);

	memset(&im, 0, sizeof(im));
	im.num_queues = (uint16_t)nq;
	im.queue_size = (uint16_t)qsize;
	if (vf_msg(d, VU_GET_INFLIGHT_FD, &im, sizeof(im), NULL, 0, false,
	    &im, &sz) < 0)
		return -1;
	if (sz != sizeof(im) || d->reply_fd < 0 || im.mmap_size == 0) {
		errno = EPROTO;
		return -1;
	}
	d->inflight_fd = d->reply_fd;
	d->reply_fd = -1;
	d->inflight_size = im.mmap_size;
	d->inflight = mmap(NULL, im.mmap_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, d->inflight_fd, (off_t)im.mmap_offset);
	if (d->inflight == MAP_FAILED) {
		d->inflight = NULL;
		return -1;
	}
	return send_acked(d, VU_SET_INFLIGHT_FD, &im, sizeof(im),
	    &d->inflight_fd, 1);
}

int
vf_setup_rings(struct vf_dev *d, unsigned nq, unsigned qsize, uint64_t want)
{
	struct vu_mem_table_msg mt;
	uint64_t f, pf;
	unsigned i;

	if (nq == 0 || nq > VF_MAX_QUEUES) {
		errno = EINVAL;
		return -1;
	}
	/* vhost-user.rst order: protocol features before SET_FEATURES. */
	if (get_u64(d, VU_GET_FEATURES, &d->features) < 0)
		return -1;
	f = (d->features & want) | (d->features & ((1ull << VU_F_VERSION_1) |
	    (1ull << VU_F_PROTOCOL_FEATURES)));
	d->acked = f;
	if (f & (1ull << VU_F_PROTOCOL_FEATURES)) {
		uint64_t n = 0;

		if (get_u64(d, VU_GET_PROTOCOL_FEATURES, &pf) < 0)
			return -1;
		pf &= (1ull << VU_PF_REPLY_ACK) | (1ull << VU_PF_CONFIG) |
		    (1ull << VU_PF_MQ) | (d->want_inflight ?
		    (1ull << VU_PF_INFLIGHT_SHMFD) : 0);
		if (vf_msg(d, VU_SET_PROTOCOL_FEATURES, &pf, sizeof(pf), NULL,
		    0, false, NULL, NULL) < 0)
			return -1;
		d->protocol = pf;
		if ((pf & (1ull << VU_PF_MQ)) &&
		    get_u64(d, VU_GET_QUEUE_NUM, &n) < 0)
			return -1;
		if ((pf & (1ull << VU_PF_MQ)) && n < nq) {
			errno = ENOTSUP;
			return -1;
		}
	}
	if (send_acked(d, VU_SET_OWNER, NULL, 0, NULL, 0) < 0)
		return -1;
	if (send_acked(d, VU_SET_FEATURES, &f, sizeof(f), NULL, 0) < 0)
		return -1;
	if ((d->protocol & (1ull << VU_PF_INFLIGHT_SHMFD)) &&
	    setup_inflight(d, nq, qsize) < 0)
		return -1;
	memset(&mt, 0, sizeof(mt));
	mt.nregions = 1;
	mt.r[0].gpa = 0;
	mt.r[0].size = d->mem_size;
	mt.r[0].uaddr = (uint64_t)(uintptr_t)d->mem;
	mt.r[0].mmap_offset = 0;
	if (send_acked(d, VU_SET_MEM_TABLE, &mt, 8 + sizeof(mt.r[0]),
	    &d->mem_fd, 1) < 0)
		return -1;
	for (i = 0; i < nq; i++) {
		struct vf_ring *r = &d->q[i];
		struct vu_vring_state st = { i, qsize };
		struct vu_vring_addr a;

		r->num = qsize;
		r->desc_gpa = vf_alloc(d, 16ull * qsize, 4096);
		r->avail_gpa = vf_alloc(d, 6ull + 2 * qsize, 64);
		r->used_gpa = vf_alloc(d, 6ull + 8 * qsize, 4096);
		if (r->desc_gpa == 0 || r->avail_gpa == 0 || r->used_gpa == 0) {
			errno = ENOMEM;
			return -1;
		}
		r->desc = vf_ptr(d, r->desc_gpa);
		r->avail = vf_ptr(d, r->avail_gpa);
		r->used = vf_ptr(d, r->used_gpa);
		r->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		r->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->kick_fd < 0 || r->call_fd < 0)
			return -1;
		memset(&a, 0, sizeof(a));
		a.index = i;
		a.desc = (uint64_t)(uintptr_t)r->desc;
		a.avail = (uint64_t)(uintptr_t)r->avail;
		a.used = (uint64_t)(uintptr_t)r->used;
		if (send_acked(d, VU_SET_VRING_NUM, &st, sizeof(st), NULL,
		    0) < 0)
			return -1;
		st.num = d->base[i];
		if (send_acked(d, VU_SET_VRING_BASE, &st, sizeof(st), NULL,
		    0) < 0 ||
		    send_acked(d, VU_SET_VRING_ADDR, &a, sizeof(a), NULL,
		    0) < 0)
			return -1;
	}
	d->nq = nq;
	return 0;
}

int
vf_start_rings(struct vf_dev *d)
{
	unsigned i;

	for (i = 0; i < d->nq; i++) {
		struct vf_ring *r = &d->q[i];
		struct vu_vring_state st = { i, 1 };
		uint64_t idx = i;

		if (send_acked(d, VU_SET_VRING_CALL, &idx, sizeof(idx),
		    &r->call_fd, 1) < 0 ||
		    send_acked(d, VU_SET_VRING_KICK, &idx, sizeof(idx),
		    &r->kick_fd, 1) < 0)
			return -1;
		if ((d->acked & (1ull << VU_F_PROTOCOL_FEATURES)) &&
		    send_acked(d, VU_SET_VRING_ENABLE, &st, sizeof(st), NULL,
		    0) < 0)
			return -1;
	}
	return 0;
}

int
vf_get_config(struct vf_dev *d, uint32_t off, void *buf, uint32_t len)
{
	struct vu_config_msg c;
	uint32_t sz = sizeof(c);

	if (len > VU_CONFIG_MAX) {
		errno = EINVAL;
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.offset = off;
	c.size = len;
	if (vf_msg(d, VU_GET_CONFIG, &c, VU_CONFIG_HDR_SIZE + len, NULL, 0,
	    false, &c, &sz) < 0)
		return -1;
	if (sz != VU_CONFIG_HDR_SIZE + len) {
		errno = EPROTO;
		return -1;
	}
	memcpy(buf, c.payload, len);
	return 0;
}

void
vf_avail(struct vf_ring *r, uint16_t head)
{
	r->avail->ring[r->avail_idx & (r->num - 1)] = head;
	r->avail_idx++;
}

int
vf_kick(struct vf_ring *r)
{
	uint64_t one = 1;

	__atomic_store_n(&r->avail->idx, r->avail_idx, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return write(r->kick_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

int
vf_used(struct vf_ring *r, uint32_t *id, uint32_t *len)
{
	struct vq_used_elem *e;

	if (__atomic_load_n(&r->used->idx, __ATOMIC_ACQUIRE) == r->used_seen)
		return 0;
	e = &r->used->ring[r->used_seen & (r->num - 1)];
	*id = e->id;
	*len = e->len;
	r->used_seen++;
	return 1;
}

int
vf_wait(struct vf_ring *r, int timeout_ms)
{
	struct pollfd p = { r->call_fd, POLLIN, 0 };
	uint64_t n;
	int rc;

	do {
		rc = poll(&p, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		return rc;
	if (read(r->call_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -1;
	return 1;
}
