/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the passthrough checks (src/host/pcidev.c) on fake sysfs
 * trees: a device bound to vfio-pci in a clean IOMMU group passes; a
 * missing device, the IOMMU off, another driver, a group with another
 * endpoint on a host driver (bridges excepted) and a missing /dev/vfio
 * node each fail with the commands that fix it.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/pcidev.h"

static char root[64];

static void
mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
mkdirs(const char *fmt, ...)
{
	char rel[256], cmd[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static void
put(const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static void
ln(const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* A PCI device in group g, bound to drv ("" none), of class cls. */
static void
device(const char *addr, const char *g, const char *drv, const char *cls)
{
	char rel[256], t[256];

	mkdirs("sys/bus/pci/devices/%s", addr);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/class", addr);
	put(rel, cls);
	if (drv[0] != '\0') {
		mkdirs("sys/bus/pci/drivers/%s", drv);
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/driver",
		    addr);
		snprintf(t, sizeof(t), "../../../bus/pci/drivers/%s", drv);
		ln(t, rel);
	}
	if (g != NULL) {
		mkdirs("sys/kernel/iommu_groups/%s/devices", g);
		snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/iommu_group",
		    addr);
		snprintf(t, sizeof(t), "../../../../kernel/iommu_groups/%s", g);
		ln(t, rel);
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%s/devices/%s",
		    g, addr);
		snprintf(t, sizeof(t), "../../../../bus/pci/devices/%s", addr);
		ln(t, rel);
	}
}

static int
setup(void **state)
{
	strcpy(root, "/tmp/isl.pci.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void
test_addresses(void **state)
{
	char a[PCI_ADDR_LEN];

	assert_int_equal(pci_addr_parse("0000:03:00.0", a), 0);
	assert_string_equal(a, "0000:03:00.0");
	assert_int_equal(pci_addr_parse("3A:1F.7", a), 0);
	assert_string_equal(a, "0000:3a:1f.7");
	static const char *bad[] = { "", "03:00", "0000:03:00.8",
	    "0000:03:20.0", "0000-03:00.0", "0000:03:00.0 ", "g000:03:00.0",
	    "../../etc", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		errno = 0;
		assert_int_equal(pci_addr_parse(bad[i], a), -1);
		assert_int_equal(errno, EINVAL);
	}
}

static void
test_ready(void **state)
{
	char msg[2048];

	device("0000:03:00.0", "7", "vfio-pci", "0x020000\n");
	device("0000:00:1c.0", "7", "pcieport", "0x060400\n"); /* bridge */
	mkdirs("dev/vfio");
	put("dev/vfio/7", "");
	assert_int_equal(pci_passthrough_check(root, "0000:03:00.0", msg,
	    sizeof(msg)), 0);
	assert_string_equal(msg, "");
}

static void
test_missing_device_and_iommu_off(void **state)
{
	char msg[2048];

	assert_int_equal(pci_passthrough_check(root, "0000:05:00.0", msg,
	    sizeof(msg)), -1);
	assert_non_null(strstr(msg, "no PCI device 0000:05:00.0"));
	device("0000:05:00.0", NULL, "ahci", "0x010601\n");
	assert_int_equal(pci_passthrough_check(root, "0000:05:00.0", msg,
	    sizeof(msg)), -1);
	assert_non_null(strstr(msg, "intel_iommu=on"));
}

static void
test_other_driver_and_group(void **state)
{
	char msg[4096];

	/* The NIC on e1000e; its sibling function on e1000e too. */
	device("0000:03:00.0", "9", "e1000e", "0x020000\n");
	device("0000:03:00.1", "9", "e1000e", "0x020000\n");
	device("0000:03:00.2", "9", "", "0x020000\n");	/* no driver: fine */
	assert_int_equal(pci_passthrough_check(root, "0000:03:00.0", msg,
	    sizeof(msg)), -1);
	assert_non_null(strstr(msg, "0000:03:00.0 is bound to e1000e"));
	assert_non_null(strstr(msg, "echo 0000:03:00.0 > /sys/bus/pci/"
	    "devices/0000:03:00.0/driver/unbind"));
	assert_non_null(strstr(msg, "echo vfio-pci > /sys/bus/pci/devices/"
	    "0000:03:00.0/driver_override"));
	assert_non_null(strstr(msg, "IOMMU group 9"));
	assert_non_null(strstr(msg, "0000:03:00.1, bound to e1000e"));
	assert_null(strstr(msg, "0000:03:00.2,"));
}

static void
test_no_vfio_node(void **state)
{
	char msg[2048];

	device("0000:06:00.0", "4", "vfio-pci", "0x010601\n");
	assert_int_equal(pci_passthrough_check(root, "0000:06:00.0", msg,
	    sizeof(msg)), -1);
	assert_non_null(strstr(msg, "/dev/vfio/4 is missing"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test_setup_teardown(test_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_missing_device_and_iommu_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_driver_and_group,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_vfio_node, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
