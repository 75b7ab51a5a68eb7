/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * image: the guest image (kernel + initramfs) that every VM boots.
 *
 * `isles image` and the supervisor (before it starts VMs) call
 * image_ensure, which (re)builds build/image/{vmlinuz,initrd.img} when
 * they are missing or stale, by running src/guest/image/mkimage.sh.  The
 * image is keyed by its inputs (Debian package versions of the kernel,
 * busybox-static and e2fsprogs, every file under src/guest/ and the built
 * guest agent); an up-to-date image costs one quick key check.
 *
 * The image directory is <dir of the isles binary>/image/, or
 * $ISLES_IMAGE_DIR when set.  The kernel returned is vmlinuz (bzImage),
 * or with ISLES_PVH=1 the same kernel uncompressed (vmlinux, booted
 * through PVH: seconds faster under TCG).  The build script is found under
 * $ISLES_SRC, else by searching upwards from the binary's directory for
 * src/guest/image/mkimage.sh.
 *
 * Conventions: 0 / -1; on -1 a message saying what failed has already
 * been printed on stderr (the caller need not add one).
 */
#ifndef ISLES_IMAGE_H
#define ISLES_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Make sure the guest image is built and current (force: rebuild anyway).
 * On success returns 0 and writes the absolute paths of the kernel and the
 * initramfs into kernel[klen] and initrd[ilen].  Long steps print progress
 * lines "isles image: ..." on stderr.  Returns -1 on failure (message
 * printed; errno is not meaningful).  Blocks for the whole build (tens of
 * seconds when the kernel package must be downloaded); serialised with
 * other builds of the same image directory by a lock file.
 */
int image_ensure(bool force, char *kernel, size_t klen, char *initrd,
    size_t ilen);

#endif
