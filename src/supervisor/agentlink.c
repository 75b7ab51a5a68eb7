/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentlink: see agentlink.h.  Called by vm.c (connect, HELLO, close) and
 * control.c (exec sessions); calls back only through `ready` and each
 * session's link_owner_ops.
 *
 * Everything the agent sends is hostile: proto_rx bounds and resyncs the
 * framing; here every frame is checked against the session table (unknown
 * channel, wrong type or size: dropped and counted).  A flooding agent
 * cannot grow our memory: it is not read while an owner's queue is full.
 */
#include "agentlink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "unixsock.h"

static void link_cb(void *arg, int fd, uint32_t events);

void
link_init(struct agentlink *l, struct ev_loop *loop, const char *name,
    const char *path, void (*ready)(void *arg, const char *version),
    void *arg)
{
	memset(l, 0, sizeof(*l));
	l->loop = loop;
	l->name = name;
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->fd = -1;
	l->next_chan = 1;
	l->ready = ready;
	l->arg = arg;
}

/* Copy guest text for a log line: printable ASCII only, bounded. */
static void
sanitize(char *out, size_t outlen, const uint8_t *p, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 1 < outlen; i++)
		out[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[j] = '\0';
}

bool
link_up(const struct agentlink *l)
{
	return l->fd >= 0;
}

size_t
link_queued(const struct agentlink *l)
{
	return outq_len(&l->out);
}

int
link_connect(struct agentlink *l)
{
	int fd;

	if (l->fd >= 0)
		return 0;
	fd = unixsock_connect(l->path, SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	l->rx = malloc(sizeof(*l->rx));
	if (l->rx == NULL) {
		close(fd);
		return -1;
	}
	proto_rx_init(l->rx);
	if (ev_watch(l->loop, fd, EPOLLIN, link_cb, l) < 0) {
		int e = errno;

		log_warn("%s: watch the agent port", l->name);
		free(l->rx);
		l->rx = NULL;
		close(fd);
		errno = e;
		return -1;
	}
	l->fd = fd;
	l->paused = false;
	memset(l->sess, 0, sizeof(l->sess));
	log_info("%s: connected to the agent port", l->name);
	return 0;
}

/* Free session ss; its owner, if still there, is told nothing more. */
static void
sess_end(struct link_session *ss)
{
	ss->used = false;
	ss->owner = NULL;
	ss->ops = NULL;
}

/* End session ss with an error to its owner (if any). */
static void
sess_fail(struct link_session *ss, const char *msg)
{
	const struct link_owner_ops *ops = ss->ops;
	void *owner = ss->owner;

	sess_end(ss);
	if (owner != NULL)
		ops->error(owner, msg);
}

void
link_close(struct agentlink *l, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s while the command ran", l->name,
	    why);
	for (size_t i = 0; i < SESS_MAX; i++)
		if (l->sess[i].used)
			sess_fail(&l->sess[i], msg);
	if (l->fd < 0)
		return;
	ev_unwatch(l->loop, l->fd);
	close(l->fd);
	l->fd = -1;
	free(l->rx);
	l->rx = NULL;
	outq_free(&l->out);
	l->paused = false;
}

static struct link_session *
sess_find(struct agentlink *l, uint32_t chan)
{
	if (chan == 0)
		return NULL;
	for (size_t i = 0; i < SESS_MAX; i++)
		if (l->sess[i].used && l->sess[i].chan == chan)
			return &l->sess[i];
	return NULL;
}

void
link_update(struct agentlink *l)
{
	bool full = false, drained = true;
	uint32_t mask;

	if (l->fd < 0)
		return;
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct link_session *ss = &l->sess[i];
		size_t q;

		if (!ss->used || ss->owner == NULL)
			continue;
		q = ss->ops->queued(ss->owner);
		if (q > Q_HIGH)
			full = true;
		if (q > Q_LOW)
			drained = false;
	}
	if (full)
		l->paused = true;
	else if (drained)
		l->paused = false;
	/* Paused and nothing to write: silenced, hang-ups included. */
	mask = (l->paused ? 0 : EPOLLIN) |
	    (outq_len(&l->out) > 0 ? EPOLLOUT : 0);
	(void)ev_set_events(l->loop, l->fd, mask);
	/* Owners whose input we held back: resume if room again. */
	if (outq_len(&l->out) < Q_LOW)
		for (size_t i = 0; i < SESS_MAX; i++) {
			struct link_session *ss = &l->sess[i];

			if (ss->used && ss->owner != NULL)
				ss->ops->resume(ss->owner);
		}
}

