/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/switchd/sw_net.c, on split virtqueues laid out in a
 * plain buffer standing for guest memory: transmit-chain parsing (header
 * split across descriptors, short and oversized chains), delivery into a
 * receive queue with and without MRG_RXBUF (num_buffers, one used->idx
 * update, 64 KiB TSO frames), frames that do not fit (dropped, buffers
 * given back, never truncated), offloads the receiver did not negotiate,
 * a hostile receive ring (the queue breaks, nothing is written), and TSO
 * headers checked against the frame: bad ones refused (bad_gso), the
 * checked IP and TCP headers delivered from the switch's copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "switchd/sw_net.h"
#include "tcpframe.h"

#define F(n)		(1ull << (n))
#define MEM_SIZE	(1u << 20)
#define QNUM		64u
#define DESC_GPA	0x0000u
#define AVAIL_GPA	0x1000u
#define USED_GPA	0x2000u
#define BUF_GPA		0x10000u	/* receive buffers from here */

/* The addresses mkframe writes. */
static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0xaa, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };

struct guest {
	uint8_t *mem;
	struct vu_mem vm;
	struct vq q;
	uint16_t avail_idx;
	uint16_t next_desc;
};

static struct guest *
guest_new(void)
{
	struct guest *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	g->mem = calloc(1, MEM_SIZE);
	assert_non_null(g->mem);
	g->vm.n = 1;
	g->vm.r[0].gpa = 0;
	g->vm.r[0].size = MEM_SIZE;
	g->vm.r[0].host = g->mem;
	assert_int_equal(vq_set_rings(&g->q, &g->vm, QNUM, DESC_GPA,
	    AVAIL_GPA, USED_GPA), 0);
	assert_int_equal(vq_start(&g->q, NULL), 0);
	return g;
}

static void
guest_free(struct guest *g)
{
	free(g->mem);
	free(g);
}

static struct vq_desc *
desc(struct guest *g, unsigned i)
{
	return (struct vq_desc *)(g->mem + DESC_GPA) + i;
}

static struct vq_avail *
avail(struct guest *g)
{
	return (struct vq_avail *)(g->mem + AVAIL_GPA);
}

static struct vq_used *
used(struct guest *g)
{
	return (struct vq_used *)(g->mem + USED_GPA);
}

/* Post a chain of n descriptors (addr, len, flags) and publish it. */
static uint16_t
post(struct guest *g, unsigned n, const uint64_t *addr, const uint32_t *len,
    uint16_t flags)
{
	uint16_t head = g->next_desc;

	for (unsigned i = 0; i < n; i++) {
		struct vq_desc *d = desc(g, g->next_desc);

		d->addr = addr[i];
		d->len = len[i];
		d->flags = flags | (i + 1 < n ? VQ_DESC_F_NEXT : 0);
		d->next = (uint16_t)((g->next_desc + 1) % QNUM);
		g->next_desc = (uint16_t)((g->next_desc + 1) % QNUM);
	}
	avail(g)->ring[g->avail_idx % QNUM] = head;
	g->avail_idx++;
	avail(g)->idx = g->avail_idx;
	return head;
}

/* Post `count` receive buffers of `size` bytes each, back to back. */
static void
post_rx(struct guest *g, unsigned count, uint32_t size)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t a = BUF_GPA + (uint64_t)i * size;

		post(g, 1, &a, &size, VQ_DESC_F_WRITE);
	}
}

/* A test frame: Ethernet header dst/src then a counting pattern. */
static uint8_t *
mkframe(size_t len)
{
	uint8_t *f = malloc(len);

	assert_non_null(f);
	memcpy(f, "\x02\x00\x00\x00\xaa\x02\x02\x00\x00\x00\xaa\x01\x08\x00",
	    14);
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(i * 7 + 3);
	return f;
}

/* Frame as a transmit chain in host memory: header, then pieces. */
static void
tx_parse(struct sw_frame *sf, const uint8_t *hdr, size_t hl,
    const uint8_t *frame, size_t len, uint64_t features, enum sw_drop want)
{
	struct iovec iov[4];

	iov[0].iov_base = (void *)hdr;
	iov[0].iov_len = hl;
	iov[1].iov_base = (void *)frame;
	iov[1].iov_len = len;
	assert_int_equal(sw_frame_parse(sf, iov, 2, hl, features), want);
}

