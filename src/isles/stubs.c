/* SPDX-License-Identifier: BSD-2-Clause */
/* Temporary: supervisor subcommands not written yet. */
#include <stdio.h>

#include "isles.h"

#define STUB(n) int n(int argc, char **argv) { (void)argc; fprintf(stderr, "isles %s: not implemented yet\n", argv[0]); return 1; }
STUB(cmd_up)
STUB(cmd_down)
STUB(cmd_status)
STUB(cmd_restart)
STUB(cmd_exec)
