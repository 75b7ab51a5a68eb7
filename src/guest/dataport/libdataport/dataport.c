/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libdataport, device part: find, open, map, ring and wait on a dataport's
 * UIO device (see dataport.h for the contract and the event semantics).
 * Called by guest programs (src/guest/dataport/tools).  Trusts nothing it
 * reads: /proc/cmdline goes through the pure parser of cmdline.c, every
 * sysfs attribute is read with a bound and parsed strictly, /dev/uioN is
 * checked to be the device sysfs describes, and IVPosition is checked
 * against the command line's VM list.  Errors: 0 / -1 with errno, plus a
 * message for the calls that take err.
 */
#include "dataport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define DP_SYS_UIO	"/sys/class/uio"
#define DP_SYS_PCI	"/sys/bus/pci/devices"
#define DP_CMDLINE_MAX	4096
#define DP_ATTR_MAX	64
#define DP_MAX_UIO	1024		/* entries of /sys/class/uio looked at */
/*
 * Larger shared memory is refused: 1 TiB, or in a 32-bit guest the
 * largest power of two a size_t holds (2 GiB; whether it fits in the
 * address space is for mmap to say), so that the size is never cut.
 */
#define DP_MAX_SHM	((uint64_t)SIZE_MAX < (1ull << 40) ? \
	(uint64_t)SIZE_MAX / 2 + 1 : (1ull << 40))

/* BAR0 registers, as 32-bit word indices (QEMU ivshmem-spec.rst). */
#define DP_REG_IVPOSITION	2
#define DP_REG_DOORBELL		3

struct dp_port {
	struct dp_entry e;
	unsigned self;
	unsigned uio;
	int fd;
	volatile uint32_t *regs;	/* map 0: one page */
	size_t regs_len;
	void *mem;			/* map 1 */
	size_t size;
	uint32_t seen;			/* UIO event count at the last wait */
};

static int __attribute__((format(printf, 4, 5)))
dp_error(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = errnum;
	return -1;
}

/*
 * A small text file (sysfs attribute) into buf, NUL-terminated; returns
 * its length, or -1 with errno (EFBIG if it does not fit).
 */
static ssize_t
dp_read_small(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got == cap) {
		errno = EFBIG;
		return -1;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* A hex (0x...) or decimal sysfs attribute of /sys/class/uio/uioN. */
static int
dp_uio_attr(unsigned uio, const char *attr, bool hex, uint64_t *out)
{
	char path[128], buf[DP_ATTR_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), DP_SYS_UIO "/uio%u/%s", uio, attr);
	n = dp_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return hex ? dp_parse_hex(buf, (size_t)n, out) :
	    dp_parse_dec(buf, (size_t)n, out);
}

int
dp_cmdline_read(struct dp_table *t, char *err, size_t errlen)
{
	char buf[DP_CMDLINE_MAX];
	ssize_t n = dp_read_small("/proc/cmdline", buf, sizeof(buf));

	if (n < 0)
		return dp_error(err, errlen, errno == EFBIG ? E2BIG : errno,
		    "/proc/cmdline: %s", errno == EFBIG ?
		    "longer than 4 KiB" : strerror(errno));
	return dp_cmdline_parse(buf, (size_t)n, t, err, errlen);
}

/*
 * The PCI address of /sys/class/uio/uioN/device (a link whose last
 * component is the PCI device's name).
 */
static int
dp_uio_pci(unsigned uio, unsigned *domain, unsigned *bus, unsigned *slot,
    unsigned *func)
{
	char path[128], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), DP_SYS_UIO "/uio%u/device", uio);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	return dp_parse_pci_addr(base, domain, bus, slot, func);
}

/*
 * Whether BAR0 of 0000:00:SS.0 is not a page of its own (the module then
 * refuses the device): the first line of its sysfs "resource" file is
 * "START END FLAGS" in 0x hex.
 */
static bool
dp_bar0_unaligned(unsigned slot)
{
	char path[128], buf[2048], *sp, *end;
	uint64_t start, last;
	ssize_t n;

	snprintf(path, sizeof(path), DP_SYS_PCI "/0000:00:%02x.0/resource",
	    slot);
	n = dp_read_small(path, buf, sizeof(buf));
	if (n <= 0 || (sp = memchr(buf, ' ', (size_t)n)) == NULL ||
	    (end = memchr(sp + 1, ' ', (size_t)(buf + n - sp - 1))) == NULL ||
	    dp_parse_hex(buf, (size_t)(sp - buf), &start) < 0 ||
	    dp_parse_hex(sp + 1, (size_t)(end - sp - 1), &last) < 0 ||
	    last < start)
		return false;
	return (start & 4095) != 0 || last - start + 1 < 4096;
}

