/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/switchd/sw_fwd.c: the static forwarding table, the
 * forwarding decision (known unicast, flooding, unknown unicast with and
 * without an uplink, anti-spoofing, never back to the sender), the
 * counters and their JSON rendering.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "switchd/sw_fwd.h"

static const uint8_t mac0[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };
static const uint8_t mac1[6] = { 0x02, 0, 0, 0, 0xaa, 0x02 };
static const uint8_t mac2[6] = { 0x02, 0, 0, 0, 0xaa, 0x03 };
static const uint8_t outside[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mc4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
static const uint8_t mc6[6] = { 0x33, 0x33, 0xff, 0x00, 0xaa, 0x02 };
static const uint8_t stp[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x00 };

static uint8_t *
eth(uint8_t buf[14], const uint8_t dst[6], const uint8_t src[6])
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	return buf;
}

/* Three VM ports, optionally an uplink (index 3). */
static void
mk(struct sw_table *t, bool uplink)
{
	sw_table_init(t);
	assert_int_equal(sw_table_add_port(t, "vm0.0", mac0), 0);
	assert_int_equal(sw_table_add_port(t, "vm1.0", mac1), 1);
	assert_int_equal(sw_table_add_port(t, "vm2.0", mac2), 2);
	if (uplink)
		assert_int_equal(sw_table_add_uplink(t, "uplink"), 3);
}

