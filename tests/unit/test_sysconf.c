/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of src/sysconf: the system file parser and validator.
 * Files are given as strings (sc_load_string) except where the rule is
 * about the file system (kernel, disk paths, sc_load itself); those use a
 * private temporary directory.  Each test asserts what a user would see:
 * the plan's values, or an error message with its file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <malloc.h>
#include <unistd.h>

#include "sysconf/sysconf.h"

static struct sc_errors err;

/* Print the errors on failure: the message is what the test is about. */
static void
dump_errors(void)
{
	for (size_t i = 0; i < err.n; i++)
		print_message("  error: %s\n", err.msg[i]);
}

static struct sc_system *
load_ok(const char *text)
{
	struct sc_system *sys = sc_load_string(text, "t.conf", &err);

	if (sys == NULL)
		dump_errors();
	assert_non_null(sys);
	assert_int_equal(err.n, 0);
	return sys;
}

/* Is there an error "t.conf:LINE: ...WHAT..." (line 0: "t.conf: ...")? */
static bool
has_error(int line, const char *what)
{
	char prefix[64];

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	for (size_t i = 0; i < err.n; i++)
		if (strncmp(err.msg[i], prefix, strlen(prefix)) == 0 &&
		    strstr(err.msg[i], what) != NULL)
			return true;
	return false;
}

/* The file must be refused with (at least) this error. */
static void
expect_error(const char *text, int line, const char *what)
{
	struct sc_system *sys = sc_load_string(text, "t.conf", &err);

	if (sys != NULL)
		sc_free(sys);
	assert_null(sys);
	assert_true(err.n > 0);
	if (!has_error(line, what)) {
		print_message("expected t.conf:%d: ...%s...; got:\n", line, what);
		dump_errors();
		fail();
	}
}

/* ---- sizes ----------------------------------------------------------- */

static void
test_parse_size_valid(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} cases[] = {
		{ "4096", 4096 }, { "1", 1 }, { "8K", 8192 },
		{ "256M", 256ull << 20 }, { "1G", 1ull << 30 },
		{ "2T", 2ull << 40 }, { "256MiB", 256ull << 20 },
		{ "3KiB", 3072 }, { "5GiB", 5ull << 30 }, { "1TiB", 1ull << 40 },
		{ "007M", 7ull << 20 },
		{ "18446744073709551615", UINT64_MAX },
		{ "16777215T", 16777215ull << 40 },
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 0;
		assert_int_equal(sc_parse_size(cases[i].s, &v), 0);
		assert_true(v == cases[i].v);
	}
}

static void
test_parse_size_invalid(void **state)
{
	static const char *const garbage[] = { "", "0", "0M", "000K", "-1",
		"-1M", "+1M", "1.5G", " 1M", "1M ", "1 M", "1m", "1k", "1MB",
		"1Mi", "M", "0x10", "1e6", "1MM", "1,000", "lots" };
	static const char *const huge[] = { "18446744073709551616",
		"99999999999999999999999", "16777216T", "17179869184G" };
	uint64_t v = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		errno = 0;
		assert_int_equal(sc_parse_size(garbage[i], &v), -1);
		assert_int_equal(errno, EINVAL);
	}
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		errno = 0;
		assert_int_equal(sc_parse_size(huge[i], &v), -1);
		assert_int_equal(errno, ERANGE);
	}
	assert_true(v == 42);	/* untouched on failure */
}

static void
test_memory_sizes(void **state)
{
	struct sc_system *sys;

	(void)state;
	sys = load_ok("vms = ( { name = \"a\"; memory = \"32M\"; },\n"
	    "{ name = \"b\"; memory = \"256G\"; }, { name = \"c\"; } );");
	assert_true(sys->vms[0].memory == 32ull << 20);
	assert_true(sys->vms[1].memory == 256ull << 30);
	assert_true(sys->vms[2].memory == 256ull << 20);	/* default */
	sc_free(sys);
	expect_error("vms = ( { name = \"a\"; memory = \"31M\"; } );", 1,
	    "vm 'a': memory must be 32M to 256G, not 31M");
	expect_error("vms = ( { name = \"a\"; memory = \"257G\"; } );", 1,
	    "memory must be 32M to 256G");
	expect_error("vms = ( { name = \"a\"; memory = \"0\"; } );", 1,
	    "memory must not be zero");
	expect_error("vms = ( { name = \"a\"; memory = \"100000000\"; } );", 1,
	    "memory must be a whole number of MiB");
	expect_error("vms = ( { name = \"a\"; memory = 256; } );", 1,
	    "memory must be a size string like \"256M\"");
	expect_error("vms = ( { name = \"a\"; memory = \"1.5G\"; } );", 1,
	    "memory \"1.5G\" is not a size");
	expect_error("vms = ( { name = \"a\"; memory = \"99999999999T\"; } );",
	    1, "is too large");
}

/* ---- names ----------------------------------------------------------- */

static void
test_names(void **state)
{
	static const char *const good[] = { "a", "0", "vm-0_1", "9lives",
		"abcdefghijklmnopqrstuvwxyz01234" /* 31 */ };
	static const char *const bad[] = { "", "-a", "_a", "A", "vM", "a.b",
		"a b", "a/b", "abcdefghijklmnopqrstuvwxyz012345" /* 32 */ };
	char text[256];
	struct sc_system *sys;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "vms = ( { name = \"%s\"; } );",
		    good[i]);
		sys = load_ok(text);
		assert_string_equal(sys->vms[0].name, good[i]);
		assert_int_equal(sc_vm_find(sys, good[i]), 0);
		assert_int_equal(sc_vm_find(sys, "zz-not-there"), -1);
		sc_free(sys);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "vms = ( { name = \"%s\"; } );",
		    bad[i]);
		expect_error(text, 1, "is not valid (1 to 31 characters");
	}
	expect_error("vms = ( { memory = \"64M\"; } );", 1,
	    "vm #0: name is required");
	expect_error("vms = ( { name = 3; } );", 1, "name must be a string");
}

