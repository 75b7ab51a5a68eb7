/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-consoled: the serial console server of one Isles system.
 *
 *   isles-consoled (--socket PATH | --fd N) [--log NAME=fd:N ...]
 *                  [--log-max BYTES] [-v|-q] NAME=fd:N|NAME=PATH ...
 *
 * Started by the supervisor (never daemonizes; exits cleanly on SIGTERM,
 * SIGINT or SIGHUP).  VMs are given in system-file order, so the Nth
 * NAME=... is console number N.  For each VM it listens on a serial
 * socket, an inherited listening socket (fd:N, bound by the supervisor
 * before any QEMU starts) or one it binds at PATH (by hand), and QEMU's
 * serial chardev connects to it as a client with reconnect=1: QEMU's
 * connection waits in the socket's backlog (its output in the socket
 * buffer) until this daemon accepts it, and a restarted QEMU, or QEMU
 * after a restart of this daemon, connects again by itself.  It keeps
 * the last 64 KiB the VM printed in a replay ring; writes everything to
 * the VM's console.log through the fd the supervisor opened for it
 * (`--log NAME=fd:N`), capped at --log-max bytes, newest output kept
 * (conlog.h); and serves clients on the console socket with the protocol
 * of conproto.h.  It reads every serial port whether or not a client is
 * attached.  At most one QEMU per VM: a second connection while the
 * first one is alive is refused (closed; a real QEMU retries).
 *
 * Trust: argv comes from the supervisor.  Serial output is written by the
 * guest and is hostile: it is only copied (ring, log, client queues),
 * never parsed.  Clients are local and validated frame by frame; a client
 * that breaks the protocol is disconnected.  Nothing here ever blocks on a
 * client: each client has a bounded output queue that drops its oldest
 * output (counted, reported by NOTICE) when the client does not keep up,
 * and QEMU's serial socket is read whenever it has data.
 *
 * Runs on the host layer (src/host): one struct ev_loop with a callback
 * per fd (listening socket, signalfd, each VM's serial socket and timer,
 * each client), whose generation check drops events of an fd closed
 * earlier in the same batch (a client freed by a broadcast, say);
 * host_listen for --socket, host_parse for its numbers.
 *
 * Lock-down: it closes every inherited fd but the sockets and logs its
 * command line names, and after its sockets and timers are open sets
 * no_new_privs and installs a seccomp allowlist (lockdown()) without
 * open, socket, connect, bind or unlink, so a bug reachable from guest
 * output can do little more than what the daemon does anyway.  A socket
 * it bound by hand is left at its path on exit (no unlink after the
 * lock-down): the next host_listen replaces the stale file.
 *
 * Errors: internal helpers return 0 / -1 with errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "consoled/conbuf.h"
#include "consoled/conlog.h"
#include "host/evloop.h"
#include "host/fds.h"
#include "host/listen.h"
#include "host/log.h"
#include "host/monotime.h"
#include "host/parse.h"
#include "host/sandbox.h"
#include "proto/conproto.h"
#include "proto/outq.h"
#include "proto/proto.h"

#define CD_MAX_CLIENTS		64
#define CD_READ_CHUNK		4096
#define CD_INPUT_MAX		(16u * 1024u)	/* pending input per VM */
#define CD_SNDBUF		(32 * 1024)	/* kernel send buffer per client */
#define CD_BATCH_MS		5	/* read batching while output streams */
#define CD_BATCH_SMALL		512	/* a read below this while streaming */
/*
 * The interest of an fd we do not want to read or write for now: epoll
 * still reports its hang-up and errors (an interest of 0 would silence
 * those too, evloop.h).
 */
#define CD_HUP_ONLY		EPOLLHUP

struct cd_vm {
	unsigned index;
	char name[CON_MAX_NAME + 1];
	const char *path;		/* by hand: listen here; NULL: fd */
	int listen_fd;			/* QEMU connects here */
	int fd;				/* serial connection, -1 when none */
	int timer;			/* read batching */
	bool was_up;			/* connected at least once */
	struct clog log;		/* console.log (fd -1: none given) */
	bool log_failed;		/* last write failed (logged once) */
	struct cring ring;
	uint8_t in[CD_INPUT_MAX];	/* input not yet accepted by QEMU */
	size_t in_len;
	bool out_watch;			/* EPOLLOUT armed */
	bool batching;			/* EPOLLIN off until the timer fires */
	uint64_t last_read_ms;
};

