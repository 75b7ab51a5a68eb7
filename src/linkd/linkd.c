/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-linkd: the console links between VMs of one system.  A link joins
 * a virtio-serial port in one VM to a virtio-serial port in another:
 * each VM's QEMU connects its port's chardev (a client socket, with
 * reconnect) to one of the link's two sockets, and the daemon copies the
 * bytes each side writes to the other side, in order.  The link is held
 * here, not by one QEMU connecting to the other, so either VM can restart
 * and its new QEMU finds the link where it left it.
 *
 *   isles-linkd [--name NAME] --link LINK:VMA=SOCK,VMB=SOCK ...
 *               [--buffer SIZE] [--stats fd:N|PATH] [-v|-q]
 *
 * SOCK is fd:N (an inherited listening socket, the supervisor's way) or
 * a path to listen at (by hand).  Nothing is ever dropped: each direction
 * has a bounded buffer (--buffer, default 64 KiB; ln_ring.h); when it is
 * full, or the reading side is not connected and it fills, the daemon
 * stops reading the writing side's socket, QEMU's chardev write would
 * block, QEMU stops taking the guest's port buffers and the guest's
 * write() blocks.  A side that is not connected (its VM is down or has
 * not started) is like a reader that does not read: the other side's
 * first bytes wait here, then its writes block; when the side connects,
 * they are delivered.  Reads on a side whose peer has not connected
 * block as on a quiet line (QEMU tells the guest the host end is open as
 * soon as its own connection is up).
 *
 * A VM that restarts: its old connection reaches EOF (or errors); what
 * the old QEMU had sent and the daemon has not read yet is still read and
 * delivered first (a dead connection stays on a short drain list until
 * its EOF), then the new connection's.  Bytes for the side that were in
 * the daemon's buffer and not yet written to the old connection go to
 * the new one.  At most one live connection per side: a second one while
 * the first is alive is refused (closed); QEMU retries with reconnect.
 *
 * Started by the supervisor, one per system (never daemonizes, exits on
 * SIGTERM).  Trusts its argv; the bytes it carries are never interpreted,
 * so a guest can only fill its own link's bounded buffers.  After set-up:
 * no_new_privs and a seccomp allowlist (a refused call kills it: nothing
 * legitimate needs more).  Counters: one JSON snapshot per connection on
 * the stats socket, and in the log on SIGUSR1.
 *
 * Errors: internal helpers return 0 / -1 with errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <seccomp.h>

#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/parse.h"
#include "linkd/ln_ring.h"
#include "log.h"
#include "sandbox.h"

#define LN_MAX_LINKS	256
#define LN_NAME_MAX	32	/* [a-z0-9][a-z0-9_-]*, at most 31 */
#define LN_DRAIN_MAX	4	/* dead connections still being read */
#define LN_BUF_DEFAULT	(64u * 1024)
#define LN_BUF_MIN	4096u
#define LN_BUF_MAX	(16u * 1024 * 1024)
#define LN_STATS_MAX	(256 * 1024)

struct ln_link;

struct ln_side {
	struct ln_link *link;
	unsigned idx;			/* 0 or 1 */
	char vm[LN_NAME_MAX];
	int listen_fd;
	bool listening;			/* listen_fd watched */
	int conn;			/* live connection: written to, and read
					 * once the drain list is empty; -1 */
	int drain[LN_DRAIN_MAX];	/* dead connections, oldest first, read
					 * to their EOF before conn */
	unsigned ndrain;
	uint64_t connects;
	uint64_t bytes_in;		/* read from this side */
	uint64_t bytes_out;		/* written to this side */
	uint64_t stalls;		/* reads stopped: buffer full */
	uint64_t refused;		/* second live connections closed */
	bool stalled;
};

struct ln_link {
	char name[LN_NAME_MAX];
	struct ln_side s[2];
	struct ln_ring q[2];		/* q[i]: read from side i, for 1-i */
};

static struct ev_loop loop;
static struct ln_link *links;
static unsigned nlinks;
static const char *daemon_name = "links";
static char *stats_buf;

static void side_cb(void *arg, int fd, uint32_t events);
static void listen_cb(void *arg, int fd, uint32_t events);

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= LN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '_' || c == '-'))))
			return false;
	}
	return true;
}

