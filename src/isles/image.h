/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * image: the guest image (kernel + initramfs) that every VM boots.
 *
 * `isles image` and the supervisor (before it starts VMs) call
 * image_ensure, which (re)builds build/image/{vmlinuz,initrd.img} when
 * they are missing or stale, by running src/guest/image/mkimage.sh.  The
 * image is keyed by its inputs (Debian package versions of the kernel,
 * busybox-static and e2fsprogs, every file under src/guest/ and the built
 * guest agent); an up-to-date image costs one quick key check.  There is
 * one image per guest architecture (image_ensure_arch): x86_64, and i386
 * for 32-bit guests (build/image/i386/, its own key and cache, from
 * Debian's i386 packages and the guest programs of build/guest32/).
 *
 * The image directory is <dir of the isles binary>/image/, or
 * $ISLES_IMAGE_DIR when set; the i386 image is its subdirectory i386/.  The kernel returned is vmlinuz (bzImage),
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

#include "sysconf/sysconf.h"	/* enum sc_arch */

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

/*
 * The same for the image of guest architecture arch (image_ensure is
 * image_ensure_arch(SC_ARCH_X86_64, ...)).  For SC_ARCH_I386 the kernel
 * is always the bzImage <image dir>/i386/vmlinuz: Debian's 686 kernel
 * has no PVH entry.  Boot it with qemu-system-i386 (docs/guest-image.md).
 */
int image_ensure_arch(enum sc_arch arch, bool force, char *kernel,
    size_t klen, char *initrd, size_t ilen);

/* The name of arch as the system file and `isles image --arch` spell it
 * ("x86_64", "i386"); a static string. */
const char *image_arch_name(enum sc_arch arch);

/* The architecture called name: 0, or -1 if name is neither "x86_64" nor
 * "i386" (*arch untouched). */
int image_arch_parse(const char *name, enum sc_arch *arch);

#endif