struct cd_client {
	int fd;
	uint32_t vms;			/* attached VM mask */
	bool readonly;
	bool out_watch;
	bool closing;			/* flush the queue, then close */
	bool overrun;			/* queue refused a reply: close now */
	struct outq q;
	struct proto_rx *rx;
};

static struct {
	struct ev_loop loop;
	int listen_fd;
	int signal_fd;
	struct cd_vm vms[CON_MAX_VMS];
	unsigned nvms;
	struct cd_client *clients[CD_MAX_CLIENTS];
} cd;

static void
usage(void)
{
	fprintf(stderr, "usage: isles-consoled (--socket PATH | --fd N) "
	    "[--log NAME=fd:N ...] [--log-max BYTES] [-v|-q] "
	    "NAME=fd:N|NAME=PATH ...\n");
	exit(2);
}

static bool
valid_name(const char *s, size_t n)
{
	if (n == 0 || n > CON_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '_' || c == '-'))))
			return false;
	}
	return true;
}

/* ---- clients ---------------------------------------------------------- */

static void client_close(struct cd_client *c);

/* Poll for output room only while something is queued; a closing client
 * is no longer read (EPOLLHUP still tells us when it goes away). */
static void
client_update_watch(struct cd_client *c)
{
	bool want = !outq_empty(&c->q);
	uint32_t events = (c->closing ? 0 : EPOLLIN) | (want ? EPOLLOUT : 0);

	if (want == c->out_watch && !c->closing)
		return;
	if (ev_set_events(&cd.loop, c->fd, events != 0 ? events :
	    CD_HUP_ONLY) == -1) {
		log_warn("epoll_ctl client");
		return;
	}
	c->out_watch = want;
}

/* Write as much of the queue as the socket takes now, never blocking. */
static void
client_flush(struct cd_client *c)
{
	if (c->overrun) {
		client_close(c);
		return;
	}
	if (outq_flush(&c->q, c->fd) == -1) {
		log_debug("client %d: send: %s", c->fd, strerror(errno));
		client_close(c);
		return;
	}
	if (c->closing && outq_empty(&c->q)) {
		client_close(c);
		return;
	}
	client_update_watch(c);
}

/*
 * Queue a frame for c.  Output that does not fit is dropped by the queue
 * (and reported to c); a reply or notice that does not fit means the queue
 * holds nothing but replies c never read while it kept sending requests:
 * c is disconnected by the client_flush that follows every send.
 */
static void
client_send(struct cd_client *c, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len)
{
	if (outq_frame(&c->q, type, flags, chan, payload, len) == 0)
		return;
	if (errno == ENOBUFS) {
		if (!c->overrun)
			log_warnx("client %d: does not read its replies; "
			    "disconnected", c->fd);
		c->overrun = true;
		return;
	}
	log_warn("client %d: queue", c->fd);
}

/* Refuse a request; `fatal_err` closes the client once the ERROR is out. */
static void
client_error(struct cd_client *c, bool fatal_err, const char *msg)
{
	log_debug("client %d: %s", c->fd, msg);
	client_send(c, CON_ERROR, 0, 0, msg, strlen(msg));
	if (fatal_err)
		c->closing = true;
}

static void
client_close(struct cd_client *c)
{
	for (unsigned i = 0; i < CD_MAX_CLIENTS; i++)
		if (cd.clients[i] == c)
			cd.clients[i] = NULL;
	if (c->q.dropped_total > 0)
		log_info("client %d: %llu bytes of output dropped (slow client)",
		    c->fd, (unsigned long long)c->q.dropped_total);
	ev_unwatch(&cd.loop, c->fd);
	close(c->fd);
	outq_free(&c->q);
	free(c->rx);
	free(c);
}

static void client_cb(void *arg, int fd, uint32_t events);

