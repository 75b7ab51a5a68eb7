/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles-agent: the guest agent.  A small static program started (and
 * respawned) by the guest's init; it runs commands for the host over the
 * virtio-serial port named "org.isles.agent", speaking the frames of
 * src/proto/proto.h: HELLO/HELLO_ACK, PING/PONG, EXEC with STDIN, STDOUT,
 * STDERR, EXIT, KILL and ERROR.  The host is the supervisor (through
 * QEMU's chardev); it is trusted to ask for anything (it may run any
 * command as root) but its frames are still validated, because a
 * malformed or stale byte stream must not crash the agent.
 *
 * One poll() loop, no threads.  Everything is non-blocking: the port, the
 * pipes of the commands, a signalfd for SIGCHLD and SIGIO.  Memory is
 * bounded: one output queue (the shared src/proto/outq.c, bounded at
 * AGENT_OUTQ_SIZE, allocated at start, nothing ever dropped: the agent
 * checks for room before it produces) shared by all sessions and one
 * stdin buffer per session; when they fill up the agent stops reading the
 * commands' pipes or the port, so that a slow side only slows itself.
 *
 * virtio-serial: while no host is connected, the guest port polls as
 * readable and hung up for ever (read returns 0), so the port is taken
 * out of the poll set when a hang-up is seen, and put back when the
 * kernel signals a change of connection state with SIGIO (O_ASYNC).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/evloop.h"
#include "host/le.h"
#include "host/log.h"
#include "proto/outq.h"
#include "proto/proto.h"

#define AGENT_VERSION		"isles-agent 1"
#define AGENT_PORT_NAME		"org.isles.agent"
#define AGENT_MAX_SESSIONS	32
#define AGENT_OUTQ_SIZE		(512u * 1024u)
#define AGENT_CHUNK		(16u * 1024u)	/* one pipe read */
#define AGENT_STDIN_SIZE	(192u * 1024u)	/* per session */
#define AGENT_MAX_ARGS		4096
#define AGENT_DRAIN_MAX		(1024u * 1024u)	/* read after exit */
#define AGENT_PATH		"/usr/sbin:/usr/bin:/sbin:/bin"

struct agent_session {
	uint32_t chan;		/* 0 = slot free */
	pid_t pid;		/* process (and process group) */
	bool exited;
	int status;		/* wait status once exited */
	int out_fd;		/* -1 once at end of file */
	int err_fd;
	int in_fd;		/* -1 if closed or stdin is /dev/null */
	bool in_eof;		/* host sent EOF: close once drained */
	uint8_t *inbuf;
	size_t in_off;
	size_t in_len;
	size_t drained;		/* bytes read after the process exited */
};

struct agent {
	int port_fd;
	bool connected;		/* the port is in the poll set */
	bool host_spoke;	/* a frame arrived on this connection */
	int sig_fd;
	struct proto_rx rx;
	struct outq outq;
	struct agent_session sess[AGENT_MAX_SESSIONS];
};

static struct agent agent;

/*
 * The port is a character device, not a socket (write(2)); the queue is
 * allocated once, so that no frame is ever lost to a failed allocation.
 */
static const struct outq_policy outq_policy = {
	.limit = AGENT_OUTQ_SIZE,
	.flags = OUTQ_PREALLOC | OUTQ_WRITE,
};

/* Queue a frame; callers check for room first (see can_take_frame). */
static void
send_frame(uint16_t type, uint32_t chan, const void *data, size_t len)
{
	if (outq_frame(&agent.outq, type, 0, chan, data, len) < 0)
		log_warn("frame type %u for chan %u dropped", type, chan);
}

/*
 * ERROR on channel N answers an EXEC that could not start (no EXIT
 * follows); ERROR on channel 0 reports a frame that was rejected.
 */
