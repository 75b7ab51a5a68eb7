/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the supervisor's pure parts: the QEMU command line built
 * from a plan (src/supervisor/qemu.c), the accelerator choice (accel.c),
 * the argv vectors of the child table (child.c), all linked from
 * libsupervisor, and the frame queue every supervisor peer is written
 * through (src/proto/outq.c, its default policy: unbounded, linked from
 * libproto).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/outq.h"
#include "supervisor/accel.h"
#include "supervisor/child.h"
#include "supervisor/qemu.h"

static struct sc_system *
load(const char *text)
{
	struct sc_errors err = { 0 };
	struct sc_system *sys = sc_load_string(text, "t.conf", &err);

	if (sys == NULL)
		for (size_t i = 0; i < err.n; i++)
			print_error("%s\n", err.msg[i]);
	assert_non_null(sys);
	return sys;
}

/* Index of the argument after `opt` whose value starts with `prefix`. */
static int
find_opt(const struct strv *a, const char *opt, const char *prefix)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (strcmp(a->v[i], opt) == 0 &&
		    strncmp(a->v[i + 1], prefix, strlen(prefix)) == 0)
			return (int)i + 1;
	return -1;
}

static void
test_qemu_argv(void **state)
{
	struct sc_system *sys = load("name = \"s\";\nvms = (\n"
	    "  { name = \"vm0\"; memory = \"256M\"; },\n"
	    "  { name = \"vm1\"; memory = \"1G\"; vcpus = 2; "
	    "cmdline = \"quiet loglevel=3\"; }\n);\n");
	struct qemu_vm q = { .sys = sys, .vm = &sys->vms[1],
	    .rundir = "/r/s", .kernel = "/img/vmlinuz",
	    .initrd = "/img/initrd.img", .accel = SC_ACCEL_TCG };
	struct strv a = { 0 };
	char err[256];
	int i;

	(void)state;
	unsetenv("ISLES_QEMU");
	assert_int_equal(qemu_build(&q, &a, err, sizeof(err)), 0);
	assert_string_equal(a.v[0], "qemu-system-x86_64");
	assert_null(a.v[a.n]);
	assert_true(find_opt(&a, "-accel", "tcg") > 0);
	assert_true(find_opt(&a, "-M", "q35") > 0);
	assert_true(find_opt(&a, "-smp", "2") > 0);
	assert_true(find_opt(&a, "-m", "1024M") > 0);
	/* Guest RAM is one shared memfd, as vhost-user back-ends need. */
	i = find_opt(&a, "-object", "memory-backend-memfd,");
	assert_true(i > 0);
	assert_string_equal(a.v[i],
	    "memory-backend-memfd,id=mem,size=1073741824,share=on");
	assert_true(find_opt(&a, "-numa", "node,memdev=mem") > 0);
	i = find_opt(&a, "-append", "");
	assert_string_equal(a.v[i],
	    "console=ttyS0 isles.name=vm1 panic=-1 no_timer_check quiet loglevel=3");
	assert_true(find_opt(&a, "-kernel", "/img/vmlinuz") > 0);
	assert_true(find_opt(&a, "-initrd", "/img/initrd.img") > 0);
	i = find_opt(&a, "-chardev", "socket,id=ser0,");
	/* No logfile=: isles-consoled writes and caps console.log; QEMU
	 * connects to the socket the supervisor bound for consoled. */
	assert_string_equal(a.v[i], "socket,id=ser0,path=/r/s/vm/vm1/serial.sock,"
	    "reconnect=1");
	/* QEMU's own seccomp filter, at its strictest. */
	assert_true(find_opt(&a, "-sandbox", "on,obsolete=deny,"
	    "elevateprivileges=deny,spawn=deny,resourcecontrol=deny") > 0);
	assert_true(find_opt(&a, "-serial", "chardev:ser0") > 0);
	assert_true(find_opt(&a, "-chardev",
	    "socket,id=agent,path=/r/s/vm/vm1/agent.sock,server=on") > 0);
	assert_true(find_opt(&a, "-device",
	    "virtserialport,bus=vser0.0,chardev=agent,name=org.isles.agent") > 0);
	assert_true(find_opt(&a, "-qmp",
	    "unix:/r/s/vm/vm1/qmp.sock,server=on,wait=off") > 0);
	/* No reboot suppression: guests may reboot. */
	assert_int_equal(find_opt(&a, "-no-reboot", ""), -1);
	for (size_t k = 0; k < a.n; k++)
		assert_string_not_equal(a.v[k], "-no-reboot");
	strv_free(&a);

	/* KVM and the QEMU binary override. */
	setenv("ISLES_QEMU", "/opt/q/qemu", 1);
	q.vm = &sys->vms[0];
	q.accel = SC_ACCEL_KVM;
	q.initrd = NULL;
	assert_int_equal(qemu_build(&q, &a, err, sizeof(err)), 0);
	assert_string_equal(a.v[0], "/opt/q/qemu");
	assert_true(find_opt(&a, "-accel", "kvm") > 0);
	assert_true(find_opt(&a, "-cpu", "host") > 0);
	assert_int_equal(find_opt(&a, "-initrd", ""), -1);
	i = find_opt(&a, "-append", "");
	assert_string_equal(a.v[i], "console=ttyS0 isles.name=vm0 panic=-1 no_timer_check");
	unsetenv("ISLES_QEMU");
	strv_free(&a);
	sc_free(sys);
}

