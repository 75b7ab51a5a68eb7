/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * isles image [--force]: build the guest kernel + initramfs if missing or
 * stale (see image.h), then print where they are.  Exit status 0 when the
 * image is ready, 1 when the build failed, 2 on a usage error.
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
	bool force = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0) {
			force = true;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			printf("usage: isles image [--force]\n"
			    "Build the guest kernel and initramfs into the image "
			    "directory next to\nthe isles binary, unless they are "
			    "up to date; --force rebuilds.\n");
			return 0;
		} else {
			fprintf(stderr, "usage: isles image [--force]\n");
			return 2;
		}
	}
	if (image_ensure(force, kernel, sizeof(kernel), initrd,
	    sizeof(initrd)) < 0)
		return 1;
	printf("kernel %s\ninitrd %s\n", kernel, initrd);
	return 0;
}
