/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcidev: see pcidev.h.  Reads sysfs as hostile input: paths are built
 * from a validated address only, links are read with a bound, and a
 * directory walk is bounded.
 */
#include "host/pcidev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_CLASS_BRIDGE_PCI	0x0604	/* bridges stay with their drivers */
#define MAX_GROUP		64	/* devices listed per IOMMU group */

static bool
hexd(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

int
pci_addr_parse(const char *s, char *out)
{
	static const char pat[] = "xxxx:xx:xx.x";
	char buf[PCI_ADDR_LEN];
	size_t n = strlen(s);

	if (n == 7)
		snprintf(buf, sizeof(buf), "0000:%s", s);
	else if (n == 12)
		memcpy(buf, s, sizeof(buf));
	else
		goto bad;
	for (size_t i = 0; i < 12; i++) {
		if (pat[i] == 'x' ? !hexd(buf[i]) : buf[i] != pat[i])
			goto bad;
		out[i] = (char)(buf[i] >= 'A' && buf[i] <= 'F' ?
		    buf[i] - 'A' + 'a' : buf[i]);
	}
	/* Device 0-1f, function 0-7. */
	if (!(buf[11] >= '0' && buf[11] <= '7') ||
	    strtoul((char[]){ buf[8], buf[9], '\0' }, NULL, 16) > 0x1f)
		goto bad;
	out[12] = '\0';
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static void
add(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add(char *msg, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(msg, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(msg + used, len - used, fmt, ap);
	va_end(ap);
}

/* The last component of the link at path, or "" (no such link). */
static void
link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *slash, *name;

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	name = slash != NULL ? slash + 1 : buf;
	/* Longer than any driver or group name: treat as none. */
	if (strlen(name) < len)
		memcpy(out, name, strlen(name) + 1);
}

/* The device's class (sysfs "0x060400" -> 0x0604), or 0. */
static unsigned
dev_class(const char *root, const char *addr)
{
	char path[PATH_MAX], buf[32];
	unsigned long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/class", root,
	    addr);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtoul(buf, NULL, 16);
	return (unsigned)(v >> 8);
}

static void
bind_commands(char *msg, size_t len, const char *addr, const char *driver)
{
	if (driver[0] != '\0')
		add(msg, len, "    echo %s > /sys/bus/pci/devices/%s/driver/"
		    "unbind\n", addr, addr);
	add(msg, len, "    echo vfio-pci > /sys/bus/pci/devices/%s/"
	    "driver_override\n    echo %s > /sys/bus/pci/drivers_probe\n",
	    addr, addr);
}

int
pci_passthrough_check(const char *root, const char *addr, char *msg,
    size_t len)
{
	char path[PATH_MAX], driver[64], group[32], other[64][PCI_ADDR_LEN];
	char odrv[64][64];
	unsigned nother = 0;
	struct stat st;
	bool bad = false;
	DIR *d;
	struct dirent *e;

	msg[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s", root, addr);
	if (stat(path, &st) < 0) {
		add(msg, len, "no PCI device %s on this host (lspci -D lists "
		    "them)\n", addr);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", root,
	    addr);
	link_name(path, driver, sizeof(driver));
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/iommu_group",
	    root, addr);
	link_name(path, group, sizeof(group));
	if (group[0] == '\0') {
		add(msg, len, "%s is in no IOMMU group: the IOMMU is off. Turn "
		    "it on in the firmware (VT-d / AMD-Vi) and on the host "
		    "kernel command line (intel_iommu=on or amd_iommu=on), "
		    "then reboot\n", addr);
		return -1;
	}
	if (strcmp(driver, "vfio-pci") != 0) {
		add(msg, len, "%s is %s%s%s, not to vfio-pci; as root:\n"
		    "    modprobe vfio-pci\n", addr,
		    driver[0] ? "bound to " : "bound to no driver", driver,
		    "");
		bind_commands(msg, len, addr, driver);
		bad = true;
	}
	/* Every other endpoint of the group must go to vfio-pci too. */
	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/%s/devices",
	    root, group);
	if ((d = opendir(path)) != NULL) {
		while ((e = readdir(d)) != NULL && nother < MAX_GROUP) {
			char a[PCI_ADDR_LEN], p[PATH_MAX];

			if (e->d_name[0] == '.' ||
			    pci_addr_parse(e->d_name, a) < 0 ||
			    strcmp(a, addr) == 0 ||
			    dev_class(root, a) == PCI_CLASS_BRIDGE_PCI)
				continue;
			snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/%s/"
			    "driver", root, a);
			link_name(p, odrv[nother], sizeof(odrv[0]));
			if (odrv[nother][0] == '\0' ||
			    strcmp(odrv[nother], "vfio-pci") == 0)
				continue;
			memcpy(other[nother++], a, PCI_ADDR_LEN);
		}
		closedir(d);
	}
	if (nother > 0) {
		add(msg, len, "IOMMU group %s of %s also holds %s that "
		    "must come along to vfio-pci (a group is passed whole):\n",
		    group, addr, nother > 1 ? "devices" : "a device");
		for (unsigned i = 0; i < nother; i++) {
			add(msg, len, "  %s, bound to %s:\n", other[i], odrv[i]);
			bind_commands(msg, len, other[i], odrv[i]);
		}
		bad = true;
	}
	if (!bad) {
		snprintf(path, sizeof(path), "%s/dev/vfio/%s", root, group);
		if (stat(path, &st) < 0) {
			add(msg, len, "%s is bound to vfio-pci but %s/dev/vfio/"
			    "%s is missing: modprobe vfio-pci\n", addr,
			    strcmp(root, "/") == 0 ? "" : root, group);
			bad = true;
		}
	}
	return bad ? -1 : 0;
}