static void
test_table(void **state)
{
	static struct sw_table t;
	uint8_t group[6] = { 0x03, 0, 0, 0, 0, 1 }, zero[6] = { 0 };
	char longname[SW_PORT_NAME_MAX + 1];

	mk(&t, false);
	assert_int_equal(t.nports, 3);
	assert_int_equal(t.uplink, -1);
	assert_int_equal(sw_table_lookup(&t, mac1), 1);
	assert_int_equal(sw_table_lookup(&t, outside), -1);
	assert_int_equal(sw_table_find(&t, "vm2.0"), 2);
	assert_int_equal(sw_table_find(&t, "vm3.0"), -1);
	assert_int_equal(t.ports[0].state, SW_PORT_DOWN);

	errno = 0;
	assert_int_equal(sw_table_add_port(&t, "dup", mac1), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(sw_table_add_port(&t, "vm0.0", outside), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(sw_table_add_port(&t, "g", group), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sw_table_add_port(&t, "z", zero), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sw_table_add_port(&t, "bad\"name", outside), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sw_table_add_port(&t, "", outside), -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sw_table_add_port(&t, longname, outside), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(t.nports, 3);

	assert_int_equal(sw_table_add_uplink(&t, "uplink"), 3);
	assert_int_equal(sw_table_add_uplink(&t, "uplink2"), -1);
	assert_int_equal(errno, EEXIST);
	/* The uplink has no MAC: a zero MAC never matches it. */
	assert_int_equal(sw_table_lookup(&t, zero), -1);

	/* Full table. */
	sw_table_init(&t);
	for (int i = 0; i < SW_MAX_PORTS; i++) {
		uint8_t m[6] = { 0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		char n[16];

		snprintf(n, sizeof(n), "p%d", i);
		m[5] = (uint8_t)(i + 1);
		assert_int_equal(sw_table_add_port(&t, n, m), i);
	}
	assert_int_equal(sw_table_add_port(&t, "more", outside), -1);
	assert_int_equal(errno, ENOSPC);
}

static void
expect_unicast(const struct sw_table *t, unsigned in, const uint8_t *dst,
    const uint8_t *src, unsigned to)
{
	uint8_t b[14];
	struct sw_verdict v = sw_fwd_decide(t, in, eth(b, dst, src));

	assert_int_equal(v.action, SW_ACT_UNICAST);
	assert_int_equal(v.port, to);
	assert_int_equal(v.cls, SW_CLASS_UNICAST);
}

static void
expect_drop(const struct sw_table *t, unsigned in, const uint8_t *dst,
    const uint8_t *src, enum sw_drop why)
{
	uint8_t b[14];
	struct sw_verdict v = sw_fwd_decide(t, in, eth(b, dst, src));

	assert_int_equal(v.action, SW_ACT_DROP);
	assert_string_equal(sw_drop_name(v.why), sw_drop_name(why));
}

static void
expect_flood(const struct sw_table *t, unsigned in, const uint8_t *dst,
    const uint8_t *src, enum sw_class cls)
{
	uint8_t b[14];
	struct sw_verdict v = sw_fwd_decide(t, in, eth(b, dst, src));

	assert_int_equal(v.action, SW_ACT_FLOOD);
	assert_int_equal(v.cls, cls);
}

static void
test_decide_no_uplink(void **state)
{
	static struct sw_table t;

	mk(&t, false);
	expect_unicast(&t, 0, mac1, mac0, 1);
	expect_unicast(&t, 1, mac0, mac1, 0);
	expect_unicast(&t, 2, mac0, mac2, 0);
	expect_flood(&t, 1, bcast, mac1, SW_CLASS_BROADCAST);
	expect_flood(&t, 1, mc4, mac1, SW_CLASS_MCAST4);
	expect_flood(&t, 1, mc6, mac1, SW_CLASS_MCAST6);
	/* Unknown unicast: nowhere to go. */
	expect_drop(&t, 0, outside, mac0, SW_DROP_UNKNOWN);
	/* Never back to the sender. */
	expect_drop(&t, 0, mac0, mac0, SW_DROP_SELF);
	/* Forged source: another port's MAC, an outside MAC, a group MAC. */
	expect_drop(&t, 0, mac1, mac2, SW_DROP_SPOOF);
	expect_drop(&t, 0, mac1, outside, SW_DROP_SPOOF);
	expect_drop(&t, 0, bcast, bcast, SW_DROP_SPOOF);
	expect_drop(&t, 2, bcast, mac1, SW_DROP_SPOOF);
	/* Bridges never forward 802.1D link-local frames. */
	expect_drop(&t, 0, stp, mac0, SW_DROP_LINKLOCAL);
}

static void
test_decide_uplink(void **state)
{
	static struct sw_table t;

	mk(&t, true);
	/* Unknown unicast leaves by the uplink. */
	expect_unicast(&t, 0, outside, mac0, 3);
	expect_unicast(&t, 2, outside, mac2, 3);
	/* Known unicast still goes to its port only. */
	expect_unicast(&t, 0, mac1, mac0, 1);
	/* From the outside: any station source but ours. */
	expect_unicast(&t, 3, mac0, outside, 0);
	expect_flood(&t, 3, bcast, outside, SW_CLASS_BROADCAST);
	expect_drop(&t, 3, mac0, mac1, SW_DROP_SPOOF);
	expect_drop(&t, 3, mac0, bcast, SW_DROP_SPOOF);
	/* Unknown unicast from the uplink is not sent back out of it. */
	{
		uint8_t other[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x57 };

		expect_drop(&t, 3, other, outside, SW_DROP_UNKNOWN);
	}
}

static void
test_counters_json(void **state)
{
	static struct sw_table t;
	char buf[4096], small[64];
	int n;

	mk(&t, true);
	t.ports[0].state = SW_PORT_UP;
	t.ports[1].state = SW_PORT_ERROR;
	sw_count_rx(&t, 0, 98);
	sw_count_rx(&t, 0, 1514);
	t.ports[0].c.rx_gso_packets++;
	sw_count_tx(&t, 1, 98);
	t.ports[1].c.tx_gso_packets++;
	sw_count_drop(&t, 0, SW_DROP_SPOOF);
	sw_count_drop(&t, 0, SW_DROP_SPOOF);
	sw_count_drop(&t, 0, SW_DROP_BADGSO);
	sw_count_drop(&t, 1, SW_DROP_NOBUF);
	sw_count_drop(&t, 1, SW_DROP_NONE);	/* ignored */
	sw_count_drop(&t, 1, SW_DROP_MAX);	/* ignored */
	assert_int_equal(t.ports[0].c.rx_packets, 2);
	assert_int_equal(t.ports[0].c.rx_bytes, 1612);
	assert_int_equal(t.ports[1].c.tx_packets, 1);
	assert_int_equal(sw_drops_total(&t.ports[0].c), 3);
	assert_int_equal(sw_drops_total(&t.ports[1].c), 1);

	n = sw_stats_json(&t, "lan", buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	assert_non_null(strstr(buf, "{\"switch\":\"lan\",\"ports\":[{\"name\":"
	    "\"vm0.0\",\"kind\":\"vm\",\"mac\":\"02:00:00:00:aa:01\","
	    "\"state\":\"up\",\"rx_packets\":2,\"rx_bytes\":1612,"
	    "\"tx_packets\":0,\"tx_bytes\":0,\"rx_gso_packets\":1,\"tx_gso_packets\":0,\"drops\":3,\"drop\":{"
	    "\"malformed\":0,\"bad_gso\":1,\"spoofed_source\":2,"));
	assert_non_null(strstr(buf, "\"name\":\"vm1.0\",\"kind\":\"vm\","
	    "\"mac\":\"02:00:00:00:aa:02\",\"state\":\"error\","
	    "\"rx_packets\":0,\"rx_bytes\":0,\"tx_packets\":1,"
	    "\"tx_bytes\":98,\"rx_gso_packets\":0,\"tx_gso_packets\":1,"
	    "\"drops\":1,"));
	assert_non_null(strstr(buf, "\"no_buffers\":1"));
	assert_non_null(strstr(buf, "{\"name\":\"uplink\",\"kind\":\"uplink\","
	    "\"state\":\"down\""));
	assert_int_equal(buf[n - 1], '}');
	assert_int_equal(buf[n - 2], ']');

	errno = 0;
	assert_int_equal(sw_stats_json(&t, "lan", small, sizeof(small)), -1);
	assert_int_equal(errno, ENOSPC);
	/* Exactly fitting (n + NUL) works, one byte less does not. */
	assert_int_equal(sw_stats_json(&t, "lan", buf, (size_t)n + 1), n);
	assert_int_equal(sw_stats_json(&t, "lan", buf, (size_t)n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_decide_no_uplink),
		cmocka_unit_test(test_decide_uplink),
		cmocka_unit_test(test_counters_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
