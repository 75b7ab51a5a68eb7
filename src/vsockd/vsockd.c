/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-vsockd: vsock between the VMs of one system.  Each VM has a
 * vhost-user-vsock device (QEMU's vhost-user-vsock-pci) whose back-end is
 * this daemon, one socket per VM; the guest's CID is the daemon's to
 * give (config space, VIRTIO_VSOCK guest_cid).  The daemon relays packets
 * between the devices by destination CID under a static policy
 * (vs_table.h) and never terminates a connection: the guest kernels do
 * the connection and credit logic.  Data path: vs_relay.c.
 *
 *   isles-vsockd [--name NAME] --vm VM:CID=fd:N|PATH ...
 *                [--allow CLIENT:SERVER:PORT ...] [--stats fd:N|PATH]
 *                [--hold SIZE] [--stall-timeout SECONDS] [-v|-q]
 *   isles-vsockd --print-capabilities
 *
 * Started by the supervisor, one per system (never daemonizes, exits on
 * SIGTERM), with every socket bound by the supervisor and passed as an
 * inherited fd; paths are for running it by hand (bound before the
 * lock-down and left at their paths on exit: no unlink after it).  It
 * closes every fd its command line does not name.  Trusts its argv,
 * nothing else: vhost-user messages, rings and packet headers of every
 * VM are checked before use; a VM that breaks the rules gets its own
 * queue stopped (error state), a VM that does not read holds up its
 * peers for at most the stall timeout.  After set-up: no_new_privs and a
 * seccomp allowlist whose refusals fail with EPERM (a front-end that
 * drives the vhost-user library into a refused call loses its own
 * connection, not the relay).  Counters: one JSON snapshot per
 * connection on the stats socket, and in the log on SIGUSR1.
 *
 * Errors: internal helpers return 0 / -1 with errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <seccomp.h>

#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/parse.h"
#include "le.h"
#include "log.h"
#include "monotime.h"
#include "sandbox.h"
#include "vhost/vu.h"
#include "vsockd/vs_relay.h"
#include "vsockd/vs_table.h"

#define STATS_MAX	(1024 * 1024)	/* a full 32-VM mesh is ~350 KiB */
#define STATS_CLIENTS	4		/* snapshots being sent at once */
#define TICK_MS		1000
#define STALL_DEFAULT_S	5
#define STALL_MAX_S	3600

struct vsockd;

/* One VM's device. */
struct vs_dev {
	struct vsockd *d;
	unsigned idx;			/* VM index in the table */
	struct vu_dev dev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct stats_client {
	int fd;				/* -1: free */
	char *buf;
	size_t len, sent;
};

struct vsockd {
	const char *name;
	struct ev_loop loop;
	struct vs_table t;
	struct vs_relay r;
	struct vs_dev *devs[VS_MAX_VMS];
	int timer_fd;
	bool timer_armed;
	int stats_fd;
	const char *stats_path;	/* NULL: inherited or none */
	struct stats_client sc[STATS_CLIENTS];
	char *stats_buf;
};

static struct vsockd vd;

/* ---- the relay's view of the devices (struct vs_ops) ---- */

static struct vq *
ops_queue(void *ctx, unsigned vm, unsigned qi)
{
	struct vsockd *d = ctx;
	struct vs_dev *v = d->devs[vm];

	if (v == NULL || !vu_queue_ready(&v->dev, qi))
		return NULL;
	return &v->dev.q[qi].vq;
}

static void
ops_notify(void *ctx, unsigned vm, unsigned qi)
{
	struct vsockd *d = ctx;

	if (d->devs[vm] != NULL)
		vu_queue_notify(&d->devs[vm]->dev, qi);
}

static void
ops_broken(void *ctx, unsigned vm, unsigned qi, const char *why)
{
	struct vsockd *d = ctx;

	if (d->devs[vm] != NULL)
		vu_queue_break(&d->devs[vm]->dev, qi, why);
}

static bool
ops_seqpacket(void *ctx, unsigned vm)
{
	struct vsockd *d = ctx;

	return d->devs[vm] != NULL &&
	    vu_has_feature(&d->devs[vm]->dev, VS_F_SEQPACKET);
}

static const struct vs_ops relay_ops = {
	.queue = ops_queue,
	.notify = ops_notify,
	.broken = ops_broken,
	.seqpacket = ops_seqpacket,
};

/* After relay work: interrupts, and the stall timer while blocked. */
static void
relay_done(struct vsockd *d)
{
	vs_relay_flush(&d->r);
	if (!d->timer_armed && vs_relay_blocked(&d->r)) {
		if (ev_timer_arm(d->timer_fd, TICK_MS) < 0)
			log_warn("stall timer");
		else
			d->timer_armed = true;
	}
}

static void
timer_cb(void *arg, int fd, uint32_t events)
{
	struct vsockd *d = arg;

	ev_drain(fd);
	d->timer_armed = false;
	d->r.now_ms = mono_ms();
	vs_relay_tick(&d->r);
	relay_done(d);
}

/* ---- the vhost-user-vsock device (struct vu_iface) ---- */

static int
vsock_get_config(struct vu_dev *dev, uint8_t *buf, uint32_t off,
    uint32_t len)
{
	struct vs_dev *v = dev->priv;
	uint8_t cfg[8];		/* struct virtio_vsock_config: le64 guest_cid */

	le_put64(cfg, v->d->t.vms[v->idx].cid);
	/* vu.c zeroed buf; bytes past the 8 of the config stay 0. */
	for (uint32_t i = 0; i < len && off + i < sizeof(cfg); i++)
		buf[i] = cfg[off + i];
	return 0;
}

static int
vsock_set_config(struct vu_dev *dev, const uint8_t *buf, uint32_t off,
    uint32_t len)
{
	/* The guest's CID is ours to give: config space is read-only. */
	return -1;
}

static void
vsock_queue_kick(struct vu_dev *dev, unsigned qi)
{
	struct vs_dev *v = dev->priv;
	struct vsockd *d = v->d;

	d->r.now_ms = mono_ms();
	if (qi == VS_TXQ)
		vs_relay_tx(&d->r, v->idx, VS_TX_BUDGET);
	else if (qi == VS_RXQ)
		vs_relay_rx(&d->r, v->idx);
	/* The event queue (QEMU keeps it) has nothing for us. */
	relay_done(d);
}

static void
vsock_reset(struct vu_dev *dev)
{
	struct vs_dev *v = dev->priv;
	struct vsockd *d = v->d;

	log_info("vm %s: device reset", d->t.vms[v->idx].name);
	d->r.now_ms = mono_ms();
	vs_relay_down(&d->r, v->idx);
	relay_done(d);
}

static const struct vu_iface vsock_iface = {
	.get_config = vsock_get_config,
	.set_config = vsock_set_config,
	.queue_kick = vsock_queue_kick,
	.reset = vsock_reset,
};

/* ---- stats ---- */

static void
refresh_states(struct vsockd *d)
{
	for (unsigned i = 0; i < d->t.nvms; i++) {
		struct vu_dev *dev = &d->devs[i]->dev;
		struct vs_vm *vm = &d->t.vms[i];

		if (dev->q[VS_RXQ].vq.broken || dev->q[VS_TXQ].vq.broken ||
		    dev->broken)
			vm->state = VS_VM_ERROR;
		else if (dev->conn_fd >= 0 && vu_queue_ready(dev, VS_RXQ) &&
		    vu_queue_ready(dev, VS_TXQ))
			vm->state = VS_VM_UP;
		else
			vm->state = VS_VM_DOWN;
	}
}

static int
render_stats(struct vsockd *d)
{
	int n;

	refresh_states(d);
	n = vs_stats_json(&d->t, d->name, d->stats_buf, STATS_MAX - 1);
	if (n < 0)
		return -1;
	d->stats_buf[n++] = '\n';
	return n;
}

static void
stats_client_close(struct vsockd *d, struct stats_client *c)
{
	ev_unwatch(&d->loop, c->fd);
	close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* Send what the socket takes; the reader may be slow, never waited for. */
static void
stats_client_cb(void *arg, int fd, uint32_t events)
{
	struct stats_client *c = arg;
	ssize_t n;

	n = send(fd, c->buf + c->sent, c->len - c->sent,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		c->sent += (size_t)n;
	if (c->sent == c->len || (n < 0 && errno != EAGAIN && errno != EINTR))
		stats_client_close(&vd, c);
}

static void
stats_cb(void *arg, int fd, uint32_t events)
{
	struct vsockd *d = arg;
	struct stats_client *c = NULL;
	int s, n;

	s = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return;
	for (unsigned i = 0; i < STATS_CLIENTS && c == NULL; i++)
		if (d->sc[i].fd < 0)
			c = &d->sc[i];
	if (c == NULL || (n = render_stats(d)) <= 0 ||
	    (c->buf = malloc((size_t)n)) == NULL) {
		if (c == NULL)
			log_debug("stats: too many readers at once");
		close(s);
		return;
	}
	memcpy(c->buf, d->stats_buf, (size_t)n);
	c->len = (size_t)n;
	c->sent = 0;
	c->fd = s;
	if (ev_watch(&d->loop, s, EPOLLOUT, stats_client_cb, c) < 0) {
		close(s);
		free(c->buf);
		c->buf = NULL;
		c->fd = -1;
	}
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct vsockd *d = arg;
	struct signalfd_siginfo si;
	int n;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		if ((n = render_stats(d)) > 0)
			log_info("stats: %.*s", n - 1, d->stats_buf);
		return;
	}
	log_info("signal %u: exiting", si.ssi_signo);
	ev_loop_quit(&d->loop);
}

/* ---- set-up ---- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: isles-vsockd [--name NAME] --vm VM:CID=fd:N|PATH ...\n"
"                    [--allow CLIENT:SERVER:PORT ...] [--stats fd:N|PATH]\n"
"                    [--hold SIZE] [--stall-timeout SECONDS] [--no-seccomp]\n"
"                    [-v|-q]\n"
"       isles-vsockd --print-capabilities\n"
"  --vm VM:CID=SOCK      VM's vhost-user-vsock device, guest CID CID (3 to\n"
"                        4294967294), on an inherited socket fd:N (listening\n"
"                        or connected) or listening at PATH (at most %d)\n"
"  --allow C:S:PORT      VM C may connect to port PORT of VM S\n"
"  --stats SOCK          counters, one JSON line per connection\n"
"  --hold SIZE           bytes held per VM pair while the receiver has no\n"
"                        buffers (default 256K, at least 129K)\n"
"  --stall-timeout SECS  a VM that blocks a sender this long is treated as\n"
"                        stuck: held packets dropped, RSTs (default %d, 0:\n"
"                        never)\n"
"See docs/links.md.\n", VS_MAX_VMS, STALL_DEFAULT_S);
}

struct vm_arg {
	char name[VS_NAME_MAX];
	uint64_t cid;
	const char *path;	/* NULL: fd */
	int fd;
};

/* "fd:N" -> N (an open fd >= 3), or -1. */
static int
fd_arg(const char *s)
{
	if (strncmp(s, "fd:", 3) != 0)
		return -1;
	return host_parse_fd(s + 3);
}

/* VM:CID=SOCK.  0 / -1 (message printed). */
static int
parse_vm(const char *s, struct vm_arg *va)
{
	const char *colon = strchr(s, ':'), *eq;
	char num[24];
	size_t nl;

	if (colon == NULL || (eq = strchr(colon, '=')) == NULL ||
	    eq[1] == '\0') {
		fprintf(stderr, "isles-vsockd: --vm %s: not VM:CID=SOCKET\n", s);
		return -1;
	}
	nl = (size_t)(colon - s);
	if (!vs_name_ok(s, nl)) {
		fprintf(stderr, "isles-vsockd: --vm %s: bad VM name (1 to 31 of "
		    "a-z 0-9 _ -, starting with a letter or digit)\n", s);
		return -1;
	}
	memcpy(va->name, s, nl);
	va->name[nl] = '\0';
	if ((size_t)(eq - colon - 1) >= sizeof(num)) {
		fprintf(stderr, "isles-vsockd: --vm %s: bad CID\n", s);
		return -1;
	}
	memcpy(num, colon + 1, (size_t)(eq - colon - 1));
	num[eq - colon - 1] = '\0';
	if (host_parse_u64(num, VS_CID_MIN, VS_CID_MAX, &va->cid) < 0) {
		fprintf(stderr, "isles-vsockd: --vm %s: CID must be %u to "
		    "%llu\n", s, VS_CID_MIN, (unsigned long long)VS_CID_MAX);
		return -1;
	}
	va->path = NULL;
	va->fd = -1;
	if (strncmp(eq + 1, "fd:", 3) == 0) {
		if ((va->fd = fd_arg(eq + 1)) < 0) {
			fprintf(stderr, "isles-vsockd: --vm %s: not an open "
			    "fd\n", s);
			return -1;
		}
	} else {
		va->path = eq + 1;
	}
	return 0;
}

/* CLIENT:SERVER:PORT into the (filled) table.  0 / -1 (printed). */
static int
parse_allow(struct vs_table *t, const char *s)
{
	char buf[2 * VS_NAME_MAX + 16], *c2, *c3;
	int client, server;
	unsigned port;

	if (strlen(s) >= sizeof(buf) ||
	    (c2 = strchr(memcpy(buf, s, strlen(s) + 1), ':')) == NULL ||
	    (c3 = strchr(c2 + 1, ':')) == NULL) {
		fprintf(stderr, "isles-vsockd: --allow %s: not "
		    "CLIENT:SERVER:PORT\n", s);
		return -1;
	}
	*c2++ = '\0';
	*c3++ = '\0';
	if ((client = vs_table_find(t, buf)) < 0 ||
	    (server = vs_table_find(t, c2)) < 0) {
		fprintf(stderr, "isles-vsockd: --allow %s: no --vm %s\n", s,
		    client < 0 ? buf : c2);
		return -1;
	}
	if (host_parse_uint(c3, 0, UINT32_MAX - 1, &port) < 0) {
		fprintf(stderr, "isles-vsockd: --allow %s: port must be 0 to "
		    "%u\n", s, UINT32_MAX - 1);
		return -1;
	}
	if (vs_table_add_rule(t, (unsigned)client, (unsigned)server,
	    port) < 0) {
		fprintf(stderr, "isles-vsockd: --allow %s: %s\n", s,
		    errno == EEXIST ? "given twice" :
		    errno == EINVAL ? "a VM cannot be its own server" :
		    errno == ENOSPC ? "too many rules" : strerror(errno));
		return -1;
	}
	return 0;
}

/* A vhost-user device for VM idx on its socket. */
static int
dev_open(struct vsockd *d, unsigned idx, const struct vm_arg *va)
{
	struct vu_loop vl = {
		.watch = ev_vu_watch,
		.unwatch = ev_vu_unwatch,
		.loop = &d->loop,
	};
	struct vs_dev *v;
	int lfd = -1, cfd = -1, acc = 0;
	socklen_t sl = sizeof(acc);

	if ((v = calloc(1, sizeof(*v))) == NULL)
		fatal("calloc");
	v->d = d;
	v->idx = idx;
	d->devs[idx] = v;
	if (va->path != NULL) {
		if ((lfd = host_listen(va->path, 0600)) < 0) {
			log_warn("vm %s: listen on %s", va->name, va->path);
			return -1;
		}
		snprintf(v->path, sizeof(v->path), "%s", va->path);
	} else {
		if (getsockopt(va->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
		    &sl) < 0) {
			log_warn("vm %s: fd %d", va->name, va->fd);
			return -1;
		}
		if (fcntl(va->fd, F_SETFD, FD_CLOEXEC) < 0 ||
		    fcntl(va->fd, F_SETFL, fcntl(va->fd, F_GETFL) |
		    O_NONBLOCK) < 0) {
			log_warn("vm %s: fd %d", va->name, va->fd);
			return -1;
		}
		if (acc)
			lfd = va->fd;
		else
			cfd = va->fd;
	}
	if (vu_dev_init(&v->dev, d->t.vms[idx].name, lfd, cfd, VS_NQUEUES,
	    1ull << VS_F_SEQPACKET, &vsock_iface, &vl, v) < 0) {
		log_warn("vm %s: vhost-user device", va->name);
		return -1;
	}
	/*
	 * Nothing to resubmit: the relay completes every chain it pops
	 * before returning (held packets are copies).  CONFIG stays: QEMU's
	 * vhost-user-vsock reads the guest CID through GET_CONFIG and
	 * refuses a back-end without it.
	 */
	v->dev.protocol_features &= ~(1ull << VU_PF_INFLIGHT_SHMFD);
	return 0;
}

/*
 * After every socket is open: no_new_privs and the calls the event
 * loop, the vhost-user library and the relay use.  Refused calls fail
 * with EPERM (see the top).  Not in sanitizer builds.
 */
static int
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(read), "eventfds, signalfd, timerfd" },
		{ SCMP_SYS(write), "call eventfds, log lines" },
		{ SCMP_SYS(recvfrom), "vhost-user message bodies" },
		{ SCMP_SYS(recvmsg), "vhost-user messages with fds" },
		{ SCMP_SYS(sendmsg), "vhost-user replies" },
		{ SCMP_SYS(sendto), "stats answers" },
		{ SCMP_SYS(accept4), "front-ends, stats readers" },
		{ SCMP_SYS(fcntl), "non-blocking kick fds" },
		{ SCMP_SYS(fstat), "memory region size vs its file" },
		{ SCMP_SYS(newfstatat), "fstat as glibc issues it" },
		{ SCMP_SYS(mmap), "guest memory regions, malloc" },
		{ SCMP_SYS(munmap), "guest memory regions, free" },
		{ SCMP_SYS(mremap), "realloc of large blocks" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(madvise), "free: trimming" },
		{ SCMP_SYS(close), "fds of messages, connections" },
		{ SCMP_SYS(epoll_wait), "the event loop" },
		{ SCMP_SYS(epoll_pwait), "the event loop (libc may use it)" },
		{ SCMP_SYS(epoll_ctl), "watch / unwatch" },
		{ SCMP_SYS(timerfd_settime), "the stall timer" },
		{ SCMP_SYS(clock_gettime), "if the vDSO is unavailable" },
		{ SCMP_SYS(getpid), "libc" },
		{ SCMP_SYS(gettid), "libc" },
		{ SCMP_SYS(rt_sigreturn), "signal return (SIGBUS guard)" },
		{ SCMP_SYS(restart_syscall), "signals" },
		{ SCMP_SYS(exit_group), "exit" },
		{ SCMP_SYS(exit), "exit" },
	};
	char err[128];

	if (sandbox_lockdown(SCMP_ACT_ERRNO(EPERM), allow,
	    sizeof(allow) / sizeof(allow[0]), NULL, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_CAPS = 256, OPT_HOLD, OPT_STALL, OPT_NOSECCOMP };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "vm", required_argument, NULL, 'm' },
		{ "allow", required_argument, NULL, 'a' },
		{ "stats", required_argument, NULL, 's' },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "stall-timeout", required_argument, NULL, OPT_STALL },
		{ "no-seccomp", no_argument, NULL, OPT_NOSECCOMP },
		{ "print-capabilities", no_argument, NULL, OPT_CAPS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	static struct vm_arg vargs[VS_MAX_VMS];
	const char *allows[VS_MAX_RULES], *stats = NULL;
	unsigned nvms = 0, nallow = 0, stall_s = STALL_DEFAULT_S;
	uint64_t hold = VS_HOLD_DEFAULT;
	bool seccomp = true;
	int c, verbose = 1, rc = 0, sfd;
	struct vsockd *d = &vd;

	d->name = "vsock";
	d->timer_fd = d->stats_fd = -1;
	for (unsigned i = 0; i < STATS_CLIENTS; i++)
		d->sc[i].fd = -1;
	vs_table_init(&d->t);
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!vs_name_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "isles-vsockd: --name %s: not "
				    "a name\n", optarg);
				return 2;
			}
			d->name = optarg;
			break;
		case 'm':
			if (nvms == VS_MAX_VMS) {
				fprintf(stderr, "isles-vsockd: at most %d "
				    "VMs\n", VS_MAX_VMS);
				return 2;
			}
			if (parse_vm(optarg, &vargs[nvms]) < 0)
				return 2;
			if (vs_table_add_vm(&d->t, vargs[nvms].name,
			    vargs[nvms].cid) < 0) {
				fprintf(stderr, "isles-vsockd: --vm %s: %s\n",
				    optarg, errno == EEXIST ? "VM name or CID "
				    "given twice" : strerror(errno));
				return 2;
			}
			nvms++;
			break;
		case 'a':
			if (nallow == VS_MAX_RULES) {
				fprintf(stderr, "isles-vsockd: at most %d "
				    "rules\n", VS_MAX_RULES);
				return 2;
			}
			allows[nallow++] = optarg;
			break;
		case 's':
			stats = optarg;
			break;
		case OPT_HOLD:
			if (host_parse_size(optarg, &hold) < 0 ||
			    hold < VS_HOLD_MIN || hold > (1ull << 30)) {
				fprintf(stderr, "isles-vsockd: --hold %s: %u "
				    "bytes to 1G\n", optarg, VS_HOLD_MIN);
				return 2;
			}
			break;
		case OPT_STALL:
			if (host_parse_uint(optarg, 0, STALL_MAX_S,
			    &stall_s) < 0) {
				fprintf(stderr, "isles-vsockd: --stall-timeout "
				    "%s: 0 to %d seconds\n", optarg,
				    STALL_MAX_S);
				return 2;
			}
			break;
		case OPT_NOSECCOMP:
			seccomp = false;
			break;
		case OPT_CAPS:
			printf("{\n  \"type\": \"vsock\"\n}\n");
			return 0;
		case 'v':
			verbose = 2;
			break;
		case 'q':
			verbose = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || nvms == 0) {
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < nallow; i++)
		if (parse_allow(&d->t, allows[i]) < 0)
			return 2;
	vs_table_seal(&d->t);

	log_init("isles-vsockd", d->name);
	log_setverbose(verbose);
	signal(SIGPIPE, SIG_IGN);
	{
		/* Only what the command line gives survives. */
		int keep[VS_MAX_VMS + 1];
		size_t nkeep = 0;

		for (unsigned i = 0; i < nvms; i++)
			if (vargs[i].path == NULL)
				keep[nkeep++] = vargs[i].fd;
		if (stats != NULL && strncmp(stats, "fd:", 3) == 0 &&
		    (keep[nkeep++] = fd_arg(stats)) < 0) {
			fprintf(stderr, "isles-vsockd: bad --stats %s\n", stats);
			return 2;
		}
		if (host_close_others(keep, nkeep) < 0) {
			fprintf(stderr, "isles-vsockd: an fd is given twice\n");
			return 2;
		}
	}
	{
		/* About a dozen fds per connected VM. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 &&
		    rl.rlim_max > rl.rlim_cur) {
			rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				log_warn("RLIMIT_NOFILE");
		}
	}
	if (ev_loop_init(&d->loop) < 0)
		fatal("epoll");
	vs_relay_init(&d->r, &d->t, &relay_ops, d, hold,
	    (uint64_t)stall_s * 1000);
	if ((d->stats_buf = malloc(STATS_MAX)) == NULL)
		fatal("malloc");
	if ((sfd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]))) < 0 ||
	    ev_watch(&d->loop, sfd, EPOLLIN, signal_cb, d) < 0)
		fatal("signalfd");
	if ((d->timer_fd = ev_timer_new()) < 0 ||
	    ev_watch(&d->loop, d->timer_fd, EPOLLIN, timer_cb, d) < 0)
		fatal("timerfd");
	for (unsigned i = 0; i < nvms; i++) {
		if (dev_open(d, i, &vargs[i]) < 0) {
			rc = 1;
			goto out;
		}
	}
	if (stats != NULL) {
		if (strncmp(stats, "fd:", 3) == 0) {
			d->stats_fd = fd_arg(stats);
			if (d->stats_fd >= 0 &&
			    fcntl(d->stats_fd, F_SETFL,
			    fcntl(d->stats_fd, F_GETFL) | O_NONBLOCK) < 0)
				d->stats_fd = -1;
		} else if ((d->stats_fd = host_listen(stats, 0600)) >= 0) {
			d->stats_path = stats;
		}
		if (d->stats_fd < 0 ||
		    ev_watch(&d->loop, d->stats_fd, EPOLLIN, stats_cb, d) < 0) {
			log_warn("stats socket %s", stats);
			rc = 1;
			goto out;
		}
	}
	log_info("%u VM%s, %u rule%s, hold %llu bytes per pair, stall "
	    "timeout %u s: serving", nvms, nvms == 1 ? "" : "s", d->t.nrules,
	    d->t.nrules == 1 ? "" : "s", (unsigned long long)hold, stall_s);
	if (seccomp && lockdown() < 0) {
		rc = 1;
		goto out;
	}
	while (!d->loop.quit) {
		for (unsigned i = 0; i < nvms; i++)
			if (d->r.want_tx[i])
				ev_defer(&d->loop);
		if (ev_loop_once(&d->loop, -1) < 0)
			fatal("epoll_wait");
		/* Transmit queues whose budget ran out, or unblocked. */
		for (unsigned i = 0; i < nvms; i++) {
			if (!d->r.want_tx[i])
				continue;
			d->r.now_ms = mono_ms();
			vs_relay_tx(&d->r, i, VS_TX_BUDGET);
			relay_done(d);
		}
	}

out:
	for (unsigned i = 0; i < VS_MAX_VMS; i++) {
		struct vs_dev *v = d->devs[i];

		if (v == NULL)
			continue;
		if (v->dev.iface != NULL)
			vu_dev_close(&v->dev);
		free(v);
	}
	for (unsigned i = 0; i < STATS_CLIENTS; i++)
		if (d->sc[i].fd >= 0)
			stats_client_close(d, &d->sc[i]);
	if (d->stats_fd >= 0)
		close(d->stats_fd);
	vs_relay_close(&d->r);
	free(d->stats_buf);
	ev_loop_close(&d->loop);
	return rc;
}