static void
test_duplicate_names(void **state)
{
	(void)state;
	expect_error("vms = (\n { name = \"vm0\"; },\n { name = \"vm1\"; },\n"
	    " { name = \"vm0\"; } );", 4,
	    "vm 'vm0' is defined twice (first at line 2)");
	expect_error("switches = ( { name = \"s\"; },\n { name = \"s\"; } );\n"
	    "vms = ( { name = \"vm0\"; } );", 2,
	    "switch 's' is defined twice (first at line 1)");
	expect_error("disks = ( { name = \"d\"; path = \"a\"; size = \"1M\"; },\n"
	    "{ name = \"d\"; path = \"b\"; size = \"1M\"; } );\n"
	    "vms = ( { name = \"vm0\"; } );", 2,
	    "disk 'd' is defined twice (first at line 1)");
	/* Kinds have their own name spaces. */
	sc_free(load_ok("switches = ( { name = \"x\"; } );\n"
	    "disks = ( { name = \"x\"; path = \"x.img\"; size = \"1M\"; } );\n"
	    "vms = ( { name = \"x\"; } );"));
}

/* ---- top level and keys ------------------------------------------------ */

static void
test_system_name_and_accel(void **state)
{
	struct sc_system *sys;

	(void)state;
	sys = sc_load_string("vms = ( { name = \"a\"; } );", "dir/my-sys.conf",
	    &err);
	assert_non_null(sys);
	assert_string_equal(sys->name, "my-sys");	/* file name */
	assert_string_equal(sys->file, "dir/my-sys.conf");
	assert_int_equal(sys->accel, SC_ACCEL_AUTO);
	sc_free(sys);
	sys = load_ok("name = \"lab\"; accel = \"tcg\";\n"
	    "vms = ( { name = \"a\"; } );");
	assert_string_equal(sys->name, "lab");
	assert_int_equal(sys->accel, SC_ACCEL_TCG);
	sc_free(sys);
	sys = load_ok("accel = \"kvm\"; vms = ( { name = \"a\"; } );");
	assert_int_equal(sys->accel, SC_ACCEL_KVM);
	assert_string_equal(sys->name, "t");
	sc_free(sys);
	expect_error("accel = \"xen\";\nvms = ( { name = \"a\"; } );", 1,
	    "accel must be \"auto\", \"kvm\" or \"tcg\", not \"xen\"");
	expect_error("name = \"Big\";\nvms = ( { name = \"a\"; } );", 1,
	    "system name 'Big' is not valid");
	sys = sc_load_string("vms = ( { name = \"a\"; } );", "My File.conf",
	    &err);
	assert_null(sys);
	assert_string_equal(err.msg[0], "My File.conf: system name 'My File' "
	    "(the file name) is not valid (1 to 31 characters of a-z 0-9 _ -, "
	    "starting with a letter or digit); set name = \"...\";");
}

static void
test_console_log_max(void **state)
{
	struct sc_system *sys;

	(void)state;
	sys = load_ok("vms = ( { name = \"a\"; } );");
	assert_true(sys->console_log_max == 4ull << 20);	/* default */
	sc_free(sys);
	sys = load_ok("console_log_max = \"64K\";\nvms = ( { name = \"a\"; } );");
	assert_true(sys->console_log_max == 64ull << 10);
	sc_free(sys);
	sys = load_ok("console_log_max = \"256M\";\nvms = ( { name = \"a\"; } );");
	assert_true(sys->console_log_max == 256ull << 20);
	sc_free(sys);
	expect_error("console_log_max = \"65535\";\nvms = ( { name = \"a\"; } );",
	    1, "console_log_max must be 64K to 256M, not \"65535\"");
	expect_error("vms = ( { name = \"a\"; } );\nconsole_log_max = \"257M\";",
	    2, "console_log_max must be 64K to 256M, not \"257M\"");
	expect_error("console_log_max = \"4 MiB\";\nvms = ( { name = \"a\"; } );",
	    1, "console_log_max \"4 MiB\" is not a size");
	expect_error("console_log_max = 4096;\nvms = ( { name = \"a\"; } );",
	    1, "console_log_max must be a size string like \"256M\"");
	expect_error("console_log_max = \"0\";\nvms = ( { name = \"a\"; } );",
	    1, "console_log_max must not be zero");
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_error("vms = ( { name = \"a\"; } );\nfoo = 1;", 2,
	    "unknown key 'foo' at top level (expected one of: name, accel, "
	    "console_log_max, vms, disks, switches, dataports, consoles, vsock, "
	    "console)");
	expect_error("vms = ( { name = \"vm0\";\n memroy = \"256M\"; } );", 2,
	    "unknown key 'memroy' in vm 'vm0' (expected one of: name, memory, "
	    "vcpus, arch, hugepages, kernel, initrd, cmdline, disks, nics, sata, "
	    "passthrough, cid)");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " sise = 1; } );\nvms = ( { name = \"a\"; } );", 1,
	    "unknown key 'sise' in disk 'd' (expected one of: name, path, "
	    "size, layout, partitions, queues, cache)");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    "\n partitions = ( { size = \"1M\"; bootable = true; } ); } );\n"
	    "vms = ( { name = \"a\"; } );", 2,
	    "unknown key 'bootable' in disk 'd', partition entry 1 (expected "
	    "one of: size, type, boot, logical, format, images)");
	expect_error("switches = ( { name = \"s\"; vlan = 1; } );\n"
	    "vms = ( { name = \"a\"; } );", 1,
	    "unknown key 'vlan' in switch 's' (expected one of: name, uplink)");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\"; }"
	    " );\nvms = ( { name = \"a\";\n disks = ( { disk = \"d\"; "
	    "partitions = [ 1 ]; ro = true; } ); } );", 3,
	    "unknown key 'ro' in vm 'a', vda (expected one of: disk, "
	    "partitions, readonly)");
	expect_error("switches = ( { name = \"s\"; } );\nvms = ( { name = \"a\";"
	    "\n nics = ( { switch = \"s\"; model = \"e1000\"; } ); } );", 3,
	    "unknown key 'model' in vm 'a', eth0 (expected one of: switch, mac)");
}

static void
test_structure(void **state)
{
	(void)state;
	expect_error("vms = ( { name = \"a\"; } );\ndataports = { };", 2,
	    "dataports must be a list of groups");
	expect_error("vms = ( { name = \"a\"; } );\n\nvsock = {};", 3,
	    "vsock must be a list of groups");
	expect_error("vms = ( { name = \"a\"; } );\nconsoles = \"x\";", 2,
	    "consoles must be a list of groups");
	expect_error("vms = ( { name = \"a\"; } );\npassthrough = ();", 2,
	    "unknown key 'passthrough' at top level");
	expect_error("name = \"x\";", 0, "vms is required");
	expect_error("vms = ( );", 1, "vms is empty");
	expect_error("vms = { name = \"a\"; };", 1,
	    "vms must be a list of groups");
	expect_error("vms = ( \"a\" );", 1, "vms: entry 0 must be a group");
	expect_error("", 0, "vms is required");
}

