/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conproto: the console protocol spoken on a system's R/console.sock,
 * between isles-consoled (the server) and its clients: the foreground
 * multiplexer of `isles up` and `isles console VM` viewers (both in
 * src/isles/conclient.c); it lives with the other protocols in src/proto.
 *
 * Framing is src/proto/proto.h; the message types below are numbered from
 * PROTO_CTL_BASE + 32 (the supervisor's control socket uses PROTO_CTL_BASE
 * .. +31, so a frame sent to the wrong socket is recognisably foreign).
 * All integers are little-endian.  VM numbers are positions in the system
 * file (0-based), the same N as the console's `@N`.
 *
 *   LIST      client->server, no payload.  Answered by VMS.
 *   VMS       server->client: payload = every VM name in order, each
 *             NUL-terminated; the VM count is the number of names.
 *   ATTACH    client->server: payload = uint32 bit mask of VMs (bit N =
 *             VM N; at least one, all < count).  flags: CON_ATTACH_REPLAY
 *             = first send the VM's replay ring (the last CON_REPLAY_SIZE
 *             bytes it printed), CON_ATTACH_READONLY = this client will
 *             never type.  May be sent again to change the set (no replay
 *             then unless asked).  Answered by ATTACHED once any replay
 *             has been queued.
 *   ATTACHED  server->client, no payload: what follows is live output.
 *   OUTPUT    server->client, chan = VM: bytes the VM printed (hostile,
 *             unfiltered).  flags CON_OUTPUT_REPLAY on replayed bytes.
 *   INPUT     client->server, chan = VM: bytes for the VM's serial input.
 *             Allowed for every attached VM of a client that did not
 *             attach read-only; anything else is refused with ERROR.
 *   WINSIZE   client->server, chan = VM: struct con_winsize.  Recorded
 *             only: a 16550 UART has no window-size channel (docs/console.md).
 *   NOTICE    server->client, chan = VM: struct con_notice.
 *   ERROR     server->client: payload = message text (not NUL-terminated);
 *             a protocol violation is followed by the server closing.
 */
#ifndef ISLES_CONPROTO_H
#define ISLES_CONPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define CON_MAX_VMS		32		/* = SC_MAX_VMS: fits the uint32 mask */
#define CON_MAX_NAME		31		/* = SC_MAX_NAME */
#define CON_REPLAY_SIZE		(64u * 1024u)	/* replay ring per VM */

enum con_type {
	CON_LIST = PROTO_CTL_BASE + 32,
	CON_VMS,
	CON_ATTACH,
	CON_ATTACHED,
	CON_OUTPUT,
	CON_INPUT,
	CON_WINSIZE,
	CON_NOTICE,
	CON_ERROR,
};

#define CON_ATTACH_REPLAY	0x0001u
#define CON_ATTACH_READONLY	0x0002u
#define CON_OUTPUT_REPLAY	0x0001u

struct con_winsize {
	uint16_t rows;
	uint16_t cols;
};

enum con_notice_kind {
	/* `count` bytes of this VM's output were dropped for this client
	 * because it did not read fast enough (the log file has them). */
	CON_NOTICE_DROPPED = 1,
	/* The VM's serial port went away (QEMU stopped) / is back. */
	CON_NOTICE_DOWN = 2,
	CON_NOTICE_UP = 3,
};

struct con_notice {
	uint32_t kind;
	uint32_t reserved;
	uint64_t count;
};

#define CON_NOTICE_SIZE		16u
#define CON_WINSIZE_SIZE	4u

/* Little-endian encoders and decoders of the fixed-size payloads. */
static inline void
con_put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t
con_get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void
con_notice_encode(uint8_t out[CON_NOTICE_SIZE], uint32_t kind, uint64_t count)
{
	con_put_le(out, kind, 4);
	con_put_le(out + 4, 0, 4);
	con_put_le(out + 8, count, 8);
}

/* Returns 0, or -1 if the payload has the wrong size. */
static inline int
con_notice_decode(const uint8_t *p, size_t len, struct con_notice *n)
{
	if (len != CON_NOTICE_SIZE)
		return -1;
	n->kind = (uint32_t)con_get_le(p, 4);
	n->reserved = (uint32_t)con_get_le(p + 4, 4);
	n->count = con_get_le(p + 8, 8);
	return 0;
}

static inline void
con_winsize_encode(uint8_t out[CON_WINSIZE_SIZE], uint16_t rows, uint16_t cols)
{
	con_put_le(out, rows, 2);
	con_put_le(out + 2, cols, 2);
}

static inline int
con_winsize_decode(const uint8_t *p, size_t len, struct con_winsize *w)
{
	if (len != CON_WINSIZE_SIZE)
		return -1;
	w->rows = (uint16_t)con_get_le(p, 2);
	w->cols = (uint16_t)con_get_le(p + 2, 2);
	return 0;
}

#endif
