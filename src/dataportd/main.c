/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-dataportd: the ivshmem server of one dataport (see dpd.h for the
 * design).
 *
 *   isles-dataportd --name NAME [--vectors N] (--shm fd:N | --size SIZE)
 *                   --peer PEER=SOCKET[,fd:E0,fd:E1...] ...
 *
 * PEER is a name ([a-z0-9][a-z0-9_-]*); its ID is its position among the
 * --peer options.  SOCKET is `fd:N` (an inherited listening socket), a
 * path to listen at, or `-` for a host peer without a socket.  The
 * eventfds, one per vector, are inherited (`fd:N`) or, all of them left
 * out, created here; the memory is an inherited memfd (--shm) or created
 * here (--size, a power of two from 4 KiB).  The supervisor passes
 * everything as fds; the second forms let the daemon serve a stock QEMU
 * by hand (docs/dataports.md).
 *
 * Started by the supervisor (never daemonizes, exits on SIGTERM), one per
 * dataport.  Trusts its argv.  Connections come from the VMs' QEMUs and
 * are not trusted: QEMU never writes to the socket, so anything it sends
 * is read and dropped (bounded), a peer that does not read its greeting
 * only holds its own connection, and at most one connection per peer is
 * served.  After set-up: no_new_privs and a seccomp allowlist (a refused
 * call kills the process: nothing here needs anything else).
 *
 * Errors: internal helpers return 0 / -1 with errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "dataportd/dpd.h"
#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/parse.h"
#include "log.h"
#include "sandbox.h"

#define DPD_MIN_SIZE	4096ull
#define DPD_MAX_SIZE	(1ull << 40)
#define DPD_JUNK_MAX	4096	/* bytes read per wake-up from a peer */

static struct dpd_port port;
static struct ev_loop loop;

static void conn_cb(void *arg, int fd, uint32_t events);

static void
usage(FILE *f)
{
	fprintf(f,
"usage: isles-dataportd --name NAME [--vectors N] (--shm fd:N | --size SIZE)\n"
"                       --peer PEER=SOCKET[,fd:E0,...] ... [--no-seccomp] [-v|-q]\n"
"  PEER     a name; its ID is its position among the --peer options\n"
"  SOCKET   fd:N (inherited listening socket), a path, or - (host peer)\n"
"  fd:E...  the peer's interrupt eventfds, one per vector (else created)\n"
"  --shm    the shared memory, an inherited memfd; --size creates one\n"
"See docs/dataports.md.\n");
}

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= DPD_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '_' || c == '-'))))
			return false;
	}
	return true;
}

/*
 * PEER=SOCKET[,fd:E...] into p.  *path gets a path to listen at (NULL if
 * none); eventfds given are stored, p->ev[0] = -1 if none.  Returns the
 * number of eventfds given, or -1.
 */
static int
parse_peer(char *spec, struct dpd_peer *p, const char **path)
{
	char *eq = strchr(spec, '='), *sock, *tok, *save = NULL;
	int n = 0;

	memset(p, 0, sizeof(*p));
	p->listen_fd = p->conn_fd = -1;
	for (unsigned v = 0; v < DPD_MAX_VECTORS; v++)
		p->ev[v] = -1;
	*path = NULL;
	if (eq == NULL || !name_ok(spec, (size_t)(eq - spec)))
		return -1;
	memcpy(p->name, spec, (size_t)(eq - spec));
	sock = strtok_r(eq + 1, ",", &save);
	if (sock == NULL)
		return -1;
	if (strcmp(sock, "-") == 0)
		;
	else if (strncmp(sock, "fd:", 3) == 0) {
		if ((p->listen_fd = host_parse_fd_arg(sock)) < 0)
			return -1;
	} else {
		*path = sock;
	}
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (n == DPD_MAX_VECTORS ||
		    (p->ev[n] = host_parse_fd_arg(tok)) < 0)
			return -1;
		n++;
	}
	return n;
}

static void
conn_drop(struct dpd_peer *p, const char *why)
{
	if (p->conn_fd < 0)
		return;
	ev_unwatch(&loop, p->conn_fd);
	close(p->conn_fd);
	p->conn_fd = -1;
	free(p->out);
	p->out = NULL;
	p->nout = p->sent = 0;
	log_info("peer %s: %s", p->name, why);
}

