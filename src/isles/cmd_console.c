/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles console: attach this terminal to one VM's serial console from
 * another terminal, while the system runs (docs/console.md).
 *
 *   isles console [--system NAME] [--read-only] [--no-replay] [--prefix] VM
 *   isles console [--system NAME] [...] --all
 *
 * --all is the multiplexer of every VM, as in the foreground `isles up`,
 * except that @q only detaches: a console client never stops the system.
 *
 *   isles console --line FD
 *
 * is how the supervisor puts the multiplexer on the host serial device of
 * the system file's console = { ... } (docs/console.md): FD is the line,
 * opened and set to its speed and format by the supervisor, and the
 * system is the one of $ISLES_RUN (set for every child).  @q and @d there
 * only reconnect: a serial line has no shell to go back to.
 * The run dir is ${ISLES_RUN_DIR:-/run/isles}/NAME; without --system, the
 * one system whose console socket answers is used.  VM is a name or a
 * number (its position in the system file).  Trusts only the user's
 * arguments and the directory listing of the run dir.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conclient.h"
#include "host/parse.h"
#include "isles.h"
#include "unixsock.h"

static void
usage(void)
{
	fprintf(stderr, "usage: isles console [--system NAME] [--read-only] "
	    "[--no-replay] [--prefix] (VM | --all)\n");
}

/* True if a console daemon accepts connections on path. */
static int
sock_live(const char *path)
{
	int fd = unixsock_connect(path, 0);

	if (fd == -1)
		return 0;
	close(fd);
	return 1;
}

/* Fill sock with the console socket of the one live system; 0 / -1. */
static int
find_system(const char *base, char *sock, size_t size)
{
	DIR *d = opendir(base);
	struct dirent *de;
	char found[8][64], path[512];
	int n = 0;

	if (d == NULL) {
		fprintf(stderr, "isles console: no running system (%s: %s)\n",
		    base, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/console.sock", base,
		    de->d_name);
		if (!sock_live(path))
			continue;
		if (n < 8)
			snprintf(found[n], sizeof(found[n]), "%.63s", de->d_name);
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "isles console: no running system under %s\n",
		    base);
		return -1;
	}
	if (n > 1) {
		fprintf(stderr, "isles console: %d systems are running; give "
		    "--system NAME:", n);
		for (int i = 0; i < n && i < 8; i++)
			fprintf(stderr, " %s", found[i]);
		fprintf(stderr, "\n");
		return -1;
	}
	if ((size_t)snprintf(sock, size, "%s/%s/console.sock", base,
	    found[0]) >= size)
		return -1;
	return 0;
}

int
cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "system", required_argument, NULL, 's' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "no-replay", no_argument, NULL, 'n' },
		{ "prefix", no_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "line", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char names[CON_MAX_VMS][CON_MAX_NAME + 1];
	const char *system = NULL, *base, *vm;
	unsigned flags = CON_REPLAY;
	char sock[512];
	int ch, nvms, idx = -1, line = -1;
	unsigned u;
	bool all = false;
	enum con_exit rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			system = optarg;
			break;
		case 'r':
			flags |= CON_READONLY;
			break;
		case 'n':
			flags &= ~CON_REPLAY;
			break;
		case 'p':
			flags |= CON_PREFIX;
			break;
		case 'a':
			all = true;
			flags |= CON_NOQUIT;
			break;
		case 'l':
			if (host_parse_uint(optarg, 3, 1023, &u) != 0) {
				fprintf(stderr, "isles console: --line takes an "
				    "inherited fd number, not '%s'\n", optarg);
				return 2;
			}
			line = (int)u;
			all = true;
			flags |= CON_NOQUIT | CON_LINE;
			flags &= ~CON_REPLAY;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc - (all ? 0 : 1)) {
		usage();
		return 2;
	}
	vm = all ? NULL : argv[optind];
	base = getenv("ISLES_RUN_DIR");
	if (base == NULL || *base == '\0')
		base = "/run/isles";
	if (line != -1) {
		const char *r = getenv("ISLES_RUN");

		if (r == NULL || *r != '/' || (size_t)snprintf(sock,
		    sizeof(sock), "%s/console.sock", r) >= sizeof(sock)) {
			fprintf(stderr, "isles console: --line needs ISLES_RUN, "
			    "the run dir (set by the supervisor)\n");
			return 2;
		}
		if (dup2(line, STDIN_FILENO) == -1 ||
		    dup2(line, STDOUT_FILENO) == -1) {
			fprintf(stderr, "isles console: fd %d: %s\n", line,
			    strerror(errno));
			return 1;
		}
		close(line);
	} else if (system != NULL) {
		if (strchr(system, '/') != NULL || system[0] == '.') {
			fprintf(stderr, "isles console: bad system name '%s'\n",
			    system);
			return 2;
		}
		snprintf(sock, sizeof(sock), "%s/%s/console.sock", base, system);
	} else if (find_system(base, sock, sizeof(sock)) == -1) {
		return 1;
	}

	nvms = con_list(sock, names, CON_MAX_VMS);
	if (nvms < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "isles console: system %s is not running "
			    "(no console at %s)\n", system ? system : "?", sock);
		else
			fprintf(stderr, "isles console: %s: %s\n", sock,
			    strerror(errno));
		return 1;
	}
	if (all)
		goto run;
	for (int i = 0; i < nvms; i++)
		if (strcmp(names[i], vm) == 0)
			idx = i;
	if (idx == -1 && nvms > 0) {
		unsigned v;

		if (host_parse_uint(vm, 0, (unsigned)nvms - 1, &v) == 0)
			idx = (int)v;
	}
	if (idx == -1) {
		fprintf(stderr, "isles console: no VM '%s'; VMs:", vm);
		for (int i = 0; i < nvms; i++)
			fprintf(stderr, " %d=%s", i, names[i]);
		fprintf(stderr, "\n");
		return 1;
	}

run:
	do
		rc = con_run(sock, idx, flags);
	while (line != -1 && rc == CON_EXIT_DETACH);
	switch (rc) {
	case CON_EXIT_QUIT:
	case CON_EXIT_DETACH:
	case CON_EXIT_CLOSED:
		return 0;
	case CON_EXIT_SIGNAL:
		return 128 + con_exit_signal();
	case CON_EXIT_ERROR:
		break;
	}
	return 1;
}
