/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conscreen: the console's screen formatter; see conscreen.h and
 * docs/console.md.  Per VM a bounded line buffer (CON_LINE_MAX) and the
 * state of the sanitizer that strips terminal controls from guest output
 * across chunks; the screen remembers whose partial line it ends with.
 */
#include "conscreen.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const colours[] = {
	"32", "33", "36", "35", "34", "31", "92", "93", "96", "95", "94", "91",
};

const char *
con_colour(unsigned n)
{
	return colours[n % (sizeof(colours) / sizeof(colours[0]))];
}

void
con_sink_put(struct con_sink *s, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		uint8_t *np;

		while (cap < s->len + n)
			cap *= 2;
		np = realloc(s->p, cap);
		if (np == NULL) {
			s->oom = true;
			return;
		}
		s->p = np;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

static void
sink_str(struct con_sink *s, const char *str)
{
	con_sink_put(s, str, strlen(str));
}

void
con_sink_free(struct con_sink *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

void
con_screen_init(struct con_screen *s, unsigned nvms,
    const char names[][CON_MAX_NAME + 1], bool prefix, bool raw,
    const char *eol)
{
	memset(s, 0, sizeof(*s));
	s->nvms = nvms > CON_MAX_VMS ? CON_MAX_VMS : nvms;
	for (unsigned i = 0; i < s->nvms; i++)
		snprintf(s->names[i], sizeof(s->names[i]), "%s", names[i]);
	s->prefix = prefix;
	s->raw = raw;
	s->eol = eol;
	s->cur = -1;
}

void
con_screen_break(struct con_screen *s, struct con_sink *out)
{
	if (s->cur != -1) {
		if (!s->prefix)
			sink_str(out, "\033[0m");
		sink_str(out, s->eol);
		s->cur = -1;
	}
}

static void screen_redraw_eager(struct con_screen *s, unsigned except,
    struct con_sink *out);

/*
 * Put VM vm's line on the screen: the bytes not shown yet, or the whole
 * line so far for the VM you type into when its line was interrupted.
 * `complete` ends the line.  A partial line stays "open" (its colour on)
 * so that the rest of it continues seamlessly unless something else has
 * to be drawn first.
 */
static void
screen_emit(struct con_screen *s, unsigned vm, bool complete,
    struct con_sink *out)
{
	struct con_vmline *l = &s->vm[vm];
	char pre[CON_MAX_NAME + 16];
	size_t from = l->shown;

	if (s->cur != (int)vm) {
		con_screen_break(s, out);
		if (l->len == 0 && complete && !s->prefix) {
			sink_str(out, s->eol);	/* an empty line needs no colour */
			return;
		}
		if (s->prefix)
			snprintf(pre, sizeof(pre), "[%s] ", s->names[vm]);
		else
			snprintf(pre, sizeof(pre), "\033[%sm", con_colour(vm));
		sink_str(out, pre);
		s->cur = (int)vm;
		if (s->eager & con_vm_bit(vm))
			from = 0;		/* redraw the whole line */
	}
	con_sink_put(out, l->buf + from, l->len - from);
	l->shown = l->len;
	if (complete) {
		if (!s->prefix)
			sink_str(out, "\033[0m");
		sink_str(out, s->eol);
		s->cur = -1;
		l->len = l->shown = 0;
	}
}

/*
 * After other output (another VM's lines, a message) interrupted the
 * partial line of the VM you type into, draw that line again, whole, at
 * the bottom of the screen.  For messages at once; for VM output when it
 * has paused (con_screen_tick), so that a flood from one VM does not
 * repeat your prompt after each of its lines.  Typing redraws it anyway.
 */
static void
screen_redraw_eager(struct con_screen *s, unsigned except,
    struct con_sink *out)
{
	for (unsigned i = 0; i < s->nvms; i++) {
		struct con_vmline *l = &s->vm[i];

		if (i != except && (s->eager & con_vm_bit(i)) &&
		    s->cur != (int)i && l->shown > 0 && l->len > 0)
			screen_emit(s, i, false, out);
	}
}

void
con_screen_eager(struct con_screen *s, uint32_t vms)
{
	s->eager = vms;
}

/*
 * Sanitizer states: the multiplexer shows text only.  Escape sequences
 * (CSI, OSC/DCS/APC/PM strings, two-byte escapes), C0 controls other than
 * tab and newline, DEL and UTF-8-encoded C1 controls are removed.
 */
enum { SAN_TEXT, SAN_ESC, SAN_CSI, SAN_STR, SAN_STR_ESC, SAN_C2 };

static void
line_put(struct con_screen *s, unsigned vm, uint8_t c, struct con_sink *out)
{
	struct con_vmline *l = &s->vm[vm];

	if (l->len == CON_LINE_MAX) {
		/* Full: show it and start over; it stays on the screen. */
		screen_emit(s, vm, false, out);
		l->len = l->shown = 0;
	}
	l->buf[l->len++] = c;
}

static void
screen_byte(struct con_screen *s, unsigned vm, uint8_t c, struct con_sink *out)
{
	struct con_vmline *l = &s->vm[vm];

	switch (l->esc) {
	case SAN_ESC:
		if (c == '[')
			l->esc = SAN_CSI;
		else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X')
			l->esc = SAN_STR;
		else
			l->esc = SAN_TEXT;	/* two-byte escape: drop both */
		return;
	case SAN_CSI:
		if (c >= 0x40 && c <= 0x7e)
			l->esc = SAN_TEXT;	/* final byte */
		else if (c == 0x1b)
			l->esc = SAN_ESC;
		return;
	case SAN_STR:
		if (c == 0x07)
			l->esc = SAN_TEXT;
		else if (c == 0x1b)
			l->esc = SAN_STR_ESC;
		return;
	case SAN_STR_ESC:
		l->esc = c == '\\' ? SAN_TEXT : SAN_STR;
		return;
	case SAN_C2:
		l->esc = SAN_TEXT;
		if (c >= 0x80 && c <= 0x9f)
			return;			/* U+0080..U+009F: C1 control */
		line_put(s, vm, 0xc2, out);
		break;				/* and c itself below */
	}
	if (c == 0x1b) {
		l->esc = SAN_ESC;
		return;
	}
	if (c == 0xc2) {
		l->esc = SAN_C2;
		return;
	}
	if (c == '\n') {
		screen_emit(s, vm, true, out);
		return;
	}
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return;				/* \r and other controls */
	line_put(s, vm, c, out);
}

void
con_screen_output(struct con_screen *s, unsigned vm, const uint8_t *p,
    size_t n, uint64_t now_ms, struct con_sink *out)
{
	if (vm >= s->nvms || n == 0)
		return;
	if (s->raw) {
		con_sink_put(out, p, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		screen_byte(s, vm, p[i], out);
	s->vm[vm].last_ms = now_ms;
	s->last_ms = now_ms;
	if ((s->eager & con_vm_bit(vm)) && s->vm[vm].len > s->vm[vm].shown)
		screen_emit(s, vm, false, out);
}

void
con_screen_message(struct con_screen *s, const char *msg,
    struct con_sink *out)
{
	const char *p = msg;

	con_screen_break(s, out);
	if (s->raw && s->cur == -1) {
		/* The viewer does not track the guest's column: start clean. */
		sink_str(out, s->eol);
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (!s->prefix)
			sink_str(out, "\033[1m");
		sink_str(out, "[isles] ");
		con_sink_put(out, p, n);
		if (!s->prefix)
			sink_str(out, "\033[0m");
		sink_str(out, s->eol);
		p += n;
		if (*p == '\n')
			p++;
	}
	if (!s->raw)
		screen_redraw_eager(s, UINT_MAX, out);
}

uint64_t
con_screen_tick(struct con_screen *s, uint64_t now_ms, struct con_sink *out)
{
	uint64_t next = UINT64_MAX;

	if (s->raw)
		return next;
	for (unsigned i = 0; i < s->nvms; i++) {
		struct con_vmline *l = &s->vm[i];
		uint64_t due = l->last_ms + CON_QUIET_MS;

		if (l->len == l->shown)
			continue;
		if (due <= now_ms)
			screen_emit(s, i, false, out);
		else if (due < next)
			next = due;
	}
	for (unsigned i = 0; i < s->nvms; i++) {
		struct con_vmline *l = &s->vm[i];
		uint64_t due = s->last_ms + CON_REDRAW_MS;

		if (!(s->eager & con_vm_bit(i)) || s->cur == (int)i ||
		    l->shown == 0 || l->len == 0)
			continue;
		if (due <= now_ms)
			screen_redraw_eager(s, UINT_MAX, out);
		else if (due < next)
			next = due;
	}
	return next;
}
