/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the vhost-user back-end message handling
 * (src/vhost/vu.c): a vu_dev on one end of a socketpair, messages written
 * to the other end, the library's watch callbacks called by hand (a fake
 * event loop).  Checks replies, REPLY_ACK, that malformed messages close
 * the connection (and reset the device), that no received fd leaks, and
 * that a started, enabled ring reaches the device's queue_kick.
 */
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "vhost/vu.h"

#define MAXW 64

struct fake_loop {
	vu_watch_cb cb[MAXW];
	void *arg[MAXW];
};

struct fx {
	struct fake_loop loop;
	struct vu_dev dev;
	int peer;		/* the front-end's end */
	int resets, kicks, last_kick_q;
	bool busy[VU_MAX_QUEUES];	/* what d_busy answers */
	bool pop;			/* d_kick pops from the ring */
	int pops;
	uint8_t config[VU_CONFIG_MAX];
	int memfd;
	uint8_t *mem;
};

static int
f_watch(void *loop, int fd, vu_watch_cb cb, void *arg)
{
	struct fake_loop *l = loop;

	if (fd < 0 || fd >= MAXW)
		return -1;
	l->cb[fd] = cb;
	l->arg[fd] = arg;
	return 0;
}

static void
f_unwatch(void *loop, int fd)
{
	struct fake_loop *l = loop;

	if (fd >= 0 && fd < MAXW)
		l->cb[fd] = NULL;
}

static int
d_get_config(struct vu_dev *d, uint8_t *buf, uint32_t off, uint32_t len)
{
	struct fx *f = d->priv;

	memcpy(buf, f->config + off, len);
	return 0;
}

static int
d_set_config(struct vu_dev *d, const uint8_t *buf, uint32_t off,
    uint32_t len)
{
	struct fx *f = d->priv;

	if (off != 0)
		return -1;	/* only byte 0.. is writable here */
	memcpy(f->config, buf, len);
	return 0;
}

static bool
d_busy(struct vu_dev *d, unsigned qi)
{
	struct fx *f = d->priv;

	if (qi == VU_ALL_QUEUES) {
		for (unsigned i = 0; i < VU_MAX_QUEUES; i++)
			if (f->busy[i])
				return true;
		return false;
	}
	return f->busy[qi];
}

static void
d_kick(struct vu_dev *d, unsigned qi)
{
	struct fx *f = d->priv;
	struct vq_chain c;

	if (f->pop && vq_pop(&d->q[qi].vq, &c) >= 0)
		f->pops++;

	f->kicks++;
	f->last_kick_q = (int)qi;
}

static void
d_reset(struct vu_dev *d)
{
	struct fx *f = d->priv;

	f->resets++;
}

static const struct vu_iface iface = {
	.get_config = d_get_config,
	.set_config = d_set_config,
	.queue_kick = d_kick,
	.busy = d_busy,
	.reset = d_reset,
};

static int
count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vu_loop loop = { f_watch, f_unwatch, &f->loop };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_true(sv[0] < MAXW && sv[1] < MAXW);
	f->peer = sv[1];
	for (int i = 0; i < VU_CONFIG_MAX; i++)
		f->config[i] = (uint8_t)i;
	assert_int_equal(vu_dev_init(&f->dev, "t", -1, sv[0], 2, 1ull << 9,
	    &iface, &loop, f), 0);
	f->memfd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(f->memfd, 1 << 20), 0);
	assert_int_equal(fcntl(f->memfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	f->mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
	    f->memfd, 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	vu_dev_close(&f->dev);
	close(f->peer);
	munmap(f->mem, 1 << 20);
	close(f->memfd);
	free(f);
	return 0;
}

/* Send one message and let the library handle it. */
static void
send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *p,
    uint32_t size, const int *fds, unsigned nfds)
{
	struct vu_hdr h = { req, VU_VERSION | flags, size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)(uintptr_t)p,
	    size } };
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	int conn = f->dev.conn_fd;

	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	assert_int_equal(sendmsg(f->peer, &mh, 0), sizeof(h) + size);
	assert_true(conn >= 0);
	assert_non_null(f->loop.cb[conn]);
	f->loop.cb[conn](f->loop.arg[conn], conn, 1);
}

/* Read a reply: returns its payload size, fills buf. */
static uint32_t
recv_reply(struct fx *f, uint32_t req, void *buf, size_t cap)
{
	struct vu_hdr h;

	assert_int_equal(recv(f->peer, &h, sizeof(h), MSG_DONTWAIT),
	    sizeof(h));
	assert_int_equal(h.request, req);
	assert_true(h.flags & VU_FLAG_REPLY);
	assert_true(h.size <= cap);
	if (h.size > 0)
		assert_int_equal(recv(f->peer, buf, h.size, MSG_DONTWAIT),
		    h.size);
	return h.size;
}