static void
test_parse(void **state)
{
	static struct sw_frame sf;
	uint64_t all = sw_net_features();
	uint8_t *frame = mkframe(1514), flat[1514];
	uint8_t hdr[12] = { 0 };
	/* Header split 5/7 and the Ethernet header split 3/11. */
	struct iovec iov[5] = {
		{ hdr, 5 }, { hdr + 5, 7 }, { frame, 3 }, { frame + 3, 11 },
		{ frame + 14, 1500 },
	};

	assert_int_equal(sw_frame_parse(&sf, iov, 5, 12, all), SW_DROP_NONE);
	assert_int_equal(sf.len, 1514);
	assert_int_equal(sf.head_len, 14);
	assert_memory_equal(sf.head, frame, 14);
	assert_int_equal(sf.niov, 1);
	assert_int_equal(sw_frame_flatten(&sf, flat), 1514);
	assert_memory_equal(flat, frame, 1514);

	/* Payload starting mid-segment. */
	struct iovec iov2[2] = { { hdr, 12 }, { frame, 1514 } };
	assert_int_equal(sw_frame_parse(&sf, iov2, 2, 12, all), SW_DROP_NONE);
	assert_int_equal(sf.niov, 1);
	assert_ptr_equal(sf.iov[0].iov_base, frame + 14);
	assert_int_equal(sf.iov[0].iov_len, 1500);

	/* Exactly an Ethernet header is a frame; one byte less is not. */
	tx_parse(&sf, hdr, 12, frame, 14, all, SW_DROP_NONE);
	assert_int_equal(sf.niov, 0);
	tx_parse(&sf, hdr, 12, frame, 13, all, SW_DROP_MALFORMED);
	/* Only a header. */
	assert_int_equal(sw_frame_parse(&sf, iov, 2, 12, all),
	    SW_DROP_MALFORMED);
	/* A bad header: GSO type UDP. */
	hdr[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	hdr[1] = VIRTIO_NET_HDR_GSO_UDP;
	hdr[4] = 0xb0;
	hdr[5] = 0x05;
	tx_parse(&sf, hdr, 12, frame, 1514, all, SW_DROP_MALFORMED);
	free(frame);

	/* Larger than 64 KiB + Ethernet header. */
	uint8_t *big = calloc(1, SW_MAX_FRAME + 1);
	memset(hdr, 0, sizeof(hdr));
	tx_parse(&sf, hdr, 12, big, SW_MAX_FRAME, all, SW_DROP_NONE);
	tx_parse(&sf, hdr, 12, big, SW_MAX_FRAME + 1, all, SW_DROP_MALFORMED);
	free(big);
}

/* Concatenate the used buffers of a receive queue, check the header. */
static size_t
collect(struct guest *g, uint16_t from, unsigned n, uint32_t bufsize,
    uint8_t *out, size_t hl)
{
	size_t pos = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vq_used_elem *e = &used(g)->ring[(from + i) % QNUM];
		const uint8_t *b = g->mem + desc(g, e->id)->addr;

		assert_true(e->len <= bufsize);
		if (i == 0) {
			assert_true(e->len >= hl);
			memcpy(out, b + hl, e->len - hl);
			pos += e->len - hl;
		} else {
			memcpy(out + pos, b, e->len);
			pos += e->len;
		}
	}
	return pos;
}

