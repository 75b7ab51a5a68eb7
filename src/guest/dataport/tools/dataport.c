/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataport: the guest's dataport tools, one static multi-call program
 * (docs/dataports.md).  The image links each tool's name to it in
 * /usr/bin; `dataport COMMAND ...` works too:
 *
 *   dataport_read NAME [OFFSET [LEN]]      shared bytes to stdout
 *   dataport_write NAME [OFFSET]           stdin into the shared memory
 *   dataport_emit NAME [PEER]              ring PEER's doorbell
 *   dataport_wait NAME [TIMEOUT_MS]        wait for a doorbell, print the count
 *   dataport_pingpong NAME serve|start COUNT [TIMEOUT_MS [PEER]]
 *                                          doorbell round trips, with latency
 *   dataport-links [-q]                    /dev/dataport/NAME -> /dev/uioN
 *   dataport info [NAME]                   what the VM's dataports are
 *   dataport copybench NAME [SECONDS]      memcpy bandwidth into and out of
 *                                          the shared memory vs private memory
 *
 * Exit status: 0 done, 1 timeout (wait, pingpong), 2 usage or error (the
 * message names what is wrong).  Numbers are decimal or 0x hex.  Run by
 * users, scripts, /etc/init.d/rcS (dataport-links) and the integration
 * tests; trusts only libdataport's checks of what the kernel says.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "guest/tools/gtime.h"

#include "guest/dataport/libdataport/dataport.h"

#define DP_LINK_DIR	"/dev/dataport"
#define DP_CHUNK	(64 * 1024)
#define DP_PINGPONG_TIMEOUT_MS	10000

static const char *prog = "dataport";

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((format(printf, 1, 2)))
warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
usage(const char *args)
{
	fprintf(stderr, "usage: %s %s\n", prog, args);
	exit(2);
}

/* A decimal or 0x-hex argument called what, at most max. */
static uint64_t
arg_num(const char *what, const char *s, uint64_t max)
{
	size_t n = strlen(s);
	uint64_t v;
	int r;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		r = dp_parse_hex(s, n, &v);
	else
		r = strspn(s, "0123456789") == n ? dp_parse_dec(s, n, &v) : -1;
	if (r < 0 || (n > 0 && s[n - 1] == '\n'))
		die("%s '%s' is not a number (decimal or 0x hex)", what, s);
	if (v > max)
		die("%s %s is larger than %llu", what, s,
		    (unsigned long long)max);
	return v;
}

static struct dp_port *
open_port(const char *name)
{
	char err[512];
	struct dp_port *p = dp_open(name, err, sizeof(err));

	if (p == NULL)
		die("%s", err);
	return p;
}

/* "vm0 (0), vm1 (1)": the dataport's VMs for messages. */
static const char *
peer_list(const struct dp_entry *e)
{
	static char buf[DP_MAX_PEERS * (DP_MAX_NAME + 8)];
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < e->npeers && used < sizeof(buf); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used,
		    "%s%s (%u)", i ? ", " : "", e->peers[i], i);
	return buf;
}

/* PEER as given (name or ID), else the other VM of a two-VM dataport. */
static unsigned
pick_peer(const struct dp_port *p, const char *who)
{
	const struct dp_entry *e = dp_entry(p);
	int id;

	if (who == NULL) {
		if (e->npeers != 2)
			die("dataport %s has %u VMs: name the peer (%s)",
			    e->name, e->npeers, peer_list(e));
		return 1 - dp_self(p);
	}
	id = dp_peer_lookup(e, who);
	if (id < 0)
		die("dataport %s has no VM '%s' (its VMs: %s)", e->name, who,
		    peer_list(e));
	return (unsigned)id;
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write to stdout: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static int
cmd_read(int argc, char **argv)
{
	static char buf[DP_CHUNK];
	struct dp_port *p;
	uint64_t off = 0, len;
	size_t size;

	if (argc < 2 || argc > 4)
		usage("NAME [OFFSET [LEN]]");
	p = open_port(argv[1]);
	size = dp_size(p);
	if (argc > 2)
		off = arg_num("OFFSET", argv[2], UINT64_MAX);
	if (off > size)
		die("OFFSET %llu is past the end of dataport %s (%zu bytes)",
		    (unsigned long long)off, argv[1], size);
	len = size - off;
	if (argc > 3) {
		len = arg_num("LEN", argv[3], UINT64_MAX);
		if (len > size - off)
			die("LEN %llu from OFFSET %llu is past the end of "
			    "dataport %s (%zu bytes)", (unsigned long long)len,
			    (unsigned long long)off, argv[1], size);
	}
	/* Copied out first: the peers may write while we write. */
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done > sizeof(buf) ? sizeof(buf) :
		    (size_t)(len - done);

		memcpy(buf, (char *)dp_mem(p) + off + done, n);
		write_all(1, buf, n);
		done += n;
	}
	dp_close(p);
	return 0;
}