int
link_send(struct agentlink *l, uint16_t type, uint16_t flags, uint32_t chan,
    const void *p, size_t len)
{
	if (l->fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	if (outq_frame(&l->out, type, flags, chan, p, len) < 0)
		return -1;
	if (outq_flush(&l->out, l->fd) < 0) {
		log_warn("%s: agent port", l->name);
		link_close(l, "agent connection lost");
		return -1;
	}
	link_update(l);
	return 0;
}

int
link_exec(struct agentlink *l, const struct link_owner_ops *ops, void *owner,
    const uint8_t *argv, size_t len, bool with_stdin, uint32_t *chan)
{
	struct link_session *free_slot = NULL;
	char msg[128];
	uint32_t c;

	for (size_t i = 0; i < SESS_MAX && free_slot == NULL; i++)
		if (!l->sess[i].used)
			free_slot = &l->sess[i];
	if (free_slot == NULL) {
		snprintf(msg, sizeof(msg), "%s: too many commands running "
		    "(%d)", l->name, SESS_MAX);
		ops->error(owner, msg);
		return -1;
	}
	/* Channels are not reused while a session (or its EXIT) is live. */
	do {
		c = l->next_chan++;
		if (l->next_chan == 0 || l->next_chan >= 0x7fffffffu)
			l->next_chan = 1;
	} while (c == 0 || sess_find(l, c) != NULL);
	free_slot->used = true;
	free_slot->chan = c;
	free_slot->ops = ops;
	free_slot->owner = owner;
	if (link_send(l, PROTO_EXEC, with_stdin ? PROTO_EXEC_STDIN : 0, c,
	    argv, len) < 0) {
		/* link_close already failed the session, if it closed. */
		if (free_slot->used) {
			snprintf(msg, sizeof(msg), "%s: cannot reach the agent",
			    l->name);
			sess_fail(free_slot, msg);
		}
		return -1;
	}
	log_debug("%s: exec chan %u", l->name, c);
	*chan = c;
	return 0;
}

void
link_detach(struct agentlink *l, uint32_t chan, const void *owner)
{
	struct link_session *ss = sess_find(l, chan);
	uint8_t sig[4] = { 9, 0, 0, 0 };

	if (ss == NULL || ss->owner != owner)
		return;
	ss->owner = NULL;
	if (l->fd < 0) {
		sess_end(ss);
		return;
	}
	/* Keep the slot until the agent's EXIT: the channel stays taken. */
	(void)link_send(l, PROTO_KILL, 0, ss->chan, sig, sizeof(sig));
}

/* One validated frame from the agent. */
static void
link_frame(struct agentlink *l, const struct proto_hdr *h, const uint8_t *p)
{
	struct link_session *ss;
	char text[128], msg[200];

	if (h->chan == 0) {
		switch (h->type) {
		case PROTO_HELLO_ACK: {
			size_t n = strnlen((const char *)p, h->len);

			sanitize(l->version, sizeof(l->version), p,
			    n < 31 ? n : 31);
			l->ready(l->arg, l->version);
			return;
		}
		case PROTO_PONG:
			return;
		case PROTO_ERROR:
			sanitize(text, sizeof(text), p, h->len);
			log_warnx("%s: agent error: %s", l->name, text);
			return;
		default:
			break;
		}
		l->dropped++;
		return;
	}
	ss = sess_find(l, h->chan);
	if (ss == NULL) {
		l->dropped++;
		log_debug("%s: frame type %u for unknown channel %u dropped",
		    l->name, h->type, h->chan);
		return;
	}
	switch (h->type) {
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (ss->owner != NULL)
			ss->ops->output(ss->owner, h->type, p, h->len);
		return;
	case PROTO_EXIT: {
		const struct link_owner_ops *ops = ss->ops;
		void *owner = ss->owner;

		if (h->len != sizeof(struct proto_exit)) {
			l->dropped++;
			return;
		}
		sess_end(ss);
		if (owner != NULL)
			ops->exit(owner, p, h->len);
		return;
	}
	case PROTO_ERROR:
		sanitize(text, sizeof(text), p, h->len);
		snprintf(msg, sizeof(msg), "%s: %s", l->name, text);
		sess_fail(ss, msg);
		return;
	default:
		l->dropped++;
		return;
	}
}

static void
link_cb(void *arg, int fd, uint32_t events)
{
	struct agentlink *l = arg;
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	if (events & EPOLLOUT) {
		if (outq_flush(&l->out, l->fd) < 0) {
			link_close(l, "agent connection lost");
			return;
		}
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !l->paused) {
		n = proto_rx_read(l->rx, l->fd);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* QEMU closed the port: it is exiting. */
			link_close(l, "the VM stopped");
			return;
		}
		while (l->fd >= 0 && proto_rx_next(l->rx, &h, &p) == 1)
			link_frame(l, &h, p);
	}
	link_update(l);
}