/*
 * What links VMs: each VM's dataports in PCI slot order (its own
 * dataports first, in file order, then those of the disks it drives), the
 * peers of each, and the kernel parameter the guest module reads.
 */
static void
test_links(void **state)
{
	struct sc_system *sys;
	char buf[256];

	(void)state;
	sys = load_ok("dataports = ( { name = \"ctl\"; size = \"64K\"; "
	    "vms = [ \"c\", \"a\" ]; } );\n"
	    "consoles = ( { name = \"hvc\"; vms = [ \"b\", \"a\" ]; } );\n"
	    "vsock = ( { client = \"b\"; server = \"a\"; port = 1234; } );\n"
	    "vms = ( { name = \"a\"; cid = 3; disks = ( { driver = \"c\"; "
	    "dataport = \"client1\"; } ); },\n"
	    "{ name = \"b\"; cid = 4; disks = ( { driver = \"c\"; "
	    "dataport = \"client2\"; dataport_size = \"1M\"; timeout = 9; "
	    "readonly = true; } ); },\n"
	    "{ name = \"c\"; } );");
	assert_int_equal(sys->ndataports, 3);
	assert_string_equal(sys->dataports[0].name, "ctl");
	assert_false(sys->dataports[0].host);
	assert_int_equal(sys->dataports[0].npeers, 2);
	assert_int_equal(sys->dataports[0].peers[0], 2);
	assert_int_equal(sys->dataports[0].peers[1], 0);
	assert_string_equal(sys->dataports[1].name, "client1");
	assert_true(sys->dataports[1].host);
	assert_int_equal(sys->dataports[1].peers[1], 2);
	assert_int_equal(sys->dataports[1].client, 0);
	assert_int_equal(sys->dataports[1].size, 4u << 20);
	assert_int_equal(sys->dataports[2].size, 1u << 20);
	assert_int_equal(sys->vms[1].disks[0].driver, 2);
	assert_int_equal(sys->vms[1].disks[0].dataport, 2);
	assert_int_equal(sys->vms[1].disks[0].timeout, 9);
	assert_true(sys->vms[1].disks[0].readonly);
	/* A client is not on its disk's dataport: only the daemon is. */
	assert_int_equal(sys->vms[0].ndataports, 1);
	assert_int_equal(sys->vms[1].ndataports, 0);
	assert_int_equal(sys->vms[2].ndataports, 3);
	sc_dataport_param(sys, 2, buf, sizeof(buf));
	assert_string_equal(buf, "ctl:10:c+a,client1:11:host+c,"
	    "client2:12:host+c");
	sc_dataport_param(sys, 0, buf, sizeof(buf));
	assert_string_equal(buf, "ctl:10:c+a");
	assert_int_equal(sc_dataport_param(sys, 2, NULL, 0),
	    (int)strlen("ctl:10:c+a,client1:11:host+c,client2:12:host+c"));
	assert_int_equal(sys->nconsoles, 1);
	assert_int_equal(sys->consoles[0].vm[0], 1);
	assert_int_equal(sys->nvsock, 1);
	assert_int_equal(sys->vsock[0].client, 1);
	assert_int_equal(sys->vsock[0].server, 0);
	assert_int_equal(sys->vsock[0].port, 1234);
	assert_null(sys->serial);
	sc_free(sys);
	/* A truncated buffer still gets a terminated prefix. */
	sys = load_ok("dataports = ( { name = \"ctl\"; size = \"4K\"; "
	    "vms = [ \"a\", \"b\" ]; } );\n"
	    "vms = ( { name = \"a\"; }, { name = \"b\"; } );");
	assert_int_equal(sc_dataport_param(sys, 1, buf, 5), 10);
	assert_string_equal(buf, "ctl:");
	sc_free(sys);
	expect_error("dataports = ( { name = \"d\"; size = \"64K\"; vms = [ "
	    "\"a\", \"b\" ]; } );\nvms = ( { name = \"a\"; },\n"
	    "{ name = \"b\"; disks = ( { driver = \"a\"; dataport = \"d\"; "
	    "} ); } );", 3, "dataport 'd' is defined twice (first at line 1)");
	expect_error("vsock = ( { client = \"a\"; server = \"b\"; port = 1; } "
	    ");\nvms = ( { name = \"a\"; cid = 3; }, { name = \"b\"; } );", 1,
	    "vm 'b' has no cid");
}

static void
test_syntax_error_line(void **state)
{
	(void)state;
	expect_error("vms = (\n { name = \"a\"; }\n { name = \"b\"; }\n);", 3,
	    "syntax error");
	assert_int_equal(err.n, 1);
	expect_error("vms = ( { name = \"a\"; } );\nvms = ( );", 2,
	    "duplicate setting name");
}

/*
 * A refused driver-VM disk entry gives back what it had kept: its slot is
 * reused by the next entry (found by tests/fuzz/fuzz_sysconf: the names
 * of a refused entry leaked).  Counted with mallinfo2 in the plain build;
 * the ASan build's leak check catches it too.
 */
static void
test_refused_driver_disk_frees(void **state)
{
	static const char text[] =
	    "vms = ( { name = \"a\"; disks = (\n"
	    "  { driver = \"b\"; dataport = \"Bad Name\"; },\n"
	    "  { driver = \"Bad\"; dataport = \"c1\"; },\n"
	    "  { driver = \"b\"; dataport = \"c2\"; timeout = 0; } ); },\n"
	    "  { name = \"b\"; } );";
	struct sc_system *sys;
	size_t before;

	(void)state;
	/* libconfig and stdio keep some memory of their first calls. */
	for (int i = 0; i < 200; i++) {
		sys = sc_load_string(text, "t.conf", &err);
		assert_null(sys);
	}
	before = mallinfo2().uordblks;
	for (int i = 0; i < 200; i++) {
		sys = sc_load_string(text, "t.conf", &err);
		assert_null(sys);
	}
	/* 200 loads leaking even one 32-byte chunk each would be 6400. */
	assert_true(mallinfo2().uordblks < before + 2048);
	assert_true(has_error(2, "dataport name 'Bad Name' is not valid"));
}