/* Why slot has no isles-dataport UIO device (dp_find_uio's failure). */
static int
dp_no_uio(const struct dp_entry *e, const char *other, unsigned other_uio,
    char *err, size_t errlen)
{
	char path[128], buf[DP_ATTR_MAX];
	uint64_t vendor = 0, device = 0;
	ssize_t n;

	if (other != NULL)
		return dp_error(err, errlen, ENODEV, "dataport %s: PCI "
		    "0000:00:%02x.0 is uio%u of driver '%s', not %s", e->name,
		    e->slot, other_uio, other, DP_UIO_NAME);
	snprintf(path, sizeof(path), DP_SYS_PCI "/0000:00:%02x.0/vendor",
	    e->slot);
	n = dp_read_small(path, buf, sizeof(buf));
	if (n < 0)
		return dp_error(err, errlen, ENOENT, "dataport %s: no PCI "
		    "device at 0000:00:%02x.0 (the VM was started without "
		    "it)", e->name, e->slot);
	if (dp_parse_hex(buf, (size_t)n, &vendor) < 0)
		vendor = 0;
	snprintf(path, sizeof(path), DP_SYS_PCI "/0000:00:%02x.0/device",
	    e->slot);
	n = dp_read_small(path, buf, sizeof(buf));
	if (n < 0 || dp_parse_hex(buf, (size_t)n, &device) < 0)
		device = 0;
	if (vendor != 0x1af4 || device != 0x1110)
		return dp_error(err, errlen, EPROTO, "dataport %s: the PCI "
		    "device at 0000:00:%02x.0 is %04llx:%04llx, not ivshmem "
		    "(1af4:1110)", e->name, e->slot,
		    (unsigned long long)vendor & 0xffff,
		    (unsigned long long)device & 0xffff);
	if (dp_bar0_unaligned(e->slot))
		return dp_error(err, errlen, ENODEV, "dataport %s: the ivshmem "
		    "device at 0000:00:%02x.0 has no isles_dataport driver: "
		    "its register BAR is not a page of its own (boot the "
		    "guest with pci=resource_alignment=12@pci:1af4:1110)",
		    e->name, e->slot);
	return dp_error(err, errlen, ENODEV, "dataport %s: the ivshmem "
	    "device at 0000:00:%02x.0 has no isles_dataport driver "
	    "(modprobe isles_dataport; dmesg says why it did not bind)",
	    e->name, e->slot);
}

int
dp_find_uio(const struct dp_entry *e, unsigned *uio, char *err,
    size_t errlen)
{
	char other[DP_ATTR_MAX] = "";
	unsigned other_uio = 0, seen = 0;
	bool found = false;
	struct dirent *de;
	DIR *d = opendir(DP_SYS_UIO);

	/* No /sys/class/uio: the uio module is not loaded, no device. */
	while (d != NULL && seen++ < DP_MAX_UIO && (de = readdir(d)) != NULL) {
		unsigned dom, bus, slot, func;
		char path[128], name[DP_ATTR_MAX];
		uint64_t n;
		ssize_t len;

		size_t digits = strlen(de->d_name + 3);

		/* uioN, N decimal. */
		if (strncmp(de->d_name, "uio", 3) != 0 || digits == 0 ||
		    digits > 9 ||
		    strspn(de->d_name + 3, "0123456789") != digits ||
		    dp_parse_dec(de->d_name + 3, digits, &n) < 0)
			continue;
		if (dp_uio_pci((unsigned)n, &dom, &bus, &slot, &func) < 0 ||
		    dom != 0 || bus != 0 || slot != e->slot || func != 0)
			continue;
		snprintf(path, sizeof(path), DP_SYS_UIO "/uio%u/name",
		    (unsigned)n);
		len = dp_read_small(path, name, sizeof(name));
		if (len > 0 && name[len - 1] == '\n')
			name[--len] = '\0';
		if (len >= 0 && strcmp(name, DP_UIO_NAME) == 0) {
			if (found) {
				closedir(d);
				return dp_error(err, errlen, EPROTO,
				    "dataport %s: two UIO devices (uio%u, "
				    "uio%llu) for PCI 0000:00:%02x.0", e->name,
				    *uio, (unsigned long long)n, e->slot);
			}
			found = true;
			*uio = (unsigned)n;
		} else if (len >= 0) {
			for (ssize_t i = 0; i < len; i++)
				if (name[i] < ' ' || name[i] > '~')
					name[i] = '?';
			snprintf(other, sizeof(other), "%s", name);
			other_uio = (unsigned)n;
		}
	}
	if (d != NULL)
		closedir(d);
	if (found)
		return 0;
	return dp_no_uio(e, other[0] != '\0' ? other : NULL, other_uio, err,
	    errlen);
}

