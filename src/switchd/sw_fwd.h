/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sw_fwd: the forwarding table, the forwarding decision and the per-port
 * counters of one isles-switchd.
 *
 * The table is static: it is built once from the command line (which the
 * supervisor derives from the system file), one entry per VM NIC with the
 * NIC's MAC, plus at most one uplink.  There is no MAC learning: every
 * VM-side MAC is known in advance, and anything else lives behind the
 * uplink, so "unknown unicast" simply means "goes to the uplink, if any".
 * The uplink has no MAC of its own; a frame arriving from it may carry any
 * station source address except one of the VM ports' MACs.
 *
 * Rules (sw_fwd_decide):
 *   - a VM port may only send with its own MAC as source (else SPOOF);
 *   - link-local group addresses 01:80:c2:00:00:0x are never forwarded;
 *   - broadcast and every other group address (IPv4 01:00:5e, IPv6 33:33,
 *     others) are flooded to every other port, uplink included;
 *   - unicast to a VM port's MAC goes to that port, to the sender's own
 *     MAC is dropped (SELF), to any other MAC goes to the uplink if there
 *     is one and the frame did not come from it, else is dropped (UNKNOWN).
 * A frame is never sent back to the port it came from.
 *
 * Pure: no I/O, no allocation.  Called by the data path (switchd.c) and
 * the unit tests (tests/unit/test_switch_fwd.c).  Errors: 0 / index on
 * success, -1 with errno.
 */
#ifndef ISLES_SW_FWD_H
#define ISLES_SW_FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sw_frame.h"

/* VM ports and the uplink together: every NIC of a maximal system file
 * (32 VMs x 8 NICs) on one switch, plus its uplink. */
#define SW_MAX_PORTS		257
#define SW_PORT_NAME_MAX	48	/* "vm0.1", "uplink"; [A-Za-z0-9_.-] */

/*
 * Counters of one port, from the switch's point of view (as a hardware
 * switch counts): rx = frames the switch received from the port (the VM
 * sent them), tx = frames the switch delivered to the port (the VM
 * received them).  Bytes are Ethernet frame bytes, virtio-net header
 * excluded; a TSO super-frame counts once with its full length, and also
 * in rx_gso_packets / tx_gso_packets.
 */
struct sw_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t rx_gso_packets;	/* of rx_packets: TSO super-frames */
	uint64_t tx_gso_packets;	/* of tx_packets: TSO super-frames */
	uint64_t drops[SW_DROP_MAX];	/* [SW_DROP_NONE] unused */
};

enum sw_port_state {
	SW_PORT_DOWN,		/* no front-end, or rings not started */
	SW_PORT_UP,		/* forwarding */
	SW_PORT_ERROR,		/* the front-end broke a rule; until it resets */
};

struct sw_port_entry {
	char name[SW_PORT_NAME_MAX];
	uint8_t mac[SW_ETH_ALEN];	/* VM ports only */
	bool uplink;
	enum sw_port_state state;
	struct sw_counters c;
};

struct sw_table {
	struct sw_port_entry ports[SW_MAX_PORTS];
	unsigned nports;
	int uplink;		/* index of the uplink port, or -1 */
};

void sw_table_init(struct sw_table *t);

/*
 * Add a VM port.  Returns its index, or -1 with errno: EINVAL (bad name,
 * group or zero MAC), EEXIST (name or MAC already present), ENOSPC.
 * New ports start SW_PORT_DOWN.
 */
int sw_table_add_port(struct sw_table *t, const char *name,
    const uint8_t mac[SW_ETH_ALEN]);

/* Add the uplink (at most one).  Index or -1 (EINVAL, EEXIST, ENOSPC). */
int sw_table_add_uplink(struct sw_table *t, const char *name);

/* Index of the VM port owning mac, or -1.  O(ports). */
int sw_table_lookup(const struct sw_table *t, const uint8_t mac[SW_ETH_ALEN]);

/* Index of the port named name, or -1. */
int sw_table_find(const struct sw_table *t, const char *name);

enum sw_action {
	SW_ACT_DROP,		/* count why on the ingress port */
	SW_ACT_UNICAST,		/* deliver to port */
	SW_ACT_FLOOD,		/* deliver to every port except the ingress */
};

struct sw_verdict {
	enum sw_action action;
	unsigned port;		/* SW_ACT_UNICAST: the egress port */
	enum sw_drop why;	/* SW_ACT_DROP: the reason */
	enum sw_class cls;	/* destination class, for the caller's stats */
};

/*
 * Decide where a frame from port `in` goes, given its Ethernet header
 * (at least SW_ETH_HLEN bytes, a copy the caller owns).  `in` must be a
 * valid index.  Port states are not consulted here: the caller counts
 * SW_DROP_DOWN per egress port.
 */
struct sw_verdict sw_fwd_decide(const struct sw_table *t, unsigned in,
    const uint8_t *eth);

/* Counting helpers (no overflow checks needed: 64-bit). */
void sw_count_rx(struct sw_table *t, unsigned port, size_t bytes);
void sw_count_tx(struct sw_table *t, unsigned port, size_t bytes);
void sw_count_drop(struct sw_table *t, unsigned port, enum sw_drop why);
/* Sum of all drop reasons of a port. */
uint64_t sw_drops_total(const struct sw_counters *c);

/*
 * Render the switch's state as one JSON object (no trailing newline):
 *   {"switch":"lan","ports":[{"name":"vm0.0","mac":"02:..","kind":"vm",
 *    "state":"up","rx_packets":N,"rx_bytes":N,"tx_packets":N,"tx_bytes":N,
 *    "rx_gso_packets":N,"tx_gso_packets":N,"drops":N,
 *    "drop":{"malformed":N,...}}, ...]}
 * Returns the length written (excluding the NUL), or -1 with errno
 * ENOSPC when `size` is too small.
 */
int sw_stats_json(const struct sw_table *t, const char *switch_name,
    char *buf, size_t size);

const char *sw_port_state_name(enum sw_port_state s);

#endif
