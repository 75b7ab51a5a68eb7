/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-diskd: the disk daemon.  One process per physical disk (image
 * file or block device); one vhost-user-blk export per VM, each showing
 * the VM a virtual disk made of the partitions it was given (vdisk.h).
 * Started by the supervisor (`isles up`) or by hand next to a stock QEMU
 * (docs/disk-server.md); follows the vhost-user back-end conventions:
 * --socket-path, --fd, --print-capabilities, no daemonizing, SIGTERM
 * drains the requests in flight and exits.
 *
 * Runs on the host layer (src/host): one struct ev_loop over the
 * vhost-user sockets, the kick eventfds, the io_uring completion eventfd
 * and a signalfd (the vhost library watches through ev_vu_watch), sockets
 * from host_listen, numbers from host_parse.  Trusts its command line;
 * not the disk's partition table (ptable.c checks it) and not the
 * front-ends (vu.c, vq.c, blk.c check them).
 *
 * Under the supervisor the disk and every socket come as inherited fds
 * (--disk fd:N, =fd:N), opened by the supervisor from the system file;
 * by hand, paths are opened here.  Either way the daemon first closes
 * every fd it was not given, and once set up opens nothing (lockdown()).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskd/diskd.h"
#include "diskd/ptable.h"
#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/log.h"
#include "host/parse.h"
#include "host/sandbox.h"

#define MAX_EXPORTS	32

static struct ev_loop loop;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: isles-diskd --disk PATH|fd:N [--name NAME]\n"
"         [--create SIZE [--layout mbr|gpt] --part SIZE[:TYPE][:boot][:logical] ...]\n"
"         [--cache none|writeback]\n"
"         --export VM:PARTS[:ro][:queues=N][=SOCKET|=fd:N] ...\n"
"       isles-diskd --dataport fd:SHM,fd:IN,fd:OUT [--timeout S] [--slot-size SIZE]\n"
"         [--name NAME] --export VM[:ro][:queues=N][=SOCKET|=fd:N]\n"
"         [--socket-path PATH | --fd N] [--no-seccomp] [-v] [-q]\n"
"       isles-diskd --print-capabilities\n"
"  PARTS: physical partition numbers, comma-separated (1,5)\n"
"  SIZE: bytes with optional K/M/G/T; a --part SIZE of 0 means the rest\n"
"  --socket-path/--fd serve the one export given without =SOCKET\n"
"  --disk fd:N: an open image or device; with --create, an empty file\n"
"    is laid out, anything else used as it is\n"
"  --cache none: O_DIRECT, past the host page cache (default writeback)\n");
}

static int
parse_part(const char *spec, struct pt_newpart *p)
{
	char buf[128], *tok, *save = NULL;
	int i = 0;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	memset(p, 0, sizeof(*p));
	p->type = 0x83;
	for (tok = strtok_r(buf, ":", &save); tok != NULL;
	    tok = strtok_r(NULL, ":", &save), i++) {
		char *end;
		unsigned long t;

		if (i == 0) {
			if (strcmp(tok, "rest") == 0 || strcmp(tok, "0") == 0)
				p->size = 0;
			else if (host_parse_size(tok, &p->size) < 0 ||
			    p->size % PT_SECTOR != 0)
				return -1;
		} else if (strcmp(tok, "boot") == 0) {
			p->boot = true;
		} else if (strcmp(tok, "logical") == 0) {
			p->logical = true;
		} else {
			t = strtoul(tok, &end, 16);
			if (*end != '\0' || t == 0 || t > 0xff)
				return -1;
			p->type = (uint8_t)t;
		}
	}
	return i > 0 ? 0 : -1;
}

/*
 * The decimal at *p, up to the next ',', ':', '=' or the end, in [min,
 * max] (host_parse_uint's rules); *p is moved past it.  0 / -1.
 */
static int
number_at(const char **p, unsigned min, unsigned max, unsigned *out)
{
	char buf[12];
	size_t n = strcspn(*p, ",:=");

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	*p += n;
	return host_parse_uint(buf, min, max, out);
}

/*
 * VM:PARTS[:ro][:queues=N][=SOCKET|=fd:N], or without PARTS (VM[:ro]...)
 * for a dataport store.  *sock gets what follows '=' (NULL if absent); an
 * fd:N there must be an open fd.
 */