/* Staged frames are in the buffers but not in the used ring until published. */
static void
test_stage_publish(void **state)
{
	static struct sw_frame sf;
	static struct sw_rx_scratch s;
	uint64_t f = F(VIRTIO_F_VERSION_1);
	struct guest *g = guest_new();
	uint8_t *frame = mkframe(60), hdr[12] = { 0 }, out[2048];

	post_rx(g, 3, 2048);
	tx_parse(&sf, hdr, 12, frame, 60, f, SW_DROP_NONE);
	assert_int_equal(sw_rx_stage(&g->q, f, &sf, &s), SW_DROP_NONE);
	assert_int_equal(sw_rx_stage(&g->q, f, &sf, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->idx, 0);
	assert_int_equal(s.nstaged, 2);
	assert_true(sw_rx_publish(&g->q, &s));
	assert_int_equal(used(g)->idx, 2);
	assert_int_equal(used(g)->ring[1].len, 72);
	assert_int_equal(collect(g, 1, 1, 2048, out, 12), 60);
	assert_memory_equal(out, frame, 60);
	assert_false(sw_rx_publish(&g->q, &s));
	/* A queue broken meanwhile gets nothing of what was staged. */
	assert_int_equal(sw_rx_stage(&g->q, f, &sf, &s), SW_DROP_NONE);
	g->q.broken = true;
	assert_false(sw_rx_publish(&g->q, &s));
	assert_int_equal(used(g)->idx, 2);
	free(frame);
	guest_free(g);
}

static void
test_deliver_single(void **state)
{
	static struct sw_frame sf;
	static struct sw_rx_scratch s;
	uint64_t f = F(VIRTIO_F_VERSION_1);
	struct guest *g = guest_new();
	uint8_t *frame = mkframe(1514), hdr[12] = { 0 }, out[2048];
	struct sw_vnet_hdr h;

	tx_parse(&sf, hdr, 12, frame, 1514, f, SW_DROP_NONE);
	/* No buffers at all. */
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_NOBUF);
	/* A buffer one byte too small: dropped, not truncated, given back. */
	post_rx(g, 1, 12 + 1514 - 1);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_TOOBIG);
	assert_int_equal(g->q.last_avail, 0);
	assert_int_equal(used(g)->idx, 0);
	/* A small frame still fits the same buffer. */
	tx_parse(&sf, hdr, 12, frame, 60, f, SW_DROP_NONE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->idx, 1);
	assert_int_equal(used(g)->ring[0].len, 72);
	assert_int_equal(collect(g, 0, 1, 2048, out, 12), 60);
	assert_memory_equal(out, frame, 60);
	sw_vnet_hdr_decode(g->mem + BUF_GPA, 12, &h);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(h.gso_type, 0);

	/* An exactly fitting buffer takes the full frame. */
	uint64_t a = BUF_GPA + 4096;
	uint32_t l = 12 + 1514;
	post(g, 1, &a, &l, VQ_DESC_F_WRITE);
	tx_parse(&sf, hdr, 12, frame, 1514, f, SW_DROP_NONE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->ring[1].len, 1526);
	assert_memory_equal(g->mem + a + 12, frame, 1514);

	/* A receive chain split in three writable descriptors. */
	uint64_t aa[3] = { BUF_GPA + 8192, BUF_GPA + 9000, BUF_GPA + 12000 };
	uint32_t ll[3] = { 10 + 12, 7, 2000 };
	post(g, 3, aa, ll, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->ring[2].len, 1526);
	assert_memory_equal(g->mem + aa[0] + 12, frame, 10);
	assert_memory_equal(g->mem + aa[1], frame + 10, 7);
	assert_memory_equal(g->mem + aa[2], frame + 17, 1514 - 17);
	free(frame);
	guest_free(g);
}