/* Disks and NICs: vhost-user devices on the daemons' sockets. */
static void
test_qemu_devices(void **state)
{
	struct sc_system *sys = load("disks = ( { name = \"d\"; path = "
	    "\"/tmp/x.img\"; size = \"64M\"; queues = 2; partitions = ( "
	    "{ size = \"16M\"; }, { size = \"16M\"; } ); } );\n"
	    "switches = ( { name = \"lan\"; } );\n"
	    "vms = (\n  { name = \"vm0\";\n"
	    "    disks = ( { disk = \"d\"; partitions = [ 1 ]; },\n"
	    "              { disk = \"d\"; partitions = [ 2 ]; } );\n"
	    "    nics = ( { switch = \"lan\"; } ); }\n);\n");
	struct qemu_vm q = { .sys = sys, .vm = &sys->vms[0], .rundir = "/r",
	    .kernel = "/k", .initrd = "/i", .accel = SC_ACCEL_TCG };
	struct strv a = { 0 };
	char err[256], exp[48];
	int i;

	(void)state;
	unsetenv("ISLES_QEMU");
	assert_int_equal(qemu_check(sys, err, sizeof(err)), 0);
	qemu_disk_export(&sys->vms[0], 0, exp, sizeof(exp));
	assert_string_equal(exp, "vm0");
	qemu_disk_export(&sys->vms[0], 1, exp, sizeof(exp));
	assert_string_equal(exp, "vm0-1");
	assert_int_equal(qemu_build(&q, &a, err, sizeof(err)), 0);
	assert_true(find_opt(&a, "-chardev",
	    "socket,id=d0,path=/r/disk/d/vm0.sock,reconnect=1") > 0);
	assert_true(find_opt(&a, "-chardev",
	    "socket,id=d1,path=/r/disk/d/vm0-1.sock,reconnect=1") > 0);
	i = find_opt(&a, "-device", "vhost-user-blk-pci,chardev=d1");
	assert_string_equal(a.v[i], "vhost-user-blk-pci,chardev=d1,num-queues=2");
	assert_true(find_opt(&a, "-chardev",
	    "socket,id=net0,path=/r/switch/lan/vm0.0.sock,reconnect=1") > 0);
	assert_true(find_opt(&a, "-netdev",
	    "vhost-user,id=nic0,chardev=net0") > 0);
	/* The default MAC of the seed: 02:00:00:00:aa:01. */
	i = find_opt(&a, "-device", "virtio-net-pci,");
	assert_string_equal(a.v[i], "virtio-net-pci,netdev=nic0,"
	    "mac=02:00:00:00:aa:01,romfile=,vectors=0");
	strv_free(&a);
	sc_free(sys);
}

/*
 * Passthrough: each host PCI address becomes one vfio-pci device, in
 * file order, normalised; SATA disks go on q35's own AHCI; a VM with
 * either scans SCSI synchronously at boot (its disks are there at init).
 */
