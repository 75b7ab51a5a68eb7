/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * convm: how the console client names VMs: by number (its position in the
 * system file, as isles-consoled lists them; a set of VMs is a bit mask,
 * bit N for VM N) and by name.  Shared by the escape parser, the screen
 * formatter and the socket loop; pure.
 */
#ifndef ISLES_CONVM_H
#define ISLES_CONVM_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/conproto.h"

/* The set holding only VM n (n < CON_MAX_VMS). */
static inline uint32_t
con_vm_bit(unsigned n)
{
	return (uint32_t)1u << n;
}

/* A byte of a VM name: a-z 0-9 _ - (the system file's rule). */
static inline bool
con_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
}

#endif
