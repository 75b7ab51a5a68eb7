/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conclient: the terminal side of the serial console (docs/console.md).
 *
 * con_run() connects to a system's console socket (isles-consoled,
 * src/proto/conproto.h) and makes the calling terminal that system's
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
 * Three parts besides this loop: the escape parser (conesc.h) and the
 * screen formatter (conscreen.h), pure, in libconclient; the raw terminal
 * (conterm.h).
 *
 * Errors: con_run reports through its return value and messages on stderr;
 * other functions return 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_CONCLIENT_H
#define ISLES_CONCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/conproto.h"

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
#define CON_LINE	0x10u	/* stdin/stdout is a host serial line set up by
				   the supervisor: its mode is left alone, and
				   the end of its input ends the console */

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

#endif