static void
no_reply(struct fx *f)
{
	char c;

	assert_int_equal(recv(f->peer, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The REPLY_ACK answer to req. */
static uint64_t
ack(struct fx *f, uint32_t req)
{
	uint64_t v = 99;

	assert_int_equal(recv_reply(f, req, &v, sizeof(v)), 8);
	return v;
}

static bool
closed(struct fx *f)
{
	return f->dev.conn_fd < 0;
}

static void
negotiate(struct fx *f)
{
	uint64_t v;

	send_msg(f, VU_GET_FEATURES, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_FEATURES, &v, sizeof(v)), 8);
	assert_true(v & (1ull << VU_F_VERSION_1));
	assert_true(v & (1ull << VU_F_PROTOCOL_FEATURES));
	assert_true(v & (1ull << 9));		/* the device's own */
	send_msg(f, VU_SET_FEATURES, 0, &v, 8, NULL, 0);
	no_reply(f);		/* no NEED_REPLY, no REPLY_ACK yet */
	send_msg(f, VU_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_PROTOCOL_FEATURES, &v,
	    sizeof(v)), 8);
	assert_true(v & (1ull << VU_PF_REPLY_ACK));
	assert_true(v & (1ull << VU_PF_INFLIGHT_SHMFD));
	send_msg(f, VU_SET_PROTOCOL_FEATURES, 0, &v, 8, NULL, 0);
	assert_false(closed(f));
}

static void
test_features_and_ack(void **state)
{
	struct fx *f = *state;
	uint64_t v;

	negotiate(f);
	send_msg(f, VU_SET_OWNER, VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_SET_OWNER, &v, sizeof(v)), 8);
	assert_int_equal(v, 0);
	send_msg(f, VU_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_QUEUE_NUM, &v, sizeof(v)), 8);
	assert_int_equal(v, 2);
	/* An unknown request is refused (ack 1), not fatal. */
	send_msg(f, 60, VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, 60, &v, sizeof(v)), 8);
	assert_int_equal(v, 1);
	assert_false(closed(f));
}

static void
test_unknown_feature_closes(void **state)
{
	struct fx *f = *state;
	uint64_t v = 1ull << 3;		/* never offered */

	send_msg(f, VU_SET_FEATURES, 0, &v, 8, NULL, 0);
	assert_true(closed(f));
	assert_int_equal(f->resets, 1);
}