static void
test_deliver_mergeable_tso(void **state)
{
	static struct sw_frame sf;
	static struct sw_rx_scratch s;
	static uint8_t out[70000];
	uint64_t all = sw_net_features();
	struct guest *g = guest_new();
	size_t len = 65535 + 14;
	uint8_t *frame = mkframe(len);
	uint8_t hdr[12] = { VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV4, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0 };
	unsigned need = (unsigned)((len + 12 + 1535) / 1536);
	struct sw_vnet_hdr h;

	tf_tcp4(frame, len, mac_dst, mac_src);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_NONE);
	/* Too few buffers: nothing consumed, nothing published. */
	post_rx(g, need - 1, 1536);
	assert_int_equal(sw_rx_deliver(&g->q, all, &sf, &s), SW_DROP_NOBUF);
	assert_int_equal(g->q.last_avail, 0);
	assert_int_equal(used(g)->idx, 0);
	/* One more buffer: the frame goes through whole. */
	uint64_t a = BUF_GPA + (uint64_t)(need - 1) * 1536;
	uint32_t l = 1536;
	post(g, 1, &a, &l, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, all, &sf, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->idx, need);
	assert_int_equal(g->q.last_avail, need);
	sw_vnet_hdr_decode(g->mem + BUF_GPA, 12, &h);
	assert_int_equal(h.num_buffers, need);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(collect(g, 0, need, 1536, out, 12), len);
	assert_memory_equal(out, frame, len);

	/* The same frame to a receiver without GUEST_TSO4: dropped. */
	post_rx(g, need, 1536);
	assert_int_equal(sw_rx_deliver(&g->q,
	    all & ~F(VIRTIO_NET_F_GUEST_TSO4), &sf, &s), SW_DROP_OFFLOAD);
	assert_int_equal(used(g)->idx, need);
	/* Without MRG_RXBUF, 1536-byte buffers cannot hold it. */
	assert_int_equal(sw_rx_deliver(&g->q,
	    all & ~F(VIRTIO_NET_F_MRG_RXBUF), &sf, &s), SW_DROP_TOOBIG);
	assert_int_equal(used(g)->idx, need);
	free(frame);
	guest_free(g);
}

static void
test_hostile_receiver(void **state)
{
	static struct sw_frame sf;
	static struct sw_rx_scratch s;
	uint64_t f = sw_net_features();
	uint8_t *frame = mkframe(100), hdr[12] = { 0 };
	struct guest *g;

	tx_parse(&sf, hdr, 12, frame, 100, f, SW_DROP_NONE);

	/* A readable descriptor in a receive chain. */
	g = guest_new();
	uint64_t a = BUF_GPA;
	uint32_t l = 2048;
	post(g, 1, &a, &l, 0);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_DOWN);
	assert_true(g->q.broken);
	assert_int_equal(used(g)->idx, 0);
	/* Broken stays broken. */
	post(g, 1, &a, &l, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_DOWN);
	guest_free(g);

	/* A buffer smaller than the virtio-net header. */
	g = guest_new();
	l = 8;
	post(g, 1, &a, &l, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_DOWN);
	assert_true(g->q.broken);
	guest_free(g);

	/* avail->idx jumping by more than the ring holds. */
	g = guest_new();
	avail(g)->idx = QNUM + 1;
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_DOWN);
	assert_true(g->q.broken);
	guest_free(g);

	/* A buffer outside guest memory. */
	g = guest_new();
	a = MEM_SIZE - 16;
	l = 2048;
	post(g, 1, &a, &l, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, f, &sf, &s), SW_DROP_DOWN);
	assert_true(g->q.broken);
	guest_free(g);

	/* An unconfigured queue. */
	struct vq empty = { 0 };
	assert_int_equal(sw_rx_deliver(&empty, f, &sf, &s), SW_DROP_DOWN);
	free(frame);
}

/* Set the 12-byte header of a TSO frame. */
static void
tso_hdr(uint8_t *hdr, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
    uint16_t csum_start)
{
	struct sw_vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    .gso_type = gso, .hdr_len = hdr_len, .gso_size = gso_size,
	    .csum_start = csum_start, .csum_offset = 16 };

	sw_vnet_hdr_encode(&h, hdr, 12);
}

/*
 * TSO headers against the frame they came with: the IP and TCP headers
 * are copied out (even split over descriptors) and checked; bad headers
 * are refused as bad_gso whatever the frame; the receiver gets the
 * checked copy even if the sender rewrites its memory afterwards.
 */
