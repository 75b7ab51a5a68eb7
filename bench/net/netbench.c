/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench-net: a two-port vhost-user-net load generator.
 *
 * Two minimal vhost-user front-ends (tests/lib/front.c, the same code the
 * disk benchmark and the hostile-VMM test use) connect to two ports of a
 * back-end under test (isles-switchd, or dpdk-testpmd with two vhost
 * ports in io mode).  Port A's transmit queue is kept full of identical
 * frames addressed from A's MAC to B's; port B's receive queue is kept
 * full of buffers.  What arrives at B is counted.  The back-end's CPU
 * time comes from /proc/PID/stat around the measured interval, then over
 * an idle second.  Nothing here busy-polls: when neither ring moved, the
 * generator sleeps in poll() on both call eventfds.
 *
 * Trusts the back-end only as far as the rings go: used ids and lengths
 * are range-checked before they are used.
 *
 *   bench-net --a SOCK --b SOCK --size BYTES [--tso] [--seconds S]
 *             [--pid BACKEND_PID] [--label NAME]
 *
 * --size is the Ethernet frame size (64, 1500, 65535...); --tso sends
 * each frame as a TCP/IPv4 TSO super-frame (virtio-net GSO header,
 * gso_size 1448).  Prints one line of key=value results.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "tests/lib/front.h"