static void
test_config(void **state)
{
	struct fx *f = *state;
	struct vu_config_msg c;

	negotiate(f);
	memset(&c, 0, sizeof(c));
	c.offset = 8;
	c.size = 16;
	send_msg(f, VU_GET_CONFIG, 0, &c, VU_CONFIG_HDR_SIZE + 16, NULL, 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(recv_reply(f, VU_GET_CONFIG, &c, sizeof(c)),
	    VU_CONFIG_HDR_SIZE + 16);
	assert_int_equal(c.offset, 8);
	assert_int_equal(c.payload[0], 8);
	assert_int_equal(c.payload[15], 23);
	/* Past the end of config space: the connection goes. */
	c.offset = VU_CONFIG_MAX - 4;
	c.size = 8;
	send_msg(f, VU_GET_CONFIG, 0, &c, VU_CONFIG_HDR_SIZE + 8, NULL, 0);
	assert_true(closed(f));
}

static void
test_size_mismatch_closes(void **state)
{
	struct fx *f = *state;
	uint8_t junk[24] = { 0 };

	send_msg(f, VU_SET_FEATURES, 0, junk, 24, NULL, 0);
	assert_true(closed(f));
}

static void
test_fds_never_leak(void **state)
{
	struct fx *f = *state;
	int before, e[3], i;
	uint64_t idx = 0;

	e[0] = eventfd(0, EFD_CLOEXEC);
	e[1] = eventfd(0, EFD_CLOEXEC);
	e[2] = eventfd(0, EFD_CLOEXEC);
	before = count_fds();
	/* Three fds on a message that takes one: refused, all closed. */
	send_msg(f, VU_SET_VRING_CALL, 0, &idx, 8, e, 3);
	assert_true(closed(f));
	/* The library closed its copies and the connection. */
	assert_int_equal(count_fds(), before - 1);
	for (i = 0; i < 3; i++)
		close(e[i]);
}

static void
test_fd_on_fdless_message(void **state)
{
	struct fx *f = *state;
	int e = eventfd(0, EFD_CLOEXEC), before = count_fds();

	send_msg(f, VU_SET_OWNER, 0, NULL, 0, &e, 1);
	assert_true(closed(f));
	assert_int_equal(count_fds(), before - 1);
	close(e);
}

static void
set_mem(struct fx *f, uint64_t size)
{
	struct vu_mem_table_msg mt;

	memset(&mt, 0, sizeof(mt));
	mt.nregions = 1;
	mt.r[0].gpa = 0;
	mt.r[0].size = size;
	mt.r[0].uaddr = 0x700000000000ull;
	mt.r[0].mmap_offset = 0;
	send_msg(f, VU_SET_MEM_TABLE, 0, &mt, 8 + 32, &f->memfd, 1);
}

static void
test_region_larger_than_file(void **state)
{
	struct fx *f = *state;

	negotiate(f);
	set_mem(f, 2 << 20);
	assert_true(closed(f));
}

/* Unsealed guest memory (hugetlbfs, /dev/shm, DPDK's files): accepted. */
static void
test_unsealed_memory_accepted(void **state)
{
	struct fx *f = *state;
	struct vu_mem_table_msg mt;
	int fd = memfd_create("u", MFD_CLOEXEC);

	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	negotiate(f);
	memset(&mt, 0, sizeof(mt));
	mt.nregions = 1;
	mt.r[0].size = 1 << 20;
	mt.r[0].uaddr = 0x700000000000ull;
	send_msg(f, VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &mt, 8 + 32, &fd, 1);
	assert_false(closed(f));
	assert_int_equal(ack(f, VU_SET_MEM_TABLE), 0);
	assert_int_equal(f->dev.mem.n, 1);
	close(fd);
}

static void
test_ring_start_and_kick(void **state)
{
	struct fx *f = *state;
	struct vu_vring_state st = { 1, 8 };
	struct vu_vring_addr a;
	uint64_t idx = 1, one = 1;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	int kfd;

	negotiate(f);
	set_mem(f, 1 << 20);
	assert_false(closed(f));
	assert_int_equal(f->dev.mem.n, 1);
	send_msg(f, VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	memset(&a, 0, sizeof(a));
	a.index = 1;
	a.desc = 0x700000000000ull + 0x1000;
	a.avail = 0x700000000000ull + 0x2000;
	a.used = 0x700000000000ull + 0x3000;
	send_msg(f, VU_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	send_msg(f, VU_SET_VRING_CALL, 0, &idx, 8, &call, 1);
	send_msg(f, VU_SET_VRING_KICK, 0, &idx, 8, &kick, 1);
	assert_false(closed(f));
	/* With PROTOCOL_FEATURES the ring starts disabled. */
	assert_false(vu_queue_ready(&f->dev, 1));
	st.num = 1;
	send_msg(f, VU_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0);
	assert_true(vu_queue_ready(&f->dev, 1));
	f->kicks = 0;
	kfd = f->dev.q[1].kick_fd;
	assert_int_equal(write(kick, &one, 8), 8);
	assert_non_null(f->loop.cb[kfd]);
	f->loop.cb[kfd](f->loop.arg[kfd], kfd, 1);
	assert_int_equal(f->kicks, 1);
	assert_int_equal(f->last_kick_q, 1);
	/* A spurious wake-up does not block (the kick fd is non-blocking). */
	f->loop.cb[kfd](f->loop.arg[kfd], kfd, 1);
	/* Ring addresses outside guest memory: refused. */
	a.index = 0;
	a.desc = 0x100;
	st.index = 0;
	st.num = 8;
	send_msg(f, VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	send_msg(f, VU_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	assert_true(closed(f));
	close(kick);
	close(call);
}

/*
 * A front-end that never reads its call eventfd (counter at its maximum)
 * must not block the daemon in write(): the notification is skipped.
 * The daemon would hang here, and the alarm kill the test, if the
 * library left the call fd blocking.
 */
static void
test_full_call_fd_does_not_block(void **state)
{
	struct fx *f = *state;
	struct vu_vring_state st = { 0, 8 };
	struct vu_vring_addr a;
	uint64_t idx = 0, max = 0xfffffffffffffffeull, v;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);

	negotiate(f);
	set_mem(f, 1 << 20);
	send_msg(f, VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	memset(&a, 0, sizeof(a));
	a.desc = 0x700000000000ull + 0x1000;
	a.avail = 0x700000000000ull + 0x2000;
	a.used = 0x700000000000ull + 0x3000;
	send_msg(f, VU_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	send_msg(f, VU_SET_VRING_CALL, 0, &idx, 8, &call, 1);
	send_msg(f, VU_SET_VRING_KICK, 0, &idx, 8, &kick, 1);
	assert_false(closed(f));
	assert_int_equal(write(call, &max, 8), 8);
	alarm(10);
	vu_queue_notify(&f->dev, 0);
	alarm(0);
	assert_false(closed(f));
	/* The counter is as the front-end left it: no wrap, no loss. */
	assert_int_equal(read(call, &v, 8), 8);
	assert_true(v == max);
	close(kick);
	close(call);
}

static void
test_vring_index_checked(void **state)
{
	struct fx *f = *state;
	struct vu_vring_state st = { 2, 8 };	/* only queues 0 and 1 */

	send_msg(f, VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	assert_true(closed(f));
}

static void
test_peer_close_resets(void **state)
{
	struct fx *f = *state;
	int conn = f->dev.conn_fd;

	close(f->peer);
	f->peer = -1;
	f->loop.cb[conn](f->loop.arg[conn], conn, 1);
	assert_true(closed(f));
	assert_int_equal(f->resets, 1);
	f->peer = socket(AF_UNIX, SOCK_STREAM, 0);	/* for teardown */
}

/* Config changes reach the front-end on the channel it gave. */
static void
test_config_change_channel(void **state)
{
	struct fx *f = *state;
	struct vu_hdr h;
	int sv[2];

	negotiate(f);
	assert_int_equal(vu_dev_config_changed(&f->dev), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	send_msg(f, VU_SET_SLAVE_REQ_FD, VU_FLAG_NEED_REPLY, NULL, 0, &sv[1],
	    1);
	close(sv[1]);
	assert_int_equal(ack(f, VU_SET_SLAVE_REQ_FD), 0);
	assert_int_equal(vu_dev_config_changed(&f->dev), 0);
	assert_int_equal(recv(sv[0], &h, sizeof(h), MSG_DONTWAIT), sizeof(h));
	assert_int_equal(h.request, VU_SLAVE_CONFIG_CHANGE);
	assert_int_equal(h.size, 0);
	assert_false(h.flags & VU_FLAG_NEED_REPLY);
	close(sv[0]);
}

/*
 * The order of vhost-user.rst "Protocol features": protocol features are
 * negotiated (REPLY_ACK among them) before any SET_FEATURES.  SET_OWNER
 * with NEED_REPLY must be acked at once (it used to wait for bit 30 to
 * be acked in SET_FEATURES, so a front-end in this order hung).
 */
static void
test_protocol_features_before_set_features(void **state)
{
	struct fx *f = *state;
	struct vu_config_msg c;
	uint64_t v;

	send_msg(f, VU_GET_FEATURES, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_FEATURES, &v, sizeof(v)), 8);
	send_msg(f, VU_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_PROTOCOL_FEATURES, &v,
	    sizeof(v)), 8);
	v = (1ull << VU_PF_REPLY_ACK) | (1ull << VU_PF_CONFIG) |
	    (1ull << VU_PF_MQ);
	send_msg(f, VU_SET_PROTOCOL_FEATURES, 0, &v, 8, NULL, 0);
	no_reply(f);
	send_msg(f, VU_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_QUEUE_NUM, &v, sizeof(v)), 8);
	assert_int_equal(v, 2);
	memset(&c, 0, sizeof(c));
	c.size = 8;
	send_msg(f, VU_GET_CONFIG, 0, &c, VU_CONFIG_HDR_SIZE + 8, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_CONFIG, &c, sizeof(c)),
	    VU_CONFIG_HDR_SIZE + 8);
	send_msg(f, VU_SET_OWNER, VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	assert_int_equal(ack(f, VU_SET_OWNER), 0);
	no_reply(f);
	assert_false(closed(f));
}

/* Messages gated by a protocol feature are refused without it. */
static void
test_gated_messages_need_their_feature(void **state)
{
	static const uint32_t gated[] = { VU_GET_CONFIG, VU_SET_CONFIG,
	    VU_GET_INFLIGHT_FD, VU_SET_INFLIGHT_FD, VU_RESET_DEVICE };
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(gated) / sizeof(gated[0]); i++) {
		struct vu_config_msg c;
		struct vu_inflight_msg im;
		uint64_t v = 1ull << VU_PF_REPLY_ACK;
		int e = eventfd(0, EFD_CLOEXEC);

		teardown(state);
		setup(state);
		f = *state;
		send_msg(f, VU_SET_PROTOCOL_FEATURES, 0, &v, 8, NULL, 0);
		memset(&c, 0, sizeof(c));
		memset(&im, 0, sizeof(im));
		im.num_queues = 1;
		im.queue_size = 8;
		im.mmap_size = VQ_INFLIGHT_SIZE(8);
		c.size = 4;
		switch (gated[i]) {
		case VU_GET_CONFIG:
		case VU_SET_CONFIG:
			send_msg(f, gated[i], 0, &c, VU_CONFIG_HDR_SIZE + 4,
			    NULL, 0);
			break;
		case VU_GET_INFLIGHT_FD:
			send_msg(f, gated[i], 0, &im, sizeof(im), NULL, 0);
			break;
		case VU_SET_INFLIGHT_FD:
			send_msg(f, gated[i], 0, &im, sizeof(im), &e, 1);
			break;
		default:
			send_msg(f, gated[i], 0, NULL, 0, NULL, 0);
			break;
		}
		assert_true(closed(f));
		close(e);
	}
}

/* ---- every message, with and without NEED_REPLY, in three orders ---- */

enum step {
	S_GET_FEATURES, S_SET_FEATURES, S_GET_PROTO, S_SET_PROTO, S_OWNER,
	S_QUEUE_NUM, S_GET_CONFIG, S_SET_CONFIG, S_GET_INFLIGHT,
	S_SET_INFLIGHT, S_MEM, S_NUM, S_BASE, S_ADDR, S_CALL, S_ERR, S_KICK,
	S_ENABLE, S_KICKED, S_GET_BASE, S_RESET_DEVICE, S_END
};

/* QEMU 7.2 (vhost_user_backend_init, vhost_dev_start) for a blk device. */
static const enum step order_qemu[] = {
	S_GET_FEATURES, S_GET_PROTO, S_SET_PROTO, S_QUEUE_NUM, S_OWNER,
	S_GET_FEATURES, S_GET_CONFIG, S_GET_INFLIGHT, S_SET_INFLIGHT,
	S_SET_FEATURES, S_MEM, S_NUM, S_BASE, S_ADDR, S_KICK, S_CALL,
	S_ENABLE, S_KICKED, S_SET_CONFIG, S_GET_BASE, S_END
};

/*
 * DPDK 22.11 virtio_user (virtio_user_dev.c): owner first, features
 * after the protocol features, call fds before the memory table, kick
 * fds last, then enable.
 */
static const enum step order_dpdk[] = {
	S_OWNER, S_GET_FEATURES, S_GET_PROTO, S_SET_PROTO, S_QUEUE_NUM,
	S_SET_FEATURES, S_CALL, S_MEM, S_NUM, S_BASE, S_ADDR, S_KICK,
	S_ENABLE, S_KICKED, S_GET_BASE, S_END
};

/*
 * The spec's own order ("Protocol features": no SET_FEATURES needed
 * for them) with the ring messages in a legal but unusual order: kick
 * and enable before the addresses, memory table last, err fd, and a
 * device reset at the end.
 */
static const enum step order_spec[] = {
	S_GET_FEATURES, S_GET_PROTO, S_SET_PROTO, S_QUEUE_NUM, S_GET_CONFIG,
	S_OWNER, S_SET_FEATURES, S_NUM, S_BASE, S_ENABLE, S_KICK, S_ERR,
	S_CALL, S_ADDR, S_MEM, S_KICKED, S_GET_BASE, S_RESET_DEVICE, S_END
};

struct run {
	int kick, call, err, inflight_fd;
	uint64_t acked_proto;
};

static bool
acks(const struct run *r)
{
	return (r->acked_proto >> VU_PF_REPLY_ACK) & 1;
}

/* What the back-end must send for a message with (or without) NEED_REPLY. */
static void
expect_ack(struct fx *f, const struct run *r, uint32_t req, bool need,
    uint64_t want)
{
	if (need && acks(r))
		assert_int_equal(ack(f, req), want);
	no_reply(f);
}

static void
run_order(struct fx *f, const enum step *order, bool need)
{
	uint32_t fl = need ? VU_FLAG_NEED_REPLY : 0;
	const uint64_t ring = 0x700000000000ull;
	struct run r = { -1, -1, -1, -1, 0 };
	uint64_t v, idx = 0;

	r.kick = eventfd(0, EFD_CLOEXEC);
	r.call = eventfd(0, EFD_CLOEXEC);
	r.err = eventfd(0, EFD_CLOEXEC);
	for (const enum step *s = order; *s != S_END; s++) {
		struct vu_vring_state st = { 0, 8 };
		struct vu_vring_addr a;
		struct vu_config_msg c;
		struct vu_inflight_msg im;
		struct vu_mem_table_msg mt;

		switch (*s) {
		case S_GET_FEATURES:
			send_msg(f, VU_GET_FEATURES, fl, NULL, 0, NULL, 0);
			assert_int_equal(recv_reply(f, VU_GET_FEATURES, &v,
			    sizeof(v)), 8);
			no_reply(f);
			break;
		case S_SET_FEATURES:
			v = (1ull << VU_F_VERSION_1) |
			    (1ull << VU_F_PROTOCOL_FEATURES) |
			    (1ull << VU_F_EVENT_IDX);
			send_msg(f, VU_SET_FEATURES, fl, &v, 8, NULL, 0);
			expect_ack(f, &r, VU_SET_FEATURES, need, 0);
			break;
		case S_GET_PROTO:
			send_msg(f, VU_GET_PROTOCOL_FEATURES, fl, NULL, 0,
			    NULL, 0);
			assert_int_equal(recv_reply(f,
			    VU_GET_PROTOCOL_FEATURES, &v, sizeof(v)), 8);
			no_reply(f);
			break;
		case S_SET_PROTO:
			v = (1ull << VU_PF_REPLY_ACK) | (1ull << VU_PF_MQ) |
			    (1ull << VU_PF_CONFIG) |
			    (1ull << VU_PF_INFLIGHT_SHMFD) |
			    (1ull << VU_PF_RESET_DEVICE);
			send_msg(f, VU_SET_PROTOCOL_FEATURES, fl, &v, 8,
			    NULL, 0);
			r.acked_proto = v;
			/* In effect at once: this very message is acked. */
			expect_ack(f, &r, VU_SET_PROTOCOL_FEATURES, need, 0);
			break;
		case S_OWNER:
			send_msg(f, VU_SET_OWNER, fl, NULL, 0, NULL, 0);
			expect_ack(f, &r, VU_SET_OWNER, need, 0);
			break;
		case S_QUEUE_NUM:
			send_msg(f, VU_GET_QUEUE_NUM, fl, NULL, 0, NULL, 0);
			assert_int_equal(recv_reply(f, VU_GET_QUEUE_NUM, &v,
			    sizeof(v)), 8);
			assert_int_equal(v, 2);
			no_reply(f);
			break;
		case S_GET_CONFIG:
			memset(&c, 0, sizeof(c));
			c.offset = 4;
			c.size = 4;
			send_msg(f, VU_GET_CONFIG, fl, &c,
			    VU_CONFIG_HDR_SIZE + 4, NULL, 0);
			memset(&c, 0, sizeof(c));
			assert_int_equal(recv_reply(f, VU_GET_CONFIG, &c,
			    sizeof(c)), VU_CONFIG_HDR_SIZE + 4);
			assert_int_equal(c.payload[0], 4);
			no_reply(f);
			break;
		case S_SET_CONFIG:
			/* One accepted, one refused by the device. */
			memset(&c, 0, sizeof(c));
			c.size = 1;
			c.payload[0] = 0x5a;
			send_msg(f, VU_SET_CONFIG, fl, &c,
			    VU_CONFIG_HDR_SIZE + 1, NULL, 0);
			expect_ack(f, &r, VU_SET_CONFIG, need, 0);
			assert_int_equal(f->config[0], 0x5a);
			c.offset = 9;
			send_msg(f, VU_SET_CONFIG, fl, &c,
			    VU_CONFIG_HDR_SIZE + 1, NULL, 0);
			expect_ack(f, &r, VU_SET_CONFIG, need, 1);
			break;
		case S_GET_INFLIGHT: {
			struct msghdr mh;
			struct vu_hdr h;
			struct iovec iov[2] = { { &h, sizeof(h) },
			    { &im, sizeof(im) } };
			char cbuf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr *cm;

			memset(&im, 0, sizeof(im));
			im.num_queues = 2;
			im.queue_size = 8;
			send_msg(f, VU_GET_INFLIGHT_FD, fl, &im, sizeof(im),
			    NULL, 0);
			memset(&mh, 0, sizeof(mh));
			mh.msg_iov = iov;
			mh.msg_iovlen = 2;
			mh.msg_control = cbuf;
			mh.msg_controllen = sizeof(cbuf);
			assert_int_equal(recvmsg(f->peer, &mh, MSG_DONTWAIT),
			    sizeof(h) + sizeof(im));
			assert_int_equal(h.request, VU_GET_INFLIGHT_FD);
			cm = CMSG_FIRSTHDR(&mh);
			if (cm == NULL)
				fail_msg("GET_INFLIGHT_FD reply without an fd");
			else
				memcpy(&r.inflight_fd, CMSG_DATA(cm),
				    sizeof(int));
			assert_true(im.mmap_size >= 2 * VQ_INFLIGHT_SIZE(8));
			no_reply(f);
			break;
		}
		case S_SET_INFLIGHT:
			send_msg(f, VU_SET_INFLIGHT_FD, fl, &im, sizeof(im),
			    &r.inflight_fd, 1);
			expect_ack(f, &r, VU_SET_INFLIGHT_FD, need, 0);
			break;
		case S_MEM:
			memset(&mt, 0, sizeof(mt));
			mt.nregions = 1;
			mt.r[0].size = 1 << 20;
			mt.r[0].uaddr = ring;
			send_msg(f, VU_SET_MEM_TABLE, fl, &mt, 8 + 32,
			    &f->memfd, 1);
			expect_ack(f, &r, VU_SET_MEM_TABLE, need, 0);
			break;
		case S_NUM:
			send_msg(f, VU_SET_VRING_NUM, fl, &st, sizeof(st),
			    NULL, 0);
			expect_ack(f, &r, VU_SET_VRING_NUM, need, 0);
			break;
		case S_BASE:
			st.num = 0;
			send_msg(f, VU_SET_VRING_BASE, fl, &st, sizeof(st),
			    NULL, 0);
			expect_ack(f, &r, VU_SET_VRING_BASE, need, 0);
			break;
		case S_ADDR:
			memset(&a, 0, sizeof(a));
			a.desc = ring + 0x1000;
			a.avail = ring + 0x2000;
			a.used = ring + 0x3000;
			send_msg(f, VU_SET_VRING_ADDR, fl, &a, sizeof(a), NULL,
			    0);
			expect_ack(f, &r, VU_SET_VRING_ADDR, need, 0);
			break;
		case S_CALL:
			send_msg(f, VU_SET_VRING_CALL, fl, &idx, 8, &r.call, 1);
			expect_ack(f, &r, VU_SET_VRING_CALL, need, 0);
			break;
		case S_ERR:
			send_msg(f, VU_SET_VRING_ERR, fl, &idx, 8, &r.err, 1);
			expect_ack(f, &r, VU_SET_VRING_ERR, need, 0);
			break;
		case S_KICK:
			send_msg(f, VU_SET_VRING_KICK, fl, &idx, 8, &r.kick, 1);
			expect_ack(f, &r, VU_SET_VRING_KICK, need, 0);
			break;
		case S_ENABLE:
			st.num = 1;
			send_msg(f, VU_SET_VRING_ENABLE, fl, &st, sizeof(st),
			    NULL, 0);
			expect_ack(f, &r, VU_SET_VRING_ENABLE, need, 0);
			break;
		case S_KICKED: {
			int kfd = f->dev.q[0].kick_fd;

			/* Whatever the order, the ring runs now. */
			assert_true(vu_queue_ready(&f->dev, 0));
			f->kicks = 0;
			v = 1;
			assert_int_equal(write(r.kick, &v, 8), 8);
			f->loop.cb[kfd](f->loop.arg[kfd], kfd, 1);
			assert_int_equal(f->kicks, 1);
			break;
		}
		case S_GET_BASE:
			st.num = 0;
			send_msg(f, VU_GET_VRING_BASE, fl, &st, sizeof(st),
			    NULL, 0);
			assert_int_equal(recv_reply(f, VU_GET_VRING_BASE, &st,
			    sizeof(st)), 8);
			assert_int_equal(st.index, 0);
			no_reply(f);
			assert_false(vu_queue_ready(&f->dev, 0));
			break;
		case S_RESET_DEVICE:
			send_msg(f, VU_RESET_DEVICE, fl, NULL, 0, NULL, 0);
			expect_ack(f, &r, VU_RESET_DEVICE, need, 0);
			assert_int_equal(f->dev.mem.n, 0);
			break;
		case S_END:
			break;
		}
		assert_false(closed(f));
	}
	close(r.kick);
	close(r.call);
	close(r.err);
	if (r.inflight_fd >= 0)
		close(r.inflight_fd);
}

static void test_order_qemu_ack(void **s) { run_order(*s, order_qemu, true); }
static void test_order_qemu(void **s) { run_order(*s, order_qemu, false); }
static void test_order_dpdk_ack(void **s) { run_order(*s, order_dpdk, true); }
static void test_order_dpdk(void **s) { run_order(*s, order_dpdk, false); }
static void test_order_spec_ack(void **s) { run_order(*s, order_spec, true); }
static void test_order_spec(void **s) { run_order(*s, order_spec, false); }

/* A ring at 0x700000001000 of 8 entries, started and enabled. */
static int
start_ring(struct fx *f, unsigned qi, int memfd)
{
	struct vu_vring_state st = { qi, 8 };
	struct vu_vring_addr a;
	struct vu_mem_table_msg mt;
	uint64_t idx = qi;
	int kick = eventfd(0, EFD_CLOEXEC);

	if (f->dev.mem.n == 0) {
		memset(&mt, 0, sizeof(mt));
		mt.nregions = 1;
		mt.r[0].size = 1 << 20;
		mt.r[0].uaddr = 0x700000000000ull;
		send_msg(f, VU_SET_MEM_TABLE, 0, &mt, 8 + 32, &memfd, 1);
	}
	send_msg(f, VU_SET_VRING_NUM, 0, &st, sizeof(st), NULL, 0);
	memset(&a, 0, sizeof(a));
	a.index = qi;
	a.desc = 0x700000000000ull + 0x1000 + 0x1000 * 3 * qi;
	a.avail = a.desc + 0x1000;
	a.used = a.desc + 0x2000;
	send_msg(f, VU_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	send_msg(f, VU_SET_VRING_KICK, 0, &idx, 8, &kick, 1);
	st.num = 1;
	send_msg(f, VU_SET_VRING_ENABLE, 0, &st, sizeof(st), NULL, 0);
	assert_true(vu_queue_ready(&f->dev, qi));
	return kick;
}

static void
run_settle(struct fx *f)
{
	int sfd = f->dev.settle_fd;

	assert_non_null(f->loop.cb[sfd]);
	f->loop.cb[sfd](f->loop.arg[sfd], sfd, 1);
}

/*
 * GET_VRING_BASE while requests of that queue run: the reply waits for
 * them, later messages wait behind it (in order), nothing blocks.
 */
static void
test_get_vring_base_waits_for_requests(void **state)
{
	struct fx *f = *state;
	struct vu_vring_state st = { 0, 0 };
	int kick;

	negotiate(f);
	kick = start_ring(f, 0, f->memfd);
	start_ring(f, 1, f->memfd);
	f->busy[0] = true;
	send_msg(f, VU_GET_VRING_BASE, 0, &st, sizeof(st), NULL, 0);
	no_reply(f);
	assert_true(f->dev.deferred);
	/* The connection is not read meanwhile; queue 1 keeps running. */
	assert_null(f->loop.cb[f->dev.conn_fd]);
	assert_true(vu_queue_ready(&f->dev, 1));
	assert_false(vu_queue_ready(&f->dev, 0));
	/* Still busy: a settle report changes nothing. */
	vu_dev_settled(&f->dev);
	run_settle(f);
	no_reply(f);
	f->busy[0] = false;
	vu_dev_settled(&f->dev);
	run_settle(f);
	assert_int_equal(recv_reply(f, VU_GET_VRING_BASE, &st, sizeof(st)), 8);
	assert_false(f->dev.deferred);
	assert_non_null(f->loop.cb[f->dev.conn_fd]);
	/* A message after it is handled normally. */
	send_msg(f, VU_SET_OWNER, VU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	assert_int_equal(ack(f, VU_SET_OWNER), 0);
	close(kick);
}

/*
 * SET_MEM_TABLE while requests run: every queue pauses (nothing new is
 * popped into memory about to go) and the old memory stays mapped until
 * the requests are done.
 */
static void
test_mem_table_waits_for_requests(void **state)
{
	struct fx *f = *state;
	struct vu_mem_table_msg mt;
	uint8_t *old;
	int kick;

	negotiate(f);
	kick = start_ring(f, 0, f->memfd);
	old = f->dev.mem.r[0].host;
	f->busy[0] = true;
	memset(&mt, 0, sizeof(mt));
	mt.nregions = 1;
	mt.r[0].size = 1 << 20;
	mt.r[0].uaddr = 0x700000000000ull;
	send_msg(f, VU_SET_MEM_TABLE, VU_FLAG_NEED_REPLY, &mt, 8 + 32,
	    &f->memfd, 1);
	no_reply(f);
	assert_false(vu_queue_ready(&f->dev, 0));
	assert_ptr_equal(f->dev.mem.r[0].host, old);
	old[0] = 1;		/* still mapped */
	f->busy[0] = false;
	vu_dev_settled(&f->dev);
	run_settle(f);
	assert_int_equal(ack(f, VU_SET_MEM_TABLE), 0);
	assert_true(vu_queue_ready(&f->dev, 0));
	close(kick);
}

/* The front-end goes away with requests in flight: reset waits for them. */
static void
test_disconnect_waits_for_requests(void **state)
{
	struct fx *f = *state;
	int conn, kick;

	negotiate(f);
	kick = start_ring(f, 0, f->memfd);
	f->busy[0] = true;
	conn = f->dev.conn_fd;
	close(f->peer);
	f->peer = socket(AF_UNIX, SOCK_STREAM, 0);	/* for teardown */
	f->loop.cb[conn](f->loop.arg[conn], conn, 1);
	assert_true(closed(f));
	assert_int_equal(f->resets, 0);
	assert_int_equal(f->dev.mem.n, 1);		/* still mapped */
	f->dev.mem.r[0].host[0] = 2;
	f->busy[0] = false;
	vu_dev_settled(&f->dev);
	run_settle(f);
	assert_int_equal(f->resets, 1);
	assert_int_equal(f->dev.mem.n, 0);
	close(kick);
}

/*
 * The front-end shrinks its (unsealed) memory file under a running ring:
 * the next access faults, the device is stopped, the process lives on,
 * and another device is not affected.
 */
static void
test_shrunk_memory_breaks_only_that_device(void **state)
{
	struct fx *f = *state, *g;
	int fd = memfd_create("shrinks", MFD_CLOEXEC), kick, gkick;
	uint64_t one = 1;
	int kfd;

	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	/* cmocka catches SIGBUS around each test: put the guard back. */
	assert_int_equal(vu_mem_guard_init(), 0);
	negotiate(f);
	kick = start_ring(f, 0, fd);
	assert_int_equal(setup((void **)&g), 0);
	negotiate(g);
	gkick = start_ring(g, 0, g->memfd);
	f->pop = g->pop = true;
	assert_int_equal(ftruncate(fd, 0), 0);
	kfd = f->dev.q[0].kick_fd;
	assert_int_equal(write(kick, &one, 8), 8);
	f->loop.cb[kfd](f->loop.arg[kfd], kfd, 1);
	assert_true(f->dev.broken);
	assert_true(f->dev.q[0].vq.broken);
	assert_false(vu_queue_ready(&f->dev, 0));
	/* The other device still reads its ring. */
	kfd = g->dev.q[0].kick_fd;
	assert_int_equal(write(gkick, &one, 8), 8);
	g->loop.cb[kfd](g->loop.arg[kfd], kfd, 1);
	assert_int_equal(g->pops, 1);
	assert_false(g->dev.broken);
	/* A new memory table makes the device usable again. */
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	send_msg(f, VU_GET_FEATURES, 0, NULL, 0, NULL, 0);
	assert_int_equal(recv_reply(f, VU_GET_FEATURES, &one, 8), 8);
	close(kick);
	close(gkick);
	close(fd);
	teardown((void **)&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
		T(test_features_and_ack),
		T(test_unknown_feature_closes),
		T(test_config),
		T(test_size_mismatch_closes),
		T(test_fds_never_leak),
		T(test_fd_on_fdless_message),
		T(test_region_larger_than_file),
		T(test_unsealed_memory_accepted),
		T(test_ring_start_and_kick),
		T(test_full_call_fd_does_not_block),
		T(test_vring_index_checked),
		T(test_peer_close_resets),
		T(test_protocol_features_before_set_features),
		T(test_gated_messages_need_their_feature),
		T(test_order_qemu_ack),
		T(test_order_qemu),
		T(test_order_dpdk_ack),
		T(test_order_dpdk),
		T(test_order_spec_ack),
		T(test_order_spec),
		T(test_get_vring_base_waits_for_requests),
		T(test_mem_table_waits_for_requests),
		T(test_disconnect_waits_for_requests),
		T(test_shrunk_memory_breaks_only_that_device),
		T(test_config_change_channel),
	};

	/* The library's warnings are expected here: keep the output short. */
	log_init("test_vu", NULL);
	log_setverbose(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