static void
test_parse_tso(void **state)
{
	static struct sw_frame sf;
	static struct sw_rx_scratch s;
	static uint8_t flat[SW_MAX_FRAME], out[70000];
	uint64_t all = sw_net_features();
	struct guest *g = guest_new();
	size_t len = 20000;
	uint8_t *frame = mkframe(len), hdr[12];
	struct sw_vnet_hdr h;

	tf_tcp4(frame, len, mac_dst, mac_src);
	/* The TCP header split over three descriptors. */
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34);
	struct iovec iov[5] = {
		{ hdr, 12 }, { frame, 40 }, { frame + 40, 10 },
		{ frame + 50, 300 }, { frame + 350, len - 350 },
	};
	assert_int_equal(sw_frame_parse(&sf, iov, 5, 12, all), SW_DROP_NONE);
	assert_int_equal(sf.len, len);
	assert_int_equal(sf.head_len, SW_HEAD_MAX);
	assert_memory_equal(sf.head, frame, SW_HEAD_MAX);
	assert_int_equal(sf.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(sw_frame_flatten(&sf, flat), len);
	assert_memory_equal(flat, frame, len);

	/* The sender rewrites its TCP header after the check: the receiver
	 * still gets the headers that were checked. */
	frame[34 + 12] = 0x10;			/* data offset 1 */
	frame[30] = 0xee;			/* destination address */
	post_rx(g, 20, 1536);
	assert_int_equal(sw_rx_deliver(&g->q, all, &sf, &s), SW_DROP_NONE);
	sw_vnet_hdr_decode(g->mem + BUF_GPA, 12, &h);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(collect(g, 0, h.num_buffers, 1536, out, 12), len);
	assert_int_equal(out[34 + 12], 0x80);
	assert_int_equal(out[30], 0);
	assert_memory_equal(out + SW_HEAD_MAX, frame + SW_HEAD_MAX,
	    len - SW_HEAD_MAX);
	tf_tcp4(frame, len, mac_dst, mac_src);

	/* Bad TSO headers: refused, whatever else is right. */
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 0, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, (uint16_t)(len + 1), 1448, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 20, 1448, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 14);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV6, 66, 1448, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	/* A frame that is not TCP/IP (the counting pattern). */
	free(frame);
	frame = mkframe(len);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 34);
	tx_parse(&sf, hdr, 12, frame, len, all, SW_DROP_BADGSO);
	/* A TSO frame shorter than SW_HEAD_MAX: all of it is the head. */
	tf_tcp4(frame, 200, mac_dst, mac_src);
	tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 100, 34);
	tx_parse(&sf, hdr, 12, frame, 200, all, SW_DROP_NONE);
	assert_int_equal(sf.head_len, 200);
	assert_int_equal(sf.niov, 0);
	assert_int_equal(sf.hdr.gso_size, 100);
	free(frame);
	guest_free(g);
}

/*
 * Header and frame in one segment (the layout most senders use, parsed
 * without the segment cursor) give what the same bytes in two segments
 * give, for every size rule; so does delivery into one buffer that holds
 * the whole frame (written without cursors) against a chain of three.
 */
