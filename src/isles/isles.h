/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles: the CLI and the supervisor (one binary, src/isles/).
 * Each subcommand is a cmd_NAME(argc, argv) in its own file, argv[0] being
 * the subcommand name; it returns the process exit status.
 */
#ifndef ISLES_ISLES_H
#define ISLES_ISLES_H

#include <stdio.h>

int cmd_check(int argc, char **argv);
int cmd_graph(int argc, char **argv);

struct sc_system;
struct sc_errors;
/*
 * What sc_load refused, as `isles check` prints it: every message, the
 * count of those not kept, then "FILE: N errors" (cmd_check.c).
 */
void print_load_errors(const char *file, const struct sc_errors *err,
    FILE *out);
/*
 * Every passthrough device of sys ready for vfio-pci on this host
 * (hostcheck.c)?  Prints each problem and what to run on err ("FILE:LINE:
 * vm 'NAME': passthrough ADDR is not ready:" and the steps); returns the
 * number of problems.
 */
int check_passthrough(const struct sc_system *sys, FILE *err);
/*
 * The optional SYSTEM operand left after a subcommand's options (what
 * --system NAME gives too): sets *name if there is one.  Returns 0, or -1
 * if more operands follow (a usage error).  In ctlclient.c.
 */
int cli_system_operand(int argc, char **argv, const char **name);

int cmd_image(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_web(int argc, char **argv);

#endif