/* Check the UIO maps of p->uio against what the module exports. */
static int
dp_check_maps(struct dp_port *p, size_t page, char *err, size_t errlen)
{
	uint64_t size0, size1, off0, off1;

	if (dp_uio_attr(p->uio, "maps/map0/size", true, &size0) < 0 ||
	    dp_uio_attr(p->uio, "maps/map0/offset", true, &off0) < 0 ||
	    dp_uio_attr(p->uio, "maps/map1/size", true, &size1) < 0 ||
	    dp_uio_attr(p->uio, "maps/map1/offset", true, &off1) < 0)
		return dp_error(err, errlen, EPROTO, "dataport %s: uio%u has "
		    "no readable maps map0 and map1 (%s)", p->e.name, p->uio,
		    strerror(errno));
	if (size0 < page || off0 != 0)
		return dp_error(err, errlen, EPROTO, "dataport %s: uio%u map0 "
		    "(registers) is %llu bytes at page offset %llu, not a "
		    "page of its own: boot the guest with "
		    "pci=resource_alignment=12@pci:1af4:1110", p->e.name,
		    p->uio, (unsigned long long)size0,
		    (unsigned long long)off0);
	if (size1 < 4096 || (size1 & (size1 - 1)) != 0 ||
	    size1 > DP_MAX_SHM || size1 % page != 0 || off1 != 0)
		return dp_error(err, errlen, EPROTO, "dataport %s: uio%u map1 "
		    "(shared memory) is %llu bytes at page offset %llu: not a "
		    "power of two from 4 KiB to %llu GiB", p->e.name, p->uio,
		    (unsigned long long)size1, (unsigned long long)off1,
		    (unsigned long long)(DP_MAX_SHM >> 30));
	p->regs_len = page;
	p->size = (size_t)size1;
	return 0;
}

