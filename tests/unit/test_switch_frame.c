/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/switchd/sw_frame.c: destination classification, MAC
 * text conversion and the virtio-net header rules (what a sender may
 * write for the features it negotiated, what a receiver can take), the
 * TCP/IP header walk and the TSO header checked against its frame.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "switchd/sw_frame.h"
#include "tcpframe.h"

#define F(n)	(1ull << (n))
#define CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM
#define TCPV4	VIRTIO_NET_HDR_GSO_TCPV4
#define TCPV6	VIRTIO_NET_HDR_GSO_TCPV6
#define ECN	VIRTIO_NET_HDR_GSO_ECN

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0xaa, 0x02 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };
static uint8_t big[65000];	/* a TSO frame: tf_tcp4(big, ...) */

/* check_tx of a frame that is not TSO: the head is not looked at. */
static enum sw_drop
check_plain(struct sw_vnet_hdr *h, uint64_t features, size_t len)
{
	return sw_vnet_hdr_check_tx(h, features, NULL, 0, len);
}

/* check_tx of frame f[0..len), its head as sw_frame_parse copies it. */
static enum sw_drop
check_frame(struct sw_vnet_hdr *h, uint64_t features, const uint8_t *f,
    size_t len)
{
	return sw_vnet_hdr_check_tx(h, features, f,
	    len < SW_HEAD_MAX ? len : SW_HEAD_MAX, len);
}

static void
test_classify(void **state)
{
	static const struct {
		uint8_t mac[6];
		enum sw_class cls;
	} cases[] = {
		{ { 0x02, 0, 0, 0, 0xaa, 0x01 }, SW_CLASS_UNICAST },
		{ { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, SW_CLASS_UNICAST },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, SW_CLASS_BROADCAST },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }, SW_CLASS_MCAST },
		{ { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, SW_CLASS_MCAST4 },
		{ { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff }, SW_CLASS_MCAST4 },
		/* 01:00:5e with the 25th bit set is not IPv4 multicast. */
		{ { 0x01, 0x00, 0x5e, 0x80, 0x00, 0x01 }, SW_CLASS_MCAST },
		{ { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, SW_CLASS_MCAST6 },
		{ { 0x33, 0x33, 0xff, 0x00, 0xaa, 0x02 }, SW_CLASS_MCAST6 },
		/* 33:34 is an ordinary group address. */
		{ { 0x33, 0x34, 0x00, 0x00, 0x00, 0x01 }, SW_CLASS_MCAST },
		{ { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 }, SW_CLASS_LINKLOCAL },
		{ { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e }, SW_CLASS_LINKLOCAL },
		{ { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x10 }, SW_CLASS_MCAST },
		/* 0x32 is individual (bit 0 clear) even though it looks close. */
		{ { 0x32, 0x33, 0x00, 0x00, 0x00, 0x01 }, SW_CLASS_UNICAST },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum sw_class got = sw_classify(cases[i].mac);

		if (got != cases[i].cls)
			fail_msg("case %zu: %s, want %s", i, sw_class_name(got),
			    sw_class_name(cases[i].cls));
	}
}