static int
parse_export(const char *spec, struct blk_export *ex, const char **sock,
    bool with_parts)
{
	const char *p, *name = spec;
	size_t n;

	memset(ex, 0, sizeof(*ex));
	ex->nqueues = 1;
	*sock = NULL;
	p = with_parts ? strchr(spec, ':') : spec + strcspn(spec, ":=");
	if (p == NULL || p == name || (size_t)(p - name) >= sizeof(ex->name))
		return -1;
	memcpy(ex->name, name, (size_t)(p - name));
	for (n = 0; ex->name[n] != '\0'; n++) {
		if (ex->name[n] == '=' || ex->name[n] == ',')
			return -1;
	}
	if (with_parts)
		p++;
	for (; with_parts;) {
		if (ex->nparts == VD_MAX_PARTS ||
		    number_at(&p, 1, 255, &ex->parts[ex->nparts]) < 0)
			return -1;
		ex->nparts++;
		if (*p != ',')
			break;
		p++;
	}
	while (*p == ':') {
		p++;
		if (strncmp(p, "ro", 2) == 0 && (p[2] == ':' || p[2] == '=' ||
		    p[2] == '\0')) {
			ex->ro = true;
			p += 2;
		} else if (strncmp(p, "queues=", 7) == 0) {
			p += 7;
			if (number_at(&p, 1, VU_MAX_QUEUES, &ex->nqueues) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	if (*p == '=') {
		if (p[1] == '\0')
			return -1;
		*sock = p + 1;
		if (strncmp(*sock, "fd:", 3) == 0 &&
		    host_parse_fd_arg(*sock) < 0)
			return -1;
	} else if (*p != '\0') {
		return -1;
	}
	return 0;
}

/* --dataport fd:SHM,fd:IN,fd:OUT into a.  0 / -1. */
static int
parse_dataport(const char *spec, struct blk_dp_args *a)
{
	char buf[64], *tok, *save = NULL;
	int *fds[3] = { &a->shm_fd, &a->ev_in, &a->ev_out }, n = 0;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == 3 || (*fds[n] = host_parse_fd_arg(tok)) < 0)
			return -1;
		n++;
	}
	return n == 3 ? 0 : -1;
}

/*
 * Inherited socket fd: listening (accept front-ends on it) or already
 * connected (one front-end).  Sets *listening.
 */
static int
inherited_socket(int fd, bool *listening)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	*listening = v != 0;
	return 0;
}

static int
disk_read(void *ctx, uint64_t lba, void *buf)
{
	int fd = *(int *)ctx;

	return pread(fd, buf, PT_SECTOR, (off_t)(lba * PT_SECTOR)) ==
	    PT_SECTOR ? 0 : -1;
}

static int
disk_write(void *ctx, uint64_t lba, const void *buf)
{
	int fd = *(int *)ctx;

	return pwrite(fd, buf, PT_SECTOR, (off_t)(lba * PT_SECTOR)) ==
	    PT_SECTOR ? 0 : -1;
}

/*
 * Size and partition the empty image file fd (path names it in logs).
 * 0 / -1 (logged); on failure the file may be left partly written.
 */
static int
layout_image(int fd, const char *path, uint64_t size, enum pt_kind kind,
    const struct pt_newpart *parts, size_t n)
{
	uint8_t seed[16];
	char err[160];

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		memset(seed, 0x5a, sizeof(seed));
	if (size < 1024 * 1024 || size % PT_SECTOR != 0) {
		log_warnx("%s: image size must be a multiple of 512, >= 1M",
		    path);
		return -1;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		log_warn("%s: size", path);
		return -1;
	}
	if (pt_create(kind, parts, n, size / PT_SECTOR, seed, disk_write, &fd,
	    err, sizeof(err)) < 0) {
		log_warnx("%s: layout: %s", path, errno == EIO ?
		    strerror(EIO) : err);
		return -1;
	}
	if (fsync(fd) < 0) {
		log_warn("%s: fsync", path);
		return -1;
	}
	log_info("created %s (%llu bytes, %zu partitions)", path,
	    (unsigned long long)size, n);
	return 0;
}

/*
 * Create and partition the image at path if it does not exist.  An
 * existing file or device is never modified.  0 / -1.
 */
