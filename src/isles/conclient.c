/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conclient: the terminal side of the serial console; see conclient.h and
 * docs/console.md.  Three parts: the escape parser (pure), the screen
 * formatter (pure: per-VM line buffers, colours or prefixes, removal of
 * the guest's terminal control sequences), and con_run, the poll loop
 * that joins the terminal to isles-consoled and owns the terminal mode.
 *
 * Called by cmd_up (foreground multiplexer) and cmd_console (viewer).
 * Trusts isles-consoled for framing only: every frame is checked (type,
 * VM number, size) before use; OUTPUT bytes are guest data.
 */
#include "conclient.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "proto.h"
#include "unixsock.h"

/* ==== escape parser ==================================================== */

enum {
	ESC_NORMAL,	/* bytes go to the target VMs */
	ESC_AT,		/* '@' typed at the start of a line */
	ESC_NUM,	/* '@' and digits of a VM number (>10 VMs) */
	ESC_WORD,	/* '@' and letters: a VM name or a command key */
	ESC_MULTI,	/* '@m': VM numbers, ended by 'm' or Return */
};

static uint32_t
vm_bit(unsigned n)
{
	return (uint32_t)1u << n;
}

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
	e->target = vm_bit(viewer >= 0 ? (unsigned)viewer : 0);
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

static bool
is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
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

		if (!(vms & vm_bit(i)))
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
		act_switch(e, a, vm_bit(d));
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
		act_switch(e, a, vm_bit(e->num));
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
		act_switch(e, a, vm_bit(e->num));
}

static void feed_multi(struct con_esc *e, uint8_t c, struct con_act *a);