/* ---- VMs --------------------------------------------------------------- */

static void
test_vm_count_and_vcpus(void **state)
{
	static char text[64 * 40];
	size_t off;
	struct sc_system *sys;

	(void)state;
	for (int n = 32; n <= 33; n++) {
		off = (size_t)sprintf(text, "vms = (\n");
		for (int i = 0; i < n; i++)
			off += (size_t)sprintf(text + off, "{ name = \"v%d\"; }%s\n",
			    i, i + 1 < n ? "," : "");
		sprintf(text + off, ");");
		if (n == 32) {
			sys = load_ok(text);
			assert_int_equal(sys->nvms, 32);
			for (unsigned i = 0; i < 32; i++)
				assert_int_equal(sys->vms[i].index, i);
			assert_int_equal(sc_vm_find(sys, "v31"), 31);
			sc_free(sys);
		} else {
			expect_error(text, 1, "too many VMs: 33 (at most 32)");
		}
	}
	sys = load_ok("vms = ( { name = \"a\"; vcpus = 64; }, "
	    "{ name = \"b\"; } );");
	assert_int_equal(sys->vms[0].vcpus, 64);
	assert_int_equal(sys->vms[1].vcpus, 1);
	sc_free(sys);
	expect_error("vms = ( { name = \"a\"; vcpus = 0; } );", 1,
	    "vm 'a': vcpus must be 1 to 64, not 0");
	expect_error("vms = ( { name = \"a\"; vcpus = 65; } );", 1,
	    "vcpus must be 1 to 64, not 65");
	expect_error("vms = ( { name = \"a\"; vcpus = \"2\"; } );", 1,
	    "vcpus must be an integer");
}

static void
test_arch_and_cmdline(void **state)
{
	struct sc_system *sys;

	(void)state;
	sys = load_ok("vms = ( { name = \"a\"; arch = \"x86_64\"; "
	    "cmdline = \"quiet a=b\"; }, { name = \"b\"; } );");
	assert_int_equal(sys->vms[0].arch, SC_ARCH_X86_64);
	assert_string_equal(sys->vms[0].cmdline, "quiet a=b");
	assert_null(sys->vms[1].cmdline);
	assert_null(sys->vms[1].kernel);
	assert_null(sys->vms[1].initrd);
	sc_free(sys);
	sys = load_ok("vms = ( { name = \"a\"; arch = \"i386\"; } );");
	assert_int_equal(sys->vms[0].arch, SC_ARCH_I386);
	sc_free(sys);
	expect_error("vms = ( { name = \"a\"; arch = \"arm\"; } );", 1,
	    "arch must be \"x86_64\" or \"i386\", not \"arm\"");
	expect_error("vms = ( { name = \"a\"; cmdline = \"x\\ny\"; } );", 1,
	    "cmdline must not contain control characters");
}

/* A private directory with a kernel and an initrd in files/. */
static char tmpdir[64];

static int
setup_dir(void **state)
{
	char p[128];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/isl.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/files", tmpdir);
	if (mkdir(p, 0755) != 0)
		return -1;
	const char *names[] = { "files/kernel", "files/initrd", "disk.img" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		f = fopen(p, "w");
		if (f == NULL)
			return -1;
		fprintf(f, "dummy\n");
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/disk.img", tmpdir);
	return truncate(p, 64 << 20);
}

static int
teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Load text as if it were the file tmpdir/NAME. */
static struct sc_system *
load_in_dir(const char *text, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return sc_load_string(text, path, &err);
}

static void
test_kernel_files(void **state)
{
	struct sc_system *sys;
	char want[160];

	(void)state;
	sys = load_in_dir("vms = ( { name = \"a\"; kernel = \"files/kernel\";\n"
	    "initrd = \"files/initrd\"; } );", "k.conf");
	if (sys == NULL)
		dump_errors();
	assert_non_null(sys);
	snprintf(want, sizeof(want), "%s/files/kernel", tmpdir);
	assert_string_equal(sys->vms[0].kernel, want);
	assert_string_equal(sys->vms[0].kernel_as_written, "files/kernel");
	snprintf(want, sizeof(want), "%s/files/initrd", tmpdir);
	assert_string_equal(sys->vms[0].initrd, want);
	assert_string_equal(sys->vms[0].initrd_as_written, "files/initrd");
	sc_free(sys);

	sys = load_in_dir("vms = (\n { name = \"a\"; kernel = \"files/nope\"; }"
	    " );", "k.conf");
	assert_null(sys);
	assert_int_equal(err.n, 1);
	snprintf(want, sizeof(want), "%s/k.conf:2: vm 'a': kernel "
	    "'files/nope': No such file or directory", tmpdir);
	assert_string_equal(err.msg[0], want);

	sys = load_in_dir("vms = ( { name = \"a\"; kernel = \"files\"; } );",
	    "k.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], "kernel 'files' is not a regular "
	    "file"));

	sys = load_in_dir("vms = ( { name = \"a\";\n initrd = \"files/initrd\";"
	    " } );", "k.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], ":2: vm 'a': initrd needs a "
	    "kernel"));
}

/* ---- disks ------------------------------------------------------------- */

#define VM0 "vms = ( { name = \"vm0\"; } );\n"

