/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qemu: the command line of one VM's qemu-system-x86_64.
 *
 * Built from a table of device kinds (machine, memory, kernel, serial,
 * agent port, QMP, disks, NICs), one function each, so that a new kind
 * of device is a new table entry.  Paths are under the run dir R (see the
 * shared layout in docs/architecture.md).  Called by the supervisor when
 * it builds its child table.
 */
#ifndef ISLES_QEMU_H
#define ISLES_QEMU_H

#include <stddef.h>

#include "child.h"
#include "sysconf/sysconf.h"

struct qemu_vm {
	const struct sc_system *sys;
	const struct sc_vm *vm;
	const char *rundir;
	const char *kernel;	/* resolved: the VM's own or the guest image */
	const char *initrd;	/* may be NULL for a VM's own kernel */
	enum sc_accel accel;	/* resolved: KVM or TCG */
};

/*
 * The QEMU binary for a guest architecture: $ISLES_QEMU or
 * "qemu-system-x86_64"; $ISLES_QEMU_I386 or "qemu-system-i386".
 */
const char *qemu_binary_for(enum sc_arch arch);
/* qemu_binary_for(SC_ARCH_X86_64). */
const char *qemu_binary(void);

/*
 * Append the whole argv for q to out.  Returns 0, or -1 with a message in
 * err (e.g. a device kind this version cannot serve yet).
 */
int qemu_build(const struct qemu_vm *q, struct strv *out, char *err,
    size_t errlen);

/*
 * The name of VM's i-th virtual disk's export on its isles-diskd: the VM
 * name, "VM-1", "VM-2"... for further disks on the same physical disk.
 * Its socket is R/disk/DISK/EXPORT.sock.
 */
void qemu_disk_export(const struct sc_vm *vm, size_t i, char *out,
    size_t len);

/*
 * Check that the system's VMs use only what qemu_build can wire (an i386
 * guest's memory fits without PAE).  Returns 0 or -1 with
 * "FILE:LINE: ..." in err.
 */
int qemu_check(const struct sc_system *sys, char *err, size_t errlen);

#endif
