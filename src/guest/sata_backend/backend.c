/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dataport_sata_backend: the driver VM's block server (the seed
 * virtio_guest_driver's program of the same name and usage).
 *
 *   dataport_sata_backend [-v] [-p PREFIX] [-d DIR] N
 *
 * Serves N client VMs: client i (1..N) is the dataport named PREFIXi
 * (default "client": client1, client2, ...), found by name through
 * libdataport, and its disk is the file DIR/file-image-i (default DIR
 * /mnt/data, as in the seed's README: mount the driver's /dev/sda2 on
 * /mnt first).  The protocol over each dataport is src/dpblk/dpblk.h
 * (docs/driver-vm.md): the disk daemon on the host posts the client's
 * requests in a ring, this program does them on the image file and
 * answers in order, with the real capacity of the file, flushes
 * (fdatasync) and errors.
 *
 * Every client is untrusted: what the host side writes into a dataport
 * is copied out and checked (dpb_check_*) before use; a request out of
 * range, of an unknown kind or of a bad length is answered with an error
 * status; a broken ring stops that client only, until the host starts a
 * new generation.  Clients are served round robin with a bounded batch
 * each, so one busy client does not starve another.  Waiting is poll() on
 * every dataport's UIO fd: no busy polling.
 *
 * Logs one line per client at start and errors as they happen; -v logs
 * every request, as the original did.  Exit status 2 for a bad command
 * line, 1 if no client could be served.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dpblk/dpblk.h"
#include "guest/dataport/libdataport/dataport.h"

#define MAX_CLIENTS	DP_MAX_PORTS
#define BATCH		32	/* requests per client per turn */

struct client {
	unsigned idx;			/* 1..N */
	char dpname[DP_MAX_NAME + 1];
	char path[256];
	struct dp_port *dp;
	int fd;				/* the image file */
	bool ro;
	uint64_t capacity;		/* sectors */
	volatile struct dpb_shared *sh;	/* in the dataport */
	void *base;
	uint64_t size;
	struct dpb_layout l;
	uint32_t gen;			/* host generation we follow, 0 none */
	bool broken;			/* until the host's next generation */
	unsigned host;			/* the host peer's ID */
	uint64_t nreq, nerr;
};

