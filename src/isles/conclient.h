/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conclient: the terminal side of the serial console (docs/console.md).
 *
 * con_run() connects to a system's console socket (isles-consoled,
 * src/consoled/conproto.h) and makes the calling terminal that system's
 * console: the multiplexer of the foreground `isles up` (every VM, each in
 * its own colour or with a [NAME] prefix, input to one VM chosen with the
 * `@` escapes), or the viewer of `isles console VM` (one VM, bytes passed
 * through unchanged).  Callers: cmd_up (foreground) and cmd_console.
 *
 * Trust: the console socket is served by our own daemon, but the OUTPUT
 * bytes are guest serial output, hostile: the multiplexer removes terminal
 * control sequences from them (colours, cursor motion, titles) before they
 * reach the user's terminal; the single-VM viewer passes them through like
 * any serial console so full-screen programs work.
 *
 * The escape parser (con_esc_*) and the line formatter (con_screen_*) are
 * pure state machines with no I/O, exported for unit tests.
 *
 * Errors: con_run reports through its return value and messages on stderr;
 * other functions return 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_CONCLIENT_H
#define ISLES_CONCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consoled/conproto.h"

enum con_exit {
	CON_EXIT_QUIT,		/* user typed @q in the multiplexer: shut down */
	CON_EXIT_DETACH,	/* user typed @d (or @q in a viewer): keep running */
	CON_EXIT_ERROR,		/* could not connect / protocol / terminal error */
	CON_EXIT_CLOSED,	/* isles-consoled went away (system stopped) */
	CON_EXIT_SIGNAL,	/* SIGTERM, SIGINT or SIGHUP: see con_exit_signal() */
};

#define CON_PREFIX	0x1u	/* [NAME] prefixes instead of colours */
#define CON_REPLAY	0x2u	/* first show the last 64 KiB of each VM */
#define CON_READONLY	0x4u	/* escapes work, typed text is never sent */
#define CON_NOQUIT	0x8u	/* multiplexer: @q detaches too (not `isles up`) */

/*
 * Run the console on stdin/stdout until the user leaves it or the daemon
 * goes away.  console_sock: R/console.sock.  only_vm: -1 = the multiplexer
 * of every VM (input starts at VM 0; @q = CON_EXIT_QUIT), else a viewer of
 * that VM number (@q and @d = CON_EXIT_DETACH).  Prefix mode is also
 * chosen when stdout is not a terminal (multiplexer only).
 *
 * The terminal (stdin, if a tty) is put in raw mode and always restored:
 * on return, at exit(), and on fatal signals.  While it runs, SIGTERM,
 * SIGINT, SIGHUP, SIGWINCH and SIGCONT are blocked and taken through a
 * signalfd; the previous mask is restored on return.  Blocks the calling
 * thread (its own poll loop) until it returns.
 */
enum con_exit con_run(const char *console_sock, int only_vm, unsigned flags);

/* The signal that ended the last con_run with CON_EXIT_SIGNAL. */
int con_exit_signal(void);

/*
 * Ask the daemon for its VMs: fills names[0..max-1] (NUL-terminated) in
 * system-file order.  Returns the number of VMs, or -1 with errno.
 */
int con_list(const char *console_sock, char names[][CON_MAX_NAME + 1],
    unsigned max);

/* ---- escape parser (pure) ----------------------------------------------- */

enum con_act_kind {
	CON_ACT_NONE,		/* byte swallowed (escape in progress) */
	CON_ACT_SEND,		/* send `byte` to every VM in `vms` */
	CON_ACT_SWITCH,		/* input now goes to `vms`; print msg */
	CON_ACT_HELP,		/* print the help (msg is empty) */
	CON_ACT_ERROR,		/* print msg; the escape was discarded */
	CON_ACT_QUIT,		/* leave, shut the system down */
	CON_ACT_DETACH,		/* leave, system keeps running */
};

struct con_act {
	enum con_act_kind kind;
	uint32_t vms;
	uint8_t byte;
	char msg[200];
};

struct con_esc {
	unsigned nvms;
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	int viewer;		/* -1 = multiplexer, else the one VM */
	bool noquit;		/* @q = detach */
	int state;
	bool line_start;
	uint32_t target;	/* VMs that get typed input */
	char word[CON_MAX_NAME + 1];
	size_t wlen;
	unsigned num;
	bool have_num;
	uint32_t multi;
};

/*
 * Start a parser for nvms VMs called names[]; viewer = -1 for the
 * multiplexer (input to VM 0), else the viewer's VM.
 */
void con_esc_init(struct con_esc *e, unsigned nvms,
    const char names[][CON_MAX_NAME + 1], int viewer);
/* true: @q detaches instead of quitting (a multiplexer that does not own
 * the system). */
void con_esc_noquit(struct con_esc *e, bool noquit);

/* Feed one typed byte; fills *act (CON_ACT_NONE if nothing to do). */
void con_esc_feed(struct con_esc *e, uint8_t c, struct con_act *act);

/* ---- screen formatter (pure) -------------------------------------------- */

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

/*
 * Show partial lines that have been quiet for CON_QUIET_MS at now_ms.
 * Returns the time (ms) of the next such deadline, or UINT64_MAX if none.
 */
uint64_t con_screen_tick(struct con_screen *s, uint64_t now_ms,
    struct con_sink *out);

/* The ANSI SGR colour parameter of VM n ("32", "33", ...). */
const char *con_colour(unsigned n);

#endif
