/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles status [--json] [--system NAME] [SYSTEM]: the VMs and daemons of a
 * running system, rendered by its supervisor (text or JSON).
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
#include "isles.h"

int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	char rundir[PATH_MAX];
	struct proto_rx *rx;
	struct proto_hdr h;
	const uint8_t *p;
	bool json = false;
	int ch, fd, rc = 1;

	while ((ch = getopt_long(argc, argv, "+js:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 's':
			name = optarg;
			break;
		case 'h':
			printf("usage: isles status [--json] [--system NAME]\n");
			return 0;
		default:
			fprintf(stderr, "usage: isles status [--json] "
			    "[--system NAME]\n");
			return 2;
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "usage: isles status [--json] [--system NAME]\n");
		return 2;
	}
	if (ctl_find_system(name, 0, rundir, sizeof(rundir)) < 0)
		return 1;
	fd = ctl_connect(rundir);
	if (fd < 0) {
		fprintf(stderr, "isles status: %s/control.sock: %s\n", rundir,
		    strerror(errno));
		return 1;
	}
	rx = malloc(sizeof(*rx));
	if (rx == NULL) {
		close(fd);
		return 1;
	}
	proto_rx_init(rx);
	if (proto_send(fd, CTL_STATUS, json ? CTL_F_JSON : 0, 0, NULL, 0) < 0 ||
	    ctl_recv(fd, rx, &h, &p) != 1) {
		fprintf(stderr, "isles status: no answer from the supervisor "
		    "of %s\n", rundir);
	} else if (h.type == CTL_OK) {
		fwrite(p, 1, h.len, stdout);
		rc = 0;
	} else if (h.type == CTL_ERR) {
		fprintf(stderr, "isles status: %.*s\n", (int)h.len,
		    (const char *)p);
	}
	free(rx);
	close(fd);
	return rc;
}
