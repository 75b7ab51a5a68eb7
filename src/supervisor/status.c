/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * status: see status.h.  Strings that come from the system file or from
 * exits (names, reasons) are escaped for JSON; the text form is for a
 * terminal and bounded like the JSON one (the caller's buffer).
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

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

static void
render_json(const struct status_view *v, struct sbuf *b)
{
	char esc[1100];

	json_str(esc, sizeof(esc), v->sys->name);
	sb_printf(b, "{\"system\":\"%s\",", esc);
	json_str(esc, sizeof(esc), v->rundir);
	sb_printf(b, "\"run_dir\":\"%s\",\"supervisor_pid\":%d,"
	    "\"state\":\"%s\",\"accel\":\"%s\",\"uptime\":%.1f,\"vms\":[", esc,
	    v->pid, v->phase, v->accel == SC_ACCEL_KVM ? "kvm" : "tcg",
	    v->uptime);
	for (size_t i = 0; i < v->nvms; i++) {
		const struct vm *vm = &v->vms[i];

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
	for (size_t i = 0, k = 0; i < v->nchildren; i++) {
		const struct child *c = &v->children[i];

		if (c->kind != CHILD_DAEMON)
			continue;
		bool ex = c->state == CHILD_EXITED || c->restarts > 0;

		json_str(esc, sizeof(esc), ex ? child_status_str(c->status) :
		    "");
		sb_printf(b, "%s{\"name\":\"%s\",\"state\":\"%s\",\"pid\":%d,"
		    "\"restarts\":%u,\"last_exit\":%s%s%s}", k++ ? "," : "",
		    c->name, c->state == CHILD_RUNNING ? "running" :
		    c->restart_due != 0 ? "restarting" :
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
render_text(const struct status_view *v, struct sbuf *b)
{
	char up[32];

	fmt_uptime(up, sizeof(up), v->uptime);
	sb_printf(b, "system %s: %s, %s, supervisor pid %d, up %s\n"
	    "run dir %s\n\n", v->sys->name, v->phase,
	    v->accel == SC_ACCEL_KVM ? "kvm" : "tcg", v->pid, up, v->rundir);
	sb_printf(b, "%-3s %-12s %-10s %-8s %-8s %-7s %-8s %s\n", "#", "VM",
	    "STATE", "PID", "UPTIME", "MEMORY", "RESTARTS", "LAST EXIT");
	for (size_t i = 0; i < v->nvms; i++) {
		const struct vm *vm = &v->vms[i];
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
	for (size_t i = 0, k = 0; i < v->nchildren; i++) {
		const struct child *c = &v->children[i];

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
		else if (c->restart_due != 0)
			sb_printf(b, "  %-12s %s, restarting after a back-off, "
			    "restarts %u\n", c->name, child_status_str(c->status),
			    c->restarts);
		else
			sb_printf(b, "  %-12s %s\n", c->name,
			    c->state == CHILD_EXITED ?
			    child_status_str(c->status) : "not started");
	}
}

size_t
status_render(const struct status_view *v, bool json, char *out, size_t cap)
{
	struct sbuf b = { .p = out, .cap = cap };

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (json)
		render_json(v, &b);
	else
		render_text(v, &b);
	return b.len;
}
