/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/vsockd/vs_table.c: VM names and CIDs (syntax, the
 * reserved CIDs 0-2 and 2^32-1, duplicates, the 32-VM limit), rules
 * (self, duplicates, bad indices, sealed table), routing by CID, the
 * policy in both directions (a REQUEST only from the declared client to
 * the declared port; answers from the server port; nothing from the
 * server to other client ports, nor to undeclared pairs), every outcome
 * of vs_decide, and the stats JSON.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vsockd/vs_table.h"

static struct vs_table t;

static struct vs_hdr
hdr(uint64_t src, uint64_t dst, uint32_t sport, uint32_t dport, uint16_t op)
{
	struct vs_hdr h = {
		.src_cid = src, .dst_cid = dst, .src_port = sport,
		.dst_port = dport, .type = VS_TYPE_STREAM, .op = op,
	};

	return h;
}

static void
test_vms(void **state)
{
	char name[40];

	vs_table_init(&t);
	assert_int_equal(vs_table_add_vm(&t, "vm0", 3), 0);
	assert_int_equal(vs_table_add_vm(&t, "db-1_x", 0xfffffffeull), 1);
	/* Names: a-z 0-9 _ -, not first _ or -, 1 to 31. */
	assert_int_equal(vs_table_add_vm(&t, "Vm", 10), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(vs_table_add_vm(&t, "-vm", 10), -1);
	assert_int_equal(vs_table_add_vm(&t, "", 10), -1);
	assert_int_equal(vs_table_add_vm(&t, "a:b", 10), -1);
	memset(name, 'a', 31);
	name[31] = '\0';
	assert_int_equal(vs_table_add_vm(&t, name, 10), 2);
	name[31] = 'a';
	name[32] = '\0';
	assert_int_equal(vs_table_add_vm(&t, name, 11), -1);
	/* CIDs: 3 to 2^32-2. */
	assert_int_equal(vs_table_add_vm(&t, "h", 2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(vs_table_add_vm(&t, "h", 0), -1);
	assert_int_equal(vs_table_add_vm(&t, "h", 0xffffffffull), -1);
	assert_int_equal(vs_table_add_vm(&t, "h", 1ull << 32), -1);
	/* Duplicates. */
	assert_int_equal(vs_table_add_vm(&t, "vm0", 20), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(vs_table_add_vm(&t, "vm9", 3), -1);
	assert_int_equal(errno, EEXIST);
	for (unsigned i = 3; i < VS_MAX_VMS; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		assert_int_equal(vs_table_add_vm(&t, name, 100 + i), (int)i);
	}
	assert_int_equal(vs_table_add_vm(&t, "one-more", 1000), -1);
	assert_int_equal(errno, ENOSPC);
	/* Routing and lookup. */
	assert_int_equal(vs_table_route(&t, 3), 0);
	assert_int_equal(vs_table_route(&t, 0xfffffffeull), 1);
	assert_int_equal(vs_table_route(&t, 2), -1);
	assert_int_equal(vs_table_route(&t, 3 | 1ull << 32), -1);
	assert_int_equal(vs_table_find(&t, "db-1_x"), 1);
	assert_int_equal(vs_table_find(&t, "nope"), -1);
}

static void
setup3(void)
{
	vs_table_init(&t);
	assert_int_equal(vs_table_add_vm(&t, "vm0", 3), 0);
	assert_int_equal(vs_table_add_vm(&t, "vm1", 4), 1);
	assert_int_equal(vs_table_add_vm(&t, "vm2", 5), 2);
}

static void
test_rules(void **state)
{
	setup3();
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 1234), 0);
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 80), 0);
	assert_int_equal(vs_table_add_rule(&t, 2, 0, 1234), 0);
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 1234), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(vs_table_add_rule(&t, 1, 1, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(vs_table_add_rule(&t, 3, 0, 1), -1);
	assert_int_equal(vs_table_add_rule(&t, 0, 1, UINT32_MAX), -1);
	assert_int_equal(vs_table_add_rule(&t, 0, 1, 0), 0);
	vs_table_seal(&t);
	assert_int_equal(vs_table_add_rule(&t, 0, 2, 7), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(vs_table_add_vm(&t, "late", 50), -1);
	assert_int_equal(errno, EBUSY);

	assert_true(vs_rule_exists(&t, 1, 0, 1234));
	assert_true(vs_rule_exists(&t, 1, 0, 80));
	assert_true(vs_rule_exists(&t, 2, 0, 1234));
	assert_true(vs_rule_exists(&t, 0, 1, 0));
	assert_false(vs_rule_exists(&t, 0, 1, 1234));
	assert_false(vs_rule_exists(&t, 1, 0, 81));
	assert_false(vs_rule_exists(&t, 1, 2, 1234));
	assert_false(vs_rule_exists(&t, 5, 0, 1234));
	assert_true(vs_pair_declared(&t, 0, 1));
	assert_true(vs_pair_declared(&t, 1, 0));
	assert_true(vs_pair_declared(&t, 0, 2));
	assert_false(vs_pair_declared(&t, 1, 2));
}

static void
test_many_rules(void **state)
{
	/* Sorted and indexed: every one found, no other. */
	setup3();
	for (uint32_t p = 0; p < 300; p++) {
		assert_int_equal(vs_table_add_rule(&t, 1, 0, 7919 * p % 65521),
		    0);
		assert_int_equal(vs_table_add_rule(&t, 2, 1, p * 3), 0);
	}
	vs_table_seal(&t);
	for (uint32_t p = 0; p < 300; p++) {
		assert_true(vs_rule_exists(&t, 1, 0, 7919 * p % 65521));
		assert_true(vs_rule_exists(&t, 2, 1, p * 3));
		assert_false(vs_rule_exists(&t, 2, 1, p * 3 + 1));
		assert_false(vs_rule_exists(&t, 0, 1, p * 3));
	}
}

static void
test_policy(void **state)
{
	struct vs_hdr h;

	/* vm1 is the client of vm0's port 1234. */
	setup3();
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 1234), 0);
	vs_table_seal(&t);

	for (uint16_t op = VS_OP_REQUEST; op <= VS_OP_CREDIT_REQUEST; op++) {
		/* Client to server port: every op. */
		h = hdr(4, 3, 40000, 1234, op);
		assert_true(vs_policy_allows(&t, 1, 0, &h));
		/* Server from its port back to the client: all but REQUEST. */
		h = hdr(3, 4, 1234, 40000, op);
		assert_int_equal(vs_policy_allows(&t, 0, 1, &h),
		    op != VS_OP_REQUEST);
		/* Server from another port: nothing. */
		h = hdr(3, 4, 1235, 40000, op);
		assert_false(vs_policy_allows(&t, 0, 1, &h));
		/* Client to another port: nothing. */
		h = hdr(4, 3, 40000, 1235, op);
		assert_false(vs_policy_allows(&t, 1, 0, &h));
		/* A third VM: nothing, either way. */
		h = hdr(5, 3, 40000, 1234, op);
		assert_false(vs_policy_allows(&t, 2, 0, &h));
		h = hdr(3, 5, 1234, 40000, op);
		assert_false(vs_policy_allows(&t, 0, 2, &h));
	}
}