static void __attribute__((format(printf, 2, 3)))
send_error(uint32_t chan, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_warnx("chan %u: %s", chan, msg);
	send_frame(PROTO_ERROR, chan, msg, strlen(msg));
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static struct agent_session *
session_find(uint32_t chan)
{
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (agent.sess[i].chan == chan && chan != 0)
			return &agent.sess[i];
	return NULL;
}

static void
session_free(struct agent_session *s)
{
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	close_fd(&s->in_fd);
	free(s->inbuf);
	memset(s, 0, sizeof(*s));
	s->out_fd = s->err_fd = s->in_fd = -1;
}

/* Kill a session's process group and forget it (no EXIT is sent). */
static void
session_abort(struct agent_session *s)
{
	if (!s->exited && s->pid > 0)
		kill(-s->pid, SIGKILL);
	session_free(s);
}

static void
sessions_abort_all(void)
{
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (agent.sess[i].chan != 0)
			session_abort(&agent.sess[i]);
}

/* In the child: never returns. */
static void __attribute__((noreturn))
child_exec(char **argv, int in_fd, int out_fd, int err_fd)
{
	sigset_t none;
	int code;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (setsid() < 0)
		_exit(127);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	/* Everything else (port, other sessions' pipes) is CLOEXEC. */
	if (chdir("/") < 0)
		_exit(127);
	clearenv();
	setenv("PATH", AGENT_PATH, 1);
	setenv("HOME", "/root", 1);
	setenv("TERM", "dumb", 1);
	execvp(argv[0], argv);
	code = (errno == EACCES || errno == EPERM || errno == ENOEXEC ||
	    errno == EISDIR) ? 126 : 127;
	dprintf(2, "isles-agent: %s: %s\n", argv[0],
	    errno == ENOENT ? "command not found" : strerror(errno));
	_exit(code);
}

/*
 * Start argv in a new session for channel chan.  Sends ERROR on failure.
 * Blocks only until the child has called setsid() and exec'd (or failed),
 * so that KILL can always address the process group.
 */
static void
session_start(uint32_t chan, uint16_t flags, char **argv)
{
	struct agent_session *s = NULL;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 };
	int sync[2] = { -1, -1 };
	char c;
	pid_t pid;

	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (agent.sess[i].chan == 0) {
			s = &agent.sess[i];
			break;
		}
	if (s == NULL) {
		send_error(chan, "too many sessions");
		return;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    pipe2(sync, O_CLOEXEC) < 0)
		goto fail;
	if (flags & PROTO_EXEC_STDIN) {
		s->inbuf = malloc(AGENT_STDIN_SIZE);
		if (s->inbuf == NULL || pipe2(in, O_CLOEXEC) < 0)
			goto fail;
	} else {
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (in[0] < 0)
			goto fail;
	}
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child_exec(argv, in[0], out[1], err[1]);
	close(sync[1]);
	/* EOF once the child exec'd or exited (CLOEXEC): after setsid(). */
	while (read(sync[0], &c, 1) < 0 && errno == EINTR)
		;
	close(sync[0]);
	close(out[1]);
	close(err[1]);
	close(in[0]);
	s->chan = chan;
	s->pid = pid;
	s->out_fd = out[0];
	s->err_fd = err[0];
	s->in_fd = in[1];
	fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	if (s->in_fd >= 0)
		fcntl(s->in_fd, F_SETFL, O_NONBLOCK);
	log_debug("chan %u: started %s as pid %d", chan, argv[0], (int)pid);
	return;
fail:
	send_error(chan, "cannot start: %s", strerror(errno));
	free(s->inbuf);
	s->inbuf = NULL;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (in[i] >= 0)
			close(in[i]);
		if (sync[i] >= 0)
			close(sync[i]);
	}
}

/* EXEC payload: argv strings, each NUL-terminated, at least one. */
static void
handle_exec(const struct proto_hdr *h, const uint8_t *p)
{
	static char buf[PROTO_MAX_PAYLOAD];
	static char *argv[AGENT_MAX_ARGS + 1];

	if (h->chan == 0) {
		send_error(0, "EXEC on channel 0");
		return;
	}
	if (session_find(h->chan) != NULL) {
		send_error(h->chan, "channel %u already in use", h->chan);
		return;
	}
	if (proto_exec_argv(p, h->len, buf, sizeof(buf), argv,
	    AGENT_MAX_ARGS) < 0) {
		send_error(h->chan, errno == E2BIG ?
		    "malformed EXEC: too many arguments" :
		    "malformed EXEC: bad argv");
		return;
	}
	session_start(h->chan, h->flags, argv);
}

static void
handle_stdin(const struct proto_hdr *h, const uint8_t *p)
{
	struct agent_session *s = session_find(h->chan);

	/* Input for a session that ended (or never took stdin) is dropped. */
	if (s == NULL || s->in_fd < 0 || s->in_eof)
		return;
	if (h->len == 0) {
		s->in_eof = true;
		if (s->in_len == 0)
			close_fd(&s->in_fd);
		return;
	}
	/* The port is not read while this could overflow (stdin_full). */
	if (s->in_off + s->in_len + h->len > AGENT_STDIN_SIZE) {
		memmove(s->inbuf, s->inbuf + s->in_off, s->in_len);
		s->in_off = 0;
	}
	memcpy(s->inbuf + s->in_off + s->in_len, p, h->len);
	s->in_len += h->len;
}

