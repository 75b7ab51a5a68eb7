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

static void
d_kick(struct vu_dev *d, unsigned qi)
{
	struct fx *f = d->priv;

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
	.queue_kick = d_kick,
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

static void
test_unsealed_memory_refused(void **state)
{
	struct fx *f = *state;
	struct vu_mem_table_msg mt;
	int fd = memfd_create("u", MFD_CLOEXEC);

	/* Big enough, but the front-end could shrink it under us. */
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	negotiate(f);
	memset(&mt, 0, sizeof(mt));
	mt.nregions = 1;
	mt.r[0].size = 1 << 20;
	mt.r[0].uaddr = 0x700000000000ull;
	send_msg(f, VU_SET_MEM_TABLE, 0, &mt, 8 + 32, &fd, 1);
	assert_true(closed(f));
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
		T(test_unsealed_memory_refused),
		T(test_ring_start_and_kick),
		T(test_full_call_fd_does_not_block),
		T(test_vring_index_checked),
		T(test_peer_close_resets),
	};

	/* The library's warnings are expected here: keep the output short. */
	log_init("test_vu", NULL);
	log_setverbose(0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
