/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles down [--system NAME] [--timeout SECS] [SYSTEM]: power every VM
 * off (killed after the timeout, default 20 s), stop the daemons, wait
 * for the supervisor to exit.  Leaves no process behind even when the
 * supervisor itself died: whatever still names the run dir in its
 * command line is stopped (rundir.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "host/parse.h"
#include "isles.h"
#include "supervisor/rundir.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: isles down [--timeout SECS] [--system NAME]\n");
}

int
cmd_down(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "system", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	char rundir[PATH_MAX];
	uint32_t timeout = 0;
	bool quiet = false;
	int ch, fd, swept;

	while ((ch = getopt_long(argc, argv, "+s:t:qh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			name = optarg;
			break;
		case 't': {
			unsigned t;

			if (host_parse_uint(optarg, 1, 3600, &t) < 0) {
				fprintf(stderr, "isles down: --timeout %s: "
				    "expected 1 to 3600 seconds\n", optarg);
				return 2;
			}
			timeout = t;
			break;
		}
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cli_system_operand(argc, argv, &name) < 0) {
		usage(stderr);
		return 2;
	}
	if (ctl_find_system(name, 1, rundir, sizeof(rundir)) < 0)
		return 1;
	fd = rd_is_live(rundir) ? ctl_connect(rundir) : -1;
	if (fd >= 0) {
		struct proto_rx *rx = malloc(sizeof(*rx));
		struct proto_hdr h;
		const uint8_t *p;

		if (rx == NULL)
			return 1;
		proto_rx_init(rx);
		if (proto_send(fd, CTL_DOWN, 0, 0, &timeout, 4) == 0) {
			/* Progress until the supervisor closes (exits). */
			while (ctl_recv(fd, rx, &h, &p) == 1) {
				const char *vm, *st;
				size_t l;

				if (h.type != CTL_EVENT || quiet)
					continue;
				vm = (const char *)p;
				l = strnlen(vm, h.len);
				if (l + 1 >= h.len)
					continue;
				st = vm + l + 1;
				if (strnlen(st, h.len - l - 1) < h.len - l - 1)
					fprintf(stderr, "isles: %s: %s\n", vm, st);
			}
		}
		free(rx);
		close(fd);
	}
	/* Blocks until the supervisor has exited (it holds the lock). */
	if (rd_wait_free(rundir) < 0)
		fprintf(stderr, "isles down: waiting for the supervisor: "
		    "%s\n", strerror(errno));
	swept = rd_sweep(rundir, 3000);
	if (swept > 0)
		fprintf(stderr, "isles down: stopped %d leftover process%s\n",
		    swept, swept == 1 ? "" : "es");
	rd_clean(rundir);
	if (!quiet)
		printf("system %s is down\n", strrchr(rundir, '/') + 1);
	return 0;
}
