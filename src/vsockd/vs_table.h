/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vs_table: who isles-vsockd relays between, and what it lets through.
 *
 *   VMs      a name and a guest CID each (from --vm), at most VS_MAX_VMS,
 *            names and CIDs unique; the CID is also what the VM's device
 *            reports in its config space.
 *   routing  dst_cid -> VM (vs_table_route).
 *   policy   rules (client VM, server VM, server port) from --allow.  A
 *            packet from VM A to VM B is allowed when a rule covers it:
 *              client -> server: a rule (A, B, dst_port), any op;
 *              server -> client: a rule (B, A, src_port), any op but
 *                                REQUEST (the server answers, it never
 *                                opens connections to its client, not
 *                                even from its server port).
 *            Everything else is refused (vs_decide says what to do).
 *   counters per VM (what it sent and received, header errors, RSTs the
 *            relay made for it) and per ordered pair (delivered, refused,
 *            held, stalled, lost), rendered as JSON for the stats socket.
 *
 * Pure: no I/O, no allocation.  Called by the relay (vs_relay.c), the
 * daemon's command line (vsockd.c) and the unit tests
 * (tests/unit/test_vsock_table.c).  Errors: index or 0 on success, -1
 * with errno.
 */
#ifndef ISLES_VS_TABLE_H
#define ISLES_VS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vsockd/vs_pkt.h"

#define VS_MAX_VMS	32	/* = the system file's SC_MAX_VMS */
#define VS_NAME_MAX	32	/* [a-z0-9][a-z0-9_-]*, at most 31 */
#define VS_MAX_RULES	1024

struct vs_vm_counters {
	uint64_t tx_packets;	/* well-formed packets the VM sent */
	uint64_t tx_bytes;	/* their payload bytes */
	uint64_t rx_packets;	/* packets put into the VM's receive queue */
	uint64_t rx_bytes;	/* their payload bytes */
	uint64_t rst_sent;	/* RSTs the relay answered for the VM */
	uint64_t drops[VS_WHY_MAX];	/* header and routing reasons */
};

struct vs_pair_counters {
	uint64_t packets;	/* delivered from A to B (whole packets) */
	uint64_t bytes;		/* their payload bytes */
	uint64_t refused[VS_WHY_MAX];	/* policy, dst_down, dst_stuck,
					 * no_seqpacket */
	uint64_t stalls;	/* times A's transmit queue was stopped
				 * because too much was held for B */
	uint64_t lost;		/* held packets dropped: B went away */
	uint64_t held_bytes;	/* now held for B (gauge) */
	uint64_t held_max;	/* the most ever held */
};

enum vs_vm_state {
	VS_VM_DOWN,		/* no front-end, or its rings not running */
	VS_VM_UP,		/* receive and transmit queues running */
	VS_VM_ERROR,		/* a malformed ring: stopped until reset */
};

struct vs_vm {
	char name[VS_NAME_MAX];
	uint64_t cid;
	enum vs_vm_state state;	/* refreshed by the daemon for stats */
	struct vs_vm_counters c;
};

struct vs_rule {
	uint8_t client, server;	/* VM indices */
	uint32_t port;		/* server port */
};

struct vs_table {
	unsigned nvms;
	struct vs_vm vms[VS_MAX_VMS];
	unsigned nrules;
	struct vs_rule rules[VS_MAX_RULES];	/* sorted once sealed */
	bool sealed;
	/* After vs_table_seal: rules of (client, server) are
	 * rules[first[c][s] .. first[c][s] + count[c][s]), sorted by port. */
	uint16_t first[VS_MAX_VMS][VS_MAX_VMS];
	uint16_t count[VS_MAX_VMS][VS_MAX_VMS];
	struct vs_pair_counters pair[VS_MAX_VMS][VS_MAX_VMS];	/* [from][to] */
};

void vs_table_init(struct vs_table *t);

/* Whether s is a VM name: 1 to 31 of [a-z0-9_-], not starting with _ -. */
bool vs_name_ok(const char *s, size_t len);

