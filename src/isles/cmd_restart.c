/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles restart [--system NAME] VM: power the VM off (killed after 10 s),
 * start it again, and return once its agent answers (or fail with why).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "isles.h"

int
cmd_restart(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *vm;
	char rundir[PATH_MAX], req[64];
	struct proto_rx *rx;
	struct proto_hdr h;
	const uint8_t *p;
	int ch, fd, rc = 1, r;

	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			name = optarg;
			break;
		case 'h':
			printf("usage: isles restart [--system NAME] VM\n");
			return 0;
		default:
			fprintf(stderr, "usage: isles restart [--system NAME] "
			    "VM\n");
			return 2;
		}
	}
	if (optind + 1 != argc || strlen(argv[optind]) >= sizeof(req)) {
		fprintf(stderr, "usage: isles restart [--system NAME] VM\n");
		return 2;
	}
	vm = argv[optind];
	fd = ctl_open("restart", name, rundir, sizeof(rundir));
	if (fd < 0)
		return 1;
	rx = malloc(sizeof(*rx));
	if (rx == NULL)
		return 1;
	proto_rx_init(rx);
	snprintf(req, sizeof(req), "%s", vm);
	if (proto_send(fd, CTL_RESTART, 0, 0, req, strlen(req) + 1) < 0) {
		fprintf(stderr, "isles restart: %s\n", strerror(errno));
		goto out;
	}
	while ((r = ctl_recv(fd, rx, &h, &p)) == 1) {
		if (h.type == CTL_OK) {
			printf("%s restarted and ready\n", vm);
			rc = 0;
			break;
		}
		if (h.type == CTL_ERR) {
			fprintf(stderr, "isles restart: %.*s\n", (int)h.len,
			    (const char *)p);
			rc = h.flags ? h.flags : 1;
			break;
		}
	}
	if (r != 1)
		fprintf(stderr, "isles restart: the supervisor closed the "
		    "connection\n");
out:
	free(rx);
	close(fd);
	return rc;
}