static void
handle_kill(const struct proto_hdr *h, const uint8_t *p)
{
	struct agent_session *s = session_find(h->chan);
	uint32_t sig;

	if (h->len != 4) {
		send_error(0, "malformed KILL on channel %u", h->chan);
		return;
	}
	sig = le_get32(p);
	if (sig == 0 || sig > 64) {
		send_error(0, "KILL on channel %u: bad signal %u", h->chan, sig);
		return;
	}
	if (s == NULL || s->exited)
		return;		/* already over: EXIT is on its way */
	if (kill(-s->pid, (int)sig) < 0)
		log_warn("chan %u: kill %d", h->chan, (int)sig);
}

static void
handle_hello(void)
{
	char payload[sizeof(AGENT_VERSION) + 256 + 1];
	char host[256] = "";
	size_t n;

	sessions_abort_all();
	outq_discard(&agent.outq);
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	memcpy(payload, AGENT_VERSION, sizeof(AGENT_VERSION));
	n = sizeof(AGENT_VERSION);
	memcpy(payload + n, host, strlen(host) + 1);
	n += strlen(host) + 1;
	send_frame(PROTO_HELLO_ACK, 0, payload, n);
	log_info("host connected");
}

static void
handle_frame(const struct proto_hdr *h, const uint8_t *p)
{
	agent.host_spoke = true;
	switch (h->type) {
	case PROTO_HELLO:
		handle_hello();
		break;
	case PROTO_PING:
		send_frame(PROTO_PONG, h->chan, p, h->len);
		break;
	case PROTO_PONG:
		break;
	case PROTO_EXEC:
		handle_exec(h, p);
		break;
	case PROTO_STDIN:
		handle_stdin(h, p);
		break;
	case PROTO_KILL:
		handle_kill(h, p);
		break;
	case PROTO_ERROR:
		log_warnx("host reports an error on chan %u: %.*s", h->chan,
		    (int)(h->len > 200 ? 200 : h->len), (const char *)p);
		break;
	default:
		send_error(0, "unknown frame type %u on channel %u", h->type,
		    h->chan);
		break;
	}
}

/* A session's stdin buffer cannot take one more frame of the largest size. */
static bool
stdin_full(void)
{
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		if (agent.sess[i].chan != 0 &&
		    agent.sess[i].in_len + PROTO_MAX_PAYLOAD > AGENT_STDIN_SIZE)
			return true;
	return false;
}

/* Room for the largest reply to any one frame (PONG echoes a payload). */
static bool
can_take_frame(void)
{
	return outq_room(&agent.outq) >= 2 * PROTO_HDR_SIZE +
	    PROTO_MAX_PAYLOAD && !stdin_full();
}

static void
process_rx(void)
{
	struct proto_hdr h;
	const uint8_t *p;

	while (can_take_frame() && proto_rx_next(&agent.rx, &h, &p) == 1)
		handle_frame(&h, p);
}

/* The host went away: its sessions are of no use to anyone. */
static void
port_disconnected(void)
{
	if (agent.host_spoke)
		log_info("host disconnected");
	sessions_abort_all();
	outq_reset(&agent.outq);
	proto_rx_init(&agent.rx);
	agent.host_spoke = false;
	agent.connected = false;
}

static void
port_readable(short revents)
{
	ssize_t n;

	if (agent.rx.have >= sizeof(agent.rx.buf)) {
		/* Full of frames we cannot take yet; a hang-up ends them. */
		if (revents & POLLHUP)
			port_disconnected();
		return;
	}
	n = proto_rx_read(&agent.rx, agent.port_fd);
	if (n == 0) {
		port_disconnected();
	} else if (n < 0 && errno != EAGAIN) {
		/* The port is gone (unplugged?): init starts us again. */
		log_warn("read port");
		exit(1);
	}
}

/*
 * Read one chunk of a session's stdout or stderr into the output queue.
 * Returns false at end of file (or, after the process exited, when the
 * pipe is empty: a background child may hold it open for ever).
 */
