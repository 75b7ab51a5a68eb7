/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles check [-q] FILE: validate a system file and print the plan.
 *
 * Called from main.c's dispatch table; all the checking is sc_load()'s
 * (src/sysconf).  Prints the resolved plan and "FILE: ok" on stdout
 * and exits 0, or prints every error ("FILE:LINE: what is wrong") and a
 * count on stderr and exits 1.  A valid file whose passthrough devices
 * this host cannot give (hostcheck.c: not bound to vfio-pci, IOMMU group
 * not whole, no IOMMU) prints the plan, then what to run, and exits 1
 * too.  Usage errors exit 2.  -q prints nothing but the errors.
 */
#include <stdio.h>
#include <string.h>

#include "isles.h"
#include "sysconf/sysconf.h"

static int
check_usage(FILE *out, int status)
{
	fprintf(out, "usage: isles check [-q] FILE\n"
	    "  validate a system file and print the resolved plan\n"
	    "  -q  quiet: print errors only\n");
	return status;
}

void
print_load_errors(const char *file, const struct sc_errors *err, FILE *out)
{
	for (size_t i = 0; i < err->n; i++)
		fprintf(out, "%s\n", err->msg[i]);
	if (err->dropped > 0)
		fprintf(out, "%s: %zu more errors not shown\n", file,
		    err->dropped);
	fprintf(out, "%s: %zu error%s\n", file, err->n + err->dropped,
	    err->n + err->dropped == 1 ? "" : "s");
}

int
cmd_check(int argc, char **argv)
{
	struct sc_errors err;
	struct sc_system *sys;
	const char *file = NULL;
	bool quiet = false, opts = true;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "-q") == 0) {
			quiet = true;
		} else if (opts && (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)) {
			return check_usage(stdout, 0);
		} else if (opts && strcmp(argv[i], "--") == 0) {
			opts = false;
		} else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "isles check: unknown option '%s'\n",
			    argv[i]);
			return check_usage(stderr, 2);
		} else if (file == NULL) {
			file = argv[i];
		} else {
			fprintf(stderr, "isles check: one FILE only\n");
			return check_usage(stderr, 2);
		}
	}
	if (file == NULL)
		return check_usage(stderr, 2);

	sys = sc_load(file, &err);
	if (sys == NULL) {
		print_load_errors(file, &err, stderr);
		return 1;
	}
	if (!quiet)
		sc_print(sys, stdout);
	fflush(stdout);
	n = (size_t)check_passthrough(sys, stderr);
	if (n > 0) {
		fprintf(stderr, "%s: valid, but this host cannot start it: %zu "
		    "passthrough device%s not ready\n", file, n,
		    n == 1 ? "" : "s");
		sc_free(sys);
		return 1;
	}
	if (!quiet)
		printf("%s: ok\n", file);
	sc_free(sys);
	return fflush(stdout) == 0 ? 0 : 1;
}
