/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fuzz target: vhost-user message handling (src/vhost/vu.c), as a hostile
 * front-end drives it.
 *
 * A vu_dev (two queues) sits on one end of a socketpair with a fake event
 * loop; the input is a script of records, each one of
 *   - a message: header and payload bytes as the input has them (sizes
 *     and fields unchecked), sent whole or split in two writes, with 0..9
 *     fds attached (VU_MAX_FDS is 8): a memfd of "guest RAM" or an
 *     eventfd, as the record says.  Most records carry none, so this is
 *     mostly the message stream with fds omitted; the fds let a memory
 *     table and rings come up so that the ring paths are reached too;
 *   - a kick of a queue (its kick callback, as the event loop would);
 *   - a write into guest RAM (the guest building its rings).
 * The device's queue_kick pops every chain and completes it.  After the
 * script the device is closed, and no fd the library received may be left
 * open (fds are counted); ASan/LSan catch the rest.  Replies are drained
 * (and fds in them closed) after every record.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "tests/fuzz/fuzz.h"
#include "vhost/vu.h"

#define RAM_SIZE	0x10000u
#define MAXW		256

static int ram_fd = -1, evt_fd = -1;
static uint8_t *ram;

struct fake_loop {
	vu_watch_cb cb[MAXW];
	void *arg[MAXW];
};

static struct fake_loop loop;

static int
f_watch(void *l, int fd, vu_watch_cb cb, void *arg)
{
	if (fd < 0 || fd >= MAXW)
		return -1;
	loop.cb[fd] = cb;
	loop.arg[fd] = arg;
	return 0;
}

static void
f_unwatch(void *l, int fd)
{
	if (fd >= 0 && fd < MAXW)
		loop.cb[fd] = NULL;
}

static int
d_get_config(struct vu_dev *d, uint8_t *buf, uint32_t off, uint32_t len)
{
	FUZZ_CHECK(off <= VU_CONFIG_MAX && len <= VU_CONFIG_MAX - off);
	memset(buf, 0x5a, len);
	return 0;
}

static int
d_set_config(struct vu_dev *d, const uint8_t *buf, uint32_t off,
    uint32_t len)
{
	FUZZ_CHECK(off <= VU_CONFIG_MAX && len <= VU_CONFIG_MAX - off);
	return off == 0 ? 0 : -1;
}

static void
d_kick(struct vu_dev *d, unsigned qi)
{
	struct vu_queue *q = &d->q[qi];
	static struct vq_chain c;
	int n = 0;

	FUZZ_CHECK(qi < d->nqueues);
	while (n++ < 64 && vu_queue_ready(d, qi)) {
		int r = vq_pop(&q->vq, &c);

		if (r < 0) {
			vu_queue_break(d, qi, "bad chain");
			break;
		}
		if (r == 0)
			break;
		/* Touch every segment: they must be inside guest RAM. */
		for (unsigned i = 0; i < c.nout + c.nin; i++) {
			uint8_t *p = c.iov[i].iov_base;
			size_t len = c.iov[i].iov_len;

			if (i >= c.nout)
				memset(p, 0xa5, len);
			else
				(void)*(volatile uint8_t *)(p + len - 1);
		}
		vq_push(&q->vq, c.head, (uint32_t)c.in_len);
	}
	vu_queue_notify(d, qi);
}

static const struct vu_iface iface = {
	.get_config = d_get_config,
	.set_config = d_set_config,
	.queue_kick = d_kick,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setverbose(-1);
	ram_fd = memfd_create("fuzz-ram", MFD_CLOEXEC);
	if (ram_fd < 0 || ftruncate(ram_fd, RAM_SIZE) < 0)
		return 1;
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    ram_fd, 0);
	evt_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ram == MAP_FAILED || evt_fd < 0)
		return 1;
	return 0;
}

/* Read and drop whatever the device answered, closing fds it sent. */
static void
drain(int fd)
{
	for (;;) {
		char buf[4096], cbuf[CMSG_SPACE(4 * sizeof(int))];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;

		if (recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
			return;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k, n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (k = 0; k < n; k++) {
				int rfd;

				memcpy(&rfd, CMSG_DATA(cm) + k * sizeof(int),
				    sizeof(rfd));
				close(rfd);
			}
		}
	}
}