static void
test_disk_paths(void **state)
{
	struct sc_system *sys;
	char want[160];

	(void)state;
	/* Existing file, no size: fine; missing file with size: fine. */
	sys = load_in_dir("disks = ( { name = \"a\"; path = \"disk.img\"; },\n"
	    "{ name = \"b\"; path = \"new.img\"; size = \"1G\"; } );\n" VM0,
	    "d.conf");
	if (sys == NULL)
		dump_errors();
	assert_non_null(sys);
	assert_int_equal(sys->ndisks, 2);
	snprintf(want, sizeof(want), "%s/disk.img", tmpdir);
	assert_string_equal(sys->disks[0].path, want);
	assert_string_equal(sys->disks[0].path_as_written, "disk.img");
	assert_true(sys->disks[0].size == 0);
	assert_true(sys->disks[1].size == 1ull << 30);
	assert_int_equal(sys->disks[0].queues, 1);
	assert_int_equal(sys->disks[0].layout, SC_PT_MBR);
	assert_int_equal(sys->disks[0].nparts, 0);
	sc_free(sys);

	sys = load_in_dir("disks = (\n{ name = \"a\"; path = \"gone.img\"; } );\n"
	    VM0, "d.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], "d.conf:2: disk 'a': path "
	    "'gone.img' does not exist and no size is given to create it"));

	sys = load_in_dir("disks = ( { name = \"a\"; path = \"no/x.img\"; "
	    "size = \"1G\"; } );\n" VM0, "d.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], "its directory does not exist"));

	sys = load_in_dir("disks = ( { name = \"a\"; path = \"files\"; } );\n"
	    VM0, "d.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], "is not a regular file or a block "
	    "device"));

	/* A layout on an existing file is checked against its size (64M). */
	sys = load_in_dir("disks = ( { name = \"a\"; path = \"disk.img\";\n"
	    "partitions = ( { size = \"64M\"; } ); } );\n" VM0, "d.conf");
	assert_null(sys);
	assert_non_null(strstr(err.msg[0], "the partitions need 65 MiB"));

	expect_error("disks = ( { name = \"a\"; path = \"x.img\"; size = \"1G\"; "
	    "},\n{ name = \"b\"; path = \"x.img\"; size = \"1G\"; } );\n" VM0,
	    2, "path 'x.img' is also the path of disk 'a' (line 1)");
	expect_error("disks = ( { name = \"a\"; path = \"x.img\"; size = \"1000\";"
	    " } );\n" VM0, 1, "size must be a whole number of 512-byte sectors");
	expect_error("disks = ( { name = \"a\"; path = \"x.img\"; size = \"65T\";"
	    " } );\n" VM0, 1, "size is larger than 64T");
	expect_error("disks = ( { name = \"a\"; size = \"1G\"; } );\n" VM0, 1,
	    "disk 'a': path is required");
	expect_error("disks = ( { name = \"a\"; path = \"x\"; size = \"1G\"; "
	    "queues = 17; } );\n" VM0, 1, "queues must be 1 to 16, not 17");
	expect_error("disks = ( { name = \"a\"; path = \"x\"; size = \"1G\"; "
	    "layout = \"dos\"; } );\n" VM0, 1,
	    "layout must be \"mbr\" or \"gpt\", not \"dos\"");
}

static void
test_layouts(void **state)
{
	struct sc_system *sys;
	const struct sc_disk *d;

	(void)state;
	sys = load_ok("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " queues = 4;\n partitions = ( { size = \"100M\"; boot = true; },\n"
	    "{ size = \"100M\"; type = 0x82; },\n"
	    "{ size = \"100M\"; logical = true; },\n{ logical = true; } ); } );\n"
	    VM0);
	d = &sys->disks[0];
	assert_int_equal(d->queues, 4);
	assert_int_equal(d->nparts, 4);
	assert_int_equal(d->parts[0].number, 1);
	assert_true(d->parts[0].boot);
	assert_int_equal(d->parts[0].type, 0x83);	/* default */
	assert_int_equal(d->parts[1].number, 2);
	assert_int_equal(d->parts[1].type, 0x82);
	assert_int_equal(d->parts[2].number, 5);
	assert_true(d->parts[2].logical);
	assert_int_equal(d->parts[3].number, 6);
	assert_true(d->parts[3].size == 0);	/* rest of the disk */
	assert_int_equal(d->parts[3].line, 5);
	sc_free(sys);

	/* Exactly full: 99M + 1M of alignment in a 100M disk. */
	sc_free(load_ok("disks = ( { name = \"d\"; path = \"d.img\"; "
	    "size = \"100M\"; partitions = ( { size = \"99M\"; } ); } );\n" VM0));
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"100M\";"
	    " partitions = ( { size = \"100M\"; } ); } );\n" VM0, 1,
	    "the partitions need 101 MiB (1 MiB of it for the table and "
	    "alignment) but the disk is 100 MiB");
	/* GPT keeps 1 MiB at the end too. */
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"100M\";"
	    " layout = \"gpt\"; partitions = ( { size = \"99M\"; } ); } );\n"
	    VM0, 1, "the partitions need 101 MiB");
	/* The rest-of-disk entry needs room. */
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"100M\";"
	    " partitions = ( { size = \"99M\"; }, { } ); } );\n" VM0, 1,
	    "plus at least 1 MiB for the last one");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";\n"
	    " partitions = ( { }, { size = \"1M\"; } ); } );\n" VM0, 2,
	    "partition entry 1: only the last partition may leave out size");
	sc_free(load_ok("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; }, { size = \"1M\"; }, "
	    "{ size = \"1M\"; }, { size = \"1M\"; } ); } );\n" VM0));
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; }, { size = \"1M\"; }, "
	    "{ size = \"1M\"; }, { size = \"1M\"; }, { size = \"1M\"; } ); } );\n"
	    VM0, 1, "an mbr layout holds at most 4 primary partitions; this one "
	    "needs 5");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; }, { size = \"1M\"; }, "
	    "{ size = \"1M\"; }, { size = \"1M\"; }, { logical = true; } ); } );"
	    "\n" VM0, 1, "counting the extended partition");
	sc_free(load_ok("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " layout = \"gpt\"; partitions = ( { size = \"1M\"; }, "
	    "{ size = \"1M\"; }, { size = \"1M\"; }, { size = \"1M\"; }, "
	    "{ size = \"1M\"; } ); } );\n" VM0));
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " layout = \"gpt\"; partitions = ( { logical = true; } ); } );\n"
	    VM0, 1, "logical partitions exist only in an mbr layout");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; logical = true; }, "
	    "{ size = \"1M\"; } ); } );\n" VM0, 1,
	    "primary partitions must come before the logical ones");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; type = 256; } ); } );\n" VM0, 1,
	    "type 256 is not a partition type byte");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1M\"; type = -1; } ); } );\n" VM0, 1,
	    "type -1 is not a partition type byte");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";"
	    " partitions = ( { size = \"1536K\"; } ); } );\n" VM0, 1,
	    "size must be a whole number of MiB");
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"4T\";"
	    " partitions = ( { size = \"3T\"; } ); } );\n" VM0, 1,
	    "an mbr layout cannot address more than 2 TiB");
}

/*
 * A layout fits when isles-diskd can create it: both judge it by
 * pt_room (src/diskd/ptable.c), to the sector.
 */