static bool
session_read(struct agent_session *s, int fd, uint16_t type)
{
	uint8_t buf[AGENT_CHUNK];
	ssize_t n;

	do {
		n = read(fd, buf, sizeof(buf));
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		send_frame(type, s->chan, buf, (size_t)n);
		if (s->exited)
			s->drained += (size_t)n;
		return !(s->exited && s->drained > AGENT_DRAIN_MAX);
	}
	if (n < 0 && errno == EAGAIN)
		return !s->exited;
	return false;
}

static bool
outq_has_room_for_chunk(void)
{
	return outq_room(&agent.outq) >= PROTO_HDR_SIZE + AGENT_CHUNK;
}

/* After exit: drain the pipes, then report EXIT and free the slot. */
static void
session_finish(struct agent_session *s)
{
	struct proto_exit ex;
	uint8_t payload[8];

	while (s->out_fd >= 0 && outq_has_room_for_chunk())
		if (!session_read(s, s->out_fd, PROTO_STDOUT))
			close_fd(&s->out_fd);
	while (s->err_fd >= 0 && outq_has_room_for_chunk())
		if (!session_read(s, s->err_fd, PROTO_STDERR))
			close_fd(&s->err_fd);
	if (s->out_fd >= 0 || s->err_fd >= 0 ||
	    outq_room(&agent.outq) < PROTO_HDR_SIZE + sizeof(payload))
		return;
	if (WIFEXITED(s->status)) {
		ex.code = WEXITSTATUS(s->status);
		ex.signal = 0;
	} else {
		ex.code = -1;
		ex.signal = WIFSIGNALED(s->status) ? WTERMSIG(s->status) : 0;
	}
	for (int i = 0; i < 4; i++) {
		payload[i] = (uint8_t)((uint32_t)ex.code >> (8 * i));
		payload[4 + i] = (uint8_t)((uint32_t)ex.signal >> (8 * i));
	}
	send_frame(PROTO_EXIT, s->chan, payload, sizeof(payload));
	log_debug("chan %u: exit %d signal %d", s->chan, ex.code, ex.signal);
	session_free(s);
}

static void
reap_children(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++) {
			struct agent_session *s = &agent.sess[i];

			if (s->chan != 0 && s->pid == pid && !s->exited) {
				s->exited = true;
				s->status = status;
				/* Nobody reads stdin any more. */
				close_fd(&s->in_fd);
				s->in_len = 0;
			}
		}
	}
}

static void
signals_readable(void)
{
	struct signalfd_siginfo si;

	while (read(agent.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap_children();
		else if (si.ssi_signo == SIGIO && !agent.connected) {
			/* Connection state changed: look at the port again. */
			agent.connected = true;
		}
	}
}

static void
session_write_stdin(struct agent_session *s)
{
	while (s->in_len > 0) {
		ssize_t n = write(s->in_fd, s->inbuf + s->in_off, s->in_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			/* EPIPE: the command closed its stdin. */
			s->in_len = 0;
			s->in_off = 0;
			close_fd(&s->in_fd);
			return;
		}
		s->in_off += (size_t)n;
		s->in_len -= (size_t)n;
	}
	s->in_off = 0;
	if (s->in_eof)
		close_fd(&s->in_fd);
}

/* Find /dev/vportNpM named AGENT_PORT_NAME; 0 and path, or -1. */
static int
find_port(char *path, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int rc = -1;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char p[512], name[64];
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name",
		    e->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n <= 0)
			continue;
		name[n] = '\0';
		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, AGENT_PORT_NAME) == 0) {
			snprintf(path, len, "/dev/%s", e->d_name);
			if (access(path, R_OK | W_OK) == 0)
				rc = 0;
			break;
		}
	}
	closedir(d);
	return rc;
}

/*
 * Wait until the port exists: device nodes appear in /dev (inotify);
 * the sysfs name is rechecked at each creation and every 10 s at most.
 */
