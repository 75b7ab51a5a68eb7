/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hostcheck: what a valid system file needs of this host before it can
 * start, checked by `isles check` and again by `isles up` (the host may
 * change between the two): every passthrough device ready for vfio-pci
 * (src/host/pcidev.h says what to run when it is not).
 *
 * $ISLES_SYSFS_ROOT: the root holding sys/ and dev/ (a fake tree in the
 * tests; default /).
 */
#include <stdio.h>
#include <stdlib.h>

#include "host/pcidev.h"
#include "isles.h"
#include "sysconf/sysconf.h"

int
check_passthrough(const struct sc_system *sys, FILE *err)
{
	const char *root = getenv("ISLES_SYSFS_ROOT");
	char msg[2048];
	int n = 0;

	if (root == NULL || *root == '\0')
		root = "/";
	for (size_t v = 0; v < sys->nvms; v++)
		for (size_t i = 0; i < sys->vms[v].npci; i++)
			if (pci_passthrough_check(root, sys->vms[v].pci[i], msg,
			    sizeof(msg)) < 0) {
				fprintf(err, "%s:%d: vm '%s': passthrough %s is "
				    "not ready:\n%s", sys->file,
				    sys->vms[v].line, sys->vms[v].name,
				    sys->vms[v].pci[i], msg);
				n++;
			}
	return n;
}
