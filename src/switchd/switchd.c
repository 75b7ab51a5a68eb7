/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-switchd: one virtual L2 switch.  Each port is a vhost-user-net
 * back-end (src/vhost) that one VM NIC's QEMU connects to; optionally one
 * more port is a host TAP device (the uplink).  One thread, one event
 * loop (the host layer's struct ev_loop, src/host/evloop.h): a guest's
 * transmit kick makes the switch pop frames from that port's transmit
 * queue, decide where each goes (sw_fwd.c) and copy it into the receivers'
 * receive queues (sw_net.c).  Idle, it blocks in epoll_wait.
 *
 * Started by the supervisor from the system file (docs/switch.md gives
 * the command line); trusts its argv, nothing else: vhost-user messages,
 * rings and frames from every port, and frames from the TAP, are checked
 * before use.  A port whose front-end breaks the rules goes into an error
 * state (its queues stop until the front-end resets them); the other
 * ports keep forwarding.  Counters are served as JSON on a stats socket
 * (one connection = one snapshot) and logged on SIGUSR1.
 *
 * Conventions of vhost-user back-end programs (QEMU vhost-user.rst):
 * --print-capabilities, --socket-path / --fd (one-port form), no
 * daemonizing, SIGTERM exits.
 *
 * Under the supervisor every socket and the TAP come as inherited fds
 * (fd:N), opened by the supervisor from the system file; by hand, paths
 * and a TAP name are opened here, before the lock-down.  Either way the
 * daemon closes every fd it was not given, and after set-up opens,
 * binds, connects and unlinks nothing (lockdown()); a socket it bound by
 * hand stays at its path on exit (host_listen replaces it next time).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <seccomp.h>

#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/log.h"
#include "host/parse.h"
#include "host/sandbox.h"
#include "switchd/sw_fwd.h"
#include "switchd/sw_net.h"
#include "switchd/sw_tap.h"
#include "vhost/vu.h"

#define RXQ		0	/* virtio-net receiveq: we write */
#define TXQ		1	/* virtio-net transmitq: we read */
#define TX_BUDGET	256	/* frames per port before others get a turn */
#define TX_BURST	64	/* frames per used->idx store and notification */
#define TAP_BUDGET	64
#define STATS_MAX	(256 * 1024)	/* ~450 bytes per port */
#define NOFILE_WANT	4096	/* about six fds per connected port */

struct sw_switch;

struct sw_port {
	struct sw_switch *sw;
	unsigned idx;			/* index in the forwarding table */
	struct vu_dev dev;
	bool pending;			/* transmit budget ran out */
	struct vq_chain txc;		/* the frame at hand */
	uint16_t tx_heads[TX_BURST];	/* transmit chains done, not pushed */
	uint32_t tx_lens[TX_BURST];
	struct sw_rx_scratch rx;
};

struct sw_switch {
	const char *name;
	struct ev_loop loop;
	struct sw_table t;
	struct sw_port *ports[SW_MAX_PORTS];	/* NULL for the uplink */
	const char *tap_name;
	int tap_arg_fd;			/* --uplink NAME=fd:N, else -1 */
	int tap_fd;
	uint8_t *tap_buf;
	struct sw_frame frame;
	/* Ports whose receive queue got frames in this batch. */
	uint64_t touched[(SW_MAX_PORTS + 63) / 64];
	int stats_fd;
	const char *stats_path;		/* by hand; NULL: fd or none */
	int sig_fd;
	char *stats_buf;
};

static void
port_break(struct sw_port *p, const char *why)
{
	vu_queue_break(&p->dev, RXQ, why);
	vu_queue_break(&p->dev, TXQ, why);
}

/*
 * Publish the frames staged for every receiver of this burst (one
 * used->idx store each) and interrupt those that want it.
 */
static void
flush_notify(struct sw_switch *sw)
{
	for (unsigned w = 0; w < sizeof(sw->touched) / 8; w++) {
		while (sw->touched[w] != 0) {
			unsigned i = w * 64 +
			    (unsigned)__builtin_ctzll(sw->touched[w]);
			struct sw_port *p = sw->ports[i];

			sw->touched[w] &= sw->touched[w] - 1;
			if (p == NULL)
				continue;
			sw_rx_publish(&p->dev.q[RXQ].vq, &p->rx);
			vu_queue_notify(&p->dev, RXQ);
		}
	}
}

static void
deliver(struct sw_switch *sw, unsigned dst, const struct sw_frame *f)
{
	enum sw_drop why;

	if (sw->t.ports[dst].uplink) {
		why = sw->tap_fd >= 0 ? sw_tap_send(sw->tap_fd, f) :
		    SW_DROP_DOWN;
	} else {
		struct sw_port *p = sw->ports[dst];

		if (!vu_queue_ready(&p->dev, RXQ)) {
			why = SW_DROP_DOWN;
		} else {
			why = sw_rx_stage(&p->dev.q[RXQ].vq,
			    p->dev.acked_features, f, &p->rx);
			if (p->dev.q[RXQ].vq.broken)
				port_break(p, "malformed receive ring");
			else if (why == SW_DROP_NONE)
				sw->touched[dst / 64] |= 1ull << (dst % 64);
		}
	}
	if (why == SW_DROP_NONE) {
		sw_count_tx(&sw->t, dst, f->len);
		if (f->hdr.gso_type != 0)
			sw->t.ports[dst].c.tx_gso_packets++;
	} else {
		sw_count_drop(&sw->t, dst, why);
	}
}

/* One frame from port `in`, its readable segments in guest memory. */
static void
forward(struct sw_switch *sw, unsigned in, const struct iovec *iov,
    unsigned niov, uint64_t features)
{
	struct sw_frame *f = &sw->frame;
	struct sw_verdict v;
	enum sw_drop why;

	why = sw_frame_parse(f, iov, niov, sw_vnet_hdr_len(features),
	    features);
	if (why != SW_DROP_NONE) {
		sw_count_drop(&sw->t, in, why);
		return;
	}
	sw_count_rx(&sw->t, in, f->len);
	if (f->hdr.gso_type != 0)
		sw->t.ports[in].c.rx_gso_packets++;
	v = sw_fwd_decide(&sw->t, in, f->head);
	switch (v.action) {
	case SW_ACT_DROP:
		sw_count_drop(&sw->t, in, v.why);
		break;
	case SW_ACT_UNICAST:
		deliver(sw, v.port, f);
		break;
	case SW_ACT_FLOOD:
		for (unsigned i = 0; i < sw->t.nports; i++)
			if (i != in)
				deliver(sw, i, f);
		break;
	}
}

/*
 * The end of a burst: the transmit chains go back to the sender with one
 * used->idx store (their frames are already copied out), the receivers
 * see their frames, and each side is interrupted at most once, if it
 * asked to be (EVENT_IDX or the NO_INTERRUPT flag).
 */
static void
tx_burst_end(struct sw_port *p, unsigned *ndone)
{
	struct vq *q = &p->dev.q[TXQ].vq;

	if (*ndone > 0 && !q->broken) {
		vq_push_n(q, p->tx_heads, p->tx_lens, *ndone);
		vu_queue_notify(&p->dev, TXQ);
	}
	*ndone = 0;
	flush_notify(p->sw);
}

/*
 * Drain port p's transmit queue: bursts of up to TX_BURST frames, each
 * parsed, looked up and copied straight into the receivers' buffers; no
 * system call per frame.  Kicks are turned off while we drain (a kick
 * costs the sender a system call and us a wake-up) and back on when the
 * queue is empty.  The sender wrote the rings and frames on another CPU:
 * vq_prefetch() keeps the next frames' descriptors and first bytes on
 * their way into the cache while this one is forwarded.
 */
static void
port_tx(struct sw_port *p)
{
	struct sw_switch *sw = p->sw;
	struct vq *q = &p->dev.q[TXQ].vq;
	struct vq_chain *c = &p->txc;
	unsigned n = 0, ndone = 0;
	int r;

	p->pending = false;
	if (!vu_queue_ready(&p->dev, TXQ))
		return;
	vq_kicks_off(q);
	for (;;) {
		if ((r = vq_pop(q, c)) < 0) {
			sw_count_drop(&sw->t, p->idx, SW_DROP_MALFORMED);
			port_break(p, "malformed transmit ring");
			break;
		}
		if (r == 0) {
			/* Publish before re-arming: the sender may be waiting
			 * for its buffers to come back. */
			tx_burst_end(p, &ndone);
			if (vq_rearm(q))
				continue;
			break;
		}
		vq_prefetch(q, SW_PF_DESC, SW_PF_BUF, false);
		/* A transmit chain has nothing for us to write. */
		if (c->nin != 0)
			sw_count_drop(&sw->t, p->idx, SW_DROP_MALFORMED);
		else
			forward(sw, p->idx, c->iov, c->nout,
			    p->dev.acked_features);
		p->tx_heads[ndone] = c->head;
		p->tx_lens[ndone] = 0;
		if (++ndone == TX_BURST)
			tx_burst_end(p, &ndone);
		/* The port went into error while we forwarded (its own
		 * receive ring). */
		if (q->broken)
			break;
		if (++n == TX_BUDGET) {
			p->pending = true;
			ev_defer(&sw->loop);
			break;
		}
	}
	tx_burst_end(p, &ndone);
}

static void
net_queue_kick(struct vu_dev *d, unsigned qi)
{
	/* Receive-queue kicks (new buffers) need nothing: we drop when a
	 * receiver has none, so there is nothing waiting for them. */
	if (qi == TXQ)
		port_tx(d->priv);
}

static int
net_get_config(struct vu_dev *d, uint8_t *buf, uint32_t off, uint32_t len)
{
	/* QEMU keeps virtio-net config space (MAC, status) itself. */
	return 0;
}

static void
net_reset(struct vu_dev *d)
{
	struct sw_port *p = d->priv;

	p->pending = false;
	log_info("port %s: reset", p->sw->t.ports[p->idx].name);
}

static const struct vu_iface net_iface = {
	.get_config = net_get_config,
	.queue_kick = net_queue_kick,
	.reset = net_reset,
};

static void
tap_cb(void *arg, int fd, uint32_t events)
{
	struct sw_switch *sw = arg;
	struct iovec iov;
	ssize_t n;

	for (int i = 0; i < TAP_BUDGET; i++) {
		n = read(fd, sw->tap_buf, SW_VNET_HDR_LEN + SW_MAX_FRAME);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("uplink %s: read", sw->tap_name);
			break;
		}
		iov.iov_base = sw->tap_buf;
		iov.iov_len = (size_t)n;
		forward(sw, (unsigned)sw->t.uplink, &iov, 1, sw_tap_features());
	}
	flush_notify(sw);
}

