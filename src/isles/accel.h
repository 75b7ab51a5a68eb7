/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * accel: which QEMU accelerator a system gets.  KVM only where the CPU
 * advertises hardware virtualisation (vmx or svm in /proc/cpuinfo) and
 * /dev/kvm opens: a nested paravirtual KVM that lacks them cannot boot a
 * Linux guest (see FACTS.md).  $ISLES_ACCEL (kvm|tcg|auto) overrides the
 * system file.  Called by `isles up` before the supervisor starts.
 */
#ifndef ISLES_ACCEL_H
#define ISLES_ACCEL_H

#include "sysconf.h"

/*
 * Resolve the accelerator: returns SC_ACCEL_KVM or SC_ACCEL_TCG, or -1
 * with a message printed when $ISLES_ACCEL is not one of kvm, tcg, auto.
 */
int accel_resolve(enum sc_accel from_file);

const char *accel_name(enum sc_accel a);

#endif