static void
client_accept(void)
{
	int fd = accept4(cd.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct cd_client *c;
	unsigned slot;

	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	for (slot = 0; slot < CD_MAX_CLIENTS; slot++)
		if (cd.clients[slot] == NULL)
			break;
	c = slot < CD_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (c != NULL)
		c->rx = malloc(sizeof(*c->rx));
	if (c == NULL || c->rx == NULL) {
		log_warnx("refusing console client: %s", c == NULL && slot ==
		    CD_MAX_CLIENTS ? "too many clients" : "out of memory");
		if (c != NULL)
			free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	/* Our queue is the buffer that matters: keep the kernel's small so a
	 * slow client's backlog stays bounded and visible as NOTICEs. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int){ CD_SNDBUF },
	    sizeof(int));
	proto_rx_init(c->rx);
	/* Room for a full replay of every VM plus live output. */
	coutq_init(&c->q, (size_t)(cd.nvms + 1) * CON_REPLAY_SIZE);
	if (ev_watch(&cd.loop, fd, EPOLLIN, client_cb, c) == -1) {
		log_warn("epoll_ctl client");
		close(fd);
		free(c->rx);
		free(c);
		return;
	}
	cd.clients[slot] = c;
	log_debug("client %d connected", fd);
}

static void
send_vms(struct cd_client *c)
{
	char buf[CON_MAX_VMS * (CON_MAX_NAME + 1)];
	size_t n = 0;

	for (unsigned i = 0; i < cd.nvms; i++) {
		size_t l = strlen(cd.vms[i].name) + 1;

		memcpy(buf + n, cd.vms[i].name, l);
		n += l;
	}
	client_send(c, CON_VMS, 0, 0, buf, n);
}

static void
do_attach(struct cd_client *c, const struct proto_hdr *h, const uint8_t *p)
{
	uint32_t mask;
	uint32_t all = cd.nvms >= 32 ? UINT32_MAX : (1u << cd.nvms) - 1;

	if (h->len != 4) {
		client_error(c, true, "ATTACH: payload must be a 4-byte VM mask");
		return;
	}
	mask = (uint32_t)con_get_le(p, 4);
	if (mask == 0 || (mask & ~all) != 0) {
		client_error(c, false, "ATTACH: no such VM");
		return;
	}
	c->vms = mask;
	c->readonly = (h->flags & CON_ATTACH_READONLY) != 0;
	if (h->flags & CON_ATTACH_REPLAY) {
		static uint8_t tmp[CON_REPLAY_SIZE];

		for (unsigned i = 0; i < cd.nvms; i++) {
			size_t n;

			if (!(mask & (1u << i)))
				continue;
			n = cring_copy(&cd.vms[i].ring, tmp);
			if (n > 0)
				client_send(c, CON_OUTPUT, CON_OUTPUT_REPLAY, i,
				    tmp, n);
		}
	}
	client_send(c, CON_ATTACHED, 0, 0, NULL, 0);
}

static void vm_input(struct cd_vm *vm, const uint8_t *p, size_t len);

static void
client_frame(struct cd_client *c, const struct proto_hdr *h, const uint8_t *p)
{
	struct con_winsize ws;

	switch (h->type) {
	case CON_LIST:
		send_vms(c);
		break;
	case CON_ATTACH:
		do_attach(c, h, p);
		break;
	case CON_INPUT:
		if (h->chan >= cd.nvms || !(c->vms & (1u << h->chan))) {
			client_error(c, false, "INPUT: not attached to that VM");
			break;
		}
		if (c->readonly) {
			client_error(c, false, "INPUT: attached read-only");
			break;
		}
		if (cd.vms[h->chan].fd == -1) {
			char msg[96];

			snprintf(msg, sizeof(msg), "%s: serial port not connected "
			    "(VM stopped?); input dropped", cd.vms[h->chan].name);
			client_error(c, false, msg);
			break;
		}
		vm_input(&cd.vms[h->chan], p, h->len);
		break;
	case CON_WINSIZE:
		if (h->chan >= cd.nvms || con_winsize_decode(p, h->len, &ws)) {
			client_error(c, true, "WINSIZE: bad VM or size");
			break;
		}
		/* A 16550 has no way to tell the guest (docs/console.md). */
		log_debug("%s: window %ux%u (not forwarded: serial port)",
		    cd.vms[h->chan].name, ws.cols, ws.rows);
		break;
	default:
		client_error(c, true, "unknown message type");
		break;
	}
}

static void
client_read(struct cd_client *c)
{
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	n = proto_rx_read(c->rx, c->fd);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_debug("client %d gone", c->fd);
		client_close(c);
		return;
	}
	while (!c->closing && !c->overrun &&
	    proto_rx_next(c->rx, &h, &p) == 1)
		client_frame(c, &h, p);
	if (c->rx->skipped > 0) {
		client_error(c, true, "bad framing");
		c->rx->skipped = 0;
	}
	client_flush(c);	/* a closing client goes once its ERROR is out */
}

/* ---- VMs -------------------------------------------------------------- */

static void
broadcast(unsigned vm, uint16_t type, const void *p, size_t len)
{
	for (unsigned i = 0; i < CD_MAX_CLIENTS; i++) {
		struct cd_client *c = cd.clients[i];

		if (c == NULL || !(c->vms & (1u << vm)) || c->closing)
			continue;
		client_send(c, type, 0, vm, p, len);
		client_flush(c);
	}
}

static void
notice_all(unsigned vm, uint32_t kind)
{
	uint8_t pl[CON_NOTICE_SIZE];

	con_notice_encode(pl, kind, 0);
	broadcast(vm, CON_NOTICE, pl, sizeof(pl));
}


static void
timer_arm_ms(struct cd_vm *vm, int ms)
{
	if (ev_timer_arm(vm->timer, (uint64_t)ms) == -1)
		log_warn("%s: timerfd_settime", vm->name);
}

static void
vm_disconnect(struct cd_vm *vm)
{
	ev_unwatch(&cd.loop, vm->fd);
	close(vm->fd);
	vm->fd = -1;
	vm->out_watch = false;
	vm->batching = false;
	vm->in_len = 0;
	log_info("%s: serial port closed; waiting for QEMU", vm->name);
	notice_all(vm->index, CON_NOTICE_DOWN);
}

static void serial_cb(void *arg, int fd, uint32_t events);
static void vm_deliver(struct cd_vm *vm, const uint8_t *buf, size_t n);

/*
 * Is the current connection still alive?  Reads (and delivers) what it
 * still holds; a connection whose QEMU is gone reaches EOF and is closed
 * here.  Before a new connection is taken, so that the end of an old
 * QEMU's output is not lost nor mixed into the new one's.
 */
static bool
vm_alive(struct cd_vm *vm)
{
	uint8_t buf[CD_READ_CHUNK];

	/* Bounded: a live QEMU that keeps writing is simply alive. */
	for (int i = 0; i < 64 && vm->fd != -1; i++) {
		ssize_t n = recv(vm->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			vm_deliver(vm, buf, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		vm_disconnect(vm);
	}
	return vm->fd != -1;
}

/* QEMU connects to the VM's serial socket. */
static void
vm_accept(struct cd_vm *vm)
{
	int fd = accept4(vm->listen_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);

	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("%s: accept", vm->name);
		return;
	}
	if (vm_alive(vm)) {
		log_warnx("%s: a second connection to the serial socket "
		    "refused", vm->name);
		close(fd);
		return;
	}
	if (ev_watch(&cd.loop, fd, EPOLLIN, serial_cb, vm) == -1) {
		log_warn("%s: epoll_ctl", vm->name);
		close(fd);
		return;
	}
	vm->fd = fd;
	log_info("%s: QEMU connected", vm->name);
	if (vm->was_up)
		notice_all(vm->index, CON_NOTICE_UP);
	vm->was_up = true;
}

static void
vm_set_events(struct cd_vm *vm)
{
	uint32_t events = (vm->batching ? 0 : EPOLLIN) |
	    (vm->out_watch ? EPOLLOUT : 0);

	if (ev_set_events(&cd.loop, vm->fd, events != 0 ? events :
	    CD_HUP_ONLY) == -1)
		log_warn("%s: epoll_ctl", vm->name);
}

static void
vm_update_watch(struct cd_vm *vm)
{
	bool want = vm->in_len > 0;

	if (vm->fd == -1 || want == vm->out_watch)
		return;
	vm->out_watch = want;
	vm_set_events(vm);
}

static void
vm_write(struct cd_vm *vm)
{
	while (vm->fd != -1 && vm->in_len > 0) {
		ssize_t n = send(vm->fd, vm->in, vm->in_len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("%s: serial write", vm->name);
			break;
		}
		memmove(vm->in, vm->in + n, vm->in_len - (size_t)n);
		vm->in_len -= (size_t)n;
	}
	vm_update_watch(vm);
}

/* Typed input for a VM: queued (bounded) and written without blocking. */
static void
vm_input(struct cd_vm *vm, const uint8_t *p, size_t len)
{
	size_t room = sizeof(vm->in) - vm->in_len;

	if (len > room) {
		log_warnx("%s: %zu bytes of input dropped: the guest is not "
		    "reading its serial port", vm->name, len - room);
		len = room;
	}
	memcpy(vm->in + vm->in_len, p, len);
	vm->in_len += len;
	vm_write(vm);
}

/* Output of the VM: replay ring, console.log, attached clients. */
static void
vm_deliver(struct cd_vm *vm, const uint8_t *buf, size_t n)
{
	cring_put(&vm->ring, buf, n);
	/* A regular file: writes do not block on anyone. */
	if (clog_write(&vm->log, buf, n) == -1) {
		if (!vm->log_failed)
			log_warn("%s: console.log", vm->name);
		vm->log_failed = true;
	} else if (vm->log_failed) {
		log_info("%s: console.log written again", vm->name);
		vm->log_failed = false;
	}
	broadcast(vm->index, CON_OUTPUT, buf, n);
}

static void
vm_read(struct cd_vm *vm)
{
	uint8_t buf[CD_READ_CHUNK];
	ssize_t n = recv(vm->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn("%s: serial read", vm->name);
		vm_disconnect(vm);
		return;
	}
	if (n == 0) {
		vm_disconnect(vm);
		return;
	}
	vm_deliver(vm, buf, (size_t)n);

	/*
	 * A guest streaming output arrives a UART FIFO (16 bytes) at a time:
	 * thousands of wake-ups a second, each copied to every client.  While
	 * reads come back small and close together, stop reading for
	 * CD_BATCH_MS and take what piled up in one go (QEMU's socket buffer
	 * holds it).  A lone keystroke echo is still forwarded at once.
	 */
	uint64_t now = mono_ms();

	if (vm->fd != -1 && n < CD_BATCH_SMALL &&
	    now - vm->last_read_ms < 2 * CD_BATCH_MS) {
		vm->batching = true;
		vm_set_events(vm);
		timer_arm_ms(vm, CD_BATCH_MS);
	}
	vm->last_read_ms = now;
}

static void
timer_cb(void *arg, int fd, uint32_t events)
{
	struct cd_vm *vm = arg;

	if (ev_drain(vm->timer) == 0)
		return;
	if (vm->fd != -1 && vm->batching) {
		vm->batching = false;
		vm_set_events(vm);
	}
}

/* ---- set-up ----------------------------------------------------------- */

/*
 * A NAME=fd:N or NAME=PATH argument; the fd is checked (open), the path
 * is bound later (vm_open), once the inherited fds are sorted out.
 */
static void
add_vm(const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct cd_vm *vm;

	if (eq == NULL || !valid_name(arg, (size_t)(eq - arg)))
		fatalx("bad VM argument '%s' (want NAME=fd:N or NAME=PATH)",
		    arg);
	if (cd.nvms == CON_MAX_VMS)
		fatalx("too many VMs (at most %d)", CON_MAX_VMS);
	vm = &cd.vms[cd.nvms];
	memcpy(vm->name, arg, (size_t)(eq - arg));
	vm->name[eq - arg] = '\0';
	for (unsigned i = 0; i < cd.nvms; i++)
		if (strcmp(cd.vms[i].name, vm->name) == 0)
			fatalx("VM %s given twice", vm->name);
	vm->listen_fd = -1;
	if (strncmp(eq + 1, "fd:", 3) == 0) {
		if ((vm->listen_fd = host_parse_fd_arg(eq + 1)) == -1)
			fatalx("%s: bad serial socket '%s' (fd:N, an open fd "
			    "above 2)", vm->name, eq + 1);
	} else if (eq[1] == '\0') {
		fatalx("%s: serial socket path empty", vm->name);
	} else {
		vm->path = eq + 1;
	}
	vm->index = cd.nvms;
	vm->fd = -1;
	vm->timer = -1;
	vm->log.fd = -1;
	if (cring_init(&vm->ring, CON_REPLAY_SIZE) == -1)
		fatal("replay ring");
	cd.nvms++;
}

/* Make vm's listening socket ready and its batching timer. */
static void
vm_open(struct cd_vm *vm)
{
	if (vm->path != NULL) {
		if ((vm->listen_fd = host_listen(vm->path, 0600)) == -1)
			fatal("%s: serial socket %s", vm->name, vm->path);
	} else if (host_fd_nonblock_cloexec(vm->listen_fd) == -1) {
		fatal("%s: fd %d", vm->name, vm->listen_fd);
	}
	if ((vm->timer = ev_timer_new()) == -1)
		fatal("timerfd_create");
}

/* A --log NAME=fd:N argument, applied once the VMs are known. */
struct cd_logarg {
	const char *name;
	size_t namelen;
	int fd;
};

static void
parse_log_arg(const char *arg, struct cd_logarg *la)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || strncmp(eq + 1, "fd:", 3) != 0)
		fatalx("bad --log '%s' (want NAME=fd:N)", arg);
	if ((la->fd = host_parse_fd_arg(eq + 1)) == -1)
		fatalx("bad --log '%s': fd must be a number above 2, open",
		    arg);
	la->name = arg;
	la->namelen = (size_t)(eq - arg);
}