static void
refresh_states(struct sw_switch *sw)
{
	for (unsigned i = 0; i < sw->t.nports; i++) {
		struct sw_port_entry *e = &sw->t.ports[i];
		struct sw_port *p = sw->ports[i];

		if (e->uplink)
			e->state = sw->tap_fd >= 0 ? SW_PORT_UP : SW_PORT_DOWN;
		else if (p->dev.q[RXQ].vq.broken || p->dev.q[TXQ].vq.broken)
			e->state = SW_PORT_ERROR;
		else if (p->dev.conn_fd >= 0 && vu_queue_ready(&p->dev, RXQ) &&
		    vu_queue_ready(&p->dev, TXQ))
			e->state = SW_PORT_UP;
		else
			e->state = SW_PORT_DOWN;
	}
}

static int
render_stats(struct sw_switch *sw)
{
	int n;

	refresh_states(sw);
	n = sw_stats_json(&sw->t, sw->name, sw->stats_buf, STATS_MAX - 1);
	if (n < 0)
		return -1;
	sw->stats_buf[n++] = '\n';
	return n;
}

static void
stats_cb(void *arg, int fd, uint32_t events)
{
	struct sw_switch *sw = arg;
	int c, n;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* One snapshot per connection; a reader that does not keep up with
	 * a few KiB in the socket buffer gets a short answer, not a stall. */
	if ((n = render_stats(sw)) > 0 &&
	    send(c, sw->stats_buf, (size_t)n, MSG_NOSIGNAL) < 0)
		log_debug("stats: send: %s", strerror(errno));
	close(c);
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct sw_switch *sw = arg;
	struct signalfd_siginfo si;
	int n;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		if ((n = render_stats(sw)) > 0)
			log_info("stats: %.*s", n - 1, sw->stats_buf);
		return;
	}
	log_info("signal %u: exiting", si.ssi_signo);
	ev_loop_quit(&sw->loop);
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: isles-switchd [-v] [--name SWITCH] --port NAME:MAC=PATH|fd:N ...\n"
	    "                     [--uplink TAP[=fd:N]] [--stats PATH|fd:N]\n"
	    "       isles-switchd [-v] --socket-path PATH | --fd N [--mac MAC]\n"
	    "       isles-switchd --print-capabilities\n"
	    "  --port NAME:MAC=PATH   a vhost-user-net port listening at PATH for\n"
	    "                         the NIC with MAC (repeat per port, at most %d)\n"
	    "  --port NAME:MAC=fd:N   the same on an inherited socket (listening or\n"
	    "                         connected)\n"
	    "  --uplink TAP           host TAP device for frames to unknown MACs\n"
	    "  --uplink TAP=fd:N      the same, opened already (by the supervisor)\n"
	    "  --stats PATH|fd:N      unix socket (to bind, or inherited, listening):\n"
	    "                         each connection reads the counters as one\n"
	    "                         line of JSON\n"
	    "  --socket-path, --fd    one-port form (vhost-user program conventions)\n"
	    "  -v                     more logging (twice: debug)\n"
	    "See docs/switch.md.\n", SW_MAX_PORTS);
}

