/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles image [--force] [--arch x86_64|i386]: build the guest kernel +
 * initramfs of that guest architecture (default x86_64) if missing or
 * stale (see image.h), then print where they are, as two lines
 * "kernel PATH" and "initrd PATH" (scripts and tests parse them).  Exit
 * status 0 when the image is ready, 1 when the build failed, 2 on a usage
 * error.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "isles.h"

int
cmd_image(int argc, char **argv)
{
	char kernel[PATH_MAX], initrd[PATH_MAX];
	enum sc_arch arch = SC_ARCH_X86_64;
	bool force = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
			force = true;
		} else if (strcmp(argv[i], "--arch") == 0 && i + 1 < argc) {
			if (image_arch_parse(argv[++i], &arch) < 0) {
				fprintf(stderr, "isles image: unknown guest "
				    "architecture '%s' (x86_64 or i386)\n",
				    argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: isles image [--force] [--arch x86_64|i386]\n"
			    "Build the guest kernel and initramfs into the image "
			    "directory next to\nthe isles binary, unless they are "
			    "up to date; --force rebuilds.\n--arch i386: the "
			    "32-bit guest image, in its subdirectory i386/.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: isles image [--force] "
			    "[--arch x86_64|i386]\n");
			return 2;
		}
	}
	if (image_ensure_arch(arch, force, kernel, sizeof(kernel), initrd,
	    sizeof(initrd)) < 0)
		return 1;
	printf("kernel %s\ninitrd %s\n", kernel, initrd);
	return 0;
}
