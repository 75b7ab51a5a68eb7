/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/switchd/sw_frame.c: destination classification, MAC
 * text conversion and the virtio-net header rules (what a sender may
 * write for the features it negotiated, what a receiver can take).
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

#define F(n)	(1ull << (n))

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
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 60), SW_DROP_NONE);
	assert_int_equal(h.gso_size, 0);
	assert_int_equal(h.hdr_len, 0);
	assert_int_equal(h.num_buffers, 0);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 14), SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 13), SW_DROP_MALFORMED);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 9000), SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, SW_MAX_FRAME),
	    SW_DROP_NONE);
	h = hdr(0, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, SW_MAX_FRAME + 1),
	    SW_DROP_MALFORMED);

	/* DATA_VALID and unknown flags are cleared on transmit. */
	h = hdr(0xfe, 0, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 60), SW_DROP_NONE);
	assert_int_equal(h.flags, 0);

	/* Partial checksum: only when negotiated, and inside the frame. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, none, 100),
	    SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 100), SW_DROP_NONE);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 52), SW_DROP_NONE);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 51), SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, SW_MAX_FRAME),
	    SW_DROP_MALFORMED);

	/* TSO: needs HOST_TSO4/6 respectively, NEEDS_CSUM and gso_size. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448,
	    34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 65000), SW_DROP_NONE);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.hdr_len, 66);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448,
	    34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h,
	    all & ~F(VIRTIO_NET_F_HOST_TSO4), 65000), SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1428,
	    54, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h,
	    all & ~F(VIRTIO_NET_F_HOST_TSO4), 65000), SW_DROP_NONE);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 1428,
	    54, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h,
	    all & ~F(VIRTIO_NET_F_HOST_TSO6), 65000), SW_DROP_MALFORMED);
	h = hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 65000),
	    SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 0,
	    34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 65000),
	    SW_DROP_MALFORMED);
	/* ECN only with HOST_ECN, never on a non-GSO frame. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 65000), SW_DROP_NONE);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
	    VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16);
	assert_int_equal(sw_vnet_hdr_check_tx(&h,
	    all & ~F(VIRTIO_NET_F_HOST_ECN), 65000), SW_DROP_MALFORMED);
	h = hdr(0, VIRTIO_NET_HDR_GSO_ECN, 0, 0, 0);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, all, 60), SW_DROP_MALFORMED);
	/* UDP fragmentation offload and unknown types are not offered. */
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_UDP, 1472,
	    34, 6);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, ~0ull, 9000),
	    SW_DROP_MALFORMED);
	h = hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 2, 1472, 34, 6);
	assert_int_equal(sw_vnet_hdr_check_tx(&h, ~0ull, 9000),
	    SW_DROP_MALFORMED);
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

static void
test_names(void **state)
{
	assert_string_equal(sw_drop_name(SW_DROP_SPOOF), "spoofed_source");
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
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
