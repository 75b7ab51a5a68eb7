/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * control: the supervisor's control socket R/control.sock and its
 * clients (the isles CLI: status, exec, down, restart, and `up` itself
 * watching the system come up).  Protocol: ctl.h.
 *
 * Trust: the socket lives in the 0700 run dir, so peers are the system's
 * owner; still every request is size- and field-checked, the number of
 * clients is bounded, and a client that stops reading is not allowed to
 * grow our memory (its exec's agent is paused, see agentlink.c; other
 * clients only receive small bounded replies).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "monotime.h"
#include "supervise.h"

/* A client that is not an exec and holds more than this is dropped. */
#define CLIENT_HARD_MAX	(1024u * 1024u)

static void client_event(struct sup *s, struct ev_src *src, uint32_t ev);

static void
client_close(struct sup *s, struct client *cl)
{
	struct client **pp;

	link_client_gone(s, cl);
	sup_unwatch(s, &cl->src);
	close(cl->src.fd);
	for (pp = &s->clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	s->nclients--;
	outq_free(&cl->out);
	free(cl->rx);
	free(cl);
}

void
client_update(struct sup *s, struct client *cl)
{
	uint32_t mask = 0;

	if (!cl->rd_paused && !cl->closing)
		mask |= EPOLLIN;
	if (outq_len(&cl->out) > 0 || cl->closing)
		mask |= EPOLLOUT;	/* closing: the next EPOLLOUT closes */
	if (mask != cl->src.mask)
		(void)sup_watch(s, &cl->src, mask);
}

int
client_send(struct sup *s, struct client *cl, uint16_t type, uint16_t flags,
    const void *p, size_t len)
{
	if (cl->closing && type != CTL_ERR)
		return 0;
	if (outq_frame(&cl->out, type, flags, 0, p, len) < 0) {
		log_warn("control client: queue");
		cl->closing = true;
		client_update(s, cl);
		return -1;
	}
	if (cl->kind != CL_EXEC && outq_len(&cl->out) > CLIENT_HARD_MAX) {
		log_warnx("control client not reading: dropped");
		outq_free(&cl->out);
		cl->closing = true;
	}
	client_update(s, cl);
	return 0;
}

void
client_finish(struct sup *s, struct client *cl)
{
	cl->closing = true;
	client_update(s, cl);
}

void
client_err(struct sup *s, struct client *cl, int code, const char *fmt, ...)
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
	(void)client_send(s, cl, CTL_ERR, (uint16_t)code, msg, (size_t)n);
	client_finish(s, cl);
}

static void
accept_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct client *cl;
	int fd;

	fd = accept4(src->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control socket accept");
		return;
	}
	if (s->nclients >= CLIENTS_MAX) {
		log_warnx("too many control clients; refusing one");
		close(fd);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (cl != NULL)
		cl->rx = malloc(sizeof(*cl->rx));
	if (cl == NULL || cl->rx == NULL) {
		log_warn("control client");
		if (cl != NULL)
			free(cl);
		close(fd);
		return;
	}
	proto_rx_init(cl->rx);
	cl->src.fd = fd;
	cl->src.fn = client_event;
	cl->vm = -1;
	cl->kind = CL_NEW;
	cl->next = s->clients;
	s->clients = cl;
	s->nclients++;
	client_update(s, cl);
}

int
ctl_listen_init(struct sup *s, int fd)
{
	s->ctl.fd = fd;
	s->ctl.fn = accept_event;
	return sup_watch(s, &s->ctl, EPOLLIN);
}

/* Escape a string for JSON into out (always NUL-terminated). */
static void
json_str(char *out, size_t len, const char *in)
{
	size_t j = 0;

	for (; *in != '\0' && j + 7 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '"' || c == '\\') {
			out[j++] = '\\';
			out[j++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f)
			j += (size_t)snprintf(out + j, len - j, "\\u%04x", c);
		else
			out[j++] = (char)c;
	}
	out[j] = '\0';
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static double
child_uptime(const struct child *c)
{
	struct timespec now;

	if (c->state != CHILD_RUNNING)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - c->started.tv_sec) +
	    (double)(now.tv_nsec - c->started.tv_nsec) / 1e9;
}

static const char *
phase_name(const struct sup *s)
{
	if (s->phase == SUP_STOPPING)
		return "stopping";
	return s->phase == SUP_RUNNING ? "running" : "starting";
}

