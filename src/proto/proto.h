/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto: the one framing used by Isles' own control channels:
 *   - host <-> guest agent, over a virtio-serial port (src/guest/agent),
 *   - CLI <-> supervisor, over the system's control socket (src/isles).
 *
 * A frame is a 16-byte little-endian header followed by `len` payload
 * bytes.  The payload bound is checked before anything is buffered, so a
 * peer cannot make us allocate or wait for more than PROTO_MAX_PAYLOAD.
 * The guest side is untrusted: every field is validated by proto_rx_next
 * before a frame is handed out, and the meaning of each type is validated
 * by its consumer (the agent's EXEC payloads by proto_exec_argv, here
 * with the protocol they belong to).  The agent protocol's types are
 * declared here with the framing; the control protocol is ctl.h, the
 * console protocol conproto.h, the output queue outq.h.
 *
 * Bytes that do not start with the magic are skipped one at a time until
 * a magic is found again (resynchronisation): a virtio-serial port may
 * hold stale bytes from before the host connected.
 *
 * Conventions: functions return 0 / -1 with errno unless said otherwise.
 */
#ifndef ISLES_PROTO_H
#define ISLES_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROTO_MAGIC		0x454c5349u	/* "ISLE" on the wire */
#define PROTO_HDR_SIZE		16u
#define PROTO_MAX_PAYLOAD	(64u * 1024u)

struct proto_hdr {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t chan;		/* session / channel id, 0 = control */
	uint32_t len;		/* payload bytes that follow */
};

/*
 * Agent protocol (host = supervisor, agent = isles-agent in the guest).
 *   HELLO      host->agent chan 0: forget every session (kill them).
 *   HELLO_ACK  agent->host chan 0: payload "VERSION\0HOSTNAME\0".
 *   PING/PONG  either way, payload echoed.
 *   EXEC       host->agent chan N: payload = argv strings, each
 *              NUL-terminated, at least one.  flags: PROTO_EXEC_STDIN =
 *              the host will send STDIN frames (else stdin is /dev/null).
 *   STDIN      host->agent chan N: data; len 0 = EOF.
 *   STDOUT/STDERR agent->host chan N: data.
 *   EXIT       agent->host chan N: payload = struct proto_exit.
 *   KILL       host->agent chan N: payload = uint32 signal number.
 *   ERROR      any direction: payload = message text (not NUL-terminated).
 */
enum proto_type {
	PROTO_HELLO = 1,
	PROTO_HELLO_ACK,
	PROTO_PING,
	PROTO_PONG,
	PROTO_EXEC,
	PROTO_STDIN,
	PROTO_STDOUT,
	PROTO_STDERR,
	PROTO_EXIT,
	PROTO_KILL,
	PROTO_ERROR,
	/* CLI <-> supervisor control types start at 64: ctl.h. */
	PROTO_CTL_BASE = 64,
};

#define PROTO_EXEC_STDIN	0x0001u

struct proto_exit {
	int32_t code;		/* exit status, or -1 if killed by a signal */
	int32_t signal;		/* terminating signal or 0 */
};

/* Receive state: a whole frame is assembled here before it is handed out. */
struct proto_rx {
	size_t start;		/* buffered input is buf[start .. have) */
	size_t have;
	size_t pending;		/* size of the frame last handed out */
	uint64_t skipped;	/* bytes dropped while resynchronising */
	uint8_t buf[PROTO_HDR_SIZE + PROTO_MAX_PAYLOAD];
};

void proto_rx_init(struct proto_rx *rx);

/*
 * Append up to `len` bytes of input.  Returns how many were taken (less
 * than len when the buffer is full: call proto_rx_next, then feed again).
 */
size_t proto_rx_feed(struct proto_rx *rx, const void *data, size_t len);

/*
 * Read from fd into rx (one read(2)).  Returns bytes read, 0 on EOF, -1 on
 * error (errno; EAGAIN for a non-blocking fd with nothing to read).
 */
ssize_t proto_rx_read(struct proto_rx *rx, int fd);

/*
 * Take the next complete frame.  Returns 1 and fills *hdr and *payload
 * (pointing into rx, valid until the next call of any proto_rx function
 * on rx), or 0 if no complete
 * frame is buffered yet.  Malformed input is skipped (rx->skipped counts it).
 */
int proto_rx_next(struct proto_rx *rx, struct proto_hdr *hdr,
    const uint8_t **payload);

/* Encode a header into 16 bytes. */
void proto_hdr_encode(uint8_t out[PROTO_HDR_SIZE], uint16_t type,
    uint16_t flags, uint32_t chan, uint32_t len);

/*
 * Write one whole frame to a blocking fd (retries short writes and EINTR).
 * len must be <= PROTO_MAX_PAYLOAD (EMSGSIZE otherwise).
 */
int proto_send(int fd, uint16_t type, uint16_t flags, uint32_t chan,
    const void *payload, size_t len);

/*
 * Parse an EXEC payload (argument strings, each NUL-terminated, at least
 * one, the first not empty; the agent's side of the agent protocol, the
 * payload being the host's and not trusted).  Copies the payload into
 * buf[buflen] and fills argv[0..argc-1] with pointers into buf and
 * argv[argc] = NULL, at most maxargs arguments (argv has room for maxargs
 * + 1 pointers).  Returns argc (>= 1), or -1 with EINVAL (malformed),
 * E2BIG (more than maxargs) or ENOBUFS (buf too small).
 */
int proto_exec_argv(const uint8_t *p, size_t len, char *buf, size_t buflen,
    char **argv, size_t maxargs);

#endif