struct port_arg {
	char name[SW_PORT_NAME_MAX];
	uint8_t mac[SW_ETH_ALEN];
	const char *path;	/* NULL: fd */
	int fd;
};

/* "NAME:MAC=PATH" or "NAME:MAC=fd:N". */
static int
parse_port(const char *s, struct port_arg *pa)
{
	const char *colon = strchr(s, ':'), *rest;
	char mac[SW_MAC_STRLEN];
	size_t nl;

	if (colon == NULL || (nl = (size_t)(colon - s)) == 0 ||
	    nl >= SW_PORT_NAME_MAX)
		return -1;
	memcpy(pa->name, s, nl);
	pa->name[nl] = '\0';
	rest = colon + 1;
	if (strlen(rest) < SW_MAC_STRLEN || rest[SW_MAC_STRLEN - 1] != '=')
		return -1;
	memcpy(mac, rest, SW_MAC_STRLEN - 1);
	mac[SW_MAC_STRLEN - 1] = '\0';
	if (sw_mac_parse(mac, pa->mac) < 0)
		return -1;
	rest += SW_MAC_STRLEN;
	if (*rest == '\0')
		return -1;
	pa->path = NULL;
	pa->fd = -1;
	if (strncmp(rest, "fd:", 3) == 0) {
		if ((pa->fd = host_parse_fd_arg(rest)) < 0)
			return -1;
	} else {
		pa->path = rest;
	}
	return 0;
}