static void
test_layouts_judged_as_diskd_creates_them(void **state)
{
	(void)state;
	/* An MBR addresses 2^32 - 1 sectors: 1 MiB + 2 TiB - 1 MiB is one
	 * sector too many, 1 MiB less fits. */
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; size = \"4T\";"
	    " partitions = ( { size = \"2097151M\"; } ); } );\n" VM0, 1,
	    "an mbr layout cannot address more than 2 TiB");
	sc_free(load_ok("disks = ( { name = \"d\"; path = \"d.img\"; "
	    "size = \"4T\"; partitions = ( { size = \"2097150M\"; } ); } );\n"
	    VM0));
	/* GPT's backup table takes 33 sectors, not a whole MiB. */
	sc_free(load_ok("disks = ( { name = \"d\"; path = \"d.img\"; "
	    "size = \"102420K\"; layout = \"gpt\"; "
	    "partitions = ( { size = \"99M\"; } ); } );\n" VM0));
	expect_error("disks = ( { name = \"d\"; path = \"d.img\"; "
	    "size = \"102416K\"; layout = \"gpt\"; "
	    "partitions = ( { size = \"99M\"; } ); } );\n" VM0, 1,
	    "the partitions need 101 MiB (2 MiB of it for the table and "
	    "alignment) but the disk is 102416 KiB");
}

/* ---- grants ------------------------------------------------------------ */

#define DISK "disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";\n" \
	"partitions = ( { size = \"64M\"; }, { size = \"64M\"; }, " \
	"{ size = \"64M\"; } ); } );\n"
#define RAWDISK "disks = ( { name = \"r\"; path = \"r.img\"; size = \"1G\"; } );\n"
/* Both: d (layout 1-3, line 1-3) and r (no layout). */
#define BOTHDISKS "disks = ( { name = \"d\"; path = \"d.img\"; size = \"1G\";\n" \
	"partitions = ( { size = \"64M\"; }, { size = \"64M\"; }, " \
	"{ size = \"64M\"; } ); },\n" \
	"{ name = \"r\"; path = \"r.img\"; size = \"1G\"; } );\n"

static void
test_grants(void **state)
{
	struct sc_system *sys;
	const struct sc_vm *vm;

	(void)state;
	sys = load_ok(BOTHDISKS "vms = (\n"
	    "{ name = \"a\"; disks = ( { disk = \"d\"; partitions = [ 1, 3 ]; },"
	    " { disk = \"r\"; partitions = [ 9 ]; } ); },\n"
	    "{ name = \"b\"; disks = ( { disk = \"d\"; partitions = [ 2 ]; "
	    "readonly = true; } ); },\n"
	    "{ name = \"c\"; disks = ( { disk = \"d\"; partitions = [ 2 ]; "
	    "readonly = true; } ); } );");
	vm = &sys->vms[0];
	assert_int_equal(vm->ndisks, 2);
	assert_int_equal(vm->disks[0].disk, 0);
	assert_int_equal(vm->disks[0].npartitions, 2);
	assert_int_equal(vm->disks[0].partitions[0], 1);
	assert_int_equal(vm->disks[0].partitions[1], 3);
	assert_false(vm->disks[0].readonly);
	assert_int_equal(vm->disks[0].line, 5);
	/* No declared layout: partition 9 is left to the disk server. */
	assert_int_equal(vm->disks[1].disk, 1);
	assert_int_equal(vm->disks[1].partitions[0], 9);
	assert_true(sys->vms[1].disks[0].readonly);
	assert_true(sys->vms[2].disks[0].readonly);
	sc_free(sys);

	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"x\"; "
	    "partitions = [ 1 ]; } ); } );", 4,
	    "vm 'a', vda: disk 'x' is not defined");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "partitions = [ 4 ]; } ); } );", 4,
	    "vm 'a', vda: disk 'd' has no partition 4 (its layout declares 1-3)");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "partitions = [ 2, 2 ]; } ); } );", 4, "partition 2 is listed twice");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "partitions = [ ]; } ); } );", 4, "partitions must not be empty");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "} ); } );", 4, "partitions is required");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "partitions = [ 0 ]; } ); } );", 4,
	    "partition number 0 is out of range (1 to 128)");
	expect_error(DISK "vms = (\n{ name = \"a\"; disks = ( { disk = \"d\"; "
	    "partitions = [ \"1\" ]; } ); } );", 4,
	    "partitions must be an array of partition numbers");
	/* Writable twice, and writable + read-only: both lines named. */
	expect_error(DISK "vms = (\n"
	    "{ name = \"a\"; disks = ( { disk = \"d\"; partitions = [ 1 ]; } ); },"
	    "\n{ name = \"b\"; disks = ( { disk = \"d\"; partitions = [ 1 ]; } );"
	    " } );", 5, "partition 1 of disk 'd' is granted writable to vm 'a' "
	    "(line 4) and writable to vm 'b' (line 5)");
	expect_error(DISK "vms = (\n"
	    "{ name = \"a\"; disks = ( { disk = \"d\"; partitions = [ 1 ]; "
	    "readonly = true; } ); },\n"
	    "{ name = \"b\"; disks = ( { disk = \"d\"; partitions = [ 3, 1 ]; } );"
	    " } );", 5, "partition 1 of disk 'd' is granted read-only to vm 'a' "
	    "(line 4) and writable to vm 'b' (line 5)");
	/* Twice to the same VM (two virtual disks) is the same hazard. */
	expect_error(RAWDISK "vms = (\n"
	    "{ name = \"a\"; disks = ( { disk = \"r\"; partitions = [ 1 ]; },\n"
	    "{ disk = \"r\"; partitions = [ 1 ]; } ); } );", 4,
	    "partition 1 of disk 'r' is granted writable to vm 'a' (line 3) and "
	    "writable to vm 'a' (line 4)");
	expect_error(RAWDISK "vms = ( { name = \"a\"; disks = (\n"
	    "{ disk = \"r\"; partitions = [ 1 ]; }, { disk = \"r\"; partitions = "
	    "[ 2 ]; }, { disk = \"r\"; partitions = [ 3 ]; }, { disk = \"r\"; "
	    "partitions = [ 4 ]; }, { disk = \"r\"; partitions = [ 5 ]; }, "
	    "{ disk = \"r\"; partitions = [ 6 ]; }, { disk = \"r\"; partitions = "
	    "[ 7 ]; }, { disk = \"r\"; partitions = [ 8 ]; }, { disk = \"r\"; "
	    "partitions = [ 9 ]; } ); } );", 2, "too many disks: 9 (at most 8)");
}

/* ---- switches and NICs ------------------------------------------------- */

