/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conesc: the console's escape parser; see conesc.h and docs/console.md.
 * One state per step of an escape; every byte is answered with one
 * action (struct con_act), never with I/O.
 */
#include "conesc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
	ESC_NORMAL,	/* bytes go to the target VMs */
	ESC_AT,		/* '@' typed at the start of a line */
	ESC_NUM,	/* '@' and digits of a VM number (>10 VMs) */
	ESC_WORD,	/* '@' and letters: a VM name or a command key */
	ESC_MULTI,	/* '@m': VM numbers, ended by 'm' or Return */
};

void
con_esc_init(struct con_esc *e, unsigned nvms,
    const char names[][CON_MAX_NAME + 1], int viewer)
{
	memset(e, 0, sizeof(*e));
	e->nvms = nvms > CON_MAX_VMS ? CON_MAX_VMS : nvms;
	for (unsigned i = 0; i < e->nvms; i++)
		snprintf(e->names[i], sizeof(e->names[i]), "%s", names[i]);
	e->viewer = viewer;
	e->state = ESC_NORMAL;
	e->line_start = true;
	e->target = con_vm_bit(viewer >= 0 ? (unsigned)viewer : 0);
}

void
con_esc_noquit(struct con_esc *e, bool noquit)
{
	e->noquit = noquit;
}

static bool
is_line_end(uint8_t c)
{
	/* Return, LF, ^C, ^Z: after these the next '@' is an escape. */
	return c == '\r' || c == '\n' || c == 0x03 || c == 0x1a;
}

static bool
is_cmd_key(uint8_t c)
{
	return c == 'm' || c == 'q' || c == 'd';
}

/* Does any VM name start with the n bytes at w? */
static bool
name_prefix(const struct con_esc *e, const char *w, size_t n)
{
	for (unsigned i = 0; i < e->nvms; i++)
		if (strncmp(e->names[i], w, n) == 0)
			return true;
	return false;
}