/*
 * Put every port and the uplink of the command line into the table
 * before anything is opened.  Returns 0, or -1 with the reason printed: a
 * bad command line, exit status 2.
 */
static int
table_fill(struct sw_switch *sw, const struct port_arg *pargs,
    unsigned nports)
{
	for (unsigned i = 0; i < nports; i++) {
		const struct port_arg *pa = &pargs[i];

		if (!sw_mac_valid_station(pa->mac)) {
			fprintf(stderr, "isles-switchd: port %s: not a unicast "
			    "MAC\n", pa->name);
			return -1;
		}
		if (sw_table_add_port(&sw->t, pa->name, pa->mac) < 0) {
			fprintf(stderr, "isles-switchd: port %s: %s\n",
			    pa->name, errno == EEXIST ? "name or MAC given twice" :
			    errno == EINVAL ? "bad name ([A-Za-z0-9_.-])" :
			    strerror(errno));
			return -1;
		}
	}
	if (sw->tap_name != NULL) {
		if (*sw->tap_name == '\0' || strlen(sw->tap_name) >= IFNAMSIZ) {
			fprintf(stderr, "isles-switchd: --uplink \"%s\": not an "
			    "interface name (1 to %d bytes)\n", sw->tap_name,
			    IFNAMSIZ - 1);
			return -1;
		}
		if (sw_table_add_uplink(&sw->t, "uplink") < 0) {
			fprintf(stderr, "isles-switchd: --uplink: %s\n",
			    errno == ENOSPC ? "too many ports" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Open port idx of the table, from its command-line argument pa. */
static int
port_open(struct sw_switch *sw, const struct port_arg *pa, int idx)
{
	struct vu_loop vl = { ev_vu_watch, ev_vu_unwatch, &sw->loop };
	struct sw_port *p;
	int lfd = -1, cfd = -1, acc = 0;
	socklen_t sl = sizeof(acc);

	if ((p = calloc(1, sizeof(*p))) == NULL)
		fatal("calloc");
	p->sw = sw;
	p->idx = (unsigned)idx;
	sw->ports[idx] = p;
	if (pa->path != NULL) {
		if ((lfd = host_listen(pa->path, 0600)) < 0) {
			log_warn("port %s: listen on %s", pa->name, pa->path);
			return -1;
		}
	} else {
		if (getsockopt(pa->fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
		    &sl) < 0) {
			log_warn("port %s: fd %d", pa->name, pa->fd);
			return -1;
		}
		if (fcntl(pa->fd, F_SETFD, FD_CLOEXEC) < 0)
			log_warn("port %s: fd %d: cloexec", pa->name, pa->fd);
		if (acc) {
			lfd = pa->fd;
			if (fcntl(lfd, F_SETFL, O_NONBLOCK) < 0)
				log_warn("port %s: nonblock", pa->name);
		} else {
			cfd = pa->fd;
		}
	}
	if (vu_dev_init(&p->dev, sw->t.ports[idx].name, lfd, cfd, 2,
	    sw_net_features(), &net_iface, &vl, p) < 0) {
		log_warn("port %s: vhost-user device", pa->name);
		return -1;
	}
	/* Nothing to resubmit on a NIC: a lost frame is a lost frame.  QEMU
	 * keeps virtio-net config space itself (and warns if offered it). */
	p->dev.protocol_features &= ~((1ull << VU_PF_INFLIGHT_SHMFD) |
	    (1ull << VU_PF_CONFIG));
	return 0;
}

/*
 * After every socket, the TAP and the stats socket are open: no_new_privs,
 * and allow only what the event loop, the vhost-user library and the data
 * path use: no open, socket, bind, connect or unlink.
 * Anything else fails with EPERM rather than killing the process: a
 * front-end that drives the library into a refused call (for instance
 * GET_INFLIGHT_FD, which needs memfd_create) loses its own connection,
 * not every port of the switch.  Not in sanitizer builds (ASan and UBSan
 * make system calls of their own).
 */
static void
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(read), "eventfds, signalfd, TAP frames" },
		{ SCMP_SYS(write), "call eventfds, log lines" },
		{ SCMP_SYS(writev), "frames to the TAP" },
		{ SCMP_SYS(recvfrom), "vhost-user message bodies" },
		{ SCMP_SYS(recvmsg), "vhost-user messages with fds" },
		{ SCMP_SYS(sendmsg), "vhost-user replies" },
		{ SCMP_SYS(sendto), "stats answers" },
		{ SCMP_SYS(accept4), "front-ends, stats readers" },
		{ SCMP_SYS(setsockopt), "timeouts on a new front-end" },
		{ SCMP_SYS(fcntl), "non-blocking kick fds" },
		{ SCMP_SYS(fstat), "memory region size vs its file" },
		{ SCMP_SYS(newfstatat), "fstat as glibc issues it" },
		{ SCMP_SYS(mmap), "guest memory regions, malloc" },
		{ SCMP_SYS(munmap), "guest memory regions, free" },
		{ SCMP_SYS(close), "fds of messages, connections" },
		{ SCMP_SYS(epoll_wait), "the event loop" },
		{ SCMP_SYS(epoll_pwait), "the event loop (libc may use it)" },
		{ SCMP_SYS(epoll_ctl), "watch / unwatch" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(mremap), "realloc of large blocks" },
		{ SCMP_SYS(madvise), "free: trimming" },
		{ SCMP_SYS(clock_gettime), "if the vDSO is unavailable" },
		{ SCMP_SYS(rt_sigreturn), "signal return" },
		{ SCMP_SYS(exit_group), "exit" },
		{ SCMP_SYS(exit), "exit" },
	};
	char err[128];

	if (sandbox_lockdown(SCMP_ACT_ERRNO(EPERM), allow,
	    sizeof(allow) / sizeof(allow[0]), NULL, err, sizeof(err)) < 0)
		fatalx("%s", err);
}

static int
setup_signals(struct sw_switch *sw)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

	signal(SIGPIPE, SIG_IGN);
	sw->sig_fd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
	if (sw->sig_fd < 0)
		return -1;
	return ev_watch(&sw->loop, sw->sig_fd, EPOLLIN, signal_cb, sw);
}