static void
test_qemu_passthrough(void **state)
{
	struct sc_system *sys = load("disks = ( { name = \"s\"; path = "
	    "\"/tmp/s.img\"; size = \"64M\"; } );\n"
	    "vms = (\n  { name = \"vm0\"; passthrough = [ \"66:00.0\", "
	    "\"0000:00:1F.2\" ]; sata = [ \"s\" ]; },\n"
	    "  { name = \"vm1\"; }\n);\n");
	struct qemu_vm q = { .sys = sys, .vm = &sys->vms[0], .rundir = "/r",
	    .kernel = "/k", .initrd = "/i", .accel = SC_ACCEL_TCG };
	struct strv a = { 0 };
	char err[256];
	int i, j;

	(void)state;
	unsetenv("ISLES_QEMU");
	assert_int_equal(qemu_build(&q, &a, err, sizeof(err)), 0);
	i = find_opt(&a, "-device", "vfio-pci,host=0000:66:00.0");
	j = find_opt(&a, "-device", "vfio-pci,host=0000:00:1f.2");
	assert_true(i > 0 && j > i);
	assert_string_equal(a.v[i], "vfio-pci,host=0000:66:00.0");
	assert_true(find_opt(&a, "-device", "ide-hd,") > 0);
	i = find_opt(&a, "-append", "");
	assert_non_null(strstr(a.v[i], "scsi_mod.scan=sync"));
	strv_free(&a);
	q.vm = &sys->vms[1];
	assert_int_equal(qemu_build(&q, &a, err, sizeof(err)), 0);
	assert_true(find_opt(&a, "-device", "vfio-pci") < 0);
	i = find_opt(&a, "-append", "");
	assert_null(strstr(a.v[i], "scsi_mod.scan=sync"));
	strv_free(&a);
	sc_free(sys);
}

/* Shortened /proc/cpuinfo texts of the hosts Isles meets. */
static const char intel[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) "
    "Xeon(R) (vmx-capable)\nflags\t\t: fpu vme de pse tsc msr pae vmx smx "
    "est tm2\nvmx flags\t: vnmi preemption_timer invvpid ept_x_only\n"
    "bugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu vme\n";
static const char amd[] =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu vme de pse "
    "tsc msr pae mce cx8 apic svm extapic cr8_legacy abm sse4a\n";
