/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentlink: the supervisor's link to one VM's guest agent (isles-agent,
 * src/guest/agent) over the VM's virtio-serial port, which QEMU exposes
 * as the Unix socket R/vm/VM/agent.sock.  Carries the readiness handshake
 * (HELLO / HELLO_ACK) and multiplexes exec sessions, one channel each,
 * between control clients and the agent.
 *
 * Everything the agent sends is hostile: proto_rx bounds and resyncs the
 * framing; here every frame is checked against the session table (unknown
 * channel, wrong type or size: dropped and counted).  A flooding agent
 * cannot grow our memory: when a client's queue passes Q_HIGH we stop
 * reading the agent (backpressure) until it drains below Q_LOW; exec
 * output is never dropped.  Symmetrically a client's STDIN is not read
 * while the agent's queue is above Q_HIGH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "rundir.h"
#include "supervise.h"
#include "unixsock.h"

static void link_event(struct sup *s, struct ev_src *src, uint32_t events);

void
link_init(struct agentlink *l)
{
	memset(l, 0, sizeof(*l));
	l->src.fd = -1;
	l->src.fn = link_event;
	l->next_chan = 1;
}

static struct vm_rt *
link_vm(struct sup *s, struct ev_src *src)
{
	for (size_t i = 0; i < s->nvms; i++)
		if (&s->vms[i].link.src == src)
			return &s->vms[i];
	return NULL;
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

int
link_connect(struct sup *s, struct vm_rt *vm)
{
	struct agentlink *l = &vm->link;
	char path[PATH_MAX];
	int fd;

	if (l->src.fd >= 0)
		return 0;
	if (rd_path(path, sizeof(path), "%s/vm/%s/agent.sock", s->rundir,
	    vm->cfg->name) < 0)
		return -1;
	fd = unixsock_connect(path, SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	l->rx = malloc(sizeof(*l->rx));
	if (l->rx == NULL) {
		close(fd);
		return -1;
	}
	proto_rx_init(l->rx);
	l->src.fd = fd;
	l->paused = false;
	memset(l->sess, 0, sizeof(l->sess));
	if (sup_watch(s, &l->src, EPOLLIN) < 0) {
		int e = errno;

		free(l->rx);
		l->rx = NULL;
		close(fd);
		l->src.fd = -1;
		errno = e;
		return -1;
	}
	log_info("%s: connected to the agent port", vm->cfg->name);
	return 0;
}

/* End every session with an error to its client; free the slots. */
static void
fail_sessions(struct sup *s, struct vm_rt *vm, const char *why)
{
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct session *ss = &vm->link.sess[i];

		if (!ss->used)
			continue;
		if (ss->cl != NULL) {
			ss->cl->kind = CL_DONE;
			client_err(s, ss->cl, 1, "%s: %s while the command "
			    "ran", vm->cfg->name, why);
		}
		ss->used = false;
		ss->cl = NULL;
	}
}

void
link_close(struct sup *s, struct vm_rt *vm, const char *why)
{
	struct agentlink *l = &vm->link;

	fail_sessions(s, vm, why);
	if (l->src.fd < 0)
		return;
	sup_unwatch(s, &l->src);
	close(l->src.fd);
	l->src.fd = -1;
	free(l->rx);
	l->rx = NULL;
	outq_free(&l->out);
	l->paused = false;
}

static struct session *
sess_find(struct agentlink *l, uint32_t chan)
{
	if (chan == 0)
		return NULL;
	for (size_t i = 0; i < SESS_MAX; i++)
		if (l->sess[i].used && l->sess[i].chan == chan)
			return &l->sess[i];
	return NULL;
}

/* Recompute what we wait for on the agent socket, and backpressure. */
void
link_update(struct sup *s, struct vm_rt *vm)
{
	struct agentlink *l = &vm->link;
	bool full = false, drained = true;
	uint32_t mask;

	if (l->src.fd < 0)
		return;
	for (size_t i = 0; i < SESS_MAX; i++) {
		struct client *cl = l->sess[i].cl;

		if (!l->sess[i].used || cl == NULL)
			continue;
		if (outq_len(&cl->out) > Q_HIGH)
			full = true;
		if (outq_len(&cl->out) > Q_LOW)
			drained = false;
	}
	if (full)
		l->paused = true;
	else if (drained)
		l->paused = false;
	mask = (l->paused ? 0 : EPOLLIN) |
	    (outq_len(&l->out) > 0 ? EPOLLOUT : 0);
	if (mask != l->src.mask)
		(void)sup_watch(s, &l->src, mask);
	/* Clients whose STDIN we stopped reading: resume if room again. */
	if (outq_len(&l->out) < Q_LOW)
		for (size_t i = 0; i < SESS_MAX; i++) {
			struct client *cl = l->sess[i].cl;

			if (l->sess[i].used && cl != NULL && cl->rd_paused) {
				cl->rd_paused = false;
				client_update(s, cl);
			}
		}
}

int
link_send(struct sup *s, struct vm_rt *vm, uint16_t type, uint16_t flags,
    uint32_t chan, const void *p, size_t len)
{
	struct agentlink *l = &vm->link;

	if (l->src.fd < 0) {
		errno = ENOTCONN;
		return -1;
	}
	if (outq_frame(&l->out, type, flags, chan, p, len) < 0)
		return -1;
	if (outq_flush(&l->out, l->src.fd) < 0) {
		log_warn("%s: agent port", vm->cfg->name);
		link_close(s, vm, "agent connection lost");
		return -1;
	}
	link_update(s, vm);
	return 0;
}

int
link_exec(struct sup *s, struct vm_rt *vm, struct client *cl,
    const uint8_t *argv, size_t len, bool with_stdin)
{
	struct agentlink *l = &vm->link;
	struct session *free_slot = NULL;
	uint32_t chan;

	for (size_t i = 0; i < SESS_MAX && free_slot == NULL; i++)
		if (!l->sess[i].used)
			free_slot = &l->sess[i];
	if (free_slot == NULL) {
		client_err(s, cl, 1, "%s: too many commands running (%d)",
		    vm->cfg->name, SESS_MAX);
		return -1;
	}
	/* Channels are not reused while a session (or its EXIT) is live. */
	do {
		chan = l->next_chan++;
		if (l->next_chan == 0 || l->next_chan >= 0x7fffffffu)
			l->next_chan = 1;
	} while (chan == 0 || sess_find(l, chan) != NULL);
	free_slot->used = true;
	free_slot->chan = chan;
	free_slot->cl = cl;
	cl->kind = CL_EXEC;
	cl->vm = (int)vm->idx;
	cl->chan = chan;
	if (link_send(s, vm, PROTO_EXEC, with_stdin ? PROTO_EXEC_STDIN : 0,
	    chan, argv, len) < 0) {
		/* link_close already failed the session, if it closed. */
		if (free_slot->used) {
			free_slot->used = false;
			free_slot->cl = NULL;
			client_err(s, cl, 1, "%s: cannot reach the agent",
			    vm->cfg->name);
		}
		return -1;
	}
	log_debug("%s: exec chan %u", vm->cfg->name, chan);
	return 0;
}

void
link_client_gone(struct sup *s, struct client *cl)
{
	struct vm_rt *vm;
	struct session *ss;

	if (cl->kind != CL_EXEC || cl->vm < 0 || (size_t)cl->vm >= s->nvms)
		return;
	vm = &s->vms[cl->vm];
	ss = sess_find(&vm->link, cl->chan);
	if (ss == NULL || ss->cl != cl)
		return;
	ss->cl = NULL;
	if (vm->link.src.fd < 0) {
		ss->used = false;
		return;
	}
	/* Keep the slot until the agent's EXIT: the channel stays taken. */
	{
		uint8_t sig[4] = { 9, 0, 0, 0 };

		(void)link_send(s, vm, PROTO_KILL, 0, ss->chan, sig,
		    sizeof(sig));
	}
}

/* One validated frame from the agent. */
static void
link_frame(struct sup *s, struct vm_rt *vm, const struct proto_hdr *h,
    const uint8_t *p)
{
	struct agentlink *l = &vm->link;
	struct session *ss;
	char text[128];

	if (h->chan == 0) {
		switch (h->type) {
		case PROTO_HELLO_ACK: {
			size_t n = strnlen((const char *)p, h->len);

			sanitize(l->version, sizeof(l->version), p,
			    n < 31 ? n : 31);
			if (vm->state == VM_BOOTING)
				vm_agent_ready(s, vm, l->version);
			return;
		}
		case PROTO_PONG:
			return;
		case PROTO_ERROR:
			sanitize(text, sizeof(text), p, h->len);
			log_warnx("%s: agent error: %s", vm->cfg->name, text);
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
		    vm->cfg->name, h->type, h->chan);
		return;
	}
	switch (h->type) {
	case PROTO_STDOUT:
	case PROTO_STDERR:
		if (ss->cl != NULL)
			(void)client_send(s, ss->cl, h->type == PROTO_STDOUT ?
			    CTL_STDOUT : CTL_STDERR, 0, p, h->len);
		return;
	case PROTO_EXIT:
		if (h->len != sizeof(struct proto_exit)) {
			l->dropped++;
			return;
		}
		if (ss->cl != NULL) {
			struct client *cl = ss->cl;

			(void)client_send(s, cl, CTL_EXIT, 0, p, h->len);
			cl->kind = CL_DONE;
			client_finish(s, cl);
		}
		ss->used = false;
		ss->cl = NULL;
		return;
	case PROTO_ERROR:
		sanitize(text, sizeof(text), p, h->len);
		if (ss->cl != NULL) {
			struct client *cl = ss->cl;

			cl->kind = CL_DONE;
			client_err(s, cl, 1, "%s: %s", vm->cfg->name, text);
		}
		ss->used = false;
		ss->cl = NULL;
		return;
	default:
		l->dropped++;
		return;
	}
}

static void
link_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct vm_rt *vm = link_vm(s, src);
	struct agentlink *l;
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	if (vm == NULL || vm->link.src.fd < 0)
		return;		/* closed earlier in this epoll batch */
	l = &vm->link;
	if (events & EPOLLOUT) {
		if (outq_flush(&l->out, l->src.fd) < 0) {
			link_close(s, vm, "agent connection lost");
			return;
		}
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !l->paused) {
		n = proto_rx_read(l->rx, l->src.fd);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			/* QEMU closed the port: it is exiting. */
			link_close(s, vm, "the VM stopped");
			return;
		}
		while (l->src.fd >= 0 && proto_rx_next(l->rx, &h, &p) == 1)
			link_frame(s, vm, &h, p);
	}
	link_update(s, vm);
}
