/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of libdataport's pure parts (src/guest/dataport/libdataport/
 * cmdline.c), run on the host: the isles.dataports= parser with valid and
 * hostile command lines (every rejection must say what is wrong and leave
 * no half-filled table), peer lookup by VM name or ID, and the number and
 * PCI address syntax that dp_open() applies to sysfs.
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

#include "guest/dataport/libdataport/dataport.h"

static struct dp_table t;
static char err[256];

static int
parse(const char *cmdline)
{
	memset(err, 0, sizeof(err));
	return dp_cmdline_parse(cmdline, strlen(cmdline), &t, err,
	    sizeof(err));
}

/* cmdline must be rejected with a message containing what. */
static void
expect_reject(const char *cmdline, const char *what)
{
	errno = 0;
	if (parse(cmdline) != -1 || strstr(err, what) == NULL) {
		print_message("cmdline: %.200s\nexpected: ...%s...\ngot: %s\n",
		    cmdline, what, err);
		fail();
	}
	assert_int_equal(errno, EINVAL);
	assert_int_equal(t.n, 0);
}

/* "NAME:SS:a0+a1+...": n VMs called PREFIX0.. */
static void
entry(char *buf, size_t len, const char *name, unsigned slot, unsigned n)
{
	size_t used = (size_t)snprintf(buf, len, "%s:%02x:", name, slot);

	for (unsigned i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used, "%sv%u",
		    i ? "+" : "", i);
}

/* ---- valid ------------------------------------------------------------ */

static void
test_parse_one(void **state)
{
	assert_int_equal(parse("console=ttyS0 isles.name=vm1 "
	    "isles.dataports=ctl:10:vm0+vm1 panic=-1\n"), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.e[0].name, "ctl");
	assert_int_equal(t.e[0].slot, 0x10);
	assert_int_equal(t.e[0].npeers, 2);
	assert_string_equal(t.e[0].peers[0], "vm0");
	assert_string_equal(t.e[0].peers[1], "vm1");
	assert_string_equal(t.vm, "vm1");
	assert_string_equal(err, "");
}

static void
test_parse_several(void **state)
{
	assert_int_equal(parse("isles.dataports=a:10:x+y,b-2_c:1F:z+y+x,"
	    "c:1a:x+z\tisles.name=x"), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.e[1].name, "b-2_c");
	assert_int_equal(t.e[1].slot, 0x1f);
	assert_int_equal(t.e[1].npeers, 3);
	assert_string_equal(t.e[1].peers[0], "z");	/* list order = IDs */
	assert_string_equal(t.e[1].peers[2], "x");
	assert_int_equal(t.e[2].slot, 0x1a);
	assert_string_equal(t.vm, "x");
}