static int
create_image(const char *path, uint64_t size, enum pt_kind kind,
    const struct pt_newpart *parts, size_t n)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			log_info("%s exists: used as it is", path);
			return 0;
		}
		log_warn("create %s", path);
		return -1;
	}
	if (layout_image(fd, path, size, kind, parts, n) < 0) {
		close(fd);
		unlink(path);	/* ours: created above with O_EXCL */
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The given disk fd (--disk fd:N): with --create, an empty regular file
 * (the supervisor just created it) is laid out; anything else is used as
 * it is.  0 / -1.
 */
static int
given_disk(int fd, const char *label, uint64_t create_size,
    enum pt_kind layout, const struct pt_newpart *newparts, size_t nnew)
{
	struct stat st;

	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fstat(fd, &st) < 0) {
		log_warn("%s", label);
		return -1;
	}
	if (create_size == 0 || !S_ISREG(st.st_mode) || st.st_size != 0)
		return 0;
	if (layout_image(fd, label, create_size, layout, newparts, nnew) < 0) {
		/* Empty again: the next start lays it out afresh. */
		(void)ftruncate(fd, 0);
		return -1;
	}
	return 0;
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info("signal %u: draining and exiting", si.ssi_signo);
		ev_loop_quit(&loop);
	}
}

static void
ring_cb(void *arg, int fd, uint32_t events)
{
	blk_reap(arg);
}

/*
 * After start-up the daemon only serves: no new files (open, openat),
 * sockets (socket, bind, connect), unlink, processes or privileges.  Sets no_new_privs; a syscall outside this list
 * fails with EPERM (and is reported as an ordinary error) rather than
 * killing the process.  Sanitizer builds install no filter: their runtime
 * needs more.  Returns 0 or -1 with errno.
 */
static int
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(read), "eventfds, log" },
		{ SCMP_SYS(write), "eventfds, log" },
		{ SCMP_SYS(close), "fds of messages, connections" },
		{ SCMP_SYS(epoll_wait), "the event loop" },
		{ SCMP_SYS(epoll_pwait), "the event loop" },
		{ SCMP_SYS(epoll_ctl), "watch/unwatch" },
		{ SCMP_SYS(recvmsg), "vhost-user" },
		{ SCMP_SYS(sendmsg), "vhost-user" },
		{ SCMP_SYS(recvfrom), "recv()" },
		{ SCMP_SYS(sendto), "send()" },
		{ SCMP_SYS(accept4), "next front-end" },
		{ SCMP_SYS(setsockopt), "its timeouts" },
		{ SCMP_SYS(fcntl), "non-blocking kick" },
		{ SCMP_SYS(mmap), "guest memory, malloc" },
		{ SCMP_SYS(munmap), "guest memory, malloc" },
		{ SCMP_SYS(madvise), "malloc" },
		{ SCMP_SYS(mremap), "malloc" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(mprotect), "malloc" },
		{ SCMP_SYS(fstat), "region size check" },
		{ SCMP_SYS(newfstatat), "region size check" },
		{ SCMP_SYS(memfd_create), "inflight" },
		{ SCMP_SYS(ftruncate), "inflight" },
		{ SCMP_SYS(io_uring_enter), "all disk I/O" },
		{ SCMP_SYS(timerfd_settime), "dataport store: request timeout" },
		{ SCMP_SYS(futex), "libc" },
		{ SCMP_SYS(clock_gettime), "libc" },
		{ SCMP_SYS(getpid), "libc" },
		{ SCMP_SYS(gettid), "libc" },
		{ SCMP_SYS(rt_sigreturn), "signals" },
		{ SCMP_SYS(rt_sigprocmask), "signals" },
		{ SCMP_SYS(restart_syscall), "signals" },
		{ SCMP_SYS(exit), "exit" },
		{ SCMP_SYS(exit_group), "exit" },
	};
	char err[128];

	return sandbox_lockdown(SCMP_ACT_ERRNO(EPERM), allow,
	    sizeof(allow) / sizeof(allow[0]), NULL, err, sizeof(err));
}

static void
print_capabilities(void)
{
	printf("{\n  \"type\": \"block\",\n  \"features\": []\n}\n");
}

/*
 * Export names are unique, and a partition writable through one export
 * is not given to another.
 */