static void
render_json(struct sup *s, struct sbuf *b)
{
	char esc[1100];

	json_str(esc, sizeof(esc), s->sys->name);
	sb_printf(b, "{\"system\":\"%s\",", esc);
	json_str(esc, sizeof(esc), s->rundir);
	sb_printf(b, "\"run_dir\":\"%s\",\"supervisor_pid\":%d,"
	    "\"state\":\"%s\",\"accel\":\"%s\",\"uptime\":%.1f,\"vms\":[", esc,
	    (int)getpid(), phase_name(s),
	    s->accel == SC_ACCEL_KVM ? "kvm" : "tcg",
	    (double)(mono_ms() - s->started_ms) / 1000.0);
	for (size_t i = 0; i < s->nvms; i++) {
		struct vm_rt *vm = &s->vms[i];

		json_str(esc, sizeof(esc), vm->reason);
		sb_printf(b, "%s{\"index\":%u,\"name\":\"%s\",\"state\":\"%s\","
		    "\"pid\":%d,\"uptime\":%.1f,\"memory\":%llu,\"vcpus\":%u,"
		    "\"restarts\":%u,\"last_exit\":%s%s%s}", i ? "," : "",
		    vm->idx, vm->cfg->name, vm_state_name(vm->state),
		    vm->child->state == CHILD_RUNNING ? (int)vm->child->pid : 0,
		    child_uptime(vm->child),
		    (unsigned long long)vm->cfg->memory, vm->cfg->vcpus,
		    vm->child->restarts, vm->reason[0] ? "\"" : "",
		    vm->reason[0] ? esc : "null", vm->reason[0] ? "\"" : "");
	}
	sb_printf(b, "],\"daemons\":[");
	for (size_t i = 0, k = 0; i < s->nchildren; i++) {
		struct child *c = &s->children[i];

		if (c->kind != CHILD_DAEMON)
			continue;
		bool ex = c->state == CHILD_EXITED || c->restarts > 0;

		json_str(esc, sizeof(esc), ex ? child_status_str(c->status) :
		    "");
		sb_printf(b, "%s{\"name\":\"%s\",\"state\":\"%s\",\"pid\":%d,"
		    "\"restarts\":%u,\"last_exit\":%s%s%s}", k++ ? "," : "",
		    c->name, c->state == CHILD_RUNNING ? "running" :
		    c->state == CHILD_EXITED ? "exited" : "idle",
		    (int)c->pid, c->restarts, ex ? "\"" : "",
		    ex ? esc : "null", ex ? "\"" : "");
	}
	sb_printf(b, "]}\n");
}

static void
fmt_uptime(char *out, size_t len, double secs)
{
	unsigned long t = (unsigned long)secs;

	if (t >= 3600)
		snprintf(out, len, "%luh%02lum", t / 3600, t / 60 % 60);
	else if (t >= 60)
		snprintf(out, len, "%lum%02lus", t / 60, t % 60);
	else
		snprintf(out, len, "%lus", t);
}

static void
render_text(struct sup *s, struct sbuf *b)
{
	char up[32];

	fmt_uptime(up, sizeof(up),
	    (double)(mono_ms() - s->started_ms) / 1000.0);
	sb_printf(b, "system %s: %s, %s, supervisor pid %d, up %s\n"
	    "run dir %s\n\n", s->sys->name, phase_name(s),
	    s->accel == SC_ACCEL_KVM ? "kvm" : "tcg", (int)getpid(), up,
	    s->rundir);
	sb_printf(b, "%-3s %-12s %-10s %-8s %-8s %-7s %-8s %s\n", "#", "VM",
	    "STATE", "PID", "UPTIME", "MEMORY", "RESTARTS", "LAST EXIT");
	for (size_t i = 0; i < s->nvms; i++) {
		struct vm_rt *vm = &s->vms[i];
		char pid[16] = "-";

		if (vm->child->state == CHILD_RUNNING)
			snprintf(pid, sizeof(pid), "%d", (int)vm->child->pid);
		if (vm->child->state == CHILD_RUNNING)
			fmt_uptime(up, sizeof(up), child_uptime(vm->child));
		else
			snprintf(up, sizeof(up), "-");
		char mem[24];

		snprintf(mem, sizeof(mem), "%lluM",
		    (unsigned long long)(vm->cfg->memory >> 20));
		sb_printf(b, "%-3u %-12s %-10s %-8s %-8s %-7s %-8u %s\n",
		    vm->idx, vm->cfg->name, vm_state_name(vm->state), pid, up,
		    mem, vm->child->restarts, vm->reason[0] ? vm->reason : "-");
	}
	for (size_t i = 0, k = 0; i < s->nchildren; i++) {
		struct child *c = &s->children[i];

		if (c->kind != CHILD_DAEMON)
			continue;
		if (k++ == 0)
			sb_printf(b, "\ndaemons:\n");
		if (c->state == CHILD_RUNNING && c->restarts > 0)
			sb_printf(b, "  %-12s running, pid %d, restarts %u "
			    "(last exit: %s)\n", c->name, (int)c->pid,
			    c->restarts, child_status_str(c->status));
		else if (c->state == CHILD_RUNNING)
			sb_printf(b, "  %-12s running, pid %d, restarts %u\n",
			    c->name, (int)c->pid, c->restarts);
		else
			sb_printf(b, "  %-12s %s\n", c->name,
			    c->state == CHILD_EXITED ?
			    child_status_str(c->status) : "not started");
	}
}