/* The fd we read side s's bytes from now: the oldest dead one first. */
static int
read_fd(const struct ln_side *s)
{
	return s->ndrain > 0 ? s->drain[0] : s->conn;
}

/* Watch s's fds for exactly what there is to do (see the top). */
static void
side_interest(struct ln_side *s)
{
	struct ln_link *l = s->link;
	bool room = ln_ring_room(&l->q[s->idx]) > 0;
	bool out = l->q[1 - s->idx].len > 0;

	if (!room && !s->stalled && read_fd(s) >= 0) {
		s->stalled = true;
		s->stalls++;
	} else if (room) {
		s->stalled = false;
	}
	for (unsigned i = 0; i < s->ndrain; i++)
		ev_set_events(&loop, s->drain[i], i == 0 && room ? EPOLLIN : 0);
	if (s->conn >= 0)
		ev_set_events(&loop, s->conn,
		    (s->ndrain == 0 && room ? EPOLLIN : 0) |
		    (out ? EPOLLOUT : 0));
	/* A full drain list: new connections wait in the backlog. */
	if (s->ndrain == LN_DRAIN_MAX && s->listening) {
		ev_unwatch(&loop, s->listen_fd);
		s->listening = false;
	} else if (s->ndrain < LN_DRAIN_MAX && !s->listening) {
		if (ev_watch(&loop, s->listen_fd, EPOLLIN, listen_cb, s) == 0)
			s->listening = true;
		else
			log_warn("link %s: %s: watch", l->name, s->vm);
	}
}

static void
link_interest(struct ln_link *l)
{
	side_interest(&l->s[0]);
	side_interest(&l->s[1]);
}

static void
fd_close(int fd)
{
	ev_unwatch(&loop, fd);
	close(fd);
}

/*
 * s's live connection is gone (EOF after everything it sent was read, or
 * a write error / hang-up with bytes possibly left to read).
 */
static void
conn_gone(struct ln_side *s, bool may_hold_bytes, const char *why)
{
	struct ln_link *l = s->link;

	if (s->conn < 0)
		return;
	log_info("link %s: %s: %s", l->name, s->vm, why);
	if (may_hold_bytes && s->ndrain < LN_DRAIN_MAX) {
		s->drain[s->ndrain++] = s->conn;
	} else {
		if (may_hold_bytes)
			log_warnx("link %s: %s: %d dead connections not read "
			    "yet: what this one still holds is lost", l->name,
			    s->vm, LN_DRAIN_MAX);
		fd_close(s->conn);
	}
	s->conn = -1;
}

static void
drain_pop(struct ln_side *s)
{
	fd_close(s->drain[0]);
	memmove(s->drain, s->drain + 1, (s->ndrain - 1) * sizeof(int));
	s->ndrain--;
}

/* Whether fd's peer still has it open (no hang-up pending). */
static bool
conn_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	if (poll(&p, 1, 0) < 0)
		return true;
	return !(p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL));
}

static void
listen_cb(void *arg, int fd, uint32_t events)
{
	struct ln_side *s = arg;
	struct ln_link *l = s->link;
	int c;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("link %s: %s: accept", l->name, s->vm);
		return;
	}
	if (s->conn >= 0) {
		if (conn_alive(s->conn)) {
			s->refused++;
			log_warnx("link %s: %s: a second connection refused "
			    "(the first is still open)", l->name, s->vm);
			close(c);
			return;
		}
		/* A restarted QEMU beat its old connection's hang-up. */
		conn_gone(s, true, "gone (a new connection came)");
	}
	if (ev_watch(&loop, c, 0, side_cb, s) < 0) {
		log_warn("link %s: %s: watch", l->name, s->vm);
		close(c);
		return;
	}
	s->conn = c;
	s->connects++;
	log_info("link %s: %s: connected (%llu time%s)", l->name, s->vm,
	    (unsigned long long)s->connects, s->connects == 1 ? "" : "s");
	link_interest(l);
}