/* Send what the socket takes of p's greeting; 0, or -1 (dropped). */
static int
conn_flush(struct dpd_peer *p)
{
	while (p->sent < p->nout) {
		const struct dpd_msg *m = &p->out[p->sent];
		/* The protocol's numbers are little-endian; so are we (vq.c). */
		int64_t v = m->value;
		struct iovec iov = { &v, sizeof(v) };
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (m->fd >= 0) {
			struct cmsghdr *cm;

			memset(cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf;
			mh.msg_controllen = sizeof(cbuf);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &m->fd, sizeof(int));
		}
		n = sendmsg(p->conn_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ev_set_events(&loop, p->conn_fd, EPOLLIN |
			    EPOLLOUT);
		/* 8 bytes go whole into a Unix stream socket, or not at all. */
		if (n != (ssize_t)sizeof(v)) {
			conn_drop(p, "could not send its set-up");
			return -1;
		}
		p->sent++;
	}
	free(p->out);
	p->out = NULL;
	if (p->nout > 0)
		log_info("peer %s: set up (ID %u, %u peers, %u vectors)",
		    p->name, (unsigned)(p - port.peers), port.npeers,
		    port.vectors);
	p->nout = p->sent = 0;
	return ev_set_events(&loop, p->conn_fd, EPOLLIN);
}

/* Whether the connection still has a process at its other end. */
static bool
conn_alive(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

static void
listen_cb(void *arg, int fd, uint32_t events)
{
	struct dpd_peer *p = arg;
	int c, n;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("peer %s: accept", p->name);
		return;
	}
	/* One QEMU per peer; a restarted one may beat its old one's EOF. */
	if (p->conn_fd >= 0) {
		if (conn_alive(p->conn_fd)) {
			log_warnx("peer %s: a second connection refused (the "
			    "first is still open)", p->name);
			close(c);
			return;
		}
		conn_drop(p, "gone");
	}
	p->out = calloc(DPD_MAX_MSGS, sizeof(*p->out));
	if (p->out == NULL) {
		log_warn("peer %s", p->name);
		close(c);
		return;
	}
	n = dpd_greeting(&port, (unsigned)(p - port.peers), p->out,
	    DPD_MAX_MSGS);
	if (n < 0) {
		log_warn("peer %s: greeting", p->name);
		free(p->out);
		p->out = NULL;
		close(c);
		return;
	}
	p->nout = (size_t)n;
	p->sent = 0;
	p->conn_fd = c;
	p->connects++;
	if (ev_watch(&loop, c, EPOLLIN | EPOLLOUT, conn_cb, p) < 0) {
		log_warn("peer %s: watch", p->name);
		close(c);
		p->conn_fd = -1;
		free(p->out);
		p->out = NULL;
		return;
	}
	log_info("peer %s: connected (%llu time%s)", p->name,
	    (unsigned long long)p->connects, p->connects == 1 ? "" : "s");
	conn_flush(p);
}

static void
conn_cb(void *arg, int fd, uint32_t events)
{
	struct dpd_peer *p = arg;
	char junk[DPD_JUNK_MAX];
	ssize_t n;

	if ((events & EPOLLOUT) && p->sent < p->nout && conn_flush(p) < 0)
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	/* QEMU sends nothing: read and drop, one bounded read per wake-up. */
	n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		conn_drop(p, "disconnected");
	else if (n > 0)
		log_debug("peer %s: %zd unexpected bytes dropped", p->name, n);
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		log_info("signal %u: exiting", si.ssi_signo);
	ev_loop_quit(&loop);
}

/*
 * After set-up the daemon only accepts and sends: no files, no new
 * sockets, no processes.  A refused call kills it (nothing legitimate
 * needs more; the supervisor reports and restarts it).
 */
static int
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(accept4), "a VM's QEMU connects" },
		{ SCMP_SYS(sendmsg), "the greeting, with fds" },
		{ SCMP_SYS(recvfrom), "drop what QEMU sends, peek for EOF" },
		{ SCMP_SYS(read), "signalfd" },
		{ SCMP_SYS(write), "log" },
		{ SCMP_SYS(close), "connections" },
		{ SCMP_SYS(epoll_wait), "the event loop" },
		{ SCMP_SYS(epoll_pwait), "the event loop" },
		{ SCMP_SYS(epoll_ctl), "watch/unwatch" },
		{ SCMP_SYS(mmap), "malloc" },
		{ SCMP_SYS(munmap), "malloc" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(madvise), "malloc" },
		{ SCMP_SYS(clock_gettime), "libc" },
		{ SCMP_SYS(getpid), "libc" },
		{ SCMP_SYS(gettid), "libc" },
		{ SCMP_SYS(rt_sigreturn), "signals" },
		{ SCMP_SYS(restart_syscall), "signals" },
		{ SCMP_SYS(exit), "exit" },
		{ SCMP_SYS(exit_group), "exit" },
	};
	char err[128];

	if (sandbox_lockdown(SCMP_ACT_KILL_PROCESS, allow,
	    sizeof(allow) / sizeof(allow[0]), NULL, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

static int
make_shm(uint64_t size)
{
	int fd = memfd_create("isles-dataport", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_SEAL) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "vectors", required_argument, NULL, 'V' },
		{ "shm", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "peer", required_argument, NULL, 'p' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	const char *paths[DPD_MAX_PEERS];
	int nev[DPD_MAX_PEERS];
	bool seccomp = true;
	int c, verbose = 1, sfd;
	uint64_t size = 0;
	struct stat st;

	port.shm_fd = -1;
	port.vectors = 1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!name_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "isles-dataportd: --name %s: "
				    "not a name\n", optarg);
				return 2;
			}
			port.name = optarg;
			break;
		case 'V':
			if (host_parse_uint(optarg, 1, DPD_MAX_VECTORS,
			    &port.vectors) < 0) {
				fprintf(stderr, "isles-dataportd: --vectors is "
				    "1 to %d\n", DPD_MAX_VECTORS);
				return 2;
			}
			break;
		case 'm':
			if ((port.shm_fd = host_parse_fd_arg(optarg)) < 0) {
				fprintf(stderr, "isles-dataportd: --shm %s: not "
				    "an open fd:N\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (host_parse_size(optarg, &size) < 0 ||
			    size < DPD_MIN_SIZE || size > DPD_MAX_SIZE ||
			    (size & (size - 1)) != 0) {
				fprintf(stderr, "isles-dataportd: --size %s: a "
				    "power of two from 4K\n", optarg);
				return 2;
			}
			break;
		case 'p': {
			struct dpd_peer *p = &port.peers[port.npeers];

			if (port.npeers == DPD_MAX_PEERS ||
			    (nev[port.npeers] = parse_peer(optarg, p,
			    &paths[port.npeers])) < 0) {
				fprintf(stderr, "isles-dataportd: bad --peer "
				    "%s\n", optarg);
				return 2;
			}
			for (unsigned i = 0; i < port.npeers; i++)
				if (strcmp(port.peers[i].name, p->name) == 0) {
					fprintf(stderr, "isles-dataportd: peer "
					    "%s given twice\n", p->name);
					return 2;
				}
			port.npeers++;
			break;
		}
		case 'S':
			seccomp = false;
			break;
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
	if (port.name == NULL || port.npeers < 2 || optind != argc ||
	    (port.shm_fd >= 0) == (size != 0)) {
		usage(stderr);
		return 2;
	}
	for (unsigned i = 0; i < port.npeers; i++) {
		if (nev[i] != 0 && nev[i] != (int)port.vectors) {
			fprintf(stderr, "isles-dataportd: peer %s: %d eventfds "
			    "for %u vectors\n", port.peers[i].name, nev[i],
			    port.vectors);
			return 2;
		}
	}
	log_init("isles-dataportd", port.name);
	log_setverbose(verbose);
	signal(SIGPIPE, SIG_IGN);
	{
		/* Only what the command line gives survives. */
		int keep[1 + DPD_MAX_PEERS * (1 + DPD_MAX_VECTORS)];
		size_t nkeep = 0;

		if (port.shm_fd >= 0)
			keep[nkeep++] = port.shm_fd;
		for (unsigned i = 0; i < port.npeers; i++) {
			if (port.peers[i].listen_fd >= 0)
				keep[nkeep++] = port.peers[i].listen_fd;
			for (int v = 0; v < nev[i]; v++)
				keep[nkeep++] = port.peers[i].ev[v];
		}
		if (host_close_others(keep, nkeep) < 0) {
			fprintf(stderr, "isles-dataportd: an fd is given "
			    "twice\n");
			return 2;
		}
	}

	/* The resources: inherited, or made here for a stock set-up. */
	if (port.shm_fd < 0 && (port.shm_fd = make_shm(size)) < 0) {
		log_warn("shared memory of %llu bytes",
		    (unsigned long long)size);
		return 1;
	}
	if (fstat(port.shm_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < DPD_MIN_SIZE) {
		log_warnx("--shm: not a memory file of at least 4 KiB");
		return 1;
	}
	port.size = (uint64_t)st.st_size;
	for (unsigned i = 0; i < port.npeers; i++) {
		struct dpd_peer *p = &port.peers[i];

		for (unsigned v = 0; nev[i] == 0 && v < port.vectors; v++) {
			p->ev[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (p->ev[v] < 0) {
				log_warn("peer %s: eventfd", p->name);
				return 1;
			}
		}
		if (paths[i] != NULL &&
		    (p->listen_fd = host_listen(paths[i], 0600)) < 0) {
			log_warn("peer %s: %s", p->name, paths[i]);
			return 1;
		}
	}
	if (ev_loop_init(&loop) < 0)
		fatal("epoll");
	for (unsigned i = 0; i < port.npeers; i++) {
		struct dpd_peer *p = &port.peers[i];

		if (p->listen_fd < 0)
			continue;
		if (fcntl(p->listen_fd, F_SETFL, fcntl(p->listen_fd, F_GETFL) |
		    O_NONBLOCK) < 0 ||
		    ev_watch(&loop, p->listen_fd, EPOLLIN, listen_cb, p) < 0) {
			log_warn("peer %s: socket", p->name);
			return 1;
		}
	}
	if ((sfd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]))) < 0 ||
	    ev_watch(&loop, sfd, EPOLLIN, signal_cb, NULL) < 0)
		fatal("signalfd");
	log_info("%u peers, %llu bytes, %u vector%s: serving", port.npeers,
	    (unsigned long long)port.size, port.vectors,
	    port.vectors == 1 ? "" : "s");
	if (seccomp && lockdown() < 0)
		return 1;
	if (ev_loop_run(&loop) < 0)
		fatal("event loop");
	return 0;
}