static void
feed_word(struct con_esc *e, uint8_t c, struct con_act *a)
{
	if (c == '\r' || c == '\n') {
		for (unsigned i = 0; i < e->nvms; i++) {
			if (strlen(e->names[i]) == e->wlen &&
			    memcmp(e->names[i], e->word, e->wlen) == 0) {
				act_switch(e, a, vm_bit(i));
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
	if (is_name_char(c) && e->wlen < CON_MAX_NAME) {
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
	if (is_name_char(c))
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
			e->multi |= vm_bit(e->num);
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

/* ==== screen formatter ================================================== */

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

/* End the partial line that is on the screen (colour off, new line). */
static void
screen_break(struct con_screen *s, struct con_sink *out)
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
		screen_break(s, out);
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
		if (s->eager & vm_bit(vm))
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

		if (i != except && (s->eager & vm_bit(i)) &&
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
	if ((s->eager & vm_bit(vm)) && s->vm[vm].len > s->vm[vm].shown)
		screen_emit(s, vm, false, out);
}

void
con_screen_message(struct con_screen *s, const char *msg,
    struct con_sink *out)
{
	const char *p = msg;

	screen_break(s, out);
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

		if (!(s->eager & vm_bit(i)) || s->cur == (int)i ||
		    l->shown == 0 || l->len == 0)
			continue;
		if (due <= now_ms)
			screen_redraw_eager(s, UINT_MAX, out);
		else if (due < next)
			next = due;
	}
	return next;
}

/* ==== terminal mode ===================================================== */

/*
 * The saved terminal mode, used by the atexit and fatal-signal paths too:
 * tcsetattr() is async-signal-safe, and these statics are written only
 * before the handlers are installed.
 */
static struct termios term_saved;
static volatile sig_atomic_t term_raw;
static int term_fd = -1;
static bool term_atexit_done;

#define N_FATAL 5
static const int fatal_sigs[N_FATAL] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	SIGABRT };
static struct sigaction fatal_old[N_FATAL];

static void
term_restore(void)
{
	if (term_raw) {
		(void)tcsetattr(term_fd, TCSADRAIN, &term_saved);
		term_raw = 0;
	}
}

static void
term_fatal(int sig)
{
	term_restore();
	/* Put back the previous disposition (default, or a sanitizer's) and
	 * let the fault happen again, or abort() continue. */
	for (int i = 0; i < N_FATAL; i++)
		if (fatal_sigs[i] == sig)
			(void)sigaction(sig, &fatal_old[i], NULL);
}

static int
term_enter_raw(int fd)
{
	struct termios t;
	struct sigaction sa;

	if (tcgetattr(fd, &term_saved) == -1)
		return -1;
	t = term_saved;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	term_fd = fd;
	if (!term_atexit_done) {
		if (atexit(term_restore) != 0)
			return -1;
		term_atexit_done = true;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = term_fatal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (int i = 0; i < N_FATAL; i++)
		(void)sigaction(fatal_sigs[i], &sa, &fatal_old[i]);
	if (tcsetattr(fd, TCSADRAIN, &t) == -1)
		return -1;
	term_raw = 1;
	return 0;
}

static void
term_leave_raw(void)
{
	term_restore();
	if (term_fd != -1) {
		for (int i = 0; i < N_FATAL; i++)
			(void)sigaction(fatal_sigs[i], &fatal_old[i], NULL);
		term_fd = -1;
	}
}

/* ==== the console loop ================================================== */

static int con_last_sig;

int
con_exit_signal(void)
{
	return con_last_sig;
}


static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				(void)poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Wait (bounded) for one frame of type `want`; other frames are errors. */
static int
wait_frame(int fd, struct proto_rx *rx, uint16_t want, struct proto_hdr *h,
    const uint8_t **p)
{
	uint64_t deadline = mono_ms() + 5000;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t t = mono_ms();
		ssize_t n;
		int r;

		r = proto_rx_next(rx, h, p);
		if (r == 1) {
			if (h->type == want)
				return 0;
			if (h->type == CON_ERROR)
				log_warnx("console: %.*s", (int)h->len, *p);
			errno = EPROTO;
			return -1;
		}
		if (t >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&pfd, 1, (int)(deadline - t));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		n = proto_rx_read(rx, fd);
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Parse a VMS payload into names; returns the count or -1 (EPROTO). */
static int
parse_vms(const uint8_t *p, size_t len, char names[][CON_MAX_NAME + 1],
    unsigned max)
{
	unsigned n = 0;
	size_t i = 0;

	while (i < len) {
		const uint8_t *z = memchr(p + i, '\0', len - i);
		size_t l;

		if (z == NULL || n == CON_MAX_VMS)
			goto bad;
		l = (size_t)(z - (p + i));
		if (l == 0 || l > CON_MAX_NAME)
			goto bad;
		for (size_t k = 0; k < l; k++)
			if (!is_name_char(p[i + k]))
				goto bad;
		if (n < max) {
			memcpy(names[n], p + i, l);
			names[n][l] = '\0';
		}
		n++;
		i += l + 1;
	}
	if (n == 0)
		goto bad;
	return (int)(n < max ? n : max);
bad:
	errno = EPROTO;
	return -1;
}

static struct proto_rx con_rx;	/* 64 KiB: not on the stack */

int
con_list(const char *console_sock, char names[][CON_MAX_NAME + 1],
    unsigned max)
{
	struct proto_hdr h;
	const uint8_t *p;
	int fd, n = -1, e;

	fd = unixsock_connect(console_sock, 0);
	if (fd == -1)
		return -1;
	proto_rx_init(&con_rx);
	if (proto_send(fd, CON_LIST, 0, 0, NULL, 0) == 0 &&
	    wait_frame(fd, &con_rx, CON_VMS, &h, &p) == 0)
		n = parse_vms(p, h.len, names, max);
	e = errno;
	close(fd);
	errno = e;
	return n;
}

struct con_loop {
	int sock;
	int sigfd;
	bool tty_in;
	bool stdin_open;
	unsigned nvms;
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	char logdir[256];	/* R/vm, for notices */
	bool readonly;		/* escapes work, typed bytes are not sent */
	bool ro_told;
	struct con_esc esc;
	struct con_screen scr;
	struct con_sink out;
};

static void
flush_out(struct con_loop *l)
{
	if (l->out.len > 0) {
		(void)write_all(STDOUT_FILENO, l->out.p, l->out.len);
		l->out.len = 0;
	}
}

static void
send_winsize(struct con_loop *l)
{
	struct winsize ws;
	uint8_t pl[CON_WINSIZE_SIZE];

	if (!l->tty_in || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == -1)
		return;
	con_winsize_encode(pl, ws.ws_row, ws.ws_col);
	for (unsigned i = 0; i < l->nvms; i++)
		if (l->esc.target & vm_bit(i))
			(void)proto_send(l->sock, CON_WINSIZE, 0, i, pl,
			    sizeof(pl));
}

static void
show_help(struct con_loop *l)
{
	char buf[2048];
	size_t n = 0;
	int k;

	if (l->esc.viewer >= 0) {
		k = snprintf(buf, sizeof(buf),
		    "console of %s; escapes at the start of a line:\n"
		    "  @@       send a literal @\n"
		    "  @?       this help\n"
		    "  @d, @q   detach (the system keeps running)",
		    l->names[l->esc.viewer]);
		con_screen_message(&l->scr, buf, &l->out);
		return;
	}
	k = snprintf(buf, sizeof(buf),
	    "console escapes, typed at the start of a line:\n"
	    "  @N          send input to VM number N\n"
	    "  @NAME<Ret>  send input to the VM called NAME\n"
	    "  @m N N m    send input to several VMs (ended by m or Return)\n"
	    "  @@          send a literal @\n"
	    "  @?          this help\n"
	    "  @d          detach: leave the console, the system keeps running\n"
	    "%s"
	    "VMs:", l->esc.noquit ? "" :
	    "  @q          quit: leave the console and shut the system down\n");
	if (k > 0)
		n = (size_t)k;
	for (unsigned i = 0; i < l->nvms && n < sizeof(buf); i++) {
		k = snprintf(buf + n, sizeof(buf) - n, " %u=%s%s", i,
		    l->names[i], (l->esc.target & vm_bit(i)) ? "*" : "");
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - n, "  (* = gets input)");
	con_screen_message(&l->scr, buf, &l->out);
}

/* Echo of what you type should not wait for a newline: the partial lines
 * of the one VM that has input are shown at once (not with @m: several
 * VMs echoing the same keys would split each other's lines). */
static uint32_t
eager_set(uint32_t target)
{
	return (target & (target - 1)) == 0 ? target : 0;
}

/* Send pending typed bytes for one VM set. */
static int
send_input(struct con_loop *l, uint32_t vms, const uint8_t *p, size_t n)
{
	for (unsigned i = 0; i < l->nvms && n > 0; i++)
		if ((vms & vm_bit(i)) &&
		    proto_send(l->sock, CON_INPUT, 0, i, p, n) == -1)
			return -1;
	return 0;
}

/* Typed bytes: returns -1 to keep going, else an exit code. */
static int
on_keys(struct con_loop *l, const uint8_t *k, size_t n)
{
	uint8_t pend[4096];
	size_t np = 0;
	uint32_t pvms = 0;
	int rc = -1;

	for (size_t i = 0; i < n && rc == -1; i++) {
		struct con_act a;

		con_esc_feed(&l->esc, k[i], &a);
		if (a.kind == CON_ACT_SEND && l->readonly) {
			if (!l->ro_told)
				con_screen_message(&l->scr, "read-only console: "
				    "typing is not sent (@d detaches)", &l->out);
			l->ro_told = true;
			continue;
		}
		if (a.kind == CON_ACT_SEND) {
			if (np > 0 && (pvms != a.vms || np == sizeof(pend))) {
				if (send_input(l, pvms, pend, np) == -1)
					return CON_EXIT_CLOSED;
				np = 0;
			}
			pvms = a.vms;
			pend[np++] = a.byte;
			continue;
		}
		if (np > 0) {
			if (send_input(l, pvms, pend, np) == -1)
				return CON_EXIT_CLOSED;
			np = 0;
		}
		switch (a.kind) {
		case CON_ACT_SWITCH:
			con_screen_eager(&l->scr, eager_set(a.vms));
			con_screen_message(&l->scr, a.msg, &l->out);
			send_winsize(l);
			break;
		case CON_ACT_ERROR:
			con_screen_message(&l->scr, a.msg, &l->out);
			break;
		case CON_ACT_HELP:
			show_help(l);
			break;
		case CON_ACT_QUIT:
			rc = CON_EXIT_QUIT;
			break;
		case CON_ACT_DETACH:
			rc = CON_EXIT_DETACH;
			break;
		default:
			break;
		}
	}
	if (np > 0 && send_input(l, pvms, pend, np) == -1)
		return CON_EXIT_CLOSED;
	return rc;
}

static void
on_frame(struct con_loop *l, const struct proto_hdr *h, const uint8_t *p)
{
	struct con_notice nt;
	char msg[512];

	switch (h->type) {
	case CON_OUTPUT:
		if (h->chan < l->nvms)
			con_screen_output(&l->scr, h->chan, p, h->len, mono_ms(),
			    &l->out);
		break;
	case CON_NOTICE:
		if (h->chan >= l->nvms || con_notice_decode(p, h->len, &nt))
			break;
		if (nt.kind == CON_NOTICE_DROPPED)
			snprintf(msg, sizeof(msg), "%s: %llu bytes of output "
			    "dropped: this terminal did not keep up (the newest "
			    "output is in %s/%s/console.log)", l->names[h->chan],
			    (unsigned long long)nt.count, l->logdir,
			    l->names[h->chan]);
		else if (nt.kind == CON_NOTICE_DOWN)
			snprintf(msg, sizeof(msg), "%s: serial port closed "
			    "(VM stopped or restarting)", l->names[h->chan]);
		else if (nt.kind == CON_NOTICE_UP)
			snprintf(msg, sizeof(msg), "%s: serial port back",
			    l->names[h->chan]);
		else
			break;
		con_screen_message(&l->scr, msg, &l->out);
		break;
	case CON_ERROR: {
		size_t n = h->len > 300 ? 300 : h->len;
		size_t k = 0;

		k = (size_t)snprintf(msg, sizeof(msg), "isles-consoled: ");
		for (size_t i = 0; i < n && k + 1 < sizeof(msg); i++)
			msg[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
		msg[k] = '\0';
		con_screen_message(&l->scr, msg, &l->out);
		break;
	}
	default:
		break;		/* ATTACHED, or newer types: nothing to show */
	}
}

static int
loop(struct con_loop *l)
{
	for (;;) {
		struct pollfd pfd[3];
		uint64_t t = mono_ms(), next;
		int timeout = -1, r;

		next = con_screen_tick(&l->scr, t, &l->out);
		flush_out(l);
		if (next != UINT64_MAX)
			timeout = (int)(next - t);
		pfd[0] = (struct pollfd){ .fd = l->sock, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = l->sigfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = l->stdin_open ? STDIN_FILENO : -1,
		    .events = POLLIN };
		r = poll(pfd, 3, timeout);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_warn("console: poll");
			return CON_EXIT_ERROR;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH) {
					send_winsize(l);
				} else if (si.ssi_signo == SIGCONT) {
					/* The shell may have reset the mode
					 * while we were stopped. */
					if (l->tty_in && term_raw) {
						struct termios t2 = term_saved;

						cfmakeraw(&t2);
						(void)tcsetattr(STDIN_FILENO,
						    TCSADRAIN, &t2);
					}
				} else {
					con_last_sig = (int)si.ssi_signo;
					return CON_EXIT_SIGNAL;
				}
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct proto_hdr h;
			const uint8_t *p;
			ssize_t n = proto_rx_read(&con_rx, l->sock);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				con_screen_tick(&l->scr, UINT64_MAX - CON_QUIET_MS,
				    &l->out);
				con_screen_message(&l->scr,
				    "console closed: the system stopped", &l->out);
				flush_out(l);
				return CON_EXIT_CLOSED;
			}
			while (proto_rx_next(&con_rx, &h, &p) == 1)
				on_frame(l, &h, p);
		}
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			uint8_t k[1024];
			ssize_t n = read(STDIN_FILENO, k, sizeof(k));

			if (n > 0) {
				int rc = on_keys(l, k, (size_t)n);

				if (rc != -1) {
					flush_out(l);
					return rc;
				}
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* No more input: keep showing output. */
				l->stdin_open = false;
			}
		}
		if (l->out.oom) {
			log_warnx("console: out of memory");
			return CON_EXIT_ERROR;
		}
	}
}

enum con_exit
con_run(const char *console_sock, int only_vm, unsigned flags)
{
	static struct con_loop l;
	struct proto_hdr h;
	const uint8_t *p;
	sigset_t mask, oldmask;
	uint8_t pl[4];
	uint16_t aflags = 0;
	bool tty_out = isatty(STDOUT_FILENO);
	int rc = CON_EXIT_ERROR, n;
	const char *slash;

	memset(&l, 0, sizeof(l));
	l.sock = l.sigfd = -1;
	slash = strrchr(console_sock, '/');
	if (slash != NULL)
		snprintf(l.logdir, sizeof(l.logdir), "%.*s/vm",
		    (int)(slash - console_sock), console_sock);
	else
		snprintf(l.logdir, sizeof(l.logdir), "vm");

	l.sock = unixsock_connect(console_sock, 0);
	if (l.sock == -1) {
		log_warn("console %s", console_sock);
		return CON_EXIT_ERROR;
	}
	proto_rx_init(&con_rx);
	if (proto_send(l.sock, CON_LIST, 0, 0, NULL, 0) == -1 ||
	    wait_frame(l.sock, &con_rx, CON_VMS, &h, &p) == -1 ||
	    (n = parse_vms(p, h.len, l.names, CON_MAX_VMS)) == -1) {
		log_warn("console %s: listing VMs", console_sock);
		goto out;
	}
	l.nvms = (unsigned)n;
	if (only_vm >= (int)l.nvms) {
		log_warnx("console: no VM %d", only_vm);
		goto out;
	}
	if (flags & CON_REPLAY)
		aflags |= CON_ATTACH_REPLAY;
	if (flags & CON_READONLY)
		aflags |= CON_ATTACH_READONLY;
	con_put_le(pl, only_vm >= 0 ? vm_bit((unsigned)only_vm) :
	    (l.nvms >= 32 ? UINT32_MAX : vm_bit(l.nvms) - 1), 4);
	if (proto_send(l.sock, CON_ATTACH, aflags, 0, pl, sizeof(pl)) == -1) {
		log_warn("console: attach");
		goto out;
	}

	con_esc_init(&l.esc, l.nvms, l.names, only_vm);
	con_esc_noquit(&l.esc, (flags & CON_NOQUIT) != 0);
	if (only_vm >= 0)
		con_screen_init(&l.scr, l.nvms, l.names, (flags & CON_PREFIX) != 0,
		    (flags & CON_PREFIX) == 0, tty_out ? "\r\n" : "\n");
	else
		con_screen_init(&l.scr, l.nvms, l.names,
		    (flags & CON_PREFIX) != 0 || !tty_out, false,
		    tty_out ? "\r\n" : "\n");
	con_screen_eager(&l.scr, eager_set(l.esc.target));

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGCONT);
	if (sigprocmask(SIG_BLOCK, &mask, &oldmask) == -1) {
		log_warn("console: sigprocmask");
		goto out;
	}
	l.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l.sigfd == -1) {
		log_warn("console: signalfd");
		goto out_mask;
	}
	l.stdin_open = true;
	l.readonly = (flags & CON_READONLY) != 0;
	l.tty_in = isatty(STDIN_FILENO);
	if (l.tty_in && term_enter_raw(STDIN_FILENO) == -1) {
		log_warn("console: raw mode");
		term_leave_raw();
		goto out_mask;
	}
	if (only_vm >= 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "console of %s%s; type @d to detach, "
		    "@? for help", l.names[only_vm],
		    (flags & CON_READONLY) ? " (read-only)" : "");
		con_screen_message(&l.scr, msg, &l.out);
	} else {
		char msg[160];

		snprintf(msg, sizeof(msg), "console of %u VM%s; input goes to "
		    "0 (%s); type @? for help", l.nvms, l.nvms == 1 ? "" : "s",
		    l.names[0]);
		con_screen_message(&l.scr, msg, &l.out);
	}
	flush_out(&l);
	send_winsize(&l);

	rc = loop(&l);
	con_screen_tick(&l.scr, UINT64_MAX - CON_QUIET_MS, &l.out);
	screen_break(&l.scr, &l.out);
	if (rc == CON_EXIT_DETACH)
		con_screen_message(&l.scr, "detached; the system keeps running",
		    &l.out);
	flush_out(&l);
	term_leave_raw();
out_mask:
	if (l.sigfd != -1)
		close(l.sigfd);
	(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
	close(l.sock);
	con_sink_free(&l.out);
	return (enum con_exit)rc;
}
