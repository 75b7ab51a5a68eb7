/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conscreen: the console's screen formatter (docs/console.md): guest
 * serial output of every VM, buffered per line and shown one whole line at
 * a time in the VM's colour or after a [NAME] prefix, partial lines after
 * CON_QUIET_MS of quiet, Isles' own messages on lines of their own; or,
 * for the one-VM viewer, the bytes passed through untouched.
 *
 * Trust: the output bytes are hostile guest data; the multiplexer removes
 * every terminal control sequence from them (colours, cursor motion,
 * titles) before they reach the user's terminal.  A pure state machine:
 * it writes terminal bytes into a con_sink, the socket loop (conclient.c)
 * writes them out; tests/unit/test_console.c drives it directly
 * (libconclient).
 */
#ifndef ISLES_CONSCREEN_H
#define ISLES_CONSCREEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convm.h"

#define CON_LINE_MAX	1024u	/* a line longer than this is flushed in parts */
#define CON_QUIET_MS	500u	/* a partial line is shown after this quiet */
#define CON_REDRAW_MS	100u	/* your line is redrawn after this quiet */

/* Growable byte buffer the formatter writes terminal output into. */
struct con_sink {
	uint8_t *p;
	size_t len, cap;
	bool oom;		/* an append failed: output was lost */
};

void con_sink_put(struct con_sink *s, const void *p, size_t n);
void con_sink_free(struct con_sink *s);

struct con_vmline {
	uint8_t buf[CON_LINE_MAX];
	size_t len;		/* the current line so far */
	size_t shown;		/* how much of it is on the screen */
	uint64_t last_ms;	/* time of the last byte buffered */
	int esc;		/* sanitizer state across chunks */
};

struct con_screen {
	unsigned nvms;
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	bool prefix;		/* [NAME] instead of colours */
	bool raw;		/* viewer: pass bytes through untouched */
	const char *eol;	/* "\r\n" on a raw-mode tty, else "\n" */
	int cur;		/* VM whose partial line ends the screen, or -1 */
	uint32_t eager;		/* VMs whose partial lines are shown at once */
	uint64_t last_ms;	/* time of the last output of any VM */
	struct con_vmline vm[CON_MAX_VMS];
};

void con_screen_init(struct con_screen *s, unsigned nvms,
    const char names[][CON_MAX_NAME + 1], bool prefix, bool raw,
    const char *eol);

/*
 * Show partial lines of these VMs as soon as output arrives instead of
 * after CON_QUIET_MS (the VM you type into: its echo must not lag).
 */
void con_screen_eager(struct con_screen *s, uint32_t vms);

/* Output of VM `vm` (< nvms) received at time now_ms. */
void con_screen_output(struct con_screen *s, unsigned vm, const uint8_t *p,
    size_t n, uint64_t now_ms, struct con_sink *out);

/* A message of Isles' own, on lines of its own (may hold '\n's). */
void con_screen_message(struct con_screen *s, const char *msg,
    struct con_sink *out);

/* End the partial line on the screen, if any (colour off, new line). */
void con_screen_break(struct con_screen *s, struct con_sink *out);

/*
 * Show partial lines that have been quiet for CON_QUIET_MS at now_ms.
 * Returns the time (ms) of the next such deadline, or UINT64_MAX if none.
 */
uint64_t con_screen_tick(struct con_screen *s, uint64_t now_ms,
    struct con_sink *out);

/* The ANSI SGR colour parameter of VM n ("32", "33", ...). */
const char *con_colour(unsigned n);

#endif
