/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles: command dispatch.  Every subcommand lives in its own file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "isles.h"
#include "log.h"
#include "supervisor/supervise.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} cmds[] = {
	{ "check", cmd_check, "check FILE            validate a system file, print the plan" },
	{ "graph", cmd_graph, "graph [-o OUT.svg] FILE  draw the system (Graphviz)" },
	{ "image", cmd_image, "image [--force] [--arch x86_64|i386]  build the guest kernel + initramfs" },
	{ "up", cmd_up, "up [--detach] FILE    start a system (foreground: the console)" },
	{ "down", cmd_down, "down [--timeout SECS] [SYSTEM]  stop a system" },
	{ "status", cmd_status, "status [--json] [SYSTEM]  show VMs and daemons" },
	{ "restart", cmd_restart, "restart VM            restart one VM" },
	{ "exec", cmd_exec, "exec [-t SECS] [-i] VM -- CMD [ARGS...]  run a command in a VM" },
	{ "console", cmd_console, "console VM            attach to one VM's serial console" },
	{ "web", cmd_web, "web [--listen ADDR:PORT] [SYSTEM]  the system in a browser" },
	/* Started by `isles up`; not listed. */
	{ "supervise", sup_main, NULL },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: isles COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].usage != NULL)
			fprintf(out, "  %s\n", cmds[i].usage);
	fprintf(out, "\nSYSTEM (or --system NAME) may be omitted when exactly one system is\nrunning under $ISLES_RUN_DIR (default /run/isles).\n");
}

int
main(int argc, char **argv)
{
	log_init("isles", NULL);
	/* Subcommands wait for their children: never inherit SIG_IGN. */
	signal(SIGCHLD, SIG_DFL);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "isles: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