static void
test_mac_text(void **state)
{
	uint8_t mac[6], want[6] = { 0x02, 0, 0, 0, 0xaa, 0x0f };
	char s[SW_MAC_STRLEN];

	assert_int_equal(sw_mac_parse("02:00:00:00:AA:0f", mac), 0);
	assert_memory_equal(mac, want, 6);
	sw_mac_format(mac, s);
	assert_string_equal(s, "02:00:00:00:aa:0f");

	static const char *const bad[] = {
		"", "02:00:00:00:aa", "02:00:00:00:aa:01:02", "02-00-00-00-aa-01",
		"02:00:00:00:aa:0g", "2:00:00:00:aa:01:", "02:00:00:00:aa:1",
		" 02:00:00:00:aa:01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(mac, want, 6);
		errno = 0;
		if (sw_mac_parse(bad[i], mac) != -1 || errno != EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(mac, want, 6);	/* untouched */
	}
	assert_int_equal(sw_mac_parse(NULL, mac), -1);

	assert_true(sw_mac_valid_station(want));
	uint8_t zero[6] = { 0 }, group[6] = { 0x01, 0, 0, 0, 0, 1 };
	assert_false(sw_mac_valid_station(zero));
	assert_false(sw_mac_valid_station(group));
}

static void
test_hdr_codec(void **state)
{
	uint8_t raw[12] = { 1, 4, 0x36, 0x00, 0xa8, 0x05, 0x22, 0x00,
	    0x10, 0x00, 0x03, 0x00 };
	uint8_t out[12];
	struct sw_vnet_hdr h;

	sw_vnet_hdr_decode(raw, 12, &h);
	assert_int_equal(h.flags, 1);
	assert_int_equal(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(h.hdr_len, 0x36);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.csum_start, 0x22);
	assert_int_equal(h.csum_offset, 0x10);
	assert_int_equal(h.num_buffers, 3);
	sw_vnet_hdr_encode(&h, out, 12);
	assert_memory_equal(out, raw, 12);

	/* Legacy 10-byte header: num_buffers is implicit. */
	sw_vnet_hdr_decode(raw, 10, &h);
	assert_int_equal(h.num_buffers, 1);
	memset(out, 0xee, sizeof(out));
	sw_vnet_hdr_encode(&h, out, 10);
	assert_memory_equal(out, raw, 10);
	assert_int_equal(out[10], 0xee);	/* nothing written past 10 */

	assert_int_equal(sw_vnet_hdr_len(F(VIRTIO_F_VERSION_1)), 12);
	assert_int_equal(sw_vnet_hdr_len(F(VIRTIO_NET_F_MRG_RXBUF)), 12);
	assert_int_equal(sw_vnet_hdr_len(F(VIRTIO_NET_F_CSUM)), 10);
}

static struct sw_vnet_hdr
hdr(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cs, uint16_t co)
{
	return (struct sw_vnet_hdr){ .flags = flags, .gso_type = gso,
	    .gso_size = gso_size, .csum_start = cs, .csum_offset = co,
	    .hdr_len = 66, .num_buffers = 7 };
}

static void
test_hdr_check_tx(void **state)
{
	uint64_t all = sw_net_features();
	uint64_t none = F(VIRTIO_F_VERSION_1);
	struct sw_vnet_hdr h;

	/* Plain frames: any length from a bare header to SW_MAX_FRAME. */
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, 60), SW_DROP_NONE);
	assert_int_equal(h.gso_size, 0);
	assert_int_equal(h.hdr_len, 0);
	assert_int_equal(h.num_buffers, 0);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, 14), SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, 13), SW_DROP_MALFORMED);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, 9000), SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, SW_MAX_FRAME),
	    SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, SW_MAX_FRAME + 1),
	    SW_DROP_MALFORMED);

	/* DATA_VALID and unknown flags are cleared on transmit. */
	h = hdr(0xfe, 0, 0, 0, 0);
	assert_int_equal(check_plain(&h, none, 60), SW_DROP_NONE);
	assert_int_equal(h.flags, 0);

	/* Partial checksum: only when negotiated, and inside the frame. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(check_plain(&h, none, 100),
	    SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(check_plain(&h, all, 100), SW_DROP_NONE);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(check_plain(&h, all, 52), SW_DROP_NONE);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(check_plain(&h, all, 51), SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff);
	assert_int_equal(check_plain(&h, all, SW_MAX_FRAME),
	    SW_DROP_MALFORMED);

	/* TSO: needs HOST_TSO4/6 respectively, NEEDS_CSUM and gso_size. */
	tf_tcp4(big, sizeof(big), mac_a, mac_b);
	h = hdr(CSUM, TCPV4, 1448, 34, 16);
	assert_int_equal(check_frame(&h, all, big, 65000), SW_DROP_NONE);
	assert_int_equal(h.gso_type, TCPV4);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.hdr_len, 66);
	assert_int_equal(h.num_buffers, 0);
	h = hdr(CSUM, TCPV4, 1448, 34, 16);
	assert_int_equal(check_frame(&h, all & ~F(VIRTIO_NET_F_HOST_TSO4),
	    big, 65000), SW_DROP_MALFORMED);
	h = hdr(0, TCPV4, 1448, 34, 16);
	assert_int_equal(check_frame(&h, all, big, 65000), SW_DROP_MALFORMED);
	/* ECN only with HOST_ECN, never on a non-GSO frame. */
	h = hdr(CSUM, TCPV4 | ECN, 1448, 34, 16);
	assert_int_equal(check_frame(&h, all, big, 65000), SW_DROP_NONE);
	assert_int_equal(h.gso_type, TCPV4 | ECN);
	h = hdr(CSUM, TCPV4 | ECN, 1448, 34, 16);
	assert_int_equal(check_frame(&h, all & ~F(VIRTIO_NET_F_HOST_ECN),
	    big, 65000), SW_DROP_MALFORMED);
	h = hdr(0, ECN, 0, 0, 0);
	assert_int_equal(check_plain(&h, all, 60), SW_DROP_MALFORMED);
	/* TCPV6 needs HOST_TSO6 (and not HOST_TSO4). */
	{
		static const struct tf_shape s6 = { .v6 = true, .tcp_opt = 12 };
		size_t l4;

		tf_build(big, sizeof(big), mac_a, mac_b, &s6, &l4);
		assert_int_equal(l4, 54);
	}
	h = hdr(CSUM, TCPV6, 1428, 54, 16);
	h.hdr_len = 86;
	assert_int_equal(check_frame(&h, all & ~F(VIRTIO_NET_F_HOST_TSO4),
	    big, 65000), SW_DROP_NONE);
	h = hdr(CSUM, TCPV6, 1428, 54, 16);
	h.hdr_len = 86;
	assert_int_equal(check_frame(&h, all & ~F(VIRTIO_NET_F_HOST_TSO6),
	    big, 65000), SW_DROP_MALFORMED);
	/* UDP fragmentation offload and unknown types are not offered. */
	h = hdr(CSUM, VIRTIO_NET_HDR_GSO_UDP, 1472, 34, 6);
	assert_int_equal(check_frame(&h, ~0ull, big, 9000), SW_DROP_MALFORMED);
	h = hdr(CSUM, 2, 1472, 34, 6);
	assert_int_equal(check_frame(&h, ~0ull, big, 9000), SW_DROP_MALFORMED);
}

