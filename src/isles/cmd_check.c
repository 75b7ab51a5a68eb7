/* SPDX-License-Identifier: BSD-2-Clause */
/* isles check: placeholder until its owner lands it. */
#include <stdio.h>

#include "isles.h"

int
cmd_check(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "isles %s: not implemented yet\n", argv[0]);
	return 1;
}