/* "VM\0" at the start of p: returns the VM or NULL after replying. */
static struct vm_rt *
find_vm_arg(struct sup *s, struct client *cl, const uint8_t *p, size_t len,
    size_t *used)
{
	size_t n = strnlen((const char *)p, len);
	int idx;

	if (n == len || n == 0) {
		client_err(s, cl, 2, "malformed request");
		return NULL;
	}
	*used = n + 1;
	idx = sc_vm_find(s->sys, (const char *)p);
	if (idx < 0) {
		char names[512] = "";
		size_t off = 0;

		for (size_t i = 0; i < s->nvms && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off,
			    "%s%s", i ? " " : "", s->vms[i].cfg->name);
		client_err(s, cl, 2, "no VM named '%.*s' in system %s "
		    "(VMs: %s)", (int)(n > 64 ? 64 : n), (const char *)p,
		    s->sys->name, names);
		return NULL;
	}
	return &s->vms[idx];
}

static void
req_exec(struct sup *s, struct client *cl, const struct proto_hdr *h,
    const uint8_t *p)
{
	struct vm_rt *vm;
	size_t used = 0;

	vm = find_vm_arg(s, cl, p, h->len, &used);
	if (vm == NULL)
		return;
	/* argv: at least one string, every one NUL-terminated. */
	if (used >= h->len || p[h->len - 1] != '\0') {
		client_err(s, cl, 2, "exec: no command given");
		return;
	}
	if (s->phase == SUP_STOPPING) {
		client_err(s, cl, 1, "system %s is stopping", s->sys->name);
		return;
	}
	if (vm->state != VM_READY) {
		client_err(s, cl, 1, "%s is not ready (state: %s%s%s)",
		    vm->cfg->name, vm_state_name(vm->state),
		    vm->reason[0] ? "; " : "", vm->reason);
		return;
	}
	(void)link_exec(s, vm, cl, p + used, h->len - used,
	    (h->flags & CTL_F_STDIN) != 0);
}

static void
req_dispatch(struct sup *s, struct client *cl, const struct proto_hdr *h,
    const uint8_t *p)
{
	struct vm_rt *vm;
	size_t used;

	if (cl->kind == CL_EXEC) {
		struct vm_rt *evm = &s->vms[cl->vm];
		uint32_t sig;

		switch (h->type) {
		case CTL_STDIN:
			if (link_send(s, evm, PROTO_STDIN, 0, cl->chan, p,
			    h->len) == 0 && outq_len(&evm->link.out) > Q_HIGH) {
				cl->rd_paused = true;
				client_update(s, cl);
			}
			return;
		case CTL_KILL:
			if (h->len != 4)
				return;
			memcpy(&sig, p, 4);
			if (sig == 0 || sig > 64)
				return;
			(void)link_send(s, evm, PROTO_KILL, 0, cl->chan, p, 4);
			return;
		default:
			return;
		}
	}
	if (cl->kind != CL_NEW)
		return;		/* one request per connection */
	switch (h->type) {
	case CTL_STATUS: {
		struct sbuf b = { .cap = PROTO_MAX_PAYLOAD };

		b.p = malloc(b.cap);
		if (b.p == NULL) {
			client_err(s, cl, 1, "out of memory");
			return;
		}
		b.p[0] = '\0';
		if (h->flags & CTL_F_JSON)
			render_json(s, &b);
		else
			render_text(s, &b);
		cl->kind = CL_DONE;
		(void)client_send(s, cl, CTL_OK, 0, b.p, b.len);
		free(b.p);
		client_finish(s, cl);
		return;
	}
	case CTL_EXEC:
		req_exec(s, cl, h, p);
		return;
	case CTL_WATCH:
		cl->kind = CL_WATCH;
		for (size_t i = 0; i < s->nvms; i++)
			ctl_vm_event(s, &s->vms[i], NULL);
		if (s->phase == SUP_RUNNING)
			(void)client_send(s, cl, CTL_READY, 0, NULL, 0);
		else if (s->failed)
			(void)client_send(s, cl, CTL_FAILED, 0, s->fail_reason,
			    strlen(s->fail_reason));
		return;
	case CTL_DOWN: {
		uint32_t t = 0;

		if (h->len == 4)
			memcpy(&t, p, 4);
		cl->kind = CL_DOWN;
		(void)client_send(s, cl, CTL_OK, 0, NULL, 0);
		sup_shutdown(s, t ? t : s->down_timeout);
		return;
	}
	case CTL_RESTART:
		vm = find_vm_arg(s, cl, p, h->len, &used);
		if (vm == NULL)
			return;
		if (s->phase == SUP_STOPPING) {
			client_err(s, cl, 1, "system %s is stopping",
			    s->sys->name);
			return;
		}
		cl->kind = CL_RESTART;
		cl->vm = (int)vm->idx;
		if (sup_restart_vm(s, vm) < 0) {
			cl->kind = CL_DONE;
			client_err(s, cl, 1, "%s: cannot restart: %s",
			    vm->cfg->name, strerror(errno));
		}
		return;
	default:
		client_err(s, cl, 2, "unknown request type %u", h->type);
		return;
	}
}

