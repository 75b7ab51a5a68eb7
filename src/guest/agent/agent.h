/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agent: the pieces of the guest agent (isles-agent.c) that do not touch
 * processes or devices, kept apart so that unit tests call them directly:
 * the bounded queue of frames for the host, and the EXEC payload parser.
 * Neither trusts its input: sizes are checked, nothing is assert()ed.
 *
 * Conventions: functions return 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_AGENT_H
#define ISLES_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Frames queued for the host, stored back to back in buf[start, end) of
 * a buffer of `cap` bytes; frame_left is what remains to be written of
 * the frame at start (0 = start is at a frame boundary).
 */
struct ag_outq {
	uint8_t *buf;
	size_t cap;
	size_t start;
	size_t end;
	size_t frame_left;
};

/* Allocate a queue of cap bytes (cap >= PROTO_HDR_SIZE). */
int ag_outq_init(struct ag_outq *q, size_t cap);
void ag_outq_free(struct ag_outq *q);

/* Bytes queued, and room left. */
size_t ag_outq_len(const struct ag_outq *q);
size_t ag_outq_room(const struct ag_outq *q);

/*
 * Queue one frame.  Returns 0, or -1 with EMSGSIZE (len over
 * PROTO_MAX_PAYLOAD) or ENOBUFS (no room: nothing queued).
 */
int ag_outq_put(struct ag_outq *q, uint16_t type, uint32_t chan,
    const void *data, size_t len);

/*
 * Write what fd takes now (non-blocking fd).  Returns 0 (queue empty or
 * fd full: EAGAIN is not an error) or -1 with errno from write(2).
 */
int ag_outq_flush(struct ag_outq *q, int fd);

/*
 * Forget every queued frame except the rest of one partly written, so
 * that the byte stream stays a sequence of whole frames.
 */
void ag_outq_discard(struct ag_outq *q);

/* Forget everything, partial frame included (the peer went away). */
void ag_outq_reset(struct ag_outq *q);

/*
 * Parse an EXEC payload: argument strings, each NUL-terminated, at least
 * one, the first not empty.  Copies the payload into buf[buflen] and
 * fills argv[0..argc-1] with pointers into buf and argv[argc] = NULL, at
 * most maxargs arguments (argv has room for maxargs + 1 pointers).
 * Returns argc (>= 1), or -1 with EINVAL (malformed), E2BIG (more than
 * maxargs) or ENOBUFS (buf too small).
 */
int ag_parse_argv(const uint8_t *p, size_t len, char *buf, size_t buflen,
    char **argv, size_t maxargs);

#endif
