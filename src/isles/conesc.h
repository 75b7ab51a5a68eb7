/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conesc: the console's escape parser (docs/console.md): what the user
 * types, byte by byte, becomes either input for the VMs it goes to or a
 * console command: `@` at the start of a line, then a VM number or name
 * (switch input), `@m` (several VMs), `@@` (a literal @), `@?`, `@d`,
 * `@q`.  A pure state machine with no I/O: the socket loop (conclient.c)
 * feeds it and carries out its actions; tests/unit/test_console.c drives
 * it directly (libconclient).  Trusts its caller for nvms and names.
 */
#ifndef ISLES_CONESC_H
#define ISLES_CONESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convm.h"

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

#endif