static void
test_decide(void **state)
{
	const uint64_t all = 7;
	struct vs_decision d;
	struct vs_hdr h;

	setup3();
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 1234), 0);
	vs_table_seal(&t);

	h = hdr(4, 3, 40000, 1234, VS_OP_REQUEST);
	d = vs_decide(&t, 1, &h, all, 0);
	assert_int_equal(d.act, VS_DELIVER);
	assert_int_equal(d.dst, 0);
	assert_int_equal(d.why, VS_OK);

	/* Unknown CID (the host included): RST for a REQUEST only. */
	h = hdr(4, 2, 40000, 1234, VS_OP_REQUEST);
	d = vs_decide(&t, 1, &h, all, 0);
	assert_int_equal(d.act, VS_RST);
	assert_int_equal(d.why, VS_UNKNOWN_CID);
	assert_int_equal(d.dst, -1);
	h.op = VS_OP_RW;
	assert_int_equal(vs_decide(&t, 1, &h, all, 0).act, VS_DROP);
	/* To itself. */
	h = hdr(4, 4, 40000, 1234, VS_OP_REQUEST);
	d = vs_decide(&t, 1, &h, all, 0);
	assert_int_equal(d.act, VS_RST);
	assert_int_equal(d.why, VS_TO_SELF);
	/* Policy. */
	h = hdr(4, 3, 40000, 22, VS_OP_REQUEST);
	d = vs_decide(&t, 1, &h, all, 0);
	assert_int_equal(d.act, VS_RST);
	assert_int_equal(d.why, VS_POLICY);
	assert_int_equal(d.dst, 0);
	h.op = VS_OP_RW;
	assert_int_equal(vs_decide(&t, 1, &h, all, 0).act, VS_DROP);
	h.op = VS_OP_RST;
	assert_int_equal(vs_decide(&t, 1, &h, all, 0).act, VS_DROP);
	/* Destination down: a RST for all but a RST. */
	h = hdr(4, 3, 40000, 1234, VS_OP_RW);
	d = vs_decide(&t, 1, &h, all & ~1ull, 0);
	assert_int_equal(d.act, VS_RST);
	assert_int_equal(d.why, VS_DST_DOWN);
	h.op = VS_OP_RST;
	d = vs_decide(&t, 1, &h, all & ~1ull, 0);
	assert_int_equal(d.act, VS_DROP);
	assert_int_equal(d.why, VS_DST_DOWN);
	/* The policy comes before the state: refused even when down. */
	h = hdr(4, 3, 40000, 22, VS_OP_RW);
	assert_int_equal(vs_decide(&t, 1, &h, 0, 0).why, VS_POLICY);
	/* SEQPACKET needs the receiver's feature. */
	h = hdr(4, 3, 40000, 1234, VS_OP_REQUEST);
	h.type = VS_TYPE_SEQPACKET;
	d = vs_decide(&t, 1, &h, all, 2);
	assert_int_equal(d.act, VS_RST);
	assert_int_equal(d.why, VS_NO_SEQPACKET);
	d = vs_decide(&t, 1, &h, all, 1);
	assert_int_equal(d.act, VS_DELIVER);
}