static int
open_port(void)
{
	char path[300];
	int ino, fd;
	bool told = false;

	ino = inotify_init1(IN_CLOEXEC);
	if (ino >= 0 && inotify_add_watch(ino, "/dev", IN_CREATE | IN_ATTRIB) < 0) {
		close(ino);
		ino = -1;
	}
	while (find_port(path, sizeof(path)) < 0) {
		struct pollfd pfd = { .fd = ino, .events = POLLIN };
		char buf[4096];

		if (!told) {
			log_info("waiting for the virtio-serial port %s",
			    AGENT_PORT_NAME);
			told = true;
		}
		if (ino < 0) {
			sleep(10);
			continue;
		}
		if (poll(&pfd, 1, 10000) > 0)
			while (read(ino, buf, sizeof(buf)) < 0 && errno == EINTR)
				;
	}
	if (ino >= 0)
		close(ino);
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_warn("open %s", path);
		return -1;
	}
	/* SIGIO on connection changes (and data), delivered via signalfd. */
	if (fcntl(fd, F_SETOWN, getpid()) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK | O_ASYNC) < 0)
		log_warn("O_ASYNC on %s: reconnections may go unnoticed", path);
	log_info("using %s", path);
	return fd;
}

enum { PFD_SIG, PFD_PORT, PFD_SESS };

static void
loop(void)
{
	struct pollfd pfd[PFD_SESS + 3 * AGENT_MAX_SESSIONS];

	for (;;) {
		struct outq *q = &agent.outq;
		bool chunk_room;
		int n = PFD_SESS;

		process_rx();
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
			if (agent.sess[i].chan != 0 && agent.sess[i].exited)
				session_finish(&agent.sess[i]);
		chunk_room = outq_has_room_for_chunk();

		pfd[PFD_SIG] = (struct pollfd){ .fd = agent.sig_fd, .events = POLLIN };
		pfd[PFD_PORT] = (struct pollfd){ .fd = -1 };
		if (agent.connected) {
			pfd[PFD_PORT].fd = agent.port_fd;
			if (agent.rx.have < sizeof(agent.rx.buf))
				pfd[PFD_PORT].events |= POLLIN;
			if (agent.host_spoke && outq_len(q) > 0)
				pfd[PFD_PORT].events |= POLLOUT;
		}
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++) {
			struct agent_session *s = &agent.sess[i];

			if (s->chan == 0 || s->exited)
				continue;
			pfd[n++] = (struct pollfd){ .fd = chunk_room ? s->out_fd : -1,
			    .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = chunk_room ? s->err_fd : -1,
			    .events = POLLIN };
			pfd[n++] = (struct pollfd){ .fd = s->in_len > 0 ? s->in_fd : -1,
			    .events = POLLOUT };
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}

		if (pfd[PFD_SIG].revents & POLLIN)
			signals_readable();
		if (pfd[PFD_PORT].fd >= 0 && pfd[PFD_PORT].revents != 0) {
			short ev = pfd[PFD_PORT].revents;

			if (ev & POLLOUT && outq_flush(q, agent.port_fd) < 0) {
				log_warn("write port");
				port_disconnected();
			}
			if (agent.connected && ev & (POLLIN | POLLHUP | POLLERR))
				port_readable(ev);
		}
		n = PFD_SESS;
		for (int i = 0; i < AGENT_MAX_SESSIONS; i++) {
			struct agent_session *s = &agent.sess[i];

			if (s->chan == 0 || s->exited)
				continue;
			if (pfd[n].fd >= 0 && pfd[n].revents != 0 &&
			    outq_has_room_for_chunk() &&
			    !session_read(s, s->out_fd, PROTO_STDOUT))
				close_fd(&s->out_fd);
			if (pfd[n + 1].fd >= 0 && pfd[n + 1].revents != 0 &&
			    outq_has_room_for_chunk() &&
			    !session_read(s, s->err_fd, PROTO_STDERR))
				close_fd(&s->err_fd);
			if (pfd[n + 2].fd >= 0 && pfd[n + 2].revents != 0)
				session_write_stdin(s);
			n += 3;
		}
	}
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGCHLD, SIGIO };

	log_init("isles-agent", NULL);
	if (argc > 1 && strcmp(argv[1], "-v") == 0)
		log_setverbose(2);
	signal(SIGPIPE, SIG_IGN);
	setenv("PATH", AGENT_PATH, 1);

	if (outq_init(&agent.outq, &outq_policy) < 0)
		fatal("malloc");
	for (int i = 0; i < AGENT_MAX_SESSIONS; i++)
		session_free(&agent.sess[i]);
	proto_rx_init(&agent.rx);

	agent.sig_fd = ev_signalfd(sigs, sizeof(sigs) / sizeof(sigs[0]));
	if (agent.sig_fd < 0)
		fatal("signalfd");

	agent.port_fd = open_port();
	if (agent.port_fd < 0)
		return 1;
	agent.connected = true;		/* find out by polling */
	loop();
}