/* Let the device read what the socket has, as the event loop would. */
static void
poll_dev(int conn)
{
	if (conn >= 0 && conn < MAXW && loop.cb[conn] != NULL)
		loop.cb[conn](loop.arg[conn], conn, 1);
}

static void
send_part(int peer, const uint8_t *p, size_t len, const int *fds,
    unsigned nfds)
{
	char cbuf[CMSG_SPACE(9 * sizeof(int))];
	struct iovec iov = { (void *)(uintptr_t)p, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

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
	(void)sendmsg(peer, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vu_loop l = { f_watch, f_unwatch, &loop };
	static struct vu_dev dev;
	bool open_before[128];
	int sv[2], steps = 0;

	for (int fd = 0; fd < 128; fd++)
		open_before[fd] = fcntl(fd, F_GETFD) >= 0;
	memset(&loop, 0, sizeof(loop));
	memset(ram, 0, RAM_SIZE);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* Big enough for any one message and its replies. */
	FUZZ_CHECK(vu_dev_init(&dev, "fuzz", -1, sv[0], 2, 1ull << 9, &iface,
	    &l, NULL) == 0);
	while (in.n > 0 && steps++ < 256) {
		uint8_t kind = fuzz_u8(&in);

		switch (kind % 8) {
		default: {
			/* A message: 12 header bytes, then its payload. */
			uint8_t msg[sizeof(struct vu_hdr) +
			    sizeof(union vu_payload) + 16];
			struct vu_hdr h;
			uint8_t nf = fuzz_u8(&in), fdkind = fuzz_u8(&in);
			uint8_t split = fuzz_u8(&in);
			unsigned nfds = (nf & 0x80) ? (nf & 0xf) % 10 : 0;
			int fds[9];
			size_t len, plen;

			h.request = fuzz_u32(&in);
			h.flags = fuzz_u32(&in);
			h.size = fuzz_u32(&in);
			/* Mostly a size we can send; sometimes any size. */
			plen = h.size <= sizeof(msg) - sizeof(h) ? h.size :
			    (kind & 0x80 ? 0 : h.size % (sizeof(msg) -
			    sizeof(h) + 1));
			if (!(kind & 0x80))
				h.size = (uint32_t)plen;
			memcpy(msg, &h, sizeof(h));
			memset(msg + sizeof(h), 0, plen);
			len = plen < in.n ? plen : in.n;
			memcpy(msg + sizeof(h), in.p, len);
			in.p += len;
			in.n -= len;
			len = sizeof(h) + plen;
			for (unsigned i = 0; i < nfds; i++)
				fds[i] = (fdkind >> i) & 1 ? evt_fd : ram_fd;
			if (split > 0 && split < len) {
				send_part(sv[1], msg, split, fds, nfds);
				poll_dev(dev.conn_fd);
				send_part(sv[1], msg + split, len - split,
				    NULL, 0);
			} else {
				send_part(sv[1], msg, len, fds, nfds);
			}
			poll_dev(dev.conn_fd);
			break;
		}
		case 5: {
			/* The guest kicks a queue. */
			unsigned qi = fuzz_u8(&in) % VU_MAX_QUEUES;
			int kfd = qi < dev.nqueues ? dev.q[qi].kick_fd : -1;

			if (kfd >= 0 && kfd < MAXW && loop.cb[kfd] != NULL)
				loop.cb[kfd](loop.arg[kfd], kfd, 1);
			break;
		}
		case 6: {
			/* The guest writes its RAM. */
			uint16_t off = fuzz_u16(&in) % RAM_SIZE;
			size_t len = fuzz_u8(&in);

			if (len > in.n)
				len = in.n;
			if (len > RAM_SIZE - off)
				len = RAM_SIZE - off;
			memcpy(ram + off, in.p, len);
			in.p += len;
			in.n -= len;
			break;
		}
		case 7:
			/* The front-end hangs up half-way, or not. */
			if (fuzz_u8(&in) == 0xff) {
				close(sv[1]);
				sv[1] = -1;
				poll_dev(dev.conn_fd);
				in.n = 0;
			}
			break;
		}
		if (sv[1] >= 0)
			drain(sv[1]);
	}
	vu_dev_close(&dev);
	if (sv[1] >= 0)
		close(sv[1]);
	/* Nothing the library received may outlive the device. */
	for (int fd = 0; fd < 128; fd++)
		FUZZ_CHECK(open_before[fd] || fcntl(fd, F_GETFD) < 0);
	return 0;
}