static void
test_one_segment(void **state)
{
	static struct sw_frame one, two;
	static struct sw_rx_scratch s;
	static uint8_t buf[12 + SW_MAX_FRAME + 1];
	static const size_t sizes[] = { 13, 14, 15, 60, 1514, 20000,
	    SW_MAX_FRAME, SW_MAX_FRAME + 1 };
	uint64_t all = sw_net_features(), mrg = F(VIRTIO_F_VERSION_1) |
	    F(VIRTIO_NET_F_MRG_RXBUF);
	uint8_t hdr[12] = { 0 };

	for (unsigned k = 0; k < 2 * (sizeof(sizes) / sizeof(sizes[0])); k++) {
		size_t len = sizes[k / 2];
		bool tso = k % 2 == 1;
		uint8_t *frame = mkframe(len < 14 ? 14 : len);
		struct iovec iov = { buf, 12 + len };
		enum sw_drop w1, w2;

		memset(hdr, 0, sizeof(hdr));
		if (tso && len >= 200) {
			tf_tcp4(frame, len, mac_dst, mac_src);
			tso_hdr(hdr, VIRTIO_NET_HDR_GSO_TCPV4, 66, 100, 34);
		}
		memcpy(buf, hdr, 12);
		memcpy(buf + 12, frame, len);
		w1 = sw_frame_parse(&one, &iov, 1, 12, all);
		struct iovec iov2[2] = { { hdr, 12 }, { frame, len } };
		w2 = sw_frame_parse(&two, iov2, 2, 12, all);
		assert_int_equal(w1, w2);
		assert_int_equal(w1, len < 14 || len > SW_MAX_FRAME ?
		    SW_DROP_MALFORMED : SW_DROP_NONE);
		if (w1 == SW_DROP_NONE) {
			static uint8_t f1[SW_MAX_FRAME], f2[SW_MAX_FRAME];

			assert_int_equal(one.len, len);
			assert_int_equal(one.head_len, two.head_len);
			assert_int_equal(one.niov, two.niov);
			assert_memory_equal(&one.hdr, &two.hdr, sizeof(one.hdr));
			assert_int_equal(sw_frame_flatten(&one, f1), len);
			assert_int_equal(sw_frame_flatten(&two, f2), len);
			assert_memory_equal(f1, frame, len);
			assert_memory_equal(f2, frame, len);
		}
		free(frame);
	}

	/* Delivery: one 2048-byte buffer, then a chain of three. */
	struct guest *g = guest_new();
	uint8_t *frame = mkframe(1514), out[2048];
	struct iovec iov = { buf, 12 + 1514 };
	struct sw_vnet_hdr h;

	memset(buf, 0, 12);
	memcpy(buf + 12, frame, 1514);
	assert_int_equal(sw_frame_parse(&one, &iov, 1, 12, mrg), SW_DROP_NONE);
	post_rx(g, 1, 2048);
	uint64_t aa[3] = { BUF_GPA + 8192, BUF_GPA + 9000, BUF_GPA + 12000 };
	uint32_t ll[3] = { 10 + 12, 7, 2000 };
	post(g, 3, aa, ll, VQ_DESC_F_WRITE);
	assert_int_equal(sw_rx_deliver(&g->q, mrg, &one, &s), SW_DROP_NONE);
	assert_int_equal(sw_rx_deliver(&g->q, mrg, &one, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->idx, 2);
	assert_int_equal(used(g)->ring[0].len, 1526);
	assert_int_equal(used(g)->ring[1].len, 1526);
	sw_vnet_hdr_decode(g->mem + BUF_GPA, 12, &h);
	assert_int_equal(h.num_buffers, 1);
	assert_int_equal(collect(g, 0, 1, 2048, out, 12), 1514);
	assert_memory_equal(out, frame, 1514);
	sw_vnet_hdr_decode(g->mem + aa[0], 12, &h);
	assert_int_equal(h.num_buffers, 1);
	assert_memory_equal(g->mem + aa[0] + 12, frame, 10);
	assert_memory_equal(g->mem + aa[1], frame + 10, 7);
	assert_memory_equal(g->mem + aa[2], frame + 17, 1514 - 17);

	/* A buffer too small for the frame: merged with the next one. */
	post_rx(g, 2, 1024);
	assert_int_equal(sw_rx_deliver(&g->q, mrg, &one, &s), SW_DROP_NONE);
	assert_int_equal(used(g)->idx, 4);
	sw_vnet_hdr_decode(g->mem + BUF_GPA, 12, &h);
	assert_int_equal(h.num_buffers, 2);
	assert_int_equal(collect(g, 2, 2, 1024, out, 12), 1514);
	assert_memory_equal(out, frame, 1514);
	/* A readable receive buffer breaks the queue, nothing written. */
	uint64_t a = BUF_GPA;
	uint32_t l = 2048;
	memset(g->mem + BUF_GPA, 0x5a, 2048);
	post(g, 1, &a, &l, 0);
	assert_int_equal(sw_rx_deliver(&g->q, mrg, &one, &s), SW_DROP_DOWN);
	assert_true(g->q.broken);
	assert_int_equal(used(g)->idx, 4);
	assert_int_equal(g->mem[BUF_GPA], 0x5a);
	free(frame);
	guest_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_deliver_single),
		cmocka_unit_test(test_stage_publish),
		cmocka_unit_test(test_deliver_mergeable_tso),
		cmocka_unit_test(test_parse_tso),
		cmocka_unit_test(test_hostile_receiver),
		cmocka_unit_test(test_one_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