static void
test_json(void **state)
{
	static char buf[65536];
	int n;

	setup3();
	assert_int_equal(vs_table_add_rule(&t, 1, 0, 1234), 0);
	vs_table_seal(&t);
	t.vms[0].state = VS_VM_UP;
	t.vms[2].state = VS_VM_ERROR;
	t.vms[1].c.drops[VS_SPOOFED] = 5;
	t.pair[1][0].packets = 7;
	t.pair[1][0].bytes = 1000;
	t.pair[2][1].refused[VS_POLICY] = 2;
	n = vs_stats_json(&t, "sys", buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n == strlen(buf));
	assert_non_null(strstr(buf, "{\"vsock\":\"sys\",\"vms\":[{\"name\":"
	    "\"vm0\",\"cid\":3,\"state\":\"up\""));
	assert_non_null(strstr(buf, "\"name\":\"vm2\",\"cid\":5,\"state\":"
	    "\"error\""));
	assert_non_null(strstr(buf, "\"spoofed_cid\":5"));
	/* Declared pairs, both ways; an undeclared one with a refusal. */
	assert_non_null(strstr(buf, "{\"from\":\"vm1\",\"to\":\"vm0\","
	    "\"declared\":true,\"packets\":7,\"bytes\":1000"));
	assert_non_null(strstr(buf, "{\"from\":\"vm0\",\"to\":\"vm1\","
	    "\"declared\":true,\"packets\":0"));
	assert_non_null(strstr(buf, "{\"from\":\"vm2\",\"to\":\"vm1\","
	    "\"declared\":false"));
	assert_non_null(strstr(buf, "\"refused\":{\"policy\":2,"));
	assert_null(strstr(buf, "\"from\":\"vm0\",\"to\":\"vm2\""));
	assert_non_null(strstr(buf, "\"rules\":[{\"client\":\"vm1\","
	    "\"server\":\"vm0\",\"port\":1234}]}"));
	assert_int_equal(buf[n - 1], '}');
	/* Too small a buffer: ENOSPC, never a cut object. */
	assert_int_equal(vs_stats_json(&t, "sys", buf, 100), -1);
	assert_int_equal(errno, ENOSPC);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vms),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_many_rules),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
