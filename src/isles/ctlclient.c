/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctlclient: the CLI side of the control protocol (ctl.h): finding a
 * running system and talking to its supervisor.  Used by the status,
 * exec, down, restart and up subcommands.  Trusts the supervisor's
 * replies no further than proto_rx's bounds.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "isles.h"
#include "supervisor/rundir.h"
#include "unixsock.h"

const char *
ctl_run_base(void)
{
	const char *b = getenv("ISLES_RUN_DIR");

	return b != NULL && *b != '\0' ? b : "/run/isles";
}

static bool
valid_name(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 31)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') ||
		    (n[i] >= '0' && n[i] <= '9') ||
		    (i > 0 && (n[i] == '_' || n[i] == '-'))))
			return false;
	return true;
}

/* A run dir someone left behind: a pid file or live processes. */
static bool
is_stale(const char *rundir)
{
	char path[PATH_MAX];

	(void)rd_path(path, sizeof(path), "%s/supervisor.pid", rundir);
	return access(path, F_OK) == 0 || rd_count_procs(rundir) > 0;
}

int
cli_system_operand(int argc, char **argv, const char **name)
{
	if (optind < argc)
		*name = argv[optind++];
	return optind < argc ? -1 : 0;
}

int
ctl_find_system(const char *name, int allow_stale, char *rundir, size_t len)
{
	const char *base = ctl_run_base();
	char found[8][64], list[600] = "";
	size_t nfound = 0, off = 0;
	struct dirent *de;
	DIR *d;

	if (name != NULL) {
		if (!valid_name(name)) {
			fprintf(stderr, "isles: '%s' is not a system name\n",
			    name);
			return -1;
		}
		snprintf(rundir, len, "%s/%s", base, name);
		if (rd_is_live(rundir) || (allow_stale && is_stale(rundir)))
			return 0;
		fprintf(stderr, "isles: system %s is not running (run dir "
		    "%s)\n", name, rundir);
		return -1;
	}
	for (int pass = 0; pass < (allow_stale ? 2 : 1) && nfound == 0;
	    pass++) {
		d = opendir(base);
		if (d == NULL)
			break;
		while ((de = readdir(d)) != NULL) {
			char path[PATH_MAX];

			if (de->d_name[0] == '.' || !valid_name(de->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", base, de->d_name);
			if (pass == 0 ? !rd_is_live(path) : !is_stale(path))
				continue;
			if (nfound < 8)
				(void)rd_path(found[nfound], sizeof(found[0]), "%s",
				    de->d_name);
			nfound++;
			if (off < sizeof(list))
				off += (size_t)snprintf(list + off,
				    sizeof(list) - off, " %s", de->d_name);
		}
		closedir(d);
	}
	if (nfound == 0) {
		fprintf(stderr, "isles: no system is running (under %s)\n",
		    base);
		return -1;
	}
	if (nfound > 1) {
		fprintf(stderr, "isles: several systems are running under "
		    "%s:%s; choose one with --system NAME\n", base, list);
		return -1;
	}
	snprintf(rundir, len, "%s/%s", base, found[0]);
	return 0;
}

int
ctl_connect(const char *rundir)
{
	char path[PATH_MAX];

	if (rd_path(path, sizeof(path), "%s/control.sock", rundir) < 0)
		return -1;
	return unixsock_connect(path, 0);
}

int
ctl_open(const char *cmd, const char *name, char *rundir, size_t len)
{
	int fd;

	if (ctl_find_system(name, 0, rundir, len) < 0)
		return -1;
	fd = ctl_connect(rundir);
	if (fd < 0)
		fprintf(stderr, "isles %s: %s/control.sock: %s\n", cmd, rundir,
		    strerror(errno));
	return fd;
}

int
ctl_recv(int fd, struct proto_rx *rx, struct proto_hdr *hdr,
    const uint8_t **payload)
{
	for (;;) {
		ssize_t n;

		if (proto_rx_next(rx, hdr, payload) == 1)
			return 1;
		n = proto_rx_read(rx, fd);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return 0;
			return -1;
		}
	}
}