static void
test_hdr_check_rx(void **state)
{
	uint64_t all = sw_net_features();
	struct sw_vnet_hdr plain = hdr(0, 0, 0, 0, 0);
	struct sw_vnet_hdr csum = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6);
	struct sw_vnet_hdr tso4 = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	struct sw_vnet_hdr tso6 = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV6, 1428, 54, 16);
	struct sw_vnet_hdr ecn = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16);

	assert_int_equal(sw_vnet_hdr_check_rx(&plain, 0), SW_DROP_NONE);
	assert_int_equal(sw_vnet_hdr_check_rx(&csum, all), SW_DROP_NONE);
	assert_int_equal(sw_vnet_hdr_check_rx(&csum,
	    all & ~F(VIRTIO_NET_F_GUEST_CSUM)), SW_DROP_OFFLOAD);
	assert_int_equal(sw_vnet_hdr_check_rx(&tso4, all), SW_DROP_NONE);
	assert_int_equal(sw_vnet_hdr_check_rx(&tso4,
	    all & ~F(VIRTIO_NET_F_GUEST_TSO4)), SW_DROP_OFFLOAD);
	assert_int_equal(sw_vnet_hdr_check_rx(&tso4,
	    all & ~F(VIRTIO_NET_F_GUEST_TSO6)), SW_DROP_NONE);
	assert_int_equal(sw_vnet_hdr_check_rx(&tso6,
	    all & ~F(VIRTIO_NET_F_GUEST_TSO6)), SW_DROP_OFFLOAD);
	assert_int_equal(sw_vnet_hdr_check_rx(&tso6,
	    all & ~F(VIRTIO_NET_F_GUEST_CSUM)), SW_DROP_OFFLOAD);
	assert_int_equal(sw_vnet_hdr_check_rx(&ecn, all), SW_DROP_NONE);
	assert_int_equal(sw_vnet_hdr_check_rx(&ecn,
	    all & ~F(VIRTIO_NET_F_GUEST_ECN)), SW_DROP_OFFLOAD);
}