static int verbose;
static const char *prog = "dataport_sata_backend";

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint32_t
load32(volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void
store32(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void
ring_host(struct client *c)
{
	if (dp_emit(c->dp, c->host, 0) < 0)
		say("client %u: doorbell: %s", c->idx, strerror(errno));
}

/* A copy of the host's part of the header (read once, then checked). */
static void
copy_header(struct client *c, struct dpb_shared *h)
{
	h->magic = __atomic_load_n(&c->sh->magic, __ATOMIC_ACQUIRE);
	h->version = load32(&c->sh->version);
	h->ring_size = load32(&c->sh->ring_size);
	h->slot_size = load32(&c->sh->slot_size);
	h->host_gen = load32(&c->sh->host_gen);
	h->host_state = load32(&c->sh->host_state);
}

/*
 * Follow the host's current generation if it started a new one: check
 * its layout, restart our ring position, announce the storage.  If a
 * driver program before us (killed, or in an earlier boot of this VM)
 * already followed this generation, carry on from its rsp_prod instead:
 * the host's requests from there on are still waiting for answers, and
 * the one it was doing when it died is done again (idempotent).  Returns
 * true when requests may be served.
 */
static bool
follow_host(struct client *c)
{
	struct dpb_shared h;
	const char *why = NULL;

	copy_header(c, &h);
	if (h.host_state != 1)
		return false;		/* not (or no longer) ready */
	if (h.host_gen == c->gen)
		return !c->broken;
	if (dpb_check_layout(&h, c->size, &c->l, &why) < 0) {
		if (!c->broken)
			say("client %u: host's header refused: %s", c->idx,
			    why);
		c->broken = true;
		c->gen = h.host_gen;
		return false;
	}
	c->gen = h.host_gen;
	c->broken = false;
	if (load32(&c->sh->drv_gen) == h.host_gen &&
	    load32(&c->sh->drv_state) == 1) {
		say("client %u: carrying on in host generation %u from "
		    "answer %u", c->idx, h.host_gen,
		    load32(&c->sh->rsp_prod));
		ring_host(c);
		return true;
	}
	store32(&c->sh->drv_state, 0);
	store32(&c->sh->rsp_prod, 0);
	c->sh->capacity = c->capacity;
	store32(&c->sh->drv_flags, c->ro ? DPB_DRV_RO : 0);
	store32(&c->sh->drv_gen, h.host_gen);
	store32(&c->sh->drv_state, 1);
	if (verbose)
		say("client %u: host generation %u: %u slots of %u bytes",
		    c->idx, h.host_gen, c->l.ring_size, c->l.slot_size);
	ring_host(c);
	return true;
}

static uint32_t
do_request(struct client *c, const struct dpb_req *r, uint8_t *slot,
    uint32_t *done)
{
	const char *why = NULL;
	enum dpb_status st;
	off_t off;
	ssize_t n;

	*done = 0;
	st = dpb_check_req(r, c->capacity, c->l.slot_size, c->ro, &why);
	if (st != DPB_S_OK) {
		c->nerr++;
		say("client %u: request %llu refused: %s", c->idx,
		    (unsigned long long)r->id, why);
		return st;
	}
	off = (off_t)(r->sector * DPB_SECTOR);
	switch (r->op) {
	case DPB_OP_READ:
		n = pread(c->fd, slot, r->len, off);
		break;
	case DPB_OP_WRITE:
		n = pwrite(c->fd, slot, r->len, off);
		break;
	default:
		n = fdatasync(c->fd) == 0 ? 0 : -1;
		break;
	}
	if (verbose)
		say("client %u: %s sector %llu len %u: %zd", c->idx,
		    r->op == DPB_OP_READ ? "read" : r->op == DPB_OP_WRITE ?
		    "write" : "flush", (unsigned long long)r->sector, r->len,
		    n);
	if (n < 0 || (uint32_t)n != r->len) {
		c->nerr++;
		say("client %u: %s at sector %llu: %s", c->idx,
		    r->op == DPB_OP_READ ? "read" : r->op == DPB_OP_WRITE ?
		    "write" : "flush", (unsigned long long)r->sector,
		    n < 0 ? strerror(errno) : "short");
		return DPB_S_IOERR;
	}
	*done = r->len;
	return DPB_S_OK;
}

/* Serve up to BATCH requests; returns true if more are waiting. */
static bool
serve(struct client *c)
{
	uint32_t prod, cons, n, i;
	const char *why = NULL;

	if (!follow_host(c))
		return false;
	prod = load32(&c->sh->req_prod);
	cons = load32(&c->sh->rsp_prod);
	if (dpb_pending(prod, cons, c->l.ring_size, &n, &why) < 0) {
		say("client %u: ring broken: %s; waiting for the host to "
		    "restart it", c->idx, why);
		c->broken = true;
		return false;
	}
	for (i = 0; i < n && i < BATCH; i++) {
		uint32_t k = cons + i, status, done;
		struct dpb_req *rq = dpb_req_at(c->base, &c->l, k), r;
		struct dpb_rsp *rsp = dpb_rsp_at(c->base, &c->l, k);

		/* The host may start a new generation at any time. */
		if (load32(&c->sh->host_gen) != c->gen)
			break;
		memcpy(&r, rq, sizeof(r));	/* copy out, then check */
		status = do_request(c, &r, dpb_slot_at(c->base, &c->l, k),
		    &done);
		rsp->id = r.id;
		rsp->status = status;
		rsp->len = done;
		store32(&c->sh->rsp_prod, k + 1);
		c->nreq++;
	}
	if (i > 0)
		ring_host(c);
	return i < n;
}

static int
client_open(struct client *c, const char *prefix, const char *dir)
{
	char err[256];
	struct stat st;
	unsigned self;

	snprintf(c->dpname, sizeof(c->dpname), "%s%u", prefix, c->idx);
	snprintf(c->path, sizeof(c->path), "%s/file-image-%u", dir, c->idx);
	c->fd = open(c->path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0 && errno == EROFS) {
		c->fd = open(c->path, O_RDONLY | O_CLOEXEC);
		c->ro = true;
	}
	if (c->fd < 0 || fstat(c->fd, &st) < 0) {
		say("client %u: %s: %s", c->idx, c->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		say("client %u: %s: not a file", c->idx, c->path);
		return -1;
	}
	c->capacity = (uint64_t)st.st_size / DPB_SECTOR;
	c->dp = dp_open(c->dpname, err, sizeof(err));
	if (c->dp == NULL) {
		say("client %u: dataport %s: %s", c->idx, c->dpname, err);
		return -1;
	}
	if (dp_entry(c->dp)->npeers != 2) {
		say("client %u: dataport %s has %u peers, not 2 (the disk "
		    "daemon and this VM)", c->idx, c->dpname,
		    dp_entry(c->dp)->npeers);
		return -1;
	}
	self = dp_self(c->dp);
	c->host = 1 - self;
	c->base = dp_mem(c->dp);
	c->size = dp_size(c->dp);
	c->sh = c->base;
	__atomic_add_fetch(&c->sh->drv_starts, 1, __ATOMIC_RELEASE);
	say("client %u: dataport %s (peer %s), %s, %llu sectors%s", c->idx,
	    c->dpname, dp_entry(c->dp)->peers[c->host], c->path,
	    (unsigned long long)c->capacity, c->ro ? ", read-only" : "");
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-v] [-p PREFIX] [-d DIR] N\n"
	    "  serves clients 1..N: dataport PREFIXi (default client1...) "
	    "from DIR/file-image-i\n  (default DIR /mnt/data)\n", prog);
}

int
main(int argc, char **argv)
{
	static struct client clients[MAX_CLIENTS];
	struct pollfd pfd[MAX_CLIENTS];
	struct client *live[MAX_CLIENTS];
	const char *prefix = "client", *dir = "/mnt/data";
	unsigned n = 0, nlive = 0;
	char *end;
	long v;
	int opt;

	while ((opt = getopt(argc, argv, "vp:d:h")) != -1) {
		switch (opt) {
		case 'v':
			verbose = 1;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	errno = 0;
	v = strtol(argv[optind], &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > MAX_CLIENTS) {
		say("N must be 1 to %d, not '%s'", MAX_CLIENTS, argv[optind]);
		return 2;
	}
	n = (unsigned)v;
	for (unsigned i = 0; i < n; i++) {
		clients[i].idx = i + 1;
		clients[i].fd = -1;
		if (client_open(&clients[i], prefix, dir) == 0)
			live[nlive++] = &clients[i];
	}
	if (nlive == 0) {
		say("no client can be served");
		return 1;
	}
	/* Tell every host we are here, then serve. */
	for (unsigned i = 0; i < nlive; i++) {
		ring_host(live[i]);
		pfd[i].fd = dp_fd(live[i]->dp);
		pfd[i].events = POLLIN;
	}
	for (;;) {
		bool more = false;

		for (unsigned i = 0; i < nlive; i++) {
			/* Take the events first: a doorbell after this wakes us. */
			if (dp_wait(live[i]->dp, 0) < 0) {
				say("client %u: wait: %s", live[i]->idx,
				    strerror(errno));
				return 1;
			}
			more |= serve(live[i]);
		}
		if (more)
			continue;	/* someone has more: another round */
		if (poll(pfd, nlive, -1) < 0 && errno != EINTR) {
			say("poll: %s", strerror(errno));
			return 1;
		}
	}
}