static int
check_sharing(const struct diskd *dd)
{
	unsigned i, j, a, b;

	for (i = 0; i < dd->nex; i++) {
		for (j = i + 1; j < dd->nex; j++) {
			if (strcmp(dd->ex[i].name, dd->ex[j].name) == 0) {
				log_warnx("two exports named %s",
				    dd->ex[i].name);
				return -1;
			}
			if (dd->ex[i].ro && dd->ex[j].ro)
				continue;
			for (a = 0; a < dd->ex[i].nparts; a++) {
				for (b = 0; b < dd->ex[j].nparts; b++) {
					if (dd->ex[i].parts[a] !=
					    dd->ex[j].parts[b])
						continue;
					log_warnx("partition %u is given to "
					    "%s and %s and one of them may "
					    "write", dd->ex[i].parts[a],
					    dd->ex[i].name, dd->ex[j].name);
					return -1;
				}
			}
		}
	}
	return 0;
}

static void
make_serial(char *out, const char *disk, const struct blk_export *ex)
{
	char buf[128];
	size_t l;
	unsigned i;

	l = (size_t)snprintf(buf, sizeof(buf), "%s-%s-p", disk, ex->name);
	for (i = 0; i < ex->nparts && l < sizeof(buf) - 8; i++)
		l += (size_t)snprintf(buf + l, sizeof(buf) - l, "%s%u",
		    i ? "," : "", ex->parts[i]);
	memset(out, 0, 21);
	memcpy(out, buf, strlen(buf) < 20 ? strlen(buf) : 20);
}

/*
 * The partitioned disk: create it if asked and missing, open and lock
 * it, read its partition table, build each export's virtual disk.
 * 0 / -1 (logged).
 */

static void
on_lock_timeout(int sig)
{
	(void)sig;	/* only interrupts the blocking flock */
}

/*
 * One daemon per disk: a second one would corrupt it, so the disk is
 * locked (flock) for the daemon's life.  A daemon that was just killed
 * may hold the lock a moment longer than its process: the kernel tears
 * its io_uring down, and the requests that still reference the file,
 * after the process is gone.  So a held lock is waited for, up to
 * LOCK_WAIT_S seconds, in a blocking flock that a one-shot SIGALRM
 * interrupts (no polling); only then is the disk "in use".
 */
#define LOCK_WAIT_S	10

static int
lock_disk(int fd, const char *disk)
{
	struct sigaction sa = { .sa_handler = on_lock_timeout }, old;
	int r, e;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		log_warn("%s: lock", disk);
		return -1;
	}
	log_info("%s: locked by another process; waiting up to %d s", disk,
	    LOCK_WAIT_S);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &old) < 0) {
		log_warn("sigaction");
		return -1;
	}
	alarm(LOCK_WAIT_S);
	r = flock(fd, LOCK_EX);
	e = errno;
	alarm(0);
	(void)sigaction(SIGALRM, &old, NULL);
	if (r == 0)
		return 0;
	if (e == EINTR)
		log_warnx("%s: in use by another isles-diskd", disk);
	else
		log_warn("%s: lock", disk);
	return -1;
}

static int
open_disk(struct diskd *dd, const char *disk, uint64_t create_size,
    enum pt_kind layout, const struct pt_newpart *newparts, size_t nnew)
{
	struct blk_export *exports = dd->ex;
	const char *name = dd->name;
	bool all_ro = true;
	struct pt_table pt;
	struct stat st;
	char err[160];
	unsigned i;

	if (strncmp(disk, "fd:", 3) == 0) {
		/* Checked open by main; its mode is the supervisor's choice. */
		dd->disk_fd = host_parse_fd_arg(disk);
		if (given_disk(dd->disk_fd, name, create_size, layout,
		    newparts, nnew) < 0)
			return -1;
	} else {
		if (create_size != 0 && create_image(disk, create_size, layout,
		    newparts, nnew) < 0)
			return -1;
		for (i = 0; i < dd->nex; i++)
			all_ro = all_ro && exports[i].ro;
		dd->disk_fd = open(disk, (all_ro ? O_RDONLY : O_RDWR) |
		    O_CLOEXEC);
	}
	if (dd->disk_fd < 0 || fstat(dd->disk_fd, &st) < 0) {
		log_warn("%s", disk);
		return -1;
	}
	if (lock_disk(dd->disk_fd, disk) < 0)
		return -1;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;