static int
cmd_write(int argc, char **argv)
{
	static char buf[DP_CHUNK];
	struct dp_port *p;
	uint64_t off = 0;
	size_t size, room, done = 0;

	if (argc < 2 || argc > 3)
		usage("NAME [OFFSET] <DATA");
	p = open_port(argv[1]);
	size = dp_size(p);
	if (argc > 2)
		off = arg_num("OFFSET", argv[2], UINT64_MAX);
	if (off > size)
		die("OFFSET %llu is past the end of dataport %s (%zu bytes)",
		    (unsigned long long)off, argv[1], size);
	room = size - (size_t)off;
	for (;;) {
		/* With no room left, one more byte tells EOF from overflow. */
		size_t want = room - done > sizeof(buf) ? sizeof(buf) :
		    room - done;
		ssize_t n = read(0, buf, want ? want : 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read from stdin: %s", strerror(errno));
		if (n == 0)
			break;
		if (want == 0)
			die("stdin has more than the %zu bytes from OFFSET %llu "
			    "to the end of dataport %s: wrote the first %zu",
			    room, (unsigned long long)off, argv[1], done);
		memcpy((char *)dp_mem(p) + off + done, buf, (size_t)n);
		done += (size_t)n;
	}
	dp_close(p);
	return 0;
}

static int
cmd_emit(int argc, char **argv)
{
	struct dp_port *p;

	if (argc < 2 || argc > 3)
		usage("NAME [PEER]   (PEER: VM name or peer ID; default: the "
		    "other VM of a two-VM dataport)");
	p = open_port(argv[1]);
	if (dp_emit(p, pick_peer(p, argc > 2 ? argv[2] : NULL), 0) < 0)
		die("emit on %s: %s", argv[1], strerror(errno));
	dp_close(p);
	return 0;
}

static int
cmd_wait(int argc, char **argv)
{
	int timeout = DP_WAIT_FOREVER, n;
	struct dp_port *p;

	if (argc < 2 || argc > 3)
		usage("NAME [TIMEOUT_MS]   (default: no timeout)");
	if (argc > 2)
		timeout = (int)arg_num("TIMEOUT_MS", argv[2], INT_MAX);
	p = open_port(argv[1]);
	n = dp_wait(p, timeout);
	if (n < 0)
		die("wait on %s: %s", argv[1], errno == EIO ?
		    "the device has no interrupt or went away (module "
		    "unloaded?)" : strerror(errno));
	dp_close(p);
	if (n == 0) {
		warn("no doorbell on %s within %d ms", argv[1], timeout);
		return 1;
	}
	printf("%d\n", n);
	return 0;
}

/* One wait of a ping-pong round: exactly one interrupt, else exit 1. */
static void
pingpong_wait(struct dp_port *p, unsigned round, unsigned peer,
    int timeout)
{
	int n = dp_wait(p, timeout);

	if (n < 0)
		die("round %u: wait: %s", round, strerror(errno));
	if (n == 0) {
		warn("round %u: no doorbell from %s within %d ms", round,
		    dp_entry(p)->peers[peer], timeout);
		exit(1);
	}
	if (n != 1) {
		warn("round %u: %d interrupts, expected 1", round, n);
		exit(1);
	}
}

/*
 * Strict ping-pong: each side waits for the other's doorbell before it
 * rings back, so no doorbell can hide behind another (coalescing).  Words
 * 0 and 1 of the shared memory carry the round number each way, which
 * also checks that stores before a doorbell are seen after the wake-up.
 * The serving side prints "ready" once it can take the first doorbell.
 */
static int
cmd_pingpong(int argc, char **argv)
{
	int timeout = DP_PINGPONG_TIMEOUT_MS;
	volatile uint32_t *word;
	struct dp_port *p;
	unsigned count, peer;
	uint64_t *rtt, t0;
	bool serve;

	if (argc < 4 || argc > 6)
		usage("NAME serve|start COUNT [TIMEOUT_MS [PEER]]   (start it "
		    "after the serving side printed ready; PEER: needed on a "
		    "dataport of more than two VMs)");
	serve = strcmp(argv[2], "serve") == 0;
	if (!serve && strcmp(argv[2], "start") != 0)
		die("'%s' is neither serve nor start", argv[2]);
	count = (unsigned)arg_num("COUNT", argv[3], 100000000);
	if (argc > 4)
		timeout = (int)arg_num("TIMEOUT_MS", argv[4], INT_MAX);
	p = open_port(argv[1]);
	peer = pick_peer(p, argc > 5 ? argv[5] : NULL);
	word = dp_mem(p);
	rtt = calloc(count ? count : 1, sizeof(*rtt));
	if (rtt == NULL)
		die("out of memory for %u rounds", count);
	if (serve) {
		printf("ready\n");
		fflush(stdout);
	}
	t0 = now_ns();
	for (unsigned i = 1; i <= count; i++) {
		uint64_t t = now_ns();
		uint32_t v;

		if (serve) {
			pingpong_wait(p, i, peer, timeout);
			v = __atomic_load_n(&word[0], __ATOMIC_ACQUIRE);
			if (v != i) {
				warn("round %u: the peer's ping says %u", i, v);
				return 1;
			}
			__atomic_store_n(&word[1], i, __ATOMIC_RELEASE);
			dp_emit(p, peer, 0);
		} else {
			__atomic_store_n(&word[0], i, __ATOMIC_RELEASE);
			dp_emit(p, peer, 0);
			pingpong_wait(p, i, peer, timeout);
			v = __atomic_load_n(&word[1], __ATOMIC_ACQUIRE);
			if (v != i) {
				warn("round %u: the peer's pong says %u", i, v);
				return 1;
			}
			rtt[i - 1] = now_ns() - t;
		}
	}
	if (serve) {
		printf("served %u round trips\n", count);
	} else if (count > 0) {
		double total = (double)(now_ns() - t0) / 1e9;

		qsort(rtt, count, sizeof(*rtt), cmp_u64);
		printf("%u round trips with %s in %.3f s: min %llu us, median "
		    "%llu us, p99 %llu us, max %llu us\n", count,
		    dp_entry(p)->peers[peer], total,
		    (unsigned long long)rtt[0] / 1000,
		    (unsigned long long)rtt[count / 2] / 1000,
		    (unsigned long long)rtt[(count * 99ull) / 100] / 1000,
		    (unsigned long long)rtt[count - 1] / 1000);
	}
	free(rtt);
	dp_close(p);
	return 0;
}

/* Point DP_LINK_DIR/name at target, replacing what is there atomically. */
static int
link_one(const char *name, const char *target)
{
	char path[sizeof(DP_LINK_DIR) + DP_MAX_NAME + 2];
	char tmp[sizeof(path) + 8];

	snprintf(path, sizeof(path), DP_LINK_DIR "/%s", name);
	snprintf(tmp, sizeof(tmp), DP_LINK_DIR "/.%s.new", name);
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
		warn("%s -> %s: %s", path, target, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Remove the symlinks of DP_LINK_DIR that t has no working device for. */
static void
link_prune(const struct dp_table *t, const bool *linked)
{
	DIR *d = opendir(DP_LINK_DIR);
	struct dirent *de;
	unsigned seen = 0;

	while (d != NULL && seen++ < 1024 && (de = readdir(d)) != NULL) {
		char path[sizeof(DP_LINK_DIR) + 256 + 2];
		struct stat st;
		int i;

		snprintf(path, sizeof(path), DP_LINK_DIR "/%s", de->d_name);
		if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
			continue;
		i = dp_table_find(t, de->d_name);
		if (i < 0 || !linked[i])
			unlink(path);
	}
	if (d != NULL)
		closedir(d);
}

static int
cmd_links(int argc, char **argv)
{
	static struct dp_table t;
	bool quiet = false, linked[DP_MAX_PORTS] = { false };
	char err[512];
	int rc = 0;

	if (argc == 2 && strcmp(argv[1], "-q") == 0)
		quiet = true;
	else if (argc != 1)
		usage("[-q]   (make /dev/dataport/NAME -> /dev/uioN for the "
		    "dataports of isles.dataports=)");
	if (dp_cmdline_read(&t, err, sizeof(err)) < 0)
		die("%s", err);
	if (t.n > 0 && mkdir(DP_LINK_DIR, 0755) < 0 && errno != EEXIST)
		die("mkdir %s: %s", DP_LINK_DIR, strerror(errno));
	for (unsigned i = 0; i < t.n; i++) {
		char target[32];
		unsigned uio;

		if (dp_find_uio(&t.e[i], &uio, err, sizeof(err)) < 0) {
			warn("%s", err);
			rc = 2;
			continue;
		}
		snprintf(target, sizeof(target), "/dev/uio%u", uio);
		if (link_one(t.e[i].name, target) < 0) {
			rc = 2;
			continue;
		}
		linked[i] = true;
		if (!quiet)
			printf(DP_LINK_DIR "/%s -> %s\n", t.e[i].name, target);
	}
	link_prune(&t, linked);
	return rc;
}

static int
cmd_info(int argc, char **argv)
{
	static struct dp_table t;
	char err[512];
	int rc = 0;

	if (argc > 2)
		usage("[NAME]");
	if (dp_cmdline_read(&t, err, sizeof(err)) < 0)
		die("%s", err);
	if (argc == 2 && dp_table_find(&t, argv[1]) < 0)
		die("no dataport '%s' on the kernel command line", argv[1]);
	for (unsigned i = 0; i < t.n; i++) {
		const struct dp_entry *e = &t.e[i];
		struct dp_port *p;

		if (argc == 2 && strcmp(argv[1], e->name) != 0)
			continue;
		p = dp_open(e->name, err, sizeof(err));
		if (p == NULL) {
			printf("%s: slot %02x: %s\n", e->name, e->slot, err);
			rc = 2;
			continue;
		}
		printf("%s: slot %02x, /dev/uio%u, %zu bytes, this VM is %s "
		    "(peer %u); VMs: %s\n", e->name, e->slot, dp_uio(p),
		    dp_size(p), e->peers[dp_self(p)], dp_self(p),
		    peer_list(e));
		dp_close(p);
	}
	return rc;
}

/* MB/s of memcpy(dst, src, len) repeated for about secs seconds. */
static double
copy_rate(void *dst, const void *src, size_t len, unsigned secs)
{
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)secs * 1000000000u, n = 0;

	do {
		memcpy(dst, src, len);
		/* The copy must happen: the compiler may not elide it. */
		__asm__ __volatile__("" : : "r"(dst) : "memory");
		n++;
	} while (now_ns() < end);
	return (double)n * (double)len / ((double)(now_ns() - t0) / 1e9) / 1e6;
}

static int
cmd_copybench(int argc, char **argv)
{
	struct dp_port *p;
	unsigned secs = 2;
	size_t size;
	char *a, *b;

	if (argc < 2 || argc > 3)
		usage("NAME [SECONDS]");
	if (argc > 2)
		secs = (unsigned)arg_num("SECONDS", argv[2], 600);
	if (secs == 0)
		secs = 1;
	p = open_port(argv[1]);
	size = dp_size(p);
	a = malloc(size);
	b = malloc(size);
	if (a == NULL || b == NULL)
		die("out of memory for two %zu-byte buffers", size);
	memset(a, 0x5a, size);
	memset(b, 0xa5, size);
	printf("%s: %zu bytes, %u s each: private->shared %.0f MB/s, "
	    "shared->private %.0f MB/s, private->private %.0f MB/s\n",
	    argv[1], size, secs, copy_rate(dp_mem(p), a, size, secs),
	    copy_rate(b, dp_mem(p), size, secs), copy_rate(b, a, size, secs));
	free(a);
	free(b);
	dp_close(p);
	return 0;
}

static const struct dp_cmd {
	const char *sub;	/* dataport SUB ... */
	const char *link;	/* the name in /usr/bin */
	int (*run)(int, char **);
} cmds[] = {
	{ "read", "dataport_read", cmd_read },
	{ "write", "dataport_write", cmd_write },
	{ "emit", "dataport_emit", cmd_emit },
	{ "wait", "dataport_wait", cmd_wait },
	{ "pingpong", "dataport_pingpong", cmd_pingpong },
	{ "links", "dataport-links", cmd_links },
	{ "info", NULL, cmd_info },
	{ "copybench", NULL, cmd_copybench },
};

int
main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	const size_t ncmds = sizeof(cmds) / sizeof(cmds[0]);

	base = base != NULL ? base + 1 : argc > 0 ? argv[0] : "dataport";
	for (size_t i = 0; i < ncmds; i++) {
		if (cmds[i].link != NULL && strcmp(base, cmds[i].link) == 0) {
			prog = cmds[i].link;
			return cmds[i].run(argc, argv);
		}
	}
	if (argc >= 2) {
		for (size_t i = 0; i < ncmds; i++) {
			if (strcmp(argv[1], cmds[i].sub) == 0) {
				static char name[32];

				snprintf(name, sizeof(name), "dataport %s",
				    cmds[i].sub);
				prog = name;
				return cmds[i].run(argc - 1, argv + 1);
			}
		}
	}
	fprintf(stderr, "usage: dataport COMMAND ...  (read, write, emit, "
	    "wait, pingpong, links, info)\n"
	    "   or: dataport_read, dataport_write, dataport_emit, "
	    "dataport_wait, dataport_pingpong, dataport-links\n");
	return 2;
}