#define QSIZE		256
#define RXQ		0
#define TXQ		1
#define HDR		12
#define MEM_SIZE	(96ull << 20)

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0xbb, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0xbb, 0x02 };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of pid in seconds, or -1. */
static double
cpu_seconds(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void
put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* virtio-net header + Ethernet/IPv4/TCP frame of `size` bytes. */
static void
build_frame(uint8_t *b, size_t size, bool tso)
{
	uint8_t *eth = b + HDR, *ip = eth + 14, *tcp = ip + 20;

	memset(b, 0, HDR + size);
	if (tso) {
		b[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		b[1] = VIRTIO_NET_HDR_GSO_TCPV4;
		b[2] = 54;		/* hdr_len */
		b[4] = 1448 & 0xff;	/* gso_size */
		b[5] = 1448 >> 8;
		b[6] = 34;		/* csum_start: TCP header */
		b[8] = 16;		/* csum_offset: TCP checksum */
	}
	memcpy(eth, mac_b, 6);
	memcpy(eth + 6, mac_a, 6);
	put16be(eth + 12, 0x0800);
	if (size < 14 + 20 + 20)
		return;
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(size - 14 > 65535 ? 65535 : size - 14));
	ip[8] = 64;
	ip[9] = 6;		/* TCP */
	memcpy(ip + 12, "\x0a\xd5\x01\x01\x0a\xd5\x01\x02", 8);
	put16be(tcp, 40000);
	put16be(tcp + 2, 5001);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;		/* ACK */
	put16be(tcp + 14, 65535);
}

struct gen {
	struct vf_dev a, b;
	size_t size;		/* frame bytes */
	uint64_t rxbuf;		/* bytes per receive buffer */
	uint64_t tx_gpa[QSIZE], rx_gpa[QSIZE];
	uint64_t frames, bytes, bad;
};

static int
setup(struct gen *g, const char *sa, const char *sb, bool tso)
{
	uint64_t want = (1ull << VIRTIO_F_VERSION_1) |
	    (1ull << VIRTIO_NET_F_MRG_RXBUF);

	if (tso)
		want |= (1ull << VIRTIO_NET_F_CSUM) |
		    (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		    (1ull << VIRTIO_NET_F_HOST_TSO4) |
		    (1ull << VIRTIO_NET_F_GUEST_TSO4);
	if (vf_open(&g->a, sa, MEM_SIZE) < 0 || vf_setup(&g->a, 2, QSIZE,
	    want) < 0) {
		fprintf(stderr, "bench-net: port A %s: %s\n", sa,
		    strerror(errno));
		return -1;
	}
	if (vf_open(&g->b, sb, MEM_SIZE) < 0 || vf_setup(&g->b, 2, QSIZE,
	    want) < 0) {
		fprintf(stderr, "bench-net: port B %s: %s\n", sb,
		    strerror(errno));
		return -1;
	}
	g->rxbuf = (HDR + g->size + 2047) & ~2047ull;
	for (unsigned i = 0; i < QSIZE; i++) {
		struct vq_desc *d;

		g->tx_gpa[i] = vf_alloc(&g->a, HDR + g->size, 64);
		g->rx_gpa[i] = vf_alloc(&g->b, g->rxbuf, 64);
		if (g->tx_gpa[i] == 0 || g->rx_gpa[i] == 0) {
			fprintf(stderr, "bench-net: out of guest memory\n");
			return -1;
		}
		build_frame(vf_ptr(&g->a, g->tx_gpa[i]), g->size, tso);
		d = &g->a.q[TXQ].desc[i];
		d->addr = g->tx_gpa[i];
		d->len = (uint32_t)(HDR + g->size);
		d->flags = 0;
		d->next = 0;
		d = &g->b.q[RXQ].desc[i];
		d->addr = g->rx_gpa[i];
		d->len = (uint32_t)g->rxbuf;
		d->flags = VQ_DESC_F_WRITE;
		d->next = 0;
		vf_avail(&g->a.q[TXQ], (uint16_t)i);
		vf_avail(&g->b.q[RXQ], (uint16_t)i);
	}
	if (vf_kick(&g->b.q[RXQ]) < 0 || vf_kick(&g->a.q[TXQ]) < 0)
		return -1;
	return 0;
}

/* Reap and re-post; returns how many elements moved. */
static unsigned
step(struct gen *g, bool refill_tx)
{
	struct vf_ring *tx = &g->a.q[TXQ], *rx = &g->b.q[RXQ];
	uint32_t id, len;
	unsigned moved = 0, ntx = 0, nrx = 0;

	while (vf_used(rx, &id, &len) == 1) {
		moved++;
		if (id >= QSIZE || len < HDR || len > g->rxbuf) {
			g->bad++;
			continue;
		}
		g->frames++;
		g->bytes += len - HDR;
		vf_avail(rx, (uint16_t)id);
		nrx++;
	}
	while (vf_used(tx, &id, &len) == 1) {
		moved++;
		if (id >= QSIZE) {
			g->bad++;
			continue;
		}
		if (refill_tx) {
			vf_avail(tx, (uint16_t)id);
			ntx++;
		}
	}
	if (nrx > 0)
		vf_kick(rx);
	if (ntx > 0)
		vf_kick(tx);
	return moved;
}

static void
wait_either(struct gen *g, int ms)
{
	struct pollfd p[2] = {
		{ g->a.q[TXQ].call_fd, POLLIN, 0 },
		{ g->b.q[RXQ].call_fd, POLLIN, 0 },
	};
	uint64_t n;

	if (poll(p, 2, ms) <= 0)
		return;
	for (int i = 0; i < 2; i++)
		if ((p[i].revents & POLLIN) &&
		    read(p[i].fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			perror("bench-net: call fd");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "a", required_argument, NULL, 'a' },
		{ "b", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "tso", no_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "pid", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static struct gen g;
	const char *sa = NULL, *sb = NULL, *label = "backend";
	double seconds = 3, t0, t1, c0, c1, i0, i1, warm;
	bool tso = false;
	int c, pid = 0;
	uint64_t f0, b0;

	g.size = 64;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			sa = optarg;
			break;
		case 'b':
			sb = optarg;
			break;
		case 's':
			g.size = strtoul(optarg, NULL, 10);
			break;
		case 't':
			tso = true;
			break;
		case 'S':
			seconds = strtod(optarg, NULL);
			break;
		case 'p':
			pid = atoi(optarg);
			break;
		case 'l':
			label = optarg;
			break;
		default:
			return 2;
		}
	}
	if (sa == NULL || sb == NULL || g.size < 60 ||
	    g.size > 65535 + 14 || seconds <= 0) {
		fprintf(stderr, "usage: bench-net --a SOCK --b SOCK --size "
		    "60..65549 [--tso] [--seconds S] [--pid PID] "
		    "[--label NAME]\n");
		return 2;
	}
	if (setup(&g, sa, sb, tso) < 0)
		return 1;

	/* Warm up half a second, then measure. */
	warm = now() + 0.5;
	while (now() < warm)
		if (step(&g, true) == 0)
			wait_either(&g, 100);
	f0 = g.frames;
	b0 = g.bytes;
	c0 = cpu_seconds(pid);
	t0 = now();
	while ((t1 = now()) < t0 + seconds)
		if (step(&g, true) == 0)
			wait_either(&g, 100);
	c1 = cpu_seconds(pid);
	/* Stop sending, let the rings drain, then measure an idle second. */
	for (int i = 0; i < 5; i++) {
		step(&g, false);
		wait_either(&g, 20);
	}
	i0 = cpu_seconds(pid);
	sleep(1);
	i1 = cpu_seconds(pid);

	{
		double dt = t1 - t0, n = (double)(g.frames - f0);
		double cpu = c1 - c0;

		printf("%s size=%zu tso=%d frames=%.0f seconds=%.2f mpps=%.3f "
		    "gbps=%.2f backend_cpu_s=%.2f pkts_per_cpu_s=%.0f "
		    "idle_cpu_s=%.2f bad=%llu\n", label, g.size, tso ? 1 : 0,
		    n, dt, n / dt / 1e6,
		    (double)(g.bytes - b0) * 8 / dt / 1e9, cpu,
		    cpu > 0 ? n / cpu : 0, i1 - i0,
		    (unsigned long long)g.bad);
	}
	vf_close(&g.a);
	vf_close(&g.b);
	return g.frames > f0 ? 0 : 1;
}
