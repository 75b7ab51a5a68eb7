/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_tap: the uplink of a switch, a host TAP device opened with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a 12-byte virtio-net header, so
 * that TSO super-frames and partial checksums cross it unsegmented (the
 * host kernel segments or checksums when it has to).
 *
 * The device is opened by name (sw_tap_open, sw_tapopen.c) by the
 * supervisor, which hands the fd to isles-switchd, or by isles-switchd
 * started by hand, in the opener's network namespace; if it does not
 * exist it is created (and vanishes when the last fd on it closes), if it
 * exists (ip tuntap add NAME mode tap) it is attached.  Frames read from
 * the TAP come from the host and are as untrusted as a guest's: they go
 * through the same header checks (sw_frame_parse) as a port's.
 *
 * Errors: 0 / -1 with errno.
 */
#ifndef ISLES_SW_TAP_H
#define ISLES_SW_TAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "switchd/sw_net.h"

/* The virtio-net features the TAP side behaves as if it negotiated. */
uint64_t sw_tap_features(void);

/* Open (or create) TAP device name, non-blocking.  Returns the fd or -1. */
int sw_tap_open(const char *name);

/*
 * Send a parsed frame: one writev of header + Ethernet header + payload.
 * Returns SW_DROP_NONE, SW_DROP_NOBUF (the TAP queue is full: EAGAIN),
 * or SW_DROP_DOWN (the interface is down or refused the frame).
 */
enum sw_drop sw_tap_send(int fd, const struct sw_frame *f);

#endif