static void
client_event(struct sup *s, struct ev_src *src, uint32_t events)
{
	struct client *cl = (struct client *)((char *)src -
	    offsetof(struct client, src));
	struct proto_hdr h;
	const uint8_t *p;
	ssize_t n;

	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
		int r = outq_flush(&cl->out, cl->src.fd);

		if (r < 0 || (r == 1 && cl->closing)) {
			client_close(s, cl);
			return;
		}
		if (cl->kind == CL_EXEC && outq_len(&cl->out) < Q_LOW)
			link_update(s, &s->vms[cl->vm]);
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !cl->rd_paused &&
	    !cl->closing) {
		n = proto_rx_read(cl->rx, cl->src.fd);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(s, cl);
			return;
		}
		while (!cl->closing && proto_rx_next(cl->rx, &h, &p) == 1)
			req_dispatch(s, cl, &h, p);
	}
	client_update(s, cl);
}

void
ctl_vm_event(struct sup *s, struct vm_rt *vm, const char *detail)
{
	char msg[1024];
	int n;

	n = snprintf(msg, sizeof(msg), "%s%c%s%c%s", vm->cfg->name, '\0',
	    vm_state_name(vm->state), '\0', detail ? detail : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	for (struct client *cl = s->clients, *next; cl != NULL; cl = next) {
		next = cl->next;
		if (cl->closing)
			continue;
		if (cl->kind == CL_WATCH || cl->kind == CL_DOWN)
			(void)client_send(s, cl, CTL_EVENT, 0, msg, (size_t)n);
		if (cl->kind == CL_RESTART && cl->vm == (int)vm->idx) {
			if (vm->state == VM_READY) {
				cl->kind = CL_DONE;
				(void)client_send(s, cl, CTL_OK, 0, NULL, 0);
				client_finish(s, cl);
			} else if (vm->state == VM_CRASHED ||
			    vm->state == VM_STOPPED) {
				cl->kind = CL_DONE;
				client_err(s, cl, 1, "%s: %s%s%s", vm->cfg->name,
				    vm_state_name(vm->state),
				    vm->reason[0] ? ": " : "", vm->reason);
			}
		}
	}
}

void
ctl_close_all(struct sup *s)
{
	while (s->clients != NULL) {
		/* Best effort: hand over what is queued, then close. */
		(void)outq_flush(&s->clients->out, s->clients->src.fd);
		client_close(s, s->clients);
	}
	if (s->ctl.fd >= 0) {
		sup_unwatch(s, &s->ctl);
		close(s->ctl.fd);
		s->ctl.fd = -1;
	}
}

void
sup_broadcast(struct sup *s, uint16_t type, const void *p, size_t len)
{
	for (struct client *cl = s->clients; cl != NULL; cl = cl->next)
		if (!cl->closing &&
		    (cl->kind == CL_WATCH || cl->kind == CL_DOWN))
			(void)client_send(s, cl, type, 0, p, len);
}
