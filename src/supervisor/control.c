/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control: see control.h.  Called from the supervisor's event loop (the
 * listening socket and each client's socket) and by the supervisor's
 * events; calls the supervisor only through struct control_ops, and the
 * VMs' agent links as the owner of exec sessions.
 *
 * Clients are never freed outside their own event handler: client_finish
 * and client_err only mark them closing (closed once their queue is
 * flushed), so they may be called from any callback, while iterating.
 */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "outq.h"
#include "proto.h"

/* A client that is not an exec and holds more than this is dropped. */
#define CLIENT_HARD_MAX	(1024u * 1024u)

enum client_kind { CL_NEW, CL_EXEC, CL_WATCH, CL_DOWN, CL_RESTART, CL_DONE };

struct client {
	struct control *ctl;
	int fd;
	struct proto_rx *rx;
	struct outq out;
	enum client_kind kind;
	int vm;			/* CL_EXEC, CL_RESTART */
	uint32_t chan;		/* CL_EXEC */
	bool rd_paused;		/* not reading: the agent's queue is full */
	bool closing;		/* close once out is flushed */
	struct client *next;
};

static void client_cb(void *arg, int fd, uint32_t events);

static void
client_close(struct client *cl)
{
	struct control *c = cl->ctl;
	struct client **pp;

	if (cl->kind == CL_EXEC && cl->vm >= 0 && (size_t)cl->vm < c->nvms)
		link_detach(&c->vms[cl->vm].link, cl->chan, cl);
	ev_unwatch(c->loop, cl->fd);
	close(cl->fd);
	for (pp = &c->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	c->nclients--;
	outq_free(&cl->out);
	free(cl->rx);
	free(cl);
}

/* Recompute what we wait for on cl's socket. */
static void
client_update(struct client *cl)
{
	uint32_t mask = 0;

	if (!cl->rd_paused && !cl->closing)
		mask |= EPOLLIN;
	if (outq_len(&cl->out) > 0 || cl->closing)
		mask |= EPOLLOUT;	/* closing: the next EPOLLOUT closes */
	(void)ev_set_events(cl->ctl->loop, cl->fd, mask);
}

/* Queue a frame to cl; 0 / -1 (cl is then closing). */
static int
client_send(struct client *cl, uint16_t type, uint16_t flags, const void *p,
    size_t len)
{
	if (cl->closing && type != CTL_ERR)
		return 0;
	if (outq_frame(&cl->out, type, flags, 0, p, len) < 0) {
		log_warn("control client: queue");
		cl->closing = true;
		client_update(cl);
		return -1;
	}
	if (cl->kind != CL_EXEC && outq_len(&cl->out) > CLIENT_HARD_MAX) {
		log_warnx("control client not reading: dropped");
		outq_free(&cl->out);
		cl->closing = true;
	}
	client_update(cl);
	return 0;
}

/* Close cl once what is queued is written. */
static void
client_finish(struct client *cl)
{
	cl->closing = true;
	client_update(cl);
}

/* Send ERR (flags = the CLI's exit code) and finish. */
static void client_err(struct client *cl, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
client_err(struct client *cl, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	(void)client_send(cl, CTL_ERR, (uint16_t)code, msg, (size_t)n);
	client_finish(cl);
}

/* ---- a client as the owner of an exec session (agentlink.h) ---- */

static void
exec_output(void *owner, uint16_t stream, const void *p, size_t len)
{
	(void)client_send(owner, stream == PROTO_STDOUT ? CTL_STDOUT :
	    CTL_STDERR, 0, p, len);
}

static void
exec_exit(void *owner, const void *p, size_t len)
{
	struct client *cl = owner;

	(void)client_send(cl, CTL_EXIT, 0, p, len);
	cl->kind = CL_DONE;
	client_finish(cl);
}

static void
exec_error(void *owner, const char *msg)
{
	struct client *cl = owner;

	cl->kind = CL_DONE;
	client_err(cl, 1, "%s", msg);
}

static size_t
exec_queued(void *owner)
{
	const struct client *cl = owner;

	return outq_len(&cl->out);
}

static void
exec_resume(void *owner)
{
	struct client *cl = owner;

	if (cl->rd_paused) {
		cl->rd_paused = false;
		client_update(cl);
	}
}

static const struct link_owner_ops exec_ops = {
	.output = exec_output,
	.exit = exec_exit,
	.error = exec_error,
	.queued = exec_queued,
	.resume = exec_resume,
};

/* ---- requests ---- */

static void
accept_cb(void *arg, int fd, uint32_t events)
{
	struct control *c = arg;
	struct client *cl;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control socket accept");
		return;
	}
	if (c->nclients >= CLIENTS_MAX) {
		log_warnx("too many control clients; refusing one");
		close(cfd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl != NULL)
		cl->rx = malloc(sizeof(*cl->rx));
	if (cl == NULL || cl->rx == NULL ||
	    ev_watch(c->loop, cfd, EPOLLIN, client_cb, cl) < 0) {
		log_warn("control client");
		if (cl != NULL)
			free(cl->rx);
		free(cl);
		close(cfd);
		return;
	}
	proto_rx_init(cl->rx);
	cl->ctl = c;
	cl->fd = cfd;
	cl->vm = -1;
	cl->kind = CL_NEW;
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
}

int
control_init(struct control *c, struct ev_loop *loop, int fd,
    const struct sc_system *sys, struct vm *vms, size_t nvms,
    const struct control_ops *ops, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->fd = fd;
	c->sys = sys;
	c->vms = vms;
	c->nvms = nvms;
	c->ops = ops;
	c->arg = arg;
	return ev_watch(loop, fd, EPOLLIN, accept_cb, c);
}

/* "VM\0" at the start of p: returns the VM or NULL after replying. */
static struct vm *
find_vm_arg(struct client *cl, const uint8_t *p, size_t len, size_t *used)
{
	struct control *c = cl->ctl;
	size_t n = strnlen((const char *)p, len);
	int idx;

	if (n == len || n == 0) {
		client_err(cl, 2, "malformed request");
		return NULL;
	}
	*used = n + 1;
	idx = sc_vm_find(c->sys, (const char *)p);
	if (idx < 0) {
		char names[512] = "";
		size_t off = 0;

		for (size_t i = 0; i < c->nvms && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off,
			    "%s%s", i ? " " : "", c->vms[i].cfg->name);
		client_err(cl, 2, "no VM named '%.*s' in system %s "
		    "(VMs: %s)", (int)(n > 64 ? 64 : n), (const char *)p,
		    c->sys->name, names);
		return NULL;
	}
	return &c->vms[idx];
}

static void
req_exec(struct client *cl, const struct proto_hdr *h, const uint8_t *p)
{
	struct control *c = cl->ctl;
	struct vm *vm;
	size_t used = 0;
	uint32_t chan;

	vm = find_vm_arg(cl, p, h->len, &used);
	if (vm == NULL)
		return;
	/* argv: at least one string, every one NUL-terminated. */
	if (used >= h->len || p[h->len - 1] != '\0') {
		client_err(cl, 2, "exec: no command given");
		return;
	}
	if (c->stopping) {
		client_err(cl, 1, "system %s is stopping", c->sys->name);
		return;
	}
	if (vm->state != VM_READY) {
		client_err(cl, 1, "%s is not ready (state: %s%s%s)",
		    vm->cfg->name, vm_state_name(vm->state),
		    vm->reason[0] ? "; " : "", vm->reason);
		return;
	}
	if (link_exec(&vm->link, &exec_ops, cl, p + used, h->len - used,
	    (h->flags & CTL_F_STDIN) != 0, &chan) < 0)
		return;		/* exec_error told the client */
	cl->kind = CL_EXEC;
	cl->vm = (int)vm->idx;
	cl->chan = chan;
}

/* STDIN and KILL of a running exec. */
static void
req_exec_input(struct client *cl, const struct proto_hdr *h,
    const uint8_t *p)
{
	struct agentlink *l = &cl->ctl->vms[cl->vm].link;
	uint32_t sig;

	switch (h->type) {
	case CTL_STDIN:
		if (link_send(l, PROTO_STDIN, 0, cl->chan, p, h->len) == 0 &&
		    link_queued(l) > Q_HIGH) {
			cl->rd_paused = true;
			client_update(cl);
		}
		return;
	case CTL_KILL:
		if (h->len != 4)
			return;
		memcpy(&sig, p, 4);
		if (sig == 0 || sig > 64)
			return;
		(void)link_send(l, PROTO_KILL, 0, cl->chan, p, 4);
		return;
	default:
		return;
	}
}

static void
req_dispatch(struct client *cl, const struct proto_hdr *h, const uint8_t *p)
{
	struct control *c = cl->ctl;
	struct vm *vm;
	size_t used;

	if (cl->kind == CL_EXEC) {
		req_exec_input(cl, h, p);
		return;
	}
	if (cl->kind != CL_NEW)
		return;		/* one request per connection */
	switch (h->type) {
	case CTL_STATUS: {
		char *buf = malloc(PROTO_MAX_PAYLOAD);
		size_t n;

		if (buf == NULL) {
			client_err(cl, 1, "out of memory");
			return;
		}
		n = c->ops->status(c->arg, (h->flags & CTL_F_JSON) != 0, buf,
		    PROTO_MAX_PAYLOAD);
		cl->kind = CL_DONE;
		(void)client_send(cl, CTL_OK, 0, buf, n);
		free(buf);
		client_finish(cl);
		return;
	}
	case CTL_EXEC:
		req_exec(cl, h, p);
		return;
	case CTL_WATCH:
		cl->kind = CL_WATCH;
		for (size_t i = 0; i < c->nvms; i++)
			control_vm_event(c, &c->vms[i], NULL);
		if (c->running)
			(void)client_send(cl, CTL_READY, 0, NULL, 0);
		else if (c->failed)
			(void)client_send(cl, CTL_FAILED, 0, c->fail_reason,
			    strlen(c->fail_reason));
		return;
	case CTL_DOWN: {
		uint32_t t = 0;

		if (h->len == 4)
			memcpy(&t, p, 4);
		cl->kind = CL_DOWN;
		(void)client_send(cl, CTL_OK, 0, NULL, 0);
		c->ops->down(c->arg, t);
		return;
	}
	case CTL_RESTART:
		vm = find_vm_arg(cl, p, h->len, &used);
		if (vm == NULL)
			return;
		if (c->stopping) {
			client_err(cl, 1, "system %s is stopping",
			    c->sys->name);
			return;
		}
		cl->kind = CL_RESTART;
		cl->vm = (int)vm->idx;
		if (c->ops->restart(c->arg, vm) < 0) {
			cl->kind = CL_DONE;
			client_err(cl, 1, "%s: cannot restart: %s",
			    vm->cfg->name, strerror(errno));
		}
		return;
	default:
		client_err(cl, 2, "unknown request type %u", h->type);
		return;
	}
}

static void
client_cb(void *arg, int fd, uint32_t events)
{
	struct client *cl = arg;
	struct control *c = cl->ctl;
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		int r = outq_flush(&cl->out, cl->fd);

		if (r < 0 || (r == 1 && cl->closing)) {
			client_close(cl);
			return;
		}
		if (cl->kind == CL_EXEC && outq_len(&cl->out) < Q_LOW)
			link_update(&c->vms[cl->vm].link);
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !cl->rd_paused &&
	    !cl->closing) {
		n = proto_rx_read(cl->rx, cl->fd);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(cl);
			return;
		}
		while (!cl->closing && proto_rx_next(cl->rx, &h, &p) == 1)
			req_dispatch(cl, &h, p);
	}
	client_update(cl);
}