/*
 * Add a VM.  Returns its index, or -1 with errno: EINVAL (bad name, CID
 * outside VS_CID_MIN..VS_CID_MAX), EEXIST (name or CID taken), ENOSPC,
 * EBUSY (already sealed).
 */
int vs_table_add_vm(struct vs_table *t, const char *name, uint64_t cid);

/* Index of the VM named name, or -1. */
int vs_table_find(const struct vs_table *t, const char *name);

/*
 * Add a rule: client may connect to server's port.  0, or -1 with errno
 * EINVAL (bad index, client == server, port 2^32-1), EEXIST (the same
 * rule twice), ENOSPC, EBUSY (sealed).
 */
int vs_table_add_rule(struct vs_table *t, unsigned client, unsigned server,
    uint32_t port);

/* After the last rule: sort and index them.  Lookups need it. */
void vs_table_seal(struct vs_table *t);

/* The VM with guest CID cid, or -1.  O(VMs). */
int vs_table_route(const struct vs_table *t, uint64_t cid);

/* Whether a rule lets client connect to server's port. */
bool vs_rule_exists(const struct vs_table *t, unsigned client,
    unsigned server, uint32_t port);

/* Whether any rule names the pair (either way round). */
bool vs_pair_declared(const struct vs_table *t, unsigned a, unsigned b);

/* Whether the policy lets packet h go from VM src to VM dst. */
bool vs_policy_allows(const struct vs_table *t, unsigned src, unsigned dst,
    const struct vs_hdr *h);

enum vs_action {
	VS_DELIVER,		/* to VM `dst` */
	VS_RST,			/* answer the sender with vs_hdr_rst(h) */
	VS_DROP,		/* count `why` and forget it */
};

struct vs_decision {
	enum vs_action act;
	enum vs_why why;	/* VS_OK when delivered */
	int dst;		/* destination VM, -1 if none */
};

/*
 * Decide what happens to a checked packet h from VM src.  up and
 * seqpacket are bitmasks over VM indices: whose device runs, who
 * negotiated SEQPACKET.  In order:
 *   dst_cid not a VM: unknown_cid; the sender's own: to_self;
 *   not allowed by the policy: policy;
 *   destination not running: dst_down;
 *   SEQPACKET to a VM without it: no_seqpacket;
 *   else deliver.
 * A refused REQUEST is answered with a RST (connect() fails at once with
 * ECONNRESET instead of timing out).  Refused for dst_down or
 * no_seqpacket, every packet but a RST is answered with one, as the
 * peer's kernel would answer a packet for a connection it does not have:
 * the sender learns that its connection is gone.  Everything else
 * refused is dropped: a policy-refused packet that is not a REQUEST
 * belongs to no connection the relay ever let open, and a RST is never
 * answered.
 */
struct vs_decision vs_decide(const struct vs_table *t, unsigned src,
    const struct vs_hdr *h, uint64_t up, uint64_t seqpacket);

/*
 * Render the relay's state as one JSON object (no trailing newline):
 *   {"vsock":NAME,"vms":[{"name":..,"cid":N,"state":"up",
 *    "tx_packets":N,"tx_bytes":N,"rx_packets":N,"rx_bytes":N,
 *    "rst_sent":N,"drop":{"malformed":N,...}}, ...],
 *    "pairs":[{"from":A,"to":B,"declared":true,"packets":N,"bytes":N,
 *    "held_bytes":N,"held_max":N,"stalls":N,"lost":N,
 *    "refused":{"policy":N,"dst_down":N,"dst_stuck":N,
 *    "no_seqpacket":N}}, ...],
 *    "rules":[{"client":A,"server":B,"port":N}, ...]}
 * Pairs are listed when declared or when any of their counters is not 0.
 * Returns the length (excluding the NUL), or -1 with errno ENOSPC.
 */
int vs_stats_json(const struct vs_table *t, const char *name, char *buf,
    size_t size);

const char *vs_vm_state_name(enum vs_vm_state s);

#endif