/* Open /dev/uioN, checking it is the device /sys/class/uio/uioN names. */
static int
dp_open_dev(struct dp_port *p, char *err, size_t errlen)
{
	char path[64], buf[DP_ATTR_MAX], *colon;
	uint64_t maj, min;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), DP_SYS_UIO "/uio%u/dev", p->uio);
	n = dp_read_small(path, buf, sizeof(buf));
	colon = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
	if (colon == NULL ||
	    dp_parse_dec(buf, (size_t)(colon - buf), &maj) < 0 ||
	    dp_parse_dec(colon + 1, (size_t)(buf + n - colon - 1), &min) < 0)
		return dp_error(err, errlen, EPROTO, "dataport %s: %s is not "
		    "MAJOR:MINOR", p->e.name, path);
	snprintf(path, sizeof(path), "/dev/uio%u", p->uio);
	p->fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (p->fd < 0)
		return dp_error(err, errlen, errno, "dataport %s: %s: %s",
		    p->e.name, path, strerror(errno));
	if (fstat(p->fd, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		return dp_error(err, errlen, EPROTO, "dataport %s: %s is not "
		    "the character device %llu:%llu of uio%u", p->e.name,
		    path, (unsigned long long)maj, (unsigned long long)min,
		    p->uio);
	return 0;
}

struct dp_port *
dp_open(const char *name, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	struct dp_table *t = malloc(sizeof(*t));	/* 17 KiB */
	struct dp_port *p = calloc(1, sizeof(*p));
	uint64_t events;
	void *map;
	int i, e;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (t == NULL || p == NULL) {
		free(t);
		free(p);
		dp_error(err, errlen, ENOMEM, "out of memory");
		return NULL;
	}
	p->fd = -1;
	p->regs = MAP_FAILED;
	p->mem = MAP_FAILED;
	if (page <= 0 || dp_cmdline_read(t, err, errlen) < 0)
		goto fail;
	if ((i = dp_table_find(t, name)) < 0) {
		char have[DP_MAX_PORTS * (DP_MAX_NAME + 2) + 1] = "";

		for (unsigned k = 0; k < t->n; k++) {
			strcat(have, k ? " " : "");
			strcat(have, t->e[k].name);
		}
		dp_error(err, errlen, ENOENT, "no dataport '%.*s' on the kernel "
		    "command line (%s%s)", DP_MAX_NAME + 1, name,
		    t->n ? "this VM has: " : "this VM has none", have);
		goto fail;
	}
	p->e = t->e[i];
	if (dp_find_uio(&p->e, &p->uio, err, errlen) < 0 ||
	    dp_check_maps(p, (size_t)page, err, errlen) < 0)
		goto fail;
	/*
	 * The event count before open: a handle counts the interrupts after
	 * it (UIO starts each open file at the then current count).
	 */
	if (dp_uio_attr(p->uio, "event", false, &events) < 0) {
		dp_error(err, errlen, EPROTO, "dataport %s: uio%u/event: %s",
		    p->e.name, p->uio, strerror(errno));
		goto fail;
	}
	p->seen = (uint32_t)events;
	if (dp_open_dev(p, err, errlen) < 0)
		goto fail;
	/* UIO: map N is at mmap offset N pages. */
	map = mmap(NULL, p->regs_len, PROT_READ | PROT_WRITE, MAP_SHARED,
	    p->fd, 0);
	if (map == MAP_FAILED) {
		dp_error(err, errlen, errno, "dataport %s: mmap of the "
		    "register page of /dev/uio%u: %s", p->e.name, p->uio,
		    strerror(errno));
		goto fail;
	}
	p->regs = map;
	p->mem = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    p->fd, page);
	if (p->mem == MAP_FAILED) {
		dp_error(err, errlen, errno, "dataport %s: mmap of %zu bytes "
		    "of shared memory of /dev/uio%u: %s", p->e.name, p->size,
		    p->uio, strerror(errno));
		goto fail;
	}
	p->self = p->regs[DP_REG_IVPOSITION];
	if (p->self >= p->e.npeers) {
		dp_error(err, errlen, EPROTO, "dataport %s: the device says "
		    "this VM is peer %u, but the dataport has %u VMs",
		    p->e.name, p->self, p->e.npeers);
		goto fail;
	}
	if (t->vm[0] != '\0' && strcmp(t->vm, p->e.peers[p->self]) != 0) {
		dp_error(err, errlen, EPROTO, "dataport %s: this VM is %s "
		    "(isles.name=), but the device gives it peer ID %u, which "
		    "is %s", p->e.name, t->vm, p->self, p->e.peers[p->self]);
		goto fail;
	}
	free(t);
	return p;
fail:
	e = errno;
	free(t);
	dp_close(p);
	errno = e;
	return NULL;
}

void
dp_close(struct dp_port *p)
{
	if (p == NULL)
		return;
	if (p->mem != MAP_FAILED)
		munmap(p->mem, p->size);
	if (p->regs != MAP_FAILED)
		munmap((void *)p->regs, p->regs_len);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

void *
dp_mem(const struct dp_port *p)
{
	return p->mem;
}

size_t
dp_size(const struct dp_port *p)
{
	return p->size;
}

const struct dp_entry *
dp_entry(const struct dp_port *p)
{
	return &p->e;
}

unsigned
dp_self(const struct dp_port *p)
{
	return p->self;
}

unsigned
dp_uio(const struct dp_port *p)
{
	return p->uio;
}

int
dp_fd(const struct dp_port *p)
{
	return p->fd;
}

int
dp_emit(struct dp_port *p, unsigned peer, unsigned vector)
{
	if (peer >= p->e.npeers || vector > DP_MAX_VECTOR) {
		errno = EINVAL;
		return -1;
	}
	/* The peer must see the stores made before the doorbell. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	p->regs[DP_REG_DOORBELL] = peer << 16 | vector;
	return 0;
}

static int64_t
dp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
dp_wait(struct dp_port *p, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? dp_now_ms() + timeout_ms : 0;

	if (timeout_ms < DP_WAIT_FOREVER) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		uint32_t count, delta;
		int left = -1, r;
		ssize_t n;

		/* Non-blocking: a new count, or EAGAIN if there is none. */
		n = read(p->fd, &count, sizeof(count));
		if (n == (ssize_t)sizeof(count)) {
			delta = count - p->seen;	/* UIO's count wraps */
			p->seen = count;
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (delta == 0)		/* 2^32 interrupts later */
				delta = 1;
			return delta > INT32_MAX ? INT32_MAX : (int)delta;
		}
		if (n >= 0) {
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;	/* EIO: the device went away */
		if (timeout_ms >= 0) {
			int64_t now = dp_now_ms();

			if (now >= deadline)
				return 0;
			left = (int)(deadline - now);
		}
		r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
			errno = EIO;
			return -1;
		}
	}
}