/* Give each VM the log fd named for it; refuse names no VM has. */
static void
open_logs(const struct cd_logarg *logs, size_t nlogs, uint64_t max)
{
	for (size_t i = 0; i < nlogs; i++) {
		const struct cd_logarg *la = &logs[i];
		struct cd_vm *vm = NULL;

		for (unsigned v = 0; v < cd.nvms; v++)
			if (strlen(cd.vms[v].name) == la->namelen &&
			    strncmp(cd.vms[v].name, la->name, la->namelen) == 0)
				vm = &cd.vms[v];
		if (vm == NULL)
			fatalx("--log %.*s: no such VM", (int)la->namelen,
			    la->name);
		if (vm->log.fd != -1)
			fatalx("--log %s: given twice", vm->name);
		if (clog_open(&vm->log, la->fd, max) == -1)
			fatal("--log %s=fd:%d", vm->name, la->fd);
	}
}

/* ---- event callbacks --------------------------------------------------- */

static void
listen_cb(void *arg, int fd, uint32_t events)
{
	client_accept();
}

static void
signal_cb(void *arg, int fd, uint32_t events)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("signal %u: exiting", si.ssi_signo);
		ev_loop_quit(&cd.loop);
	}
}

static void
serial_listen_cb(void *arg, int fd, uint32_t events)
{
	vm_accept(arg);
}