#define SWITCHES "switches = ( { name = \"lan\"; },\n" \
	"{ name = \"wan\"; uplink = \"isles-tap0\"; } );\n"

static void
test_nics(void **state)
{
	struct sc_system *sys;
	static const uint8_t mac_b_wan[6] = { 0x02, 0, 0, 0, 0xab, 0x02 };
	static const uint8_t mac_a_lan[6] = { 0x02, 0, 0, 0, 0xaa, 0x01 };
	static const uint8_t custom[6] = { 0x02, 0x12, 0x34, 0x56, 0x78, 0x9a };

	(void)state;
	sys = load_ok(SWITCHES "vms = (\n"
	    "{ name = \"a\"; nics = ( { switch = \"lan\"; } ); },\n"
	    "{ name = \"b\"; nics = ( { switch = \"lan\"; mac = "
	    "\"02:12:34:56:78:9A\"; }, { switch = \"wan\"; } ); } );");
	assert_int_equal(sys->nswitches, 2);
	assert_null(sys->switches[0].uplink_tap);
	assert_string_equal(sys->switches[1].uplink_tap, "isles-tap0");
	assert_int_equal(sys->vms[0].nnics, 1);
	assert_memory_equal(sys->vms[0].nics[0].mac, mac_a_lan, 6);
	assert_false(sys->vms[0].nics[0].uplink);
	assert_int_equal(sys->vms[1].nnics, 2);
	assert_memory_equal(sys->vms[1].nics[0].mac, custom, 6);
	assert_int_equal(sys->vms[1].nics[1].sw, 1);
	assert_memory_equal(sys->vms[1].nics[1].mac, mac_b_wan, 6);
	assert_true(sys->vms[1].nics[1].uplink);
	assert_int_equal(sys->vms[1].nics[1].line, 5);
	sc_free(sys);

	expect_error(SWITCHES "vms = (\n{ name = \"a\"; nics = ( { switch = "
	    "\"dmz\"; } ); } );", 4, "vm 'a', eth0: switch 'dmz' is not defined");
	expect_error(SWITCHES "vms = (\n{ name = \"a\"; nics = ( { switch = "
	    "\"lan\"; },\n { switch = \"lan\"; } ); } );", 5,
	    "eth1: a VM has at most one nic per switch");
	expect_error(SWITCHES "vms = (\n{ name = \"a\"; nics = ( { switch = "
	    "\"lan\"; mac = \"03:00:00:00:00:01\"; } ); } );", 4,
	    "is a multicast address");
	expect_error(SWITCHES "vms = (\n{ name = \"a\"; nics = ( { switch = "
	    "\"lan\"; mac = \"00:00:00:00:00:00\"; } ); } );", 4,
	    "mac must not be all zero");
	static const char *const badmacs[] = { "02:00:00:00:00", "02:00:00:00:00:0",
		"02:00:00:00:00:001", "02-00-00-00-00-01", "0g:00:00:00:00:01",
		"02:00:00:00:00:01:", "", "2:0:0:0:0:1" };
	for (size_t i = 0; i < sizeof(badmacs) / sizeof(badmacs[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), SWITCHES "vms = (\n{ name = \"a\"; "
		    "nics = ( { switch = \"lan\"; mac = \"%s\"; } ); } );",
		    badmacs[i]);
		expect_error(text, 4, "is not a MAC address");
	}
	/* Duplicates, a default MAC included (vm b's default on lan). */
	expect_error(SWITCHES "vms = (\n"
	    "{ name = \"a\"; nics = ( { switch = \"lan\"; mac = "
	    "\"02:00:00:00:aa:02\"; } ); },\n"
	    "{ name = \"b\"; nics = ( { switch = \"lan\"; } ); } );", 5,
	    "vm 'b': MAC 02:00:00:00:aa:02 is already the MAC of a nic of vm "
	    "'a' (line 4)");
	expect_error(SWITCHES "vms = (\n"
	    "{ name = \"a\"; nics = ( { switch = \"lan\"; mac = "
	    "\"02:00:00:00:00:01\"; } ); },\n"
	    "{ name = \"b\"; nics = ( { switch = \"wan\"; mac = "
	    "\"02:00:00:00:00:01\"; } ); } );", 5, "is already the MAC");
	/* Uplinks: TAP names, each used once. */
	expect_error("switches = ( { name = \"s\"; uplink = \"tap/0\"; } );\n"
	    VM0, 1, "uplink 'tap/0' is not a TAP device name");
	expect_error("switches = ( { name = \"s\"; uplink = "
	    "\"sixteen-chars-xx\"; } );\n" VM0, 1, "is not a TAP device name");
	expect_error("switches = ( { name = \"s\"; uplink = \"t0\"; },\n"
	    "{ name = \"u\"; uplink = \"t0\"; } );\n" VM0, 2,
	    "uplink 't0' is already the uplink of switch 's' (line 1)");
	sc_free(load_ok("switches = ( { name = \"s\"; uplink = "
	    "\"Tap.0_x-15chars\"; } );\n" VM0));
}

static void
test_nic_limit(void **state)
{
	char text[2048];
	size_t off;

	(void)state;
	off = (size_t)sprintf(text, "switches = (");
	for (int i = 0; i < 9; i++)
		off += (size_t)sprintf(text + off, "%s{ name = \"s%d\"; }",
		    i ? ", " : "", i);
	off += (size_t)sprintf(text + off, ");\nvms = ( { name = \"a\";\n"
	    "nics = (");
	for (int i = 0; i < 9; i++)
		off += (size_t)sprintf(text + off, "%s{ switch = \"s%d\"; }",
		    i ? ", " : "", i);
	sprintf(text + off, "); } );");
	expect_error(text, 3, "vm 'a': too many nics: 9 (at most 8)");
}

/* ---- whole files, sc_load, sc_print, error collection ------------------- */

static const char full[] =
	"# a full system\n"
	"name = \"full\";\n"
	"accel = \"tcg\";\n"
	"disks = ( { name = \"sata\"; path = \"disk.img\";\n"
	"    partitions = ( { size = \"16M\"; }, { size = \"16M\"; } ); } );\n"
	"switches = ( { name = \"lan\"; } );\n"
	"vms = (\n"
	"  { name = \"vm0\"; memory = \"64M\"; kernel = \"files/kernel\";\n"
	"    disks = ( { disk = \"sata\"; partitions = [ 1 ]; } );\n"
	"    nics = ( { switch = \"lan\"; } ); },\n"
	"  { name = \"vm1\"; vcpus = 2; cmdline = \"quiet\";\n"
	"    disks = ( { disk = \"sata\"; partitions = [ 2 ]; readonly = true; } );"
	"\n    nics = ( { switch = \"lan\"; } ); }\n"
	");\n";