static void
test_parse_none(void **state)
{
	assert_int_equal(parse("console=ttyS0 isles.name=vm0"), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(parse("isles.dataports="), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(parse(""), 0);
	/* Only the exact parameter counts. */
	assert_int_equal(parse("xisles.dataports=a:10:x+y "
	    "isles.dataports2=a:10:x+y isles.dataport=a:10:x+y"), 0);
	assert_int_equal(t.n, 0);
	/* A NUL ends the command line whatever the length says. */
	assert_int_equal(dp_cmdline_parse("quiet\0 isles.dataports=a:10:x+y",
	    31, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
}

static void
test_parse_limits(void **state)
{
	static char line[8192];
	char name[DP_MAX_NAME + 1];
	size_t used;

	/* Names of 31 characters, 32 VMs, 16 dataports: all accepted. */
	memset(name, 'n', DP_MAX_NAME);
	name[DP_MAX_NAME] = '\0';
	used = (size_t)snprintf(line, sizeof(line), "isles.dataports=");
	for (unsigned i = 0; i < DP_MAX_PORTS; i++) {
		char e[2048];

		name[0] = (char)('a' + i);
		entry(e, sizeof(e), name, DP_SLOT_MIN + i,
		    i == 0 ? DP_MAX_PEERS : 2);
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%s%s", i ? "," : "", e);
	}
	assert_int_equal(parse(line), 0);
	assert_int_equal(t.n, DP_MAX_PORTS);
	assert_int_equal(t.e[0].npeers, DP_MAX_PEERS);
	assert_string_equal(t.e[0].peers[31], "v31");
	assert_int_equal(strlen(t.e[15].name), DP_MAX_NAME);
	assert_int_equal(t.e[15].slot, DP_SLOT_MAX);

	/* An isles.name= that is no valid name is not used. */
	assert_int_equal(parse("isles.name=Bad! isles.dataports=a:10:x+y"), 0);
	assert_string_equal(t.vm, "");
}

/* ---- hostile ---------------------------------------------------------- */

static void
test_reject_names(void **state)
{
	static char line[512];
	char name[64];

	memset(name, 'n', DP_MAX_NAME + 1);	/* one too long */
	name[DP_MAX_NAME + 1] = '\0';
	snprintf(line, sizeof(line), "isles.dataports=%s:10:a+b", name);
	expect_reject(line, "name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is not");
	snprintf(line, sizeof(line), "isles.dataports=a:10:b+%s", name);
	expect_reject(line, "VM name 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is not");
	expect_reject("isles.dataports=Ctl:10:a+b", "name 'Ctl' is not");
	expect_reject("isles.dataports=-a:10:a+b", "name '-a'");
	expect_reject("isles.dataports=_a:10:a+b", "name '_a'");
	expect_reject("isles.dataports=:10:a+b", "name '' is not");
	expect_reject("isles.dataports=a.b:10:a+b", "name 'a.b'");
	expect_reject("isles.dataports=a:10:a+B", "VM name 'B'");
	expect_reject("isles.dataports=a:10:a+b:c", "VM name 'b:c'");
}

static void
test_reject_slots(void **state)
{
	expect_reject("isles.dataports=a:1:x+y", "slot '1' is not two hex");
	expect_reject("isles.dataports=a:100:x+y", "slot '100' is not two hex");
	expect_reject("isles.dataports=a:zz:x+y", "slot 'zz' is not two hex");
	expect_reject("isles.dataports=a::x+y", "slot '' is not two hex");
	expect_reject("isles.dataports=a:-1:x+y", "slot '-1'");
	expect_reject("isles.dataports=a:0f:x+y", "slot 0f is outside 10-1f");
	expect_reject("isles.dataports=a:20:x+y", "slot 20 is outside 10-1f");
	expect_reject("isles.dataports=a:ff:x+y", "slot ff is outside");
}

static void
test_reject_missing_fields(void **state)
{
	expect_reject("isles.dataports=ctl", "entry 1 'ctl' has no slot");
	expect_reject("isles.dataports=ctl:10", "entry 1 'ctl:10' has no VM list");
	expect_reject("isles.dataports=ctl:10:", "dataport ctl: the VM list is empty");
	expect_reject("isles.dataports=ctl:10:vm0", "dataport ctl has one VM (vm0)");
	expect_reject("isles.dataports=ctl:10:vm0+", "VM name ''");
	expect_reject("isles.dataports=ctl:10:+vm0", "VM name ''");
	expect_reject("isles.dataports=ctl:10:vm0++vm1", "VM name ''");
	expect_reject("isles.dataports=a:10:x+y,", "entry 2 is empty");
	expect_reject("isles.dataports=,a:10:x+y", "entry 1 is empty");
	expect_reject("isles.dataports=a:10:x+y,,b:11:x+y", "entry 2 is empty");
}

static void
test_reject_duplicates(void **state)
{
	expect_reject("isles.dataports=a:10:x+y,a:11:x+y",
	    "dataport a is given twice");
	expect_reject("isles.dataports=a:10:x+y,b:10:x+y",
	    "dataports a and b share slot 10");
	expect_reject("isles.dataports=a:10:x+y+x", "dataport a names VM x twice");
	expect_reject("isles.dataports=a:10:x+y isles.dataports=b:11:x+y",
	    "isles.dataports= is given twice");
	/* Even when the second one is empty. */
	expect_reject("isles.dataports=a:10:x+y isles.dataports=",
	    "given twice");
}

static void
test_reject_too_many(void **state)
{
	static char line[8192];
	size_t used = (size_t)snprintf(line, sizeof(line), "isles.dataports=");
	char e[2048];

	for (unsigned i = 0; i <= DP_MAX_PORTS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "p%u", i);
		/* 17 distinct names; slots repeat only past the limit */
		entry(e, sizeof(e), name, DP_SLOT_MIN + (i & 15), 2);
		used += (size_t)snprintf(line + used, sizeof(line) - used,
		    "%s%s", i ? "," : "", e);
	}
	expect_reject(line, "more than 16 dataports");

	entry(e, sizeof(e), "big", 0x10, DP_MAX_PEERS + 1);
	snprintf(line, sizeof(line), "isles.dataports=%s", e);
	expect_reject(line, "dataport big has more than 32 VMs");
}

static void
test_reject_quotes_only_a_short_clean_snippet(void **state)
{
	static char line[4096];
	size_t used = (size_t)snprintf(line, sizeof(line), "isles.dataports=");

	/* 3000 bytes of one bad name, then a control character. */
	memset(line + used, 'A', 3000);
	used += 3000;
	memcpy(line + used, ":10:x+y", 8);
	expect_reject(line, "name 'AAAA");
	assert_true(strlen(err) < 160);
	assert_non_null(strstr(err, "...'"));

	expect_reject("isles.dataports=a\x01\x7f:10:x+y", "name 'a?" "?'");
	/* A message that does not fit is cut, not overrun. */
	assert_int_equal(dp_cmdline_parse("isles.dataports=a:1:x+y", 24, &t,
	    err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(dp_cmdline_parse("isles.dataports=a:1:x+y", 24, &t,
	    NULL, 0), -1);
}

/* ---- lookups ---------------------------------------------------------- */

static void
test_table_find(void **state)
{
	assert_int_equal(parse("isles.dataports=a:10:x+y,b:11:y+x"), 0);
	assert_int_equal(dp_table_find(&t, "b"), 1);
	assert_int_equal(dp_table_find(&t, "a"), 0);
	errno = 0;
	assert_int_equal(dp_table_find(&t, "c"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dp_table_find(&t, ""), -1);
}

static void
test_peer_lookup(void **state)
{
	const struct dp_entry *e;

	assert_int_equal(parse("isles.dataports=a:10:vm0+vm1+vm2,"
	    "b:11:1+0"), 0);
	e = &t.e[0];
	assert_int_equal(dp_peer_lookup(e, "vm0"), 0);
	assert_int_equal(dp_peer_lookup(e, "vm2"), 2);
	assert_int_equal(dp_peer_lookup(e, "2"), 2);
	assert_int_equal(dp_peer_lookup(e, "0"), 0);
	errno = 0;
	assert_int_equal(dp_peer_lookup(e, "3"), -1);	/* past the list */
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dp_peer_lookup(e, "vm3"), -1);
	assert_int_equal(dp_peer_lookup(e, ""), -1);
	assert_int_equal(dp_peer_lookup(e, "-1"), -1);
	assert_int_equal(dp_peer_lookup(e, "1a"), -1);
	assert_int_equal(dp_peer_lookup(e, " 1"), -1);
	assert_int_equal(dp_peer_lookup(e, "1\n"), -1);
	assert_int_equal(dp_peer_lookup(e, "000001"), -1);
	assert_int_equal(dp_peer_lookup(e, "99999999999999999999999"), -1);
	/* Names win over IDs: in b, VM "1" is peer 0. */
	e = &t.e[1];
	assert_int_equal(dp_peer_lookup(e, "1"), 0);
	assert_int_equal(dp_peer_lookup(e, "0"), 1);
}

/* ---- sysfs syntax ----------------------------------------------------- */

static void
test_parse_numbers(void **state)
{
	uint64_t v = 0;

	assert_int_equal(dp_parse_hex("0x0000000000001000\n", 19, &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(dp_parse_hex("0xffffffffffffffff", 18, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(dp_parse_hex("0X1f", 4, &v), 0);
	assert_int_equal(v, 0x1f);
	errno = 0;
	assert_int_equal(dp_parse_hex("0x10000000000000000", 19, &v), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(dp_parse_hex("1000", 4, &v), -1);	/* no 0x */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dp_parse_hex("0x", 2, &v), -1);
	assert_int_equal(dp_parse_hex("0x\n", 3, &v), -1);
	assert_int_equal(dp_parse_hex("0x10\n\n", 6, &v), -1);
	assert_int_equal(dp_parse_hex("0x1g", 4, &v), -1);
	assert_int_equal(dp_parse_hex(" 0x1", 4, &v), -1);
	/* The length bounds the parse, not a NUL. */
	assert_int_equal(dp_parse_hex("0x12zz", 4, &v), 0);
	assert_int_equal(v, 0x12);

	assert_int_equal(dp_parse_dec("12345\n", 6, &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(dp_parse_dec("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(dp_parse_dec("18446744073709551616", 20, &v), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(dp_parse_dec("-1", 2, &v), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(dp_parse_dec("+1", 2, &v), -1);
	assert_int_equal(dp_parse_dec("", 0, &v), -1);
	assert_int_equal(dp_parse_dec("\n", 1, &v), -1);
	assert_int_equal(dp_parse_dec("0x10", 4, &v), -1);
}

static void
test_parse_pci_addr(void **state)
{
	unsigned d = 9, b = 9, s = 9, f = 9;

	assert_int_equal(dp_parse_pci_addr("0000:00:10.0", &d, &b, &s, &f), 0);
	assert_int_equal(d, 0);
	assert_int_equal(b, 0);
	assert_int_equal(s, 0x10);
	assert_int_equal(f, 0);
	assert_int_equal(dp_parse_pci_addr("abcd:0f:1f.7", &d, &b, &s, &f), 0);
	assert_int_equal(d, 0xabcd);
	assert_int_equal(b, 0x0f);
	assert_int_equal(s, 0x1f);
	assert_int_equal(f, 7);
	assert_int_equal(dp_parse_pci_addr("0000:00:20.0", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("0000:00:10.8", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("000:00:10.0", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("0000:00:10.0x", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("0000-00:10.0", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("0000:00:10:0", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("0000:0g:10.0", &d, &b, &s, &f), -1);
	assert_int_equal(dp_parse_pci_addr("", &d, &b, &s, &f), -1);
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_one),
		cmocka_unit_test(test_parse_several),
		cmocka_unit_test(test_parse_none),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_reject_names),
		cmocka_unit_test(test_reject_slots),
		cmocka_unit_test(test_reject_missing_fields),
		cmocka_unit_test(test_reject_duplicates),
		cmocka_unit_test(test_reject_too_many),
		cmocka_unit_test(test_reject_quotes_only_a_short_clean_snippet),
		cmocka_unit_test(test_table_find),
		cmocka_unit_test(test_peer_lookup),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_pci_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