		if (ioctl(dd->disk_fd, BLKGETSIZE64, &bytes) < 0) {
			log_warn("%s: size", disk);
			return -1;
		}
		dd->blockdev = true;
		dd->sectors = bytes / PT_SECTOR;
	} else if (S_ISREG(st.st_mode)) {
		dd->sectors = (uint64_t)st.st_size / PT_SECTOR;
	} else {
		log_warnx("%s: not an image file or a block device", disk);
		return -1;
	}
	/*
	 * cache none: guest I/O goes through a second descriptor with
	 * O_DIRECT (the host page cache is bypassed); requests whose
	 * buffers or offsets do not meet its alignment, and the partition
	 * table read here, use the buffered one.
	 */
	dd->dio_fd = -1;
	if (dd->cache_none) {
		char self[32];
		const char *again = disk;

		/* A given fd is opened again through /proc (the same file). */
		if (strncmp(disk, "fd:", 3) == 0) {
			snprintf(self, sizeof(self), "/proc/self/fd/%d",
			    dd->disk_fd);
			again = self;
		}
		/* With the access mode the disk is open with. */
		dd->dio_fd = open(again, (fcntl(dd->disk_fd, F_GETFL) &
		    O_ACCMODE) | O_DIRECT | O_CLOEXEC);
		if (dd->dio_fd < 0) {
			log_warn("%s: O_DIRECT (cache none)", disk);
			return -1;
		}
		part_dio_align(dd);
	}
	if (pt_parse(disk_read, &dd->disk_fd, dd->sectors, &pt, err,
	    sizeof(err)) < 0) {
		log_warnx("%s: %s", disk, errno == EIO ? "read error" : err);
		return -1;
	}
	log_info("%s: %s, %u partitions, %llu sectors", disk,
	    pt.kind == PT_GPT ? "GPT" : "MBR", pt.n,
	    (unsigned long long)dd->sectors);
	for (i = 0; i < dd->nex; i++) {
		struct blk_export *ex = &exports[i];

		ex->store = &blk_store_part;
		if (vd_build(&ex->vd, &pt, ex->parts, ex->nparts,
		    pt_crc32(ex->name, strlen(ex->name)), err,
		    sizeof(err)) < 0) {
			log_warnx("export %s: %s", ex->name, err);
			return -1;
		}
		make_serial(ex->serial, name, ex);
	}
	if (check_sharing(dd) < 0)
		return -1;

	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "disk", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "create", required_argument, NULL, 'c' },
		{ "layout", required_argument, NULL, 'l' },
		{ "part", required_argument, NULL, 'p' },
		{ "export", required_argument, NULL, 'e' },
		{ "socket-path", required_argument, NULL, 's' },
		{ "fd", required_argument, NULL, 'f' },
		{ "dataport", required_argument, NULL, 'D' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "slot-size", required_argument, NULL, 'Z' },
		{ "cache", required_argument, NULL, 'C' },
		{ "print-capabilities", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	static struct diskd dd;
	static struct blk_export exports[MAX_EXPORTS];
	struct pt_newpart newparts[PT_MAX_PARTS];
	const char *socks[MAX_EXPORTS], *specs[MAX_EXPORTS];
	const char *dpspec = NULL;
	struct blk_dp_args dpa = { -1, -1, -1, 0, 60 };
	uint64_t slot = 0;
	const char *disk = NULL, *name = NULL, *sockpath = NULL;
	uint64_t create_size = 0;
	enum pt_kind layout = PT_MBR;
	size_t nnew = 0;
	int c, fdarg = -1, verbose = 1, sfd, rc = 1;
	unsigned i, nwithout = 0;
	bool seccomp = true;

	dd.ex = exports;
	dd.dio_fd = -1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			disk = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'c':
			if (host_parse_size(optarg, &create_size) < 0) {
				fprintf(stderr, "isles-diskd: bad --create "
				    "size %s\n", optarg);
				return 2;
			}
			break;
		case 'C':
			if (strcmp(optarg, "none") == 0)
				dd.cache_none = true;
			else if (strcmp(optarg, "writeback") == 0)
				dd.cache_none = false;
			else {
				fprintf(stderr, "isles-diskd: --cache is none "
				    "or writeback\n");
				return 2;
			}
			break;
		case 'l':
			if (strcmp(optarg, "mbr") == 0)
				layout = PT_MBR;
			else if (strcmp(optarg, "gpt") == 0)
				layout = PT_GPT;
			else {
				fprintf(stderr, "isles-diskd: --layout is mbr "
				    "or gpt\n");
				return 2;
			}
			break;
		case 'p':
			if (nnew == PT_MAX_PARTS ||
			    parse_part(optarg, &newparts[nnew]) < 0) {
				fprintf(stderr, "isles-diskd: bad --part %s\n",
				    optarg);
				return 2;
			}
			nnew++;
			break;
		case 'e':
			/* Parsed once we know the store (--dataport or not). */
			if (dd.nex == MAX_EXPORTS) {
				fprintf(stderr, "isles-diskd: at most %d "
				    "exports\n", MAX_EXPORTS);
				return 2;
			}
			specs[dd.nex++] = optarg;
			break;
		case 'D':
			dpspec = optarg;
			if (parse_dataport(optarg, &dpa) < 0) {
				fprintf(stderr, "isles-diskd: --dataport %s: "
				    "fd:SHM,fd:IN,fd:OUT (open fds)\n", optarg);
				return 2;
			}
			break;
		case 'T':
			if (host_parse_uint(optarg, 1, 3600, &dpa.timeout_s) <
			    0) {
				fprintf(stderr, "isles-diskd: --timeout is 1 to "
				    "3600 seconds\n");
				return 2;
			}
			break;
		case 'Z':
			if (host_parse_size(optarg, &slot) < 0 ||
			    slot > (1u << 20) || slot % 4096 != 0) {
				fprintf(stderr, "isles-diskd: --slot-size is 4K "
				    "to 1M in 4K\n");
				return 2;
			}
			dpa.slot_size = (uint32_t)slot;
			break;
		case 's':
			sockpath = optarg;
			break;
		case 'f':
			if ((fdarg = host_parse_fd(optarg)) < 0) {
				fprintf(stderr, "isles-diskd: --fd %s: not an "
				    "open file descriptor above 2\n", optarg);
				return 2;
			}
			break;
		case 'P':
			print_capabilities();
			return 0;
		case 'v':
			verbose = 2;
			break;
		case 'q':
			verbose = 0;
			break;
		case 'S':
			seccomp = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((disk == NULL) == (dpspec == NULL) || dd.nex == 0 ||
	    optind != argc) {
		usage(stderr);
		return 2;
	}
	if (dpspec != NULL && (dd.nex != 1 || create_size != 0 || nnew != 0)) {
		fprintf(stderr, "isles-diskd: --dataport serves one --export "
		    "(VM[:ro][:queues=N][=SOCKET]) and creates no disk\n");
		return 2;
	}
	for (i = 0; i < dd.nex; i++) {
		if (parse_export(specs[i], &exports[i], &socks[i],
		    dpspec == NULL) < 0) {
			fprintf(stderr, "isles-diskd: bad --export %s\n",
			    specs[i]);
			return 2;
		}
		if (socks[i] == NULL)
			nwithout++;
	}
	if (nwithout > 1 || (nwithout == 1) != (sockpath != NULL ||
	    fdarg >= 0) || (sockpath != NULL && fdarg >= 0)) {
		fprintf(stderr, "isles-diskd: --socket-path or --fd go with "
		    "exactly one --export without =SOCKET\n");
		return 2;
	}
	if (name == NULL && disk != NULL) {
		name = strrchr(disk, '/') != NULL ? strrchr(disk, '/') + 1 :
		    disk;
	} else if (name == NULL) {
		name = "dataport";
	}
	dd.name = name;
	log_init("isles-diskd", name);
	log_setverbose(verbose);
	signal(SIGPIPE, SIG_IGN);
	{
		/* Only what the command line gives survives. */
		int keep[MAX_EXPORTS + 5];
		size_t nkeep = 0;

		if (disk != NULL && strncmp(disk, "fd:", 3) == 0) {
			if ((keep[nkeep++] = host_parse_fd_arg(disk)) < 0) {
				fprintf(stderr, "isles-diskd: --disk %s: not an "
				    "open fd above 2\n", disk);
				return 2;
			}
		}
		if (dpspec != NULL) {
			keep[nkeep++] = dpa.shm_fd;
			keep[nkeep++] = dpa.ev_in;
			keep[nkeep++] = dpa.ev_out;
		}
		if (fdarg >= 0)
			keep[nkeep++] = fdarg;
		for (i = 0; i < dd.nex; i++)
			if (socks[i] != NULL && strncmp(socks[i], "fd:", 3) == 0)
				keep[nkeep++] = host_parse_fd_arg(socks[i]);
		if (host_close_others(keep, nkeep) < 0) {
			fprintf(stderr, "isles-diskd: an fd is given twice\n");
			return 2;
		}
	}

	if (dpspec == NULL) {
		if (open_disk(&dd, disk, create_size, layout, newparts, nnew) <
		    0)
			return 1;
	} else {
		struct blk_export *ex = &exports[0];

		dd.disk_fd = -1;
		ex->store = &blk_store_dp;
		snprintf(ex->serial, sizeof(ex->serial), "%.12s-dp", ex->name);
	}

	if (ev_loop_init(&loop) < 0)
		fatal("epoll");
	dd.loop = (struct vu_loop){ ev_vu_watch, ev_vu_unwatch, &loop };
	if (dpspec == NULL && part_ring_init(&dd) < 0) {
		log_warn("io_uring");
		return 1;
	}
	if (dpspec == NULL &&
	    ev_watch(&loop, dd.ring_fd, EPOLLIN, ring_cb, &dd) < 0)
		fatal("io_uring fd");
	if ((sfd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]))) < 0 ||
	    ev_watch(&loop, sfd, EPOLLIN, signal_cb, &dd) < 0)
		fatal("signalfd");

	for (i = 0; i < dd.nex; i++) {
		struct blk_export *ex = &exports[i];
		const char *sp = socks[i] != NULL ? socks[i] : sockpath;
		int lfd = -1, cfd = -1, fd = -1;
		bool listening = true;

		if (sp != NULL && strncmp(sp, "fd:", 3) == 0)
			fd = host_parse_fd_arg(sp);	/* checked by parse_export */
		else if (sp == NULL)
			fd = fdarg;
		if (fd >= 0) {
			if (inherited_socket(fd, &listening) < 0) {
				log_warn("export %s: fd %d", ex->name, fd);
				return 1;
			}
			if (listening)
				lfd = fd;
			else
				cfd = fd;
		} else if ((lfd = host_listen(sp, 0600)) < 0) {
			log_warn("export %s: %s", ex->name, sp);
			return 1;
		}
		if (blk_export_start(ex, &dd, lfd, cfd) < 0) {
			log_warn("export %s", ex->name);
			return 1;
		}
		if (dpspec != NULL && blk_dp_open(ex, &dpa) < 0) {
			log_warn("export %s: dataport", ex->name);
			return 1;
		}
		log_info("export %s: serial %s, %s, %llu sectors, %u queue(s)%s "
		    "on %s", ex->name, ex->serial, ex->store->kind,
		    (unsigned long long)ex->store->capacity(ex), ex->nqueues,
		    ex->ro ? ", read-only" : "", sp != NULL ? sp : "fd");
	}

	if (seccomp && lockdown() < 0) {
		log_warn("seccomp");
		return 1;
	}
	if (ev_loop_run(&loop) < 0)
		fatal("epoll_wait");
	/*
	 * SIGTERM: finish what the guests asked for, then go.  Requests a
	 * driver VM holds are not waited for: they are redone after our
	 * restart (INFLIGHT_SHMFD), and no kernel I/O targets guest memory.
	 */
	if (dd.ring_ok && blk_drain(&dd, NULL) < 0) {
		/*
		 * Requests may still write into guest memory: leave it
		 * mapped and let the kernel cancel them as we exit.
		 */
		log_warn("draining the requests in flight");
		return 1;
	}
	for (i = 0; i < dd.nex; i++) {
		blk_dp_close(&exports[i]);
		blk_export_stop(&exports[i]);
	}
	blk_free_pool(&dd);
	if (dd.ring_ok)
		io_uring_queue_exit(&dd.ring);
	rc = 0;
	log_info("stopped");
	return rc;
}
