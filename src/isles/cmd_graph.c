/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles graph [-o OUT] [-T FORMAT] FILE: the system as a picture.
 *
 * The system file is loaded and checked as by `isles check` (errors the
 * same, exit 1); its graph (sc_graph, src/sysconf/graph.c) is written in
 * the dot language to stdout, or rendered by Graphviz's `dot` into OUT:
 * the format is -T's, else OUT's extension (svg, png, pdf; .dot writes
 * the dot text itself).  Usage errors exit 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isles.h"
#include "sysconf/sysconf.h"

static int
graph_usage(FILE *out, int status)
{
	fprintf(out, "usage: isles graph [-o OUT] [-T svg|png|pdf|dot] FILE\n"
	    "  draw the system: dot text on stdout, or rendered by Graphviz\n"
	    "  -o OUT  write OUT (format from its extension unless -T)\n");
	return status;
}

/* Render the graph of sys with dot -TFMT -o OUT; 0 or 1 (told). */
static int
render(const struct sc_system *sys, const char *fmt, const char *out)
{
	int p[2], status;
	pid_t pid;
	FILE *f;

	if (pipe(p) == -1) {
		perror("isles graph: pipe");
		return 1;
	}
	pid = fork();
	if (pid == -1) {
		perror("isles graph: fork");
		close(p[0]);
		close(p[1]);
		return 1;
	}
	if (pid == 0) {
		char t[16];

		snprintf(t, sizeof(t), "-T%s", fmt);
		dup2(p[0], STDIN_FILENO);
		close(p[0]);
		close(p[1]);
		execlp("dot", "dot", t, "-o", out, (char *)NULL);
		fprintf(stderr, "isles graph: cannot run Graphviz's dot (%s): "
		    "install it (apt-get install graphviz) or write the dot "
		    "text with -o FILE.dot\n", strerror(errno));
		_exit(127);
	}
	close(p[0]);
	f = fdopen(p[1], "w");
	if (f == NULL) {
		close(p[1]);
	} else {
		(void)sc_graph(sys, f);
		fclose(f);	/* dot may have gone: EPIPE is reported below */
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			perror("isles graph: waitpid");
			return 1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 127)
			fprintf(stderr, "isles graph: dot failed writing %s\n",
			    out);
		return 1;
	}
	return 0;
}

int
cmd_graph(int argc, char **argv)
{
	const char *file = NULL, *out = NULL, *fmt = NULL;
	struct sc_errors err;
	struct sc_system *sys;
	int ch, rc;

	optind = 1;
	while ((ch = getopt(argc, argv, "ho:T:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 'T':
			fmt = optarg;
			break;
		case 'h':
			return graph_usage(stdout, 0);
		default:
			return graph_usage(stderr, 2);
		}
	}
	if (optind != argc - 1)
		return graph_usage(stderr, 2);
	file = argv[optind];
	if (fmt == NULL && out != NULL) {
		const char *dot = strrchr(out, '.');

		fmt = dot != NULL && strchr(dot, '/') == NULL ? dot + 1 : "";
	}
	if (fmt == NULL)
		fmt = "dot";
	if (strcmp(fmt, "svg") != 0 && strcmp(fmt, "png") != 0 &&
	    strcmp(fmt, "pdf") != 0 && strcmp(fmt, "dot") != 0) {
		fprintf(stderr, "isles graph: format '%s': give -T svg, png, "
		    "pdf or dot, or an OUT ending in one\n", fmt);
		return 2;
	}

	sys = sc_load(file, &err);
	if (sys == NULL) {
		print_load_errors(file, &err, stderr);
		return 1;
	}
	if (strcmp(fmt, "dot") == 0) {
		FILE *f = out != NULL ? fopen(out, "w") : stdout;

		if (f == NULL) {
			fprintf(stderr, "isles graph: %s: %s\n", out,
			    strerror(errno));
			rc = 1;
		} else {
			rc = sc_graph(sys, f) == 0 ? 0 : 1;
			if ((f != stdout ? fclose(f) : fflush(f)) != 0)
				rc = 1;
			if (rc != 0)
				fprintf(stderr, "isles graph: writing %s failed\n",
				    out != NULL ? out : "stdout");
		}
	} else {
		rc = render(sys, fmt, out != NULL ? out : "/dev/stdout");
	}
	sc_free(sys);
	return rc;
}