/* ---- events from the supervisor ---- */

/* A frame to every WATCH and DOWN client. */
static void
broadcast(struct control *c, uint16_t type, const void *p, size_t len)
{
	for (struct client *cl = c->clients; cl != NULL; cl = cl->next)
		if (!cl->closing &&
		    (cl->kind == CL_WATCH || cl->kind == CL_DOWN))
			(void)client_send(cl, type, 0, p, len);
}

void
control_vm_event(struct control *c, const struct vm *vm, const char *detail)
{
	char msg[1024];
	int n;

	n = snprintf(msg, sizeof(msg), "%s%c%s%c%s", vm->cfg->name, '\0',
	    vm_state_name(vm->state), '\0', detail ? detail : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	for (struct client *cl = c->clients, *next; cl != NULL; cl = next) {
		next = cl->next;
		if (cl->closing)
			continue;
		if (cl->kind == CL_WATCH || cl->kind == CL_DOWN)
			(void)client_send(cl, CTL_EVENT, 0, msg, (size_t)n);
		if (cl->kind == CL_RESTART && cl->vm == (int)vm->idx) {
			if (vm->state == VM_READY) {
				cl->kind = CL_DONE;
				(void)client_send(cl, CTL_OK, 0, NULL, 0);
				client_finish(cl);
			} else if (vm->state == VM_CRASHED ||
			    vm->state == VM_STOPPED) {
				cl->kind = CL_DONE;
				client_err(cl, 1, "%s: %s%s%s", vm->cfg->name,
				    vm_state_name(vm->state),
				    vm->reason[0] ? ": " : "", vm->reason);
			}
		}
	}
}

void
control_ready(struct control *c)
{
	c->running = true;
	broadcast(c, CTL_READY, NULL, 0);
}

void
control_failed(struct control *c, const char *reason)
{
	c->failed = true;
	snprintf(c->fail_reason, sizeof(c->fail_reason), "%s", reason);
	broadcast(c, CTL_FAILED, reason, strlen(reason));
}

void
control_stopping(struct control *c)
{
	c->running = false;
	c->stopping = true;
}

void
control_close(struct control *c)
{
	while (c->clients != NULL) {
		/* Best effort: hand over what is queued, then close. */
		(void)outq_flush(&c->clients->out, c->clients->fd);
		client_close(c->clients);
	}
	if (c->fd >= 0) {
		ev_unwatch(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
}