/* Read what fits from fd, s's current read fd; at its end, drop it. */
static void
side_read(struct ln_side *s, int fd)
{
	struct ln_ring *q = &s->link->q[s->idx];
	size_t len;
	uint8_t *p = ln_ring_space(q, &len);
	ssize_t n;

	if (len == 0)
		return;
	n = recv(fd, p, len, MSG_DONTWAIT);
	if (n > 0) {
		ln_ring_commit(q, (size_t)n);
		s->bytes_in += (uint64_t)n;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	/* EOF or an error: everything it sent has been read. */
	if (fd == s->conn)
		conn_gone(s, false, n == 0 ? "disconnected" : strerror(errno));
	else
		drain_pop(s);
}

static void
side_write(struct ln_side *s)
{
	struct ln_ring *q = &s->link->q[1 - s->idx];
	size_t len;
	const uint8_t *p = ln_ring_data(q, &len);
	ssize_t n;

	if (len == 0 || s->conn < 0)
		return;
	n = send(s->conn, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0) {
		ln_ring_consume(q, (size_t)n);
		s->bytes_out += (uint64_t)n;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	/* Its reader is gone; it may still hold bytes for us to read. */
	conn_gone(s, true, n < 0 ? strerror(errno) : "closed");
}

static void
side_cb(void *arg, int fd, uint32_t events)
{
	struct ln_side *s = arg;
	bool hup = (events & (EPOLLHUP | EPOLLERR)) != 0;

	/* One read and one write per wake-up: bounded work per event. */
	if (fd == read_fd(s) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
	    ln_ring_room(&s->link->q[s->idx]) > 0)
		side_read(s, fd);
	if (fd == s->conn && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		side_write(s);
	/* Hung up while we are not reading it: park it on the drain list. */
	if (hup && fd == s->conn && read_fd(s) != fd)
		conn_gone(s, true, "hung up");
	else if (hup && fd == s->conn &&
	    ln_ring_room(&s->link->q[s->idx]) == 0)
		conn_gone(s, true, "hung up");
	link_interest(s->link);
}

/* ---- stats ---- */

struct out {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
	    o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* {"linkd":NAME,"buffer":N,"links":[...]}: see docs/links.md. */
static int
render_stats(char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	emit(&o, "{\"linkd\":\"%s\",\"buffer\":%zu,\"links\":[", daemon_name,
	    nlinks ? links[0].q[0].cap : 0);
	for (unsigned i = 0; i < nlinks; i++) {
		struct ln_link *l = &links[i];

		emit(&o, "%s{\"name\":\"%s\",\"sides\":[", i ? "," : "",
		    l->name);
		for (unsigned k = 0; k < 2; k++) {
			struct ln_side *s = &l->s[k];

			emit(&o, "%s{\"vm\":\"%s\",\"connected\":%s,"
			    "\"connects\":%llu,\"bytes_in\":%llu,"
			    "\"bytes_out\":%llu,\"held_for\":%zu,"
			    "\"stalls\":%llu,\"refused\":%llu,"
			    "\"draining\":%u}", k ? "," : "", s->vm,
			    s->conn >= 0 ? "true" : "false",
			    (unsigned long long)s->connects,
			    (unsigned long long)s->bytes_in,
			    (unsigned long long)s->bytes_out,
			    l->q[1 - k].len, (unsigned long long)s->stalls,
			    (unsigned long long)s->refused, s->ndrain);
		}
		emit(&o, "]}");
	}
	emit(&o, "]}\n");
	if (o.len >= size) {
		errno = ENOSPC;
		return -1;
	}
	return (int)o.len;
}

static void
stats_cb(void *arg, int fd, uint32_t events)
{
	int c, n;

	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c < 0)
		return;
	/* One snapshot per connection; a reader that does not keep up with
	 * it in the socket buffer gets a short answer, not a stall. */
	if ((n = render_stats(stats_buf, LN_STATS_MAX)) > 0 &&
	    send(c, stats_buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("stats: send: %s", strerror(errno));
	close(c);
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct signalfd_siginfo si;
	int n;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR1) {
		if ((n = render_stats(stats_buf, LN_STATS_MAX)) > 0)
			log_info("stats: %.*s", n - 1, stats_buf);
		return;
	}
	log_info("signal %u: exiting", si.ssi_signo);
	ev_loop_quit(&loop);
}

/* ---- set-up ---- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: isles-linkd [--name NAME] --link LINK:VMA=SOCK,VMB=SOCK ...\n"
"                   [--buffer SIZE] [--stats fd:N|PATH] [--no-seccomp]\n"
"                   [-v|-q]\n"
"  --link L:A=S,B=S  link L between VM A's port and VM B's port; each SOCK\n"
"                    is fd:N (inherited listening socket) or a path to\n"
"                    listen at (at most %d links)\n"
"  --buffer SIZE     bytes held per direction (default 64K, 4K to 16M)\n"
"  --stats SOCK      counters, one JSON line per connection\n"
"See docs/links.md.\n", LN_MAX_LINKS);
}

/* "fd:N" -> N (an open fd >= 3), or -1. */
static int
fd_arg(const char *s)
{
	if (strncmp(s, "fd:", 3) != 0)
		return -1;
	return host_parse_fd(s + 3);
}

/* VM=SOCK into s; *path gets a path to listen at or NULL.  0 / -1. */
static int
parse_side(char *spec, struct ln_side *s, const char **path)
{
	char *eq = strchr(spec, '=');

	*path = NULL;
	s->listen_fd = -1;
	if (eq == NULL || !name_ok(spec, (size_t)(eq - spec)) || eq[1] == '\0')
		return -1;
	memcpy(s->vm, spec, (size_t)(eq - spec));
	s->vm[eq - spec] = '\0';
	if (strncmp(eq + 1, "fd:", 3) == 0)
		return (s->listen_fd = fd_arg(eq + 1)) < 0 ? -1 : 0;
	*path = eq + 1;
	return 0;
}

/* LINK:VMA=SOCK,VMB=SOCK into l. */
static int
parse_link(char *spec, struct ln_link *l, const char *paths[2])
{
	char *colon = strchr(spec, ':'), *comma;

	if (colon == NULL || !name_ok(spec, (size_t)(colon - spec)))
		return -1;
	memcpy(l->name, spec, (size_t)(colon - spec));
	l->name[colon - spec] = '\0';
	if ((comma = strchr(colon + 1, ',')) == NULL)
		return -1;
	*comma = '\0';
	if (parse_side(colon + 1, &l->s[0], &paths[0]) < 0 ||
	    parse_side(comma + 1, &l->s[1], &paths[1]) < 0)
		return -1;
	return 0;
}

/*
 * After set-up the daemon only accepts, reads and writes sockets: no
 * files (open), no new sockets (socket, bind, connect), no unlink (a
 * socket bound by hand stays at its path; host_listen replaces it next
 * time), no processes.  A refused call kills it.
 */
static int
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(accept4), "a VM's QEMU connects, stats readers" },
		{ SCMP_SYS(recvfrom), "bytes from a side" },
		{ SCMP_SYS(sendto), "bytes to a side, stats" },
		{ SCMP_SYS(poll), "is the old connection alive" },
		{ SCMP_SYS(ppoll), "poll as libc may issue it" },
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

int
main(int argc, char **argv)
{
	enum { OPT_NOSECCOMP = 256 };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "link", required_argument, NULL, 'l' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "stats", required_argument, NULL, 's' },
		{ "no-seccomp", no_argument, NULL, OPT_NOSECCOMP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	static const char *paths[LN_MAX_LINKS][2];
	const char *stats = NULL;
	uint64_t bufsize = LN_BUF_DEFAULT;
	bool seccomp = true;
	int c, verbose = 1, rc = 0, sfd, stats_fd = -1;

	if ((links = calloc(LN_MAX_LINKS, sizeof(*links))) == NULL)
		return 1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!name_ok(optarg, strlen(optarg))) {
				fprintf(stderr, "isles-linkd: --name %s: not a "
				    "name\n", optarg);
				return 2;
			}
			daemon_name = optarg;
			break;
		case 'l':
			if (nlinks == LN_MAX_LINKS) {
				fprintf(stderr, "isles-linkd: at most %d links\n",
				    LN_MAX_LINKS);
				return 2;
			}
			if (parse_link(optarg, &links[nlinks],
			    paths[nlinks]) < 0) {
				fprintf(stderr, "isles-linkd: bad --link (LINK:"
				    "VMA=SOCK,VMB=SOCK; names of a-z 0-9 _ -, "
				    "SOCK fd:N or a path)\n");
				return 2;
			}
			for (unsigned i = 0; i < nlinks; i++)
				if (strcmp(links[i].name,
				    links[nlinks].name) == 0) {
					fprintf(stderr, "isles-linkd: link %s "
					    "given twice\n", links[i].name);
					return 2;
				}
			nlinks++;
			break;
		case 'b':
			if (host_parse_size(optarg, &bufsize) < 0 ||
			    bufsize < LN_BUF_MIN || bufsize > LN_BUF_MAX) {
				fprintf(stderr, "isles-linkd: --buffer %s: 4K "
				    "to 16M\n", optarg);
				return 2;
			}
			break;
		case 's':
			stats = optarg;
			break;
		case OPT_NOSECCOMP:
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
	if (nlinks == 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init("isles-linkd", daemon_name);
	log_setverbose(verbose);
	signal(SIGPIPE, SIG_IGN);
	{
		/* Only what the command line gives survives. */
		int *keep = calloc(2 * nlinks + 1, sizeof(*keep));
		size_t nkeep = 0;

		if (keep == NULL)
			fatal("calloc");
		for (unsigned i = 0; i < nlinks; i++)
			for (unsigned k = 0; k < 2; k++)
				if (paths[i][k] == NULL)
					keep[nkeep++] = links[i].s[k].listen_fd;
		if (stats != NULL && strncmp(stats, "fd:", 3) == 0 &&
		    (keep[nkeep++] = fd_arg(stats)) < 0) {
			fprintf(stderr, "isles-linkd: bad --stats %s\n", stats);
			return 2;
		}
		if (host_close_others(keep, nkeep) < 0) {
			fprintf(stderr, "isles-linkd: an fd is given twice\n");
			return 2;
		}
		free(keep);
	}
	if (ev_loop_init(&loop) < 0)
		fatal("epoll");
	if ((stats_buf = malloc(LN_STATS_MAX)) == NULL)
		fatal("malloc");
	for (unsigned i = 0; i < nlinks; i++) {
		struct ln_link *l = &links[i];

		for (unsigned k = 0; k < 2; k++) {
			struct ln_side *s = &l->s[k];

			s->link = l;
			s->idx = k;
			s->conn = -1;
			if (ln_ring_init(&l->q[k], bufsize) < 0)
				fatal("buffer");
			if (paths[i][k] != NULL) {
				s->listen_fd = host_listen(paths[i][k], 0600);
				if (s->listen_fd < 0) {
					log_warn("link %s: %s: %s", l->name,
					    s->vm, paths[i][k]);
					rc = 1;
					goto out;
				}
			} else if (fcntl(s->listen_fd, F_SETFD, FD_CLOEXEC) < 0 ||
			    fcntl(s->listen_fd, F_SETFL,
			    fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK) < 0) {
				log_warn("link %s: %s: fd %d", l->name, s->vm,
				    s->listen_fd);
				rc = 1;
				goto out;
			}
			if (ev_watch(&loop, s->listen_fd, EPOLLIN, listen_cb,
			    s) < 0) {
				log_warn("link %s: %s: watch", l->name, s->vm);
				rc = 1;
				goto out;
			}
			s->listening = true;
		}
	}
	if (stats != NULL) {
		if (strncmp(stats, "fd:", 3) == 0) {
			stats_fd = fd_arg(stats);
			if (stats_fd >= 0 && fcntl(stats_fd, F_SETFL,
			    fcntl(stats_fd, F_GETFL) | O_NONBLOCK) < 0)
				stats_fd = -1;
		} else {
			stats_fd = host_listen(stats, 0600);
		}
		if (stats_fd < 0 ||
		    ev_watch(&loop, stats_fd, EPOLLIN, stats_cb, NULL) < 0) {
			log_warn("stats socket %s", stats);
			rc = 1;
			goto out;
		}
	}
	if ((sfd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]))) < 0 ||
	    ev_watch(&loop, sfd, EPOLLIN, signal_cb, NULL) < 0)
		fatal("signalfd");
	log_info("%u link%s, %llu bytes per direction: serving", nlinks,
	    nlinks == 1 ? "" : "s", (unsigned long long)bufsize);
	if (seccomp && lockdown() < 0) {
		rc = 1;
		goto out;
	}
	if (ev_loop_run(&loop) < 0)
		fatal("event loop");

out:
	return rc;
}