static void
act_error(struct con_esc *e, struct con_act *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
act_error(struct con_esc *e, struct con_act *a, const char *fmt, ...)
{
	va_list ap;

	a->kind = CON_ACT_ERROR;
	va_start(ap, fmt);
	vsnprintf(a->msg, sizeof(a->msg), fmt, ap);
	va_end(ap);
	e->state = ESC_NORMAL;
	e->line_start = true;	/* nothing was sent: try again at once */
}

/* Describe a VM set as "0 (vm0), 1 (vm1)". */
static void
describe(const struct con_esc *e, uint32_t vms, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < e->nvms && n < size; i++) {
		int k;

		if (!(vms & con_vm_bit(i)))
			continue;
		k = snprintf(buf + n, size - n, "%s%u (%s)", n ? ", " : "", i,
		    e->names[i]);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

static void
act_switch(struct con_esc *e, struct con_act *a, uint32_t vms)
{
	char what[160];

	e->target = vms;
	e->state = ESC_NORMAL;
	e->line_start = true;
	a->kind = CON_ACT_SWITCH;
	a->vms = vms;
	describe(e, vms, what, sizeof(what));
	snprintf(a->msg, sizeof(a->msg), "Switching input to %s", what);
}

static void
act_viewer_refuse(struct con_esc *e, struct con_act *a)
{
	act_error(e, a, "this console types only into %s; @d detaches, "
	    "@? shows help", e->names[e->viewer]);
}

static void
act_cmd(struct con_esc *e, struct con_act *a, uint8_t c)
{
	e->state = ESC_NORMAL;
	e->line_start = true;
	switch (c) {
	case 'q':
		a->kind = e->viewer >= 0 || e->noquit ? CON_ACT_DETACH :
		    CON_ACT_QUIT;
		break;
	case 'd':
		a->kind = CON_ACT_DETACH;
		break;
	case 'm':
		if (e->viewer >= 0) {
			act_viewer_refuse(e, a);
			break;
		}
		e->state = ESC_MULTI;
		e->multi = 0;
		e->num = 0;
		e->have_num = false;
		break;
	}
}

static void
feed_at(struct con_esc *e, uint8_t c, struct con_act *a)
{
	if (c == '@') {
		e->state = ESC_NORMAL;
		e->line_start = false;
		a->kind = CON_ACT_SEND;
		a->vms = e->target;
		a->byte = '@';
		return;
	}
	if (c == '?') {
		e->state = ESC_NORMAL;
		e->line_start = true;
		a->kind = CON_ACT_HELP;
		return;
	}
	if (c >= '0' && c <= '9') {
		unsigned d = c - '0';

		if (e->viewer >= 0) {
			act_viewer_refuse(e, a);
			return;
		}
		if (d >= e->nvms) {
			act_error(e, a, "no VM %u (VMs are 0 to %u; @? for help)",
			    d, e->nvms - 1);
			return;
		}
		if (d != 0 && d * 10 < e->nvms) {
			/* Could be the start of a longer number. */
			e->state = ESC_NUM;
			e->num = d;
			return;
		}
		act_switch(e, a, con_vm_bit(d));
		return;
	}
	if (c >= 'a' && c <= 'z') {
		char w[1] = { (char)c };

		if (is_cmd_key(c) && (e->viewer >= 0 || !name_prefix(e, w, 1))) {
			act_cmd(e, a, c);
			return;
		}
		if (e->viewer < 0 && name_prefix(e, w, 1)) {
			e->state = ESC_WORD;
			e->word[0] = (char)c;
			e->wlen = 1;
			return;
		}
	}
	if (c >= 0x20 && c < 0x7f)
		act_error(e, a, "unknown console command '@%c' (@? for help)", c);
	else
		act_error(e, a, "unknown console command '@' + 0x%02x "
		    "(@? for help)", c);
}

static void
feed_num(struct con_esc *e, uint8_t c, struct con_act *a)
{
	if (c == '\r' || c == '\n') {
		act_switch(e, a, con_vm_bit(e->num));
		return;
	}
	if (c < '0' || c > '9') {
		act_error(e, a, "VM number: expected digits ended by Return");
		return;
	}
	e->num = e->num * 10 + (unsigned)(c - '0');
	if (e->num >= e->nvms) {
		act_error(e, a, "no VM %u (VMs are 0 to %u)", e->num,
		    e->nvms - 1);
		return;
	}
	if (e->num * 10 >= e->nvms)
		act_switch(e, a, con_vm_bit(e->num));
}

static void feed_multi(struct con_esc *e, uint8_t c, struct con_act *a);

static void
feed_word(struct con_esc *e, uint8_t c, struct con_act *a)
{
	if (c == '\r' || c == '\n') {
		for (unsigned i = 0; i < e->nvms; i++) {
			if (strlen(e->names[i]) == e->wlen &&
			    memcmp(e->names[i], e->word, e->wlen) == 0) {
				act_switch(e, a, con_vm_bit(i));
				return;
			}
		}
		if (e->wlen == 1 && (e->word[0] == 'q' || e->word[0] == 'd')) {
			act_cmd(e, a, (uint8_t)e->word[0]);
			return;
		}
		act_error(e, a, "no VM called '%.*s' (@? for help)",
		    (int)e->wlen, e->word);
		return;
	}
	if (c == 0x7f || c == 0x08) {
		if (--e->wlen == 0)
			e->state = ESC_AT;
		return;
	}
	if (con_name_char(c) && e->wlen < CON_MAX_NAME) {
		e->word[e->wlen] = (char)c;
		if (name_prefix(e, e->word, e->wlen + 1)) {
			e->wlen++;
			return;
		}
	}
	/* "@m" that turned out not to begin a name: multi-VM input. */
	if (e->wlen == 1 && e->word[0] == 'm' &&
	    ((c >= '0' && c <= '9') || c == ' ' || c == ',')) {
		act_cmd(e, a, 'm');
		feed_multi(e, c, a);
		return;
	}
	if (con_name_char(c))
		act_error(e, a, "no VM called '%.*s%c' (@? for help)",
		    (int)e->wlen, e->word, c);
	else
		act_error(e, a, "console command '@%.*s...' discarded "
		    "(@NAME needs Return; @? for help)", (int)e->wlen, e->word);
}

static void
feed_multi(struct con_esc *e, uint8_t c, struct con_act *a)
{
	bool end = c == 'm' || c == '\r' || c == '\n';

	if (c >= '0' && c <= '9') {
		e->num = e->num * 10 + (unsigned)(c - '0');
		e->have_num = true;
		if (e->num >= e->nvms) {
			act_error(e, a, "no VM %u (VMs are 0 to %u)", e->num,
			    e->nvms - 1);
		}
		return;
	}
	if (c == ' ' || c == ',' || end) {
		if (e->have_num)
			e->multi |= con_vm_bit(e->num);
		e->num = 0;
		e->have_num = false;
		if (!end)
			return;
		if (e->multi == 0) {
			act_error(e, a, "multi-VM input: no VM given "
			    "(e.g. @m 0 1 m)");
			return;
		}
		act_switch(e, a, e->multi);
		return;
	}
	act_error(e, a, "multi-VM input: expected VM numbers ended by m or "
	    "Return; discarded");
}

void
con_esc_feed(struct con_esc *e, uint8_t c, struct con_act *a)
{
	a->kind = CON_ACT_NONE;
	a->vms = 0;
	a->byte = 0;
	a->msg[0] = '\0';
	switch (e->state) {
	case ESC_NORMAL:
		if (c == '@' && e->line_start) {
			e->state = ESC_AT;
			return;
		}
		a->kind = CON_ACT_SEND;
		a->vms = e->target;
		a->byte = c;
		e->line_start = is_line_end(c);
		return;
	case ESC_AT:
		feed_at(e, c, a);
		return;
	case ESC_NUM:
		feed_num(e, c, a);
		return;
	case ESC_WORD:
		feed_word(e, c, a);
		return;
	case ESC_MULTI:
		feed_multi(e, c, a);
		return;
	}
}
