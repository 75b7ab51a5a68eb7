/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcidev: what the host's sysfs says about a PCI device that a VM is to
 * be given (PCI passthrough with vfio-pci, docs/passthrough.md).
 *
 * pci_passthrough_check() answers "can QEMU's vfio-pci take ADDR now?"
 * and, when it cannot, says exactly what to do: which driver to unbind,
 * the vfio-pci binding commands, which other members of the device's
 * IOMMU group must come along, whether the IOMMU is on at all.  It reads
 * a sysfs tree rooted where the caller says (/ normally; a fake tree in
 * the tests) and the /dev/vfio node of the group.
 *
 * Trusts nothing it reads: every link and file is bounded and parsed
 * strictly.  Errors: 0 (ready) / -1 with a message (several lines, each
 * ending in '\n') in msg; errno EINVAL for a malformed address.
 */
#ifndef ISLES_HOST_PCIDEV_H
#define ISLES_HOST_PCIDEV_H

#include <stdbool.h>
#include <stddef.h>

#define PCI_ADDR_LEN	13	/* "DDDD:BB:DD.F" */

/*
 * Normalize a PCI address: "DDDD:BB:DD.F" or "BB:DD.F" (domain 0), hex
 * digits in either case, into lower-case "DDDD:BB:DD.F" in out (at least
 * PCI_ADDR_LEN bytes).  0 / -1 (EINVAL).
 */
int pci_addr_parse(const char *s, char *out);

/*
 * Whether ADDR (normalized) can be passed to a VM under root (the file
 * system root holding sys/ and dev/; "/" on the host).  0: bound to
 * vfio-pci, in an IOMMU group whose other endpoint devices are bound to
 * vfio-pci too (or to no driver), and /dev/vfio/GROUP exists.  -1: msg
 * (len bytes) says what is wrong and what to run.
 */
int pci_passthrough_check(const char *root, const char *addr, char *msg,
    size_t len);

#endif