static void
test_full_file_and_print(void **state)
{
	char path[128], *buf = NULL;
	size_t len = 0;
	struct sc_system *sys;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/full.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(full, f);
	fclose(f);
	sys = sc_load(path, &err);
	if (sys == NULL)
		dump_errors();
	assert_non_null(sys);
	assert_string_equal(sys->name, "full");
	assert_string_equal(sys->dir, tmpdir);
	assert_int_equal(sys->nvms, 2);
	assert_int_equal(sys->vms[1].index, 1);
	assert_int_equal(sys->vms[1].line, 11);
	assert_true(sys->vms[0].memory == 64ull << 20);
	assert_int_equal(sys->vms[1].nics[0].mac[5], 2);
	assert_int_equal(sc_vm_find(sys, "vm1"), 1);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	sc_print(sys, f);
	fclose(f);
	/* Paths as written, never the machine's absolute ones; the file is
	 * named as given (here absolute), once. */
	assert_non_null(strstr(buf, tmpdir));
	assert_null(strstr(strstr(buf, tmpdir) + 1, tmpdir));
	assert_non_null(strstr(buf, "system full\n"));
	assert_non_null(strstr(buf, "  accel: tcg\n"));
	assert_non_null(strstr(buf, "vm 0: vm0\n  memory: 64 MiB\n"));
	assert_non_null(strstr(buf, "  kernel: files/kernel\n"));
	assert_non_null(strstr(buf, "vm 1: vm1\n  memory: 256 MiB\n  vcpus: 2\n"));
	assert_non_null(strstr(buf, "  kernel: isles guest image\n"));
	assert_non_null(strstr(buf, "  cmdline: quiet\n"));
	assert_non_null(strstr(buf, "  vda: disk sata, partition 2, read-only\n"));
	assert_non_null(strstr(buf, "  eth0: switch lan, mac 02:00:00:00:aa:02\n"));
	assert_non_null(strstr(buf, "disk sata\n  path: disk.img\n"));
	assert_non_null(strstr(buf, "    2: 16 MiB, type 0x83\n"));
	assert_non_null(strstr(buf, "switch lan\n  uplink: none\n"));
	free(buf);
	sc_free(sys);
}

static void
test_load_file_errors(void **state)
{
	char path[128], want[192];
	struct sc_system *sys;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_null(sc_load(path, &err));
	assert_int_equal(err.n, 1);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or "
	    "directory", path);
	assert_string_equal(err.msg[0], want);

	snprintf(path, sizeof(path), "%s/files", tmpdir);
	assert_null(sc_load(path, &err));
	assert_int_equal(err.n, 1);
	assert_non_null(strstr(err.msg[0], "is a directory"));

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("vms = (\n  { name = \"a\" }\n  { name = \"b\"; }\n);\n", f);
	fclose(f);
	sys = sc_load(path, &err);
	assert_null(sys);
	assert_int_equal(err.n, 1);
	snprintf(want, sizeof(want), "%s:3: syntax error", path);
	assert_string_equal(err.msg[0], want);
}

static void
test_errors_collected_and_sorted(void **state)
{
	char text[4096];
	size_t off;

	(void)state;
	/* Problems on lines 2, 3 and 5, found in a different order (VMs
	 * are parsed after switches): reported all, sorted by line. */
	assert_null(sc_load_string("vms = (\n"
	    "{ name = \"a\"; vcpus = 0; },\n"
	    "{ name = \"b\"; memory = \"1K\"; } );\n"
	    "\n"
	    "switches = ( { name = \"S\"; } );\n", "t.conf", &err));
	assert_int_equal(err.n, 3);
	assert_non_null(strstr(err.msg[0], "t.conf:2: vm 'a': vcpus"));
	assert_non_null(strstr(err.msg[1], "t.conf:3: vm 'b': memory"));
	assert_non_null(strstr(err.msg[2], "t.conf:5: switch name 'S'"));

	/* More than SC_MAX_ERRORS: the rest are counted, not lost silently. */
	off = (size_t)sprintf(text, "vms = (\n");
	for (int i = 0; i < 40; i++)
		off += (size_t)sprintf(text + off, "{ name = \"v%d\"; vcpus = 0; }%s\n",
		    i, i < 39 ? "," : "");
	sprintf(text + off, ");");
	assert_null(sc_load_string(text, "t.conf", &err));
	assert_int_equal(err.n, SC_MAX_ERRORS);
	assert_int_equal(err.dropped, 40 + 1 - SC_MAX_ERRORS);
	assert_non_null(strstr(err.msg[0], "t.conf:1: too many VMs: 40"));
	assert_non_null(strstr(err.msg[1], "t.conf:2: vm 'v0'"));
}

/* The one table of serial speeds: what the loader allows, the supervisor sets. */
static void
test_line_speeds(void **state)
{
	(void)state;
	assert_int_equal(sc_line_speed(9600), B9600);
	assert_int_equal(sc_line_speed(115200), B115200);
	assert_int_equal(sc_line_speed(921600), B921600);
	assert_int_equal(sc_line_speed(1200), B0);
	assert_int_equal(sc_line_speed(0), B0);
	assert_int_equal(sc_line_speed(115201), B0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_valid),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_memory_sizes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_duplicate_names),
		cmocka_unit_test(test_system_name_and_accel),
		cmocka_unit_test(test_console_log_max),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_refused_driver_disk_frees),
		cmocka_unit_test(test_vm_count_and_vcpus),
		cmocka_unit_test(test_arch_and_cmdline),
		cmocka_unit_test(test_kernel_files),
		cmocka_unit_test(test_disk_paths),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_layouts_judged_as_diskd_creates_them),
		cmocka_unit_test(test_grants),
		cmocka_unit_test(test_nics),
		cmocka_unit_test(test_nic_limit),
		cmocka_unit_test(test_full_file_and_print),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_errors_collected_and_sorted),
		cmocka_unit_test(test_line_speeds),
	};

	return cmocka_run_group_tests_name("sysconf", tests, setup_dir,
	    teardown_dir);
}
