/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * diskprep: the disks `isles up` creates before anything starts (see
 * diskprep.c): missing SATA disks and disks with partitions to format,
 * with their image files.
 */
#ifndef ISLES_DISKPREP_H
#define ISLES_DISKPREP_H

#include <stddef.h>

#include "sysconf/sysconf.h"

/*
 * Create every such disk that does not exist yet.  0, or -1 with
 * "FILE:LINE: disk 'NAME': cannot create it: why" in err (nothing of
 * that disk is left behind).
 */
int disks_prepare(const struct sc_system *sys, char *err, size_t len);

#endif