/* The TCP/IP header walk: every shape a stack sends, and every cut. */
static void
test_gso_parse(void **state)
{
	static const struct {
		struct tf_shape s;
		size_t l3, l4, end;
	} good[] = {
		{ { 0 }, 14, 34, 54 },
		{ { .tcp_opt = 12 }, 14, 34, 66 },
		{ { .tcp_opt = 40 }, 14, 34, 94 },
		{ { .ip_ext = 40, .tcp_opt = 40 }, 14, 74, 134 },
		{ { .tags = 1, .tcp_opt = 12 }, 18, 38, 70 },
		{ { .tags = 2 }, 22, 42, 62 },
		{ { .v6 = true }, 14, 54, 74 },
		{ { .v6 = true, .tcp_opt = 12 }, 14, 54, 86 },
		{ { .v6 = true, .ip_ext = 16 }, 14, 70, 90 },
		{ { .v6 = true, .tags = 2, .ip_ext = 8, .tcp_opt = 40 },
		    22, 70, 130 },
	};
	uint8_t f[512];
	struct sw_gso_hdrs o;
	size_t l4, end;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		end = tf_build(f, sizeof(f), mac_a, mac_b, &good[i].s, &l4);
		assert_int_equal(end, good[i].end);
		if (!sw_gso_parse(f, sizeof(f), good[i].s.v6, &o))
			fail_msg("shape %zu refused", i);
		assert_int_equal(o.l3, good[i].l3);
		assert_int_equal(o.l4, good[i].l4);
		assert_int_equal(o.end, good[i].end);
		/* The other family never matches. */
		assert_false(sw_gso_parse(f, sizeof(f), !good[i].s.v6, &o));
		/* Exactly the headers are enough; one byte less never is. */
		assert_true(sw_gso_parse(f, end, good[i].s.v6, &o));
		for (size_t n = 0; n < end; n++)
			if (sw_gso_parse(f, n, good[i].s.v6, &o))
				fail_msg("shape %zu cut at %zu accepted", i, n);
	}

	static const struct tf_shape v4 = { 0 }, v6 = { .v6 = true };
	/* Three VLAN tags: more than the switch walks. */
	static const struct tf_shape t3 = { .tags = 3 };
	tf_build(f, sizeof(f), mac_a, mac_b, &t3, &l4);
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	/* IPv4: wrong version, IHL below 5, not TCP, a fragment. */
	tf_build(f, sizeof(f), mac_a, mac_b, &v4, &l4);
	f[14] = 0x65;
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	f[14] = 0x44;
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	f[14] = 0x45;
	assert_true(sw_gso_parse(f, sizeof(f), false, &o));
	f[23] = 17;				/* UDP */
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	f[23] = 6;
	f[20] = 0x20;				/* more fragments */
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	f[20] = 0x00;
	f[21] = 0x01;				/* fragment offset 8 */
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	f[21] = 0x00;
	/* TCP data offset below 5. */
	f[34 + 12] = 0x40;
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	/* An ARP frame is no TCP frame. */
	tf_build(f, sizeof(f), mac_a, mac_b, &v4, &l4);
	f[12] = 0x08;
	f[13] = 0x06;
	assert_false(sw_gso_parse(f, sizeof(f), false, &o));
	/* IPv6: wrong version, a fragment header, UDP, too many extension
	 * headers, an extension header running past the data. */
	tf_build(f, sizeof(f), mac_a, mac_b, &v6, &l4);
	f[14] = 0x40;
	assert_false(sw_gso_parse(f, sizeof(f), true, &o));
	f[14] = 0x60;
	f[20] = 44;
	assert_false(sw_gso_parse(f, sizeof(f), true, &o));
	f[20] = 17;
	assert_false(sw_gso_parse(f, sizeof(f), true, &o));
	f[20] = 60;				/* destination options... */
	for (size_t i = 0; i < 9; i++) {	/* ...nine of them */
		f[54 + 8 * i] = i < 8 ? 60 : 6;
		f[54 + 8 * i + 1] = 0;
	}
	assert_false(sw_gso_parse(f, sizeof(f), true, &o));
	f[54 + 8 * 7] = 6;			/* eight: walked */
	memset(f + 118, 0, 20);
	f[118 + 12] = 0x50;
	assert_true(sw_gso_parse(f, sizeof(f), true, &o));
	assert_int_equal(o.l4, 118);
	f[54 + 1] = 255;			/* 2048 bytes: past the end */
	assert_false(sw_gso_parse(f, sizeof(f), true, &o));
}

