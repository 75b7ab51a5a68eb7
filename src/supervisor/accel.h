/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * accel: which QEMU accelerator a system gets.  KVM only where the CPU
 * advertises hardware virtualisation (vmx or svm in /proc/cpuinfo) and
 * /dev/kvm opens: a nested paravirtual KVM that lacks them cannot boot a
 * Linux guest (see FACTS.md).  $ISLES_ACCEL (kvm|tcg|auto) overrides the
 * system file.  Called by `isles up` before the supervisor starts.
 *
 * The decision is made by pure functions over their inputs (the file's
 * choice, the variable, the text of /proc/cpuinfo, whether /dev/kvm
 * opened), so that tests/unit/test_supervisor_parts.c covers every case;
 * accel_resolve() gathers the inputs from the host.
 */
#ifndef ISLES_ACCEL_H
#define ISLES_ACCEL_H

#include <stdbool.h>

#include "sysconf/sysconf.h"

/*
 * Resolve the accelerator on this host: returns SC_ACCEL_KVM or
 * SC_ACCEL_TCG, or -1 with a message printed when $ISLES_ACCEL is not one
 * of kvm, tcg, auto.  Reads /proc/cpuinfo and opens /dev/kvm only when
 * the choice is auto.
 */
int accel_resolve(enum sc_accel from_file);

/*
 * The accelerator asked for: $ISLES_ACCEL's value env (NULL or "" when
 * unset) over the system file's from_file.  Returns SC_ACCEL_AUTO, _KVM
 * or _TCG, or -1 with errno EINVAL when env is not kvm, tcg or auto.
 */
int accel_wanted(enum sc_accel from_file, const char *env);

/*
 * Does the text of /proc/cpuinfo (NUL-terminated, NULL for none) list vmx
 * or svm among the flags of its first "flags" line?  Whole words only.
 */
bool accel_cpuinfo_hvm(const char *cpuinfo);

/*
 * What auto means on a host with this /proc/cpuinfo text and whether
 * /dev/kvm opened: SC_ACCEL_KVM when both allow it, else SC_ACCEL_TCG.
 */
enum sc_accel accel_detect(const char *cpuinfo, bool kvm_opens);

const char *accel_name(enum sc_accel a);

#endif
