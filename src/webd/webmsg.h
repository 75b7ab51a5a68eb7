/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * webmsg: the pure parts of isles-webd (docs/web.md), kept apart from the
 * libwebsockets glue so that unit tests (tests/unit/test_webmsg.c) drive
 * them: the framing of the WebSocket messages between the page and the
 * server, the bounded per-client queue of messages to send, and the
 * access checks (token, Origin against Host).
 *
 * Framing.  Every WebSocket message is binary: one type byte, then the
 * payload (the rest of the message).  From the server to the page:
 *
 *   'G'  graph: the system's picture, SVG text (once, on connecting)
 *   'S'  status: JSON text, as `isles status --json` prints it
 *   'O'  output: bytes a VM printed (hostile, unfiltered)
 *   'P'  replayed output: the VM's replay ring, before any 'O'
 *   'A'  attached: what follows is live output
 *   'N'  notice: JSON text {"kind":"dropped","count":N}, {"kind":"down"},
 *        {"kind":"up"}
 *   'M'  message: plain text for the user (a restart's outcome, an error)
 *
 * From the page to the server (checked by webmsg_parse: nothing else is
 * accepted, and the connection is closed on anything malformed):
 *
 *   'I'  input: 1 .. WEBMSG_INPUT_MAX bytes for the VM's serial input
 *        (console connections only)
 *   'W'  window size: uint16 rows, uint16 cols, little-endian, each
 *        1 .. 1000 (console connections only)
 *   'R'  restart: the VM's name, [a-z0-9][a-z0-9_-]*, at most 31 bytes
 *        (status connections only)
 *   'D'  down: no payload (status connections only)
 *
 * Conventions: 0 / -1 with errno unless said otherwise.  Single-threaded.
 */
#ifndef ISLES_WEBMSG_H
#define ISLES_WEBMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum webmsg_type {
	WEBMSG_GRAPH = 'G',
	WEBMSG_STATUS = 'S',
	WEBMSG_OUTPUT = 'O',
	WEBMSG_REPLAY = 'P',
	WEBMSG_ATTACHED = 'A',
	WEBMSG_NOTICE = 'N',
	WEBMSG_MESSAGE = 'M',
	WEBMSG_INPUT = 'I',
	WEBMSG_WINSIZE = 'W',
	WEBMSG_RESTART = 'R',
	WEBMSG_DOWN = 'D',
};

#define WEBMSG_INPUT_MAX	4096u
#define WEBMSG_NAME_MAX		31u
#define WEBMSG_WINSIZE_MAX	1000u

/* What a connection is: it decides which page messages it may send. */
enum webmsg_conn {
	WEBMSG_CONN_STATUS,
	WEBMSG_CONN_CONSOLE,
};

/* One message from the page, as webmsg_parse checked it. */
struct webmsg {
	enum webmsg_type type;
	const uint8_t *data;	/* INPUT: the bytes; RESTART: the name */
	size_t len;		/* (not NUL-terminated) */
	uint16_t rows, cols;	/* WINSIZE */
};

/*
 * Check one message from the page (msg[0..len), untrusted) received on a
 * connection of kind conn.  Returns 0 with *m filled (pointers into msg),
 * or -1 with errno EPROTO (unknown type, wrong size or contents) or
 * EPERM (a type this kind of connection may not send).
 */
int webmsg_parse(const uint8_t *msg, size_t len, enum webmsg_conn conn,
    struct webmsg *m);

/*
 * Write one message (type byte + payload) to out[0..cap).  Returns its
 * length, or -1 with EMSGSIZE if it does not fit.
 */
long webmsg_encode(uint8_t *out, size_t cap, enum webmsg_type type,
    const void *payload, size_t len);

/* A 'W' message of rows x cols into out[5]. */
void webmsg_winsize(uint8_t out[5], uint16_t rows, uint16_t cols);

/*
 * The per-client output queue.  A page that reads slowly, or not at all,
 * never makes the server wait or grow: messages are held up to `limit`
 * bytes; to make room, the oldest droppable messages go first (output
 * and replayed output: their bytes are counted, and a 'N' dropped
 * notice with the count is sent where the gap is; an older status when a
 * newer one is queued), the rule isles-consoled applies to its own
 * clients (docs/console.md "Slow or stopped terminals").  Other messages
 * (graph, attached, notices, messages) are never dropped; a queue full of
 * them refuses more (ENOBUFS: the server closes such a client).
 *
 * Each message is kept with LWS_PRE-style headroom of `pre` bytes before
 * it (libwebsockets writes its frame header there).
 */
struct webq_msg {
	struct webq_msg *next;
	size_t len;		/* type byte + payload */
	uint8_t *data;		/* = buf + pre */
	uint8_t buf[];
};

struct webq {
	size_t limit;		/* bytes held at most (messages' len) */
	size_t pre;		/* headroom before each message */
	size_t bytes;		/* held now */
	size_t count;
	uint64_t dropped;	/* output bytes dropped, not yet reported */
	uint64_t dropped_total;
	struct webq_msg *head, *tail;
};

void webq_init(struct webq *q, size_t limit, size_t pre);

/*
 * Queue a message of `type` with the payload.  Output messages longer
 * than the limit keep only their newest bytes.  Returns 0, or -1 with
 * ENOBUFS (a message that cannot be dropped does not fit) or ENOMEM.
 */
int webq_push(struct webq *q, enum webmsg_type type, const void *payload,
    size_t len);

/*
 * The next message to send (a dropped notice first, if output was
 * dropped since the last one), or NULL when there is none.  It stays
 * queued until webq_pop.
 */
struct webq_msg *webq_peek(struct webq *q);

/* Forget the message webq_peek returned (it was sent). */
void webq_pop(struct webq *q);

/* Free every message. */
void webq_free(struct webq *q);

/*
 * Access.  The token is WEBMSG_TOKEN_LEN lowercase hex digits.
 * webmsg_token_eq compares a candidate (any string, untrusted) in time
 * independent of where it differs.
 */
#define WEBMSG_TOKEN_LEN	32u

bool webmsg_token_eq(const char *token, const char *candidate);

/*
 * Whether a WebSocket's Origin header names the page's own origin:
 * "http://" + the Host header, exactly (case-insensitive scheme and
 * host, as browsers send it lowercase).  NULL or empty: false.
 */
bool webmsg_origin_ok(const char *origin, const char *host);

/*
 * Parse "ADDR:PORT" (an IPv4 address; "localhost" is not accepted) into
 * addr[16] and *port (1..65535).  Returns 0 or -1 with EINVAL.  Sets
 * *loopback when the address is in 127.0.0.0/8.
 */
int webmsg_parse_listen(const char *s, char addr[16], unsigned *port,
    bool *loopback);

#endif