/* FACTS.md: the paravirtual nested KVM here shows neither. */
static const char pvm[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse "
    "tsc msr pae hypervisor svm_lock vmxe nsvm x2apic\nbugs\t\t: "
    "vmx svm\n";

static void
test_accel_cpuinfo(void **state)
{
	(void)state;
	assert_true(accel_cpuinfo_hvm(intel));
	assert_true(accel_cpuinfo_hvm(amd));
	/* Neither flag: only look-alike words, or vmx/svm on other lines. */
	assert_false(accel_cpuinfo_hvm(pvm));
	assert_false(accel_cpuinfo_hvm("flags\t\t: fpu vme\nvmx flags\t: ept\n"));
	assert_false(accel_cpuinfo_hvm("model name\t: vmx svm\n"));
	/* The first flags line decides (every CPU has the same). */
	assert_false(accel_cpuinfo_hvm("flags\t: fpu\nflags\t: vmx\n"));
	/* First and last word, no trailing newline, tabs. */
	assert_true(accel_cpuinfo_hvm("flags\t:\tvmx fpu"));
	assert_true(accel_cpuinfo_hvm("flags : fpu\tsvm"));
	/* Nothing to read, or no flags line at all. */
	assert_false(accel_cpuinfo_hvm(NULL));
	assert_false(accel_cpuinfo_hvm(""));
	assert_false(accel_cpuinfo_hvm("processor\t: 0\n"));
	assert_false(accel_cpuinfo_hvm("flags vmx svm\n"));	/* no ':' */
	assert_false(accel_cpuinfo_hvm("flagsvmx : vmx\n"));
}

static void
test_accel_detect(void **state)
{
	(void)state;
	/* KVM only with vmx or svm and an opening /dev/kvm. */
	assert_int_equal(accel_detect(intel, true), SC_ACCEL_KVM);
	assert_int_equal(accel_detect(amd, true), SC_ACCEL_KVM);
	assert_int_equal(accel_detect(pvm, true), SC_ACCEL_TCG);
	assert_int_equal(accel_detect(intel, false), SC_ACCEL_TCG);
	assert_int_equal(accel_detect(amd, false), SC_ACCEL_TCG);
	assert_int_equal(accel_detect(pvm, false), SC_ACCEL_TCG);
	assert_int_equal(accel_detect(NULL, true), SC_ACCEL_TCG);
}

static void
test_accel_override(void **state)
{
	static const enum sc_accel files[] = { SC_ACCEL_AUTO, SC_ACCEL_KVM,
	    SC_ACCEL_TCG };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		/* No variable (or an empty one): the system file decides. */
		assert_int_equal(accel_wanted(files[i], NULL), files[i]);
		assert_int_equal(accel_wanted(files[i], ""), files[i]);
		/* The variable wins over the file, whatever it says. */
		assert_int_equal(accel_wanted(files[i], "kvm"), SC_ACCEL_KVM);
		assert_int_equal(accel_wanted(files[i], "tcg"), SC_ACCEL_TCG);
		assert_int_equal(accel_wanted(files[i], "auto"), SC_ACCEL_AUTO);
		errno = 0;
		assert_int_equal(accel_wanted(files[i], "fast"), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(accel_wanted(files[i], "KVM"), -1);
	}

	/* accel_resolve: an explicit choice never looks at the host. */
	unsetenv("ISLES_ACCEL");
	assert_int_equal(accel_resolve(SC_ACCEL_TCG), SC_ACCEL_TCG);
	assert_int_equal(accel_resolve(SC_ACCEL_KVM), SC_ACCEL_KVM);
	setenv("ISLES_ACCEL", "tcg", 1);
	assert_int_equal(accel_resolve(SC_ACCEL_KVM), SC_ACCEL_TCG);
	assert_int_equal(accel_resolve(SC_ACCEL_AUTO), SC_ACCEL_TCG);
	setenv("ISLES_ACCEL", "kvm", 1);
	assert_int_equal(accel_resolve(SC_ACCEL_TCG), SC_ACCEL_KVM);
	setenv("ISLES_ACCEL", "fast", 1);
	assert_int_equal(accel_resolve(SC_ACCEL_TCG), -1);
	unsetenv("ISLES_ACCEL");
	assert_string_equal(accel_name(SC_ACCEL_KVM), "kvm");
	assert_string_equal(accel_name(SC_ACCEL_TCG), "tcg");
	assert_string_equal(accel_name(SC_ACCEL_AUTO), "auto");
}

/* Frames survive partial writes in order, byte for byte. */
static void
test_outq_partial_writes(void **state)
{
	static struct proto_rx rx;
	static uint8_t payload[5000];
	struct outq q = { 0 };
	int sv[2], sndbuf = 4096, r, flushes = 0;
	size_t got = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 200; i++) {
		memset(payload, i, sizeof(payload));
		assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, (uint32_t)i,
		    payload, (size_t)(i * 25)), 0);
	}
	assert_int_equal(outq_frame(&q, PROTO_STDOUT, 0, 0, payload,
	    PROTO_MAX_PAYLOAD + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	proto_rx_init(&rx);
	while ((r = outq_flush(&q, sv[0])) == 0 || got < 200) {
		struct proto_hdr h;
		const uint8_t *p;

		assert_true(r >= 0);
		flushes++;
		(void)proto_rx_read(&rx, sv[1]);
		while (proto_rx_next(&rx, &h, &p) == 1) {
			assert_int_equal(h.chan, got);
			assert_int_equal(h.len, got * 25);
			for (size_t k = 0; k < h.len; k++)
				assert_int_equal(p[k], (uint8_t)got);
			got++;
		}
		if (r == 1 && got == 200)
			break;
	}
	assert_int_equal(got, 200);
	assert_int_equal(outq_len(&q), 0);
	assert_true(flushes > 1);	/* the socket did push back */
	outq_free(&q);
	close(sv[0]);
	close(sv[1]);
}

static void
test_strv(void **state)
{
	struct strv s = { 0 };
	char *j;

	(void)state;
	j = strv_join(&s);
	assert_string_equal(j, "");
	free(j);
	strv_add(&s, "qemu");
	strv_addf(&s, "-m %dM", 256);
	for (int i = 0; i < 100; i++)
		strv_addf(&s, "%d", i);
	assert_int_equal(s.n, 102);
	assert_null(s.v[s.n]);
	assert_string_equal(s.v[1], "-m 256M");
	j = strv_join(&s);
	assert_true(strncmp(j, "qemu -m 256M 0 1 2", 18) == 0);
	free(j);
	strv_free(&s);
	assert_int_equal(s.n, 0);
}

static void
test_child_status_str(void **state)
{
	(void)state;
	assert_string_equal(child_status_str(1 << 8), "exited with status 1");
	assert_non_null(strstr(child_status_str(9), "killed by signal 9"));
}

/* The daemon user: refused, with the reason the supervisor logs. */
static void
test_daemon_user(void **state)
{
	char why[128];

	assert_int_equal(child_run_daemons_as("isles-no-such-user", why,
	    sizeof(why)), -1);
	if (geteuid() == 0)
		assert_non_null(strstr(why, "no user isles-no-such-user"));
	else
		assert_non_null(strstr(why, "not root"));
	assert_int_equal(child_run_daemons_as("root", why, sizeof(why)),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_argv),
		cmocka_unit_test(test_qemu_devices),
		cmocka_unit_test(test_qemu_passthrough),
		cmocka_unit_test(test_accel_cpuinfo),
		cmocka_unit_test(test_accel_detect),
		cmocka_unit_test(test_accel_override),
		cmocka_unit_test(test_outq_partial_writes),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_child_status_str),
		cmocka_unit_test(test_daemon_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