static void
serial_cb(void *arg, int fd, uint32_t events)
{
	struct cd_vm *vm = arg;

	if (events & EPOLLOUT)
		vm_write(vm);
	if (vm->fd != -1 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		vm_read(vm);
}

static void
client_cb(void *arg, int fd, uint32_t events)
{
	struct cd_client *c = arg;

	if (c->closing && (events & (EPOLLHUP | EPOLLERR)))
		client_close(c);
	else if (!c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		client_read(c);
	else if (events & EPOLLOUT)
		client_flush(c);
}

/*
 * Everything is open: no_new_privs, and allow only what the event loop
 * needs; any other call kills the process.  No open, socket, connect,
 * bind or unlink: every socket and file it will ever use is open now.
 * Not in sanitizer builds: ASan and UBSan make their own system calls
 * (mmap of shadow memory, sigaltstack, reports written through other
 * calls).
 */
static void
lockdown(void)
{
	static const struct sandbox_allow allow[] = {
		{ SCMP_SYS(read), "timerfd, signalfd" },
		{ SCMP_SYS(write), "stderr (our log)" },
		{ SCMP_SYS(pwrite64), "console.log: appending at our offset, "
		    "moving its newest part to the start at the cap" },
		{ SCMP_SYS(pread64), "console.log: reading its newest part "
		    "at the cap" },
		{ SCMP_SYS(ftruncate), "console.log: cutting it after the move" },
		{ SCMP_SYS(recvfrom), "serial connections, clients" },
		{ SCMP_SYS(sendto), "serial connections, clients" },
		{ SCMP_SYS(epoll_wait), "the event loop" },
		{ SCMP_SYS(epoll_pwait), "the event loop (libc may use it)" },
		{ SCMP_SYS(epoll_ctl), "the event loop" },
		{ SCMP_SYS(accept4), "new clients, QEMU on a serial socket" },
		{ SCMP_SYS(setsockopt), "client send buffer size" },
		{ SCMP_SYS(close), "closing clients and serial connections" },
		{ SCMP_SYS(timerfd_settime), "read batching" },
		{ SCMP_SYS(brk), "malloc" },
		{ SCMP_SYS(mmap), "malloc of large blocks" },
		{ SCMP_SYS(munmap), "free of large blocks" },
		{ SCMP_SYS(mremap), "realloc of large blocks" },
		{ SCMP_SYS(madvise), "free: trimming" },
		{ SCMP_SYS(clock_gettime), "if the vDSO is unavailable" },
		{ SCMP_SYS(rt_sigreturn), "signal return (SIGPIPE is ignored)" },
		{ SCMP_SYS(exit_group), "exit" },
		{ SCMP_SYS(exit), "exit" },
	};
	char err[128];

	if (sandbox_lockdown(SCMP_ACT_KILL_PROCESS, allow,
	    sizeof(allow) / sizeof(allow[0]), NULL, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "fd", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-max", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	const char *sock = NULL;
	int listen_fd = -1, ch, verbose = 1;
	struct cd_logarg logs[CON_MAX_VMS];
	int keep[2 * CON_MAX_VMS + 1];
	size_t nlogs = 0, nkeep = 0;
	uint64_t log_max = CLOG_DEFAULT_MAX;

	log_init("isles-consoled", NULL);
	while ((ch = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'f':
			if ((listen_fd = host_parse_fd(optarg)) == -1)
				usage();
			break;
		case 'l':
			if (nlogs == CON_MAX_VMS)
				fatalx("too many --log (at most %d)", CON_MAX_VMS);
			parse_log_arg(optarg, &logs[nlogs]);
			keep[nkeep++] = logs[nlogs++].fd;
			break;
		case 'm':
			if (host_parse_u64(optarg, CLOG_MIN_MAX, UINT64_MAX,
			    &log_max) == -1)
				fatalx("bad --log-max '%s' (bytes, at least %u)",
				    optarg, CLOG_MIN_MAX);
			break;
		case 'v':
			verbose++;
			break;
		case 'q':
			verbose = 0;
			break;
		default:
			usage();
		}
	}
	log_setverbose(verbose);
	if ((sock == NULL) == (listen_fd == -1) || optind == argc)
		usage();
	for (int i = optind; i < argc; i++)
		add_vm(argv[i]);
	/* Keep stdio and the sockets and logs we were given, nothing else. */
	if (listen_fd != -1)
		keep[nkeep++] = listen_fd;
	for (unsigned i = 0; i < cd.nvms; i++)
		if (cd.vms[i].listen_fd != -1)
			keep[nkeep++] = cd.vms[i].listen_fd;
	if (host_close_others(keep, nkeep) == -1)
		fatalx("an fd is given twice");
	for (unsigned i = 0; i < cd.nvms; i++)
		vm_open(&cd.vms[i]);
	open_logs(logs, nlogs, log_max);

	signal(SIGPIPE, SIG_IGN);
	cd.signal_fd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
	if (cd.signal_fd == -1)
		fatal("signalfd");

	if (sock != NULL) {
		listen_fd = host_listen(sock, 0600);
		if (listen_fd == -1)
			fatal("console socket %s", sock);
	} else if (host_fd_nonblock_cloexec(listen_fd) == -1) {
		fatal("--fd %d", listen_fd);
	}
	cd.listen_fd = listen_fd;

	if (ev_loop_init(&cd.loop) == -1)
		fatal("epoll_create1");
	if (ev_watch(&cd.loop, cd.listen_fd, EPOLLIN, listen_cb, NULL) == -1 ||
	    ev_watch(&cd.loop, cd.signal_fd, EPOLLIN, signal_cb, NULL) == -1)
		fatal("epoll_ctl");
	for (unsigned i = 0; i < cd.nvms; i++) {
		struct cd_vm *vm = &cd.vms[i];

		if (ev_watch(&cd.loop, vm->timer, EPOLLIN, timer_cb, vm) == -1 ||
		    ev_watch(&cd.loop, vm->listen_fd, EPOLLIN, serial_listen_cb,
		    vm) == -1)
			fatal("epoll_ctl");
	}
	/* Everything is open: lock down. */
	lockdown();
	log_info("serving %u VM console%s", cd.nvms, cd.nvms == 1 ? "" : "s");

	if (ev_loop_run(&cd.loop) == -1)
		fatal("epoll_wait");

	for (unsigned i = 0; i < CD_MAX_CLIENTS; i++)
		if (cd.clients[i] != NULL)
			client_close(cd.clients[i]);
	for (unsigned i = 0; i < cd.nvms; i++) {
		if (cd.vms[i].fd != -1)
			close(cd.vms[i].fd);
		close(cd.vms[i].listen_fd);
		if (cd.vms[i].log.fd != -1)
			close(cd.vms[i].log.fd);
		close(cd.vms[i].timer);
		cring_free(&cd.vms[i].ring);
	}
	return 0;
}
