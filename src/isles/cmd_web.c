/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles web [--listen ADDR:PORT] [--system NAME] [SYSTEM]: the running
 * system in a browser (docs/web.md).  Finds the system, draws its picture
 * as `isles graph` does (the system file is the one its supervisor was
 * started with: the last argument of its command line), makes a random
 * token (getrandom), and becomes isles-webd (beside this binary) with the
 * picture on fd 3 and the token in its environment, which prints the
 * address to open and serves until the system stops (or ^C).
 *
 * Exit: 0 when the system stopped, 1 on errors, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "isles.h"
#include "supervisor/rundir.h"
#include "sysconf/sysconf.h"
#include "webd/webmsg.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: isles web [--listen ADDR:PORT] [--system NAME] "
	    "[SYSTEM]\n  serve the running system's picture, status and "
	    "consoles to a browser\n  (default 127.0.0.1:8080; the address "
	    "printed carries the access token)\n");
}

/* --listen as isles-webd takes it (checked there again). */
static bool
listen_ok(const char *listen)
{
	char addr[16];
	unsigned port;
	bool lo;

	return webmsg_parse_listen(listen, addr, &port, &lo) == 0;
}

/* The system file the supervisor of rundir was started with. */
static int
system_file(const char *rundir, char *out, size_t len)
{
	char path[PATH_MAX], buf[8192];
	FILE *f;
	int pid = 0, fd;
	ssize_t n;

	(void)rd_path(path, sizeof(path), "%s/supervisor.pid", rundir);
	f = fopen(path, "re");
	if (f == NULL || fscanf(f, "%d", &pid) != 1 || pid <= 0) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 1)
		return -1;
	buf[n] = '\0';
	/* The last NUL-terminated argument. */
	if (buf[n - 1] == '\0')
		n--;
	while (n > 0 && buf[n - 1] != '\0')
		n--;
	if (buf[n] != '/' || strlen(buf + n) >= len)
		return -1;
	memcpy(out, buf + n, strlen(buf + n) + 1);
	return 0;
}

/* The picture as SVG in a memfd (rewound), or -1 after saying why. */
static int
draw(const char *file)
{
	static struct sc_errors err;
	struct sc_system *sys;
	int p[2], out, status;
	pid_t pid;
	FILE *f;

	sys = sc_load(file, &err);
	if (sys == NULL) {
		print_load_errors(file, &err, stderr);
		return -1;
	}
	out = memfd_create("isles-web-graph", 0);
	if (out < 0 || pipe2(p, O_CLOEXEC) < 0) {
		perror("isles web");
		sc_free(sys);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(p[0], STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		execlp("dot", "dot", "-Tsvg", (char *)NULL);
		fprintf(stderr, "isles web: cannot run Graphviz's dot (%s): "
		    "install it (apt-get install graphviz)\n", strerror(errno));
		_exit(127);
	}
	close(p[0]);
	f = pid > 0 ? fdopen(p[1], "w") : NULL;
	if (f != NULL) {
		(void)sc_graph(sys, f);
		fclose(f);
	} else {
		close(p[1]);
	}
	sc_free(sys);
	while (pid > 0 && waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			break;
	if (pid <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "isles web: dot could not draw %s\n", file);
		close(out);
		return -1;
	}
	(void)lseek(out, 0, SEEK_SET);
	return out;
}

int
cmd_web(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "system", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *listen = "127.0.0.1:8080";
	char rundir[PATH_MAX], file[PATH_MAX], self[PATH_MAX], daemon[PATH_MAX];
	char token[33];
	unsigned char rnd[16];
	ssize_t n;
	int ch, g;

	while ((ch = getopt_long(argc, argv, "+l:s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = optarg;
			break;
		case 's':
			name = optarg;
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
	if (!listen_ok(listen)) {
		fprintf(stderr, "isles web: --listen %s: expected "
		    "IPV4ADDR:PORT, e.g. 127.0.0.1:8080\n", listen);
		return 2;
	}
	if (ctl_find_system(name, 0, rundir, sizeof(rundir)) < 0)
		return 1;
	if (system_file(rundir, file, sizeof(file)) < 0) {
		fprintf(stderr, "isles web: %s: cannot tell the system file of "
		    "its supervisor\n", rundir);
		return 1;
	}
	g = draw(file);
	if (g < 0)
		return 1;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		perror("isles web: getrandom");
		return 1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("isles web: /proc/self/exe");
		return 1;
	}
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(daemon, sizeof(daemon), "%.*s/isles-webd",
	    (int)(sizeof(daemon) - 16), self);
	if (g != 3) {
		if (dup2(g, 3) < 0) {
			perror("isles web: dup2");
			return 1;
		}
		close(g);
	}
	(void)fcntl(3, F_SETFD, 0);
	if (setenv("ISLES_WEB_TOKEN", token, 1) < 0) {
		perror("isles web: setenv");
		return 1;
	}
	fflush(stdout);
	execl(daemon, "isles-webd", "--run-dir", rundir, "--listen", listen,
	    "--graph-fd", "3", (char *)NULL);
	fprintf(stderr, "isles web: %s: %s\n", daemon, strerror(errno));
	return 1;
}
