/* SPDX-License-Identifier: BSD-2-Clause */
/* Temporary: subcommands not written yet.  Each moves to its own file. */
#include <stdio.h>

#include "isles.h"

#define STUB(n) int n(int argc, char **argv) { (void)argc; fprintf(stderr, "isles %s: not implemented yet\n", argv[0]); return 1; }
STUB(cmd_check)
STUB(cmd_image)
STUB(cmd_up)
STUB(cmd_down)
STUB(cmd_status)
STUB(cmd_restart)
STUB(cmd_exec)
STUB(cmd_console)