int
main(int argc, char **argv)
{
	enum { OPT_CAPS = 256, OPT_SOCKET, OPT_FD, OPT_MAC };
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "stats", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "print-capabilities", no_argument, NULL, OPT_CAPS },
		{ "socket-path", required_argument, NULL, OPT_SOCKET },
		{ "fd", required_argument, NULL, OPT_FD },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ NULL, 0, NULL, 0 },
	};
	static struct sw_switch sw;
	static struct port_arg pargs[SW_MAX_PORTS];
	unsigned nports = 0;
	const char *single = NULL, *single_mac = "02:00:00:00:aa:01";
	int c, verbose = 1, rc = 0;

	sw.name = "switch";
	sw.tap_fd = sw.tap_arg_fd = sw.stats_fd = sw.sig_fd = -1;
	while ((c = getopt_long(argc, argv, "p:u:n:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (nports == SW_MAX_PORTS) {
				fprintf(stderr, "isles-switchd: at most %d "
				    "ports\n", SW_MAX_PORTS);
				return 2;
			}
			if (parse_port(optarg, &pargs[nports]) < 0) {
				fprintf(stderr, "isles-switchd: bad --port "
				    "\"%s\" (NAME:MAC=PATH or NAME:MAC=fd:N)\n",
				    optarg);
				return 2;
			}
			nports++;
			break;
		case 'u': {
			char *eq = strchr(optarg, '=');

			sw.tap_name = optarg;
			if (eq != NULL) {
				*eq = '\0';
				if ((sw.tap_arg_fd = host_parse_fd_arg(eq + 1)) <
				    0) {
					fprintf(stderr, "isles-switchd: bad "
					    "--uplink (TAP or TAP=fd:N)\n");
					return 2;
				}
			}
			break;
		}
		case 'n':
			sw.name = optarg;
			break;
		case 's':
			if (strncmp(optarg, "fd:", 3) != 0)
				sw.stats_path = optarg;
			else if ((sw.stats_fd = host_parse_fd_arg(optarg)) < 0) {
				fprintf(stderr, "isles-switchd: bad --stats "
				    "%s\n", optarg);
				return 2;
			}
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_CAPS:
			printf("{\n  \"type\": \"net\"\n}\n");
			return 0;
		case OPT_SOCKET:
			single = optarg;
			break;
		case OPT_FD: {
			static char buf[32];

			snprintf(buf, sizeof(buf), "fd:%s", optarg);
			single = buf;
			break;
		}
		case OPT_MAC:
			single_mac = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/* Outlives the block: parse_port leaves pargs[0].path pointing in it. */
	char spec[PATH_MAX + 64];

	if (single != NULL) {
		snprintf(spec, sizeof(spec), "port0:%s=%s", single_mac, single);
		if (nports > 0 || parse_port(spec, &pargs[0]) < 0) {
			fprintf(stderr, "isles-switchd: --socket-path/--fd: "
			    "bad MAC, or mixed with --port\n");
			return 2;
		}
		nports = 1;
	}
	if (nports == 0) {
		usage(stderr);
		return 2;
	}
	sw_table_init(&sw.t);
	if (table_fill(&sw, pargs, nports) < 0)
		return 2;

	log_init("isles-switchd", sw.name);
	log_setverbose(verbose);
	{
		/* Only what the command line gives survives. */
		int keep[SW_MAX_PORTS + 2];
		size_t nkeep = 0;

		for (unsigned i = 0; i < nports; i++)
			if (pargs[i].path == NULL)
				keep[nkeep++] = pargs[i].fd;
		if (sw.tap_arg_fd >= 0)
			keep[nkeep++] = sw.tap_arg_fd;
		if (sw.stats_fd >= 0)
			keep[nkeep++] = sw.stats_fd;
		if (host_close_others(keep, nkeep) < 0) {
			fprintf(stderr, "isles-switchd: an fd is given twice\n");
			return 2;
		}
	}
	{
		/* About six fds per connected port: lift the soft limit. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < NOFILE_WANT) {
			rl.rlim_cur = rl.rlim_max < NOFILE_WANT ?
			    rl.rlim_max : NOFILE_WANT;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				log_warn("RLIMIT_NOFILE");
		}
	}
	if (ev_loop_init(&sw.loop) < 0)
		fatal("epoll");
	if (setup_signals(&sw) < 0)
		fatal("signals");
	if ((sw.stats_buf = malloc(STATS_MAX)) == NULL)
		fatal("malloc");
	for (unsigned i = 0; i < nports; i++)
		if (port_open(&sw, &pargs[i], (int)i) < 0) {
			rc = 1;
			goto out;
		}
	if (sw.tap_name != NULL) {
		if ((sw.tap_buf = malloc(SW_VNET_HDR_LEN + SW_MAX_FRAME)) ==
		    NULL)
			fatal("malloc");
		if (sw.tap_arg_fd >= 0)
			sw.tap_fd = host_fd_nonblock_cloexec(sw.tap_arg_fd) <
			    0 ? -1 : sw.tap_arg_fd;
		else
			sw.tap_fd = sw_tap_open(sw.tap_name);
		if (sw.tap_fd < 0 ||
		    ev_watch(&sw.loop, sw.tap_fd, EPOLLIN, tap_cb, &sw) < 0) {
			log_warn("uplink %s", sw.tap_name);
			rc = 1;
			goto out;
		}
	}
	if (sw.stats_path != NULL || sw.stats_fd >= 0) {
		if (sw.stats_path != NULL)
			sw.stats_fd = host_listen(sw.stats_path, 0600);
		else if (host_fd_nonblock_cloexec(sw.stats_fd) < 0)
			sw.stats_fd = -1;
		if (sw.stats_fd < 0 ||
		    ev_watch(&sw.loop, sw.stats_fd, EPOLLIN, stats_cb, &sw) < 0) {
			log_warn("stats socket %s", sw.stats_path ?
			    sw.stats_path : "fd");
			rc = 1;
			goto out;
		}
	}
	lockdown();
	log_info("%u port%s%s%s, ready", nports, nports == 1 ? "" : "s",
	    sw.tap_name ? ", uplink " : "", sw.tap_name ? sw.tap_name : "");

	/*
	 * A port whose transmit budget ran out (pending, see port_tx) gets
	 * another turn after every wait; while one is pending, the wait does
	 * not block (ev_defer).
	 */
	while (!sw.loop.quit) {
		if (ev_loop_once(&sw.loop, -1) < 0)
			fatal("epoll_wait");
		for (unsigned i = 0; i < sw.t.nports; i++)
			if (sw.ports[i] != NULL && sw.ports[i]->pending)
				port_tx(sw.ports[i]);
	}

out:
	for (unsigned i = 0; i < SW_MAX_PORTS; i++) {
		struct sw_port *p = sw.ports[i];

		if (p == NULL)
			continue;
		if (p->dev.iface != NULL)
			vu_dev_close(&p->dev);
		free(p);
	}
	if (sw.stats_fd >= 0)
		close(sw.stats_fd);
	if (sw.tap_fd >= 0)
		close(sw.tap_fd);
	free(sw.tap_buf);
	free(sw.stats_buf);
	ev_loop_close(&sw.loop);
	return rc;
}