/* A TSO header against its frame: each bad field is refused as bad_gso. */
static void
test_hdr_check_gso(void **state)
{
	static const struct {
		struct tf_shape s;
		uint8_t gso;
	} shapes[] = {
		{ { .tcp_opt = 12 }, TCPV4 },
		{ { .tags = 1 }, TCPV4 | ECN },
		{ { .v6 = true, .tcp_opt = 12 }, TCPV6 },
		{ { .v6 = true, .ip_ext = 8 }, TCPV6 | ECN },
	};
	uint64_t all = sw_net_features();
	struct sw_vnet_hdr h, ok;
	size_t l4, end, len = 30000;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		end = tf_build(big, len, mac_a, mac_b, &shapes[i].s, &l4);
		ok = (struct sw_vnet_hdr){ .flags = CSUM,
		    .gso_type = shapes[i].gso, .gso_size = 1400,
		    .hdr_len = (uint16_t)end, .csum_start = (uint16_t)l4,
		    .csum_offset = 16 };

		/* What a guest's stack sends passes unchanged. */
		h = ok;
		assert_int_equal(check_frame(&h, all, big, len), SW_DROP_NONE);
		assert_memory_equal(&h, &ok, sizeof(h));
		/* hdr_len 0 (not filled in) and up to the whole frame (Linux
		 * sends its linear part's length) are fine. */
		h = ok;
		h.hdr_len = 0;
		assert_int_equal(check_frame(&h, all, big, len), SW_DROP_NONE);
		h = ok;
		h.hdr_len = (uint16_t)len;
		assert_int_equal(check_frame(&h, all, big, len), SW_DROP_NONE);
		/* The smallest gso_size, and anything below it. */
		h = ok;
		h.gso_size = SW_GSO_MIN_SIZE;
		assert_int_equal(check_frame(&h, all, big, len), SW_DROP_NONE);
		for (uint16_t g = 0; g < SW_GSO_MIN_SIZE; g++) {
			h = ok;
			h.gso_size = g;
			assert_int_equal(check_frame(&h, all, big, len),
			    SW_DROP_BADGSO);
		}
		/* hdr_len short of the TCP header's end, or past the frame. */
		h = ok;
		h.hdr_len = (uint16_t)(end - 1);
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		h = ok;
		h.hdr_len = 14;
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		h = ok;
		h.hdr_len = (uint16_t)(len + 1);
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		h = ok;
		h.hdr_len = 0xffff;
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		/* The checksum must be the TCP checksum. */
		h = ok;
		h.csum_start = (uint16_t)(l4 + 1);
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		h = ok;
		h.csum_start = (uint16_t)(l4 - 20);
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		h = ok;
		h.csum_offset = 6;			/* UDP's */
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		/* The other family's GSO type. */
		h = ok;
		h.gso_type ^= TCPV4 ^ TCPV6;
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);
		/* Only the Ethernet header to look at (a caller that did not
		 * copy the head): the headers cannot be checked. */
		h = ok;
		assert_int_equal(sw_vnet_hdr_check_tx(&h, all, big,
		    SW_ETH_HLEN, len), SW_DROP_BADGSO);
		/* Not TCP at all. */
		h = ok;
		big[l4 - (shapes[i].s.v6 ? 40 + shapes[i].s.ip_ext - 6 :
		    20 - 9)] = 17;
		assert_int_equal(check_frame(&h, all, big, len),
		    SW_DROP_BADGSO);

		/* One segment's worth of payload, or none: not really TSO,
		 * passed as the plain partial-checksum frame it is. */
		end = tf_build(big, len, mac_a, mac_b, &shapes[i].s, &l4);
		static const size_t pays[] = { 0, 1, 1399, 1400, 1401, 2801 };
		for (size_t k = 0; k < sizeof(pays) / sizeof(pays[0]); k++) {
			size_t n = end + pays[k];

			h = ok;
			assert_int_equal(check_frame(&h, all, big, n),
			    SW_DROP_NONE);
			if (pays[k] > 1400) {
				assert_int_equal(h.gso_type, ok.gso_type);
				assert_int_equal(h.gso_size, 1400);
				assert_int_equal(h.hdr_len, end);
			} else {
				assert_int_equal(h.gso_type, 0);
				assert_int_equal(h.gso_size, 0);
				assert_int_equal(h.hdr_len, 0);
				assert_int_equal(h.flags, CSUM);
				assert_int_equal(h.csum_start, l4);
				assert_int_equal(h.csum_offset, 16);
			}
		}
		/* Refused at the smallest frame too: checks come first. */
		h = ok;
		h.gso_size = 1;
		assert_int_equal(check_frame(&h, all, big, end),
		    SW_DROP_BADGSO);
	}
}

static void
test_names(void **state)
{
	assert_string_equal(sw_drop_name(SW_DROP_SPOOF), "spoofed_source");
	assert_string_equal(sw_drop_name(SW_DROP_BADGSO), "bad_gso");
	assert_string_equal(sw_drop_name(SW_DROP_MAX), "invalid");
	for (int i = 0; i < SW_DROP_MAX; i++)
		assert_string_not_equal(sw_drop_name((enum sw_drop)i),
		    "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_mac_text),
		cmocka_unit_test(test_hdr_codec),
		cmocka_unit_test(test_hdr_check_tx),
		cmocka_unit_test(test_hdr_check_rx),
		cmocka_unit_test(test_gso_parse),
		cmocka_unit_test(test_hdr_check_gso),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
