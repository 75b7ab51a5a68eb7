/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libdataport: guest programs' access to Isles dataports (docs/dataports.md).
 *
 * A dataport is memory shared by two or more VMs plus doorbells between
 * them.  In the guest each is a UIO device of the isles_dataport module
 * (src/guest/dataport/kmod): map 0 the ivshmem register page, map 1 the
 * shared memory.  The kernel command line names them:
 *
 *   isles.dataports=NAME:SS:VMA+VMB[+VMC...][,NAME2:SS2:...]
 *
 * NAME and the VM names are [a-z0-9][a-z0-9_-]{0,30}; SS is the PCI slot
 * (two hex digits, 10-1f) of the device on bus 0; the VM list is in peer-ID
 * order (VMA is peer 0).  dp_open() finds the device by that slot through
 * sysfs, so it needs neither /dev/dataport/ links nor a UIO numbering.
 *
 * Two layers, one error convention each:
 * - pure functions (dp_cmdline_parse, dp_table_find, dp_peer_lookup,
 *   dp_parse_*): no I/O, unit-tested on the host; they return -1 and write
 *   a message into err (if err is not NULL), or -1 with errno;
 * - the device (dp_open ... dp_close): 0 / -1 with errno; dp_open also
 *   writes a message saying what is wrong.
 *
 * Trust: the kernel command line and sysfs are checked as if hostile
 * (bounded reads, strict syntax, every field range-checked), and the
 * shared memory is written by other VMs at any time: copy out, then check.
 * A struct dp_port is not thread-safe; use one per thread.
 *
 * Event semantics (what dp_emit and dp_wait promise):
 * - dp_emit() writes the peer's ID and a vector into the Doorbell register.
 *   QEMU drops the write silently if that peer is not connected to the
 *   ivshmem server (VM down, rebooting, or its device has no driver bound
 *   with MSI-X enabled).  Emit cannot know: it never fails because of the
 *   peer.  Protocols that need an answer must wait for one with a timeout.
 * - Doorbells coalesce: several rung before the peer's kernel takes the
 *   interrupt give one interrupt, and UIO counts interrupts, not
 *   doorbells.  dp_wait() returns the number of interrupts since the
 *   previous dp_wait() on the handle (or since dp_open): at least 1, at
 *   most the number of doorbells rung.  A count says "something happened
 *   at least once"; what happened is for the shared memory to say.
 * - A doorbell rung while no handle is open still counts in the kernel,
 *   but a handle sees only interrupts that arrive after dp_open().
 * - The guest cannot tell vectors apart (one UIO counter per device).
 * - dp_wait() never blocks longer than its timeout; only DP_WAIT_FOREVER
 *   waits without one.
 * - Ordering: dp_emit() is a full barrier before the doorbell write, and
 *   dp_wait() a full barrier after the wake-up: what the ringer stored in
 *   the shared memory before ringing is visible to the woken side.
 */
#ifndef ISLES_DATAPORT_H
#define ISLES_DATAPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_MAX_NAME	31	/* NAME and VM names, without the NUL */
#define DP_MAX_PORTS	16	/* dataports per VM (slots 0x10-0x1f) */
#define DP_MAX_PEERS	32	/* VMs per dataport (Isles' VM limit) */
#define DP_SLOT_MIN	0x10
#define DP_SLOT_MAX	0x1f
#define DP_MAX_VECTOR	255	/* QEMU reads the Doorbell's low 8 bits */
#define DP_UIO_NAME	"isles-dataport"	/* the module's UIO name */
#define DP_PARAM	"isles.dataports="
#define DP_WAIT_FOREVER	(-1)

/* One dataport of the kernel command line. */
struct dp_entry {
	char name[DP_MAX_NAME + 1];
	unsigned slot;				/* PCI slot on bus 0 */
	unsigned npeers;			/* >= 2 */
	char peers[DP_MAX_PEERS][DP_MAX_NAME + 1];	/* by peer ID */
};

/* Every dataport of this VM, in command-line order. */
struct dp_table {
	unsigned n;
	struct dp_entry e[DP_MAX_PORTS];
	char vm[DP_MAX_NAME + 1];	/* isles.name=, "" if absent */
};

/*
 * Parse a kernel command line (the contents of /proc/cmdline; at most
 * len bytes, NUL not required) into t.  No isles.dataports= parameter
 * means no dataports (t->n = 0, success); an empty value likewise.
 * Rejected: the parameter given twice, a bad name or VM name (empty,
 * too long, bad character), a slot that is not two hex digits in
 * 10-1f, fewer than 2 or more than DP_MAX_PEERS VMs, a VM named twice in
 * one dataport, a dataport name or slot used twice, more than
 * DP_MAX_PORTS dataports, an empty entry, missing fields.  Also fills
 * t->vm from isles.name= (not validated beyond its length).
 * Returns 0, or -1 with a message in err (errlen bytes, may be 0).
 */
int dp_cmdline_parse(const char *cmdline, size_t len, struct dp_table *t,
    char *err, size_t errlen);

/* Index of the dataport called name in t, or -1 (errno ENOENT). */
int dp_table_find(const struct dp_table *t, const char *name);

/*
 * Peer ID of who in e: a VM name of the list, else a decimal ID below
 * e->npeers (names win: a VM may be called "1").  Returns the ID or -1
 * (errno ENOENT).
 */
int dp_peer_lookup(const struct dp_entry *e, const char *who);

/*
 * Parse sysfs attribute text: an unsigned number, decimal (dp_parse_dec)
 * or hexadecimal with 0x (dp_parse_hex, UIO's maps/mapN/size and addr),
 * then an optional newline and nothing else.  Returns 0, or -1 (errno
 * EINVAL on syntax, ERANGE on overflow).
 */
int dp_parse_dec(const char *s, size_t len, uint64_t *out);
int dp_parse_hex(const char *s, size_t len, uint64_t *out);

/*
 * Parse a PCI address "DDDD:BB:SS.F" (the name sysfs gives a PCI device).
 * Returns 0, or -1 (errno EINVAL).
 */
int dp_parse_pci_addr(const char *s, unsigned *domain, unsigned *bus,
    unsigned *slot, unsigned *func);

/*
 * Read /proc/cmdline (at most 4 KiB) and parse it into t with
 * dp_cmdline_parse().  Returns 0, or -1 with errno (EINVAL: a bad
 * parameter, E2BIG: an overlong command line, or open/read's) and a
 * message in err.
 */
int dp_cmdline_read(struct dp_table *t, char *err, size_t errlen);

/*
 * Find the UIO device of dataport e: the entry of /sys/class/uio whose
 * device is PCI 0000:00:SS.0 and whose name is DP_UIO_NAME.  Sets *uio to
 * N of /dev/uioN.  Returns 0, or -1 with errno (as dp_open) and a message
 * in err saying why there is none: no such PCI device, not an ivshmem
 * device, bound to another UIO driver, or no driver.
 */
int dp_find_uio(const struct dp_entry *e, unsigned *uio, char *err,
    size_t errlen);

/* An open dataport; opaque. */
struct dp_port;

/*
 * Open the dataport called name: parse /proc/cmdline, find the UIO device
 * of module isles_dataport at PCI 0000:00:SS.0 in /sys/class/uio, check
 * its maps (register page, power-of-two shared memory >= 4 KiB), open
 * /dev/uioN (checking it is that device), map both maps and read the VM's
 * own peer ID from IVPosition, which must be in the VM list (and, if
 * isles.name= is given, name this VM).  Returns a handle to close with
 * dp_close(), or NULL with errno and a message in err (errlen bytes)
 * naming what is wrong (ENOENT no such dataport or device, ENODEV the
 * device has no isles_dataport driver, EPROTO sysfs or the device
 * disagree with the command line, or the errno of a failed call).
 */
struct dp_port *dp_open(const char *name, char *err, size_t errlen);

/* Unmap and close; p may be NULL.  Pointers from dp_mem() die with it. */
void dp_close(struct dp_port *p);

/* The shared memory (dp_size bytes, page-aligned), shared with every VM
 * of the dataport: any of them may write any byte at any time. */
void *dp_mem(const struct dp_port *p);
size_t dp_size(const struct dp_port *p);

/* The dataport's entry (name, slot, VMs by peer ID). */
const struct dp_entry *dp_entry(const struct dp_port *p);

/* This VM's peer ID (IVPosition), < dp_entry(p)->npeers. */
unsigned dp_self(const struct dp_port *p);

/* N of /dev/uioN. */
unsigned dp_uio(const struct dp_port *p);

/*
 * The fd to poll() (POLLIN) among other fds; after it polls readable call
 * dp_wait(p, 0) to take the events.
 */
int dp_fd(const struct dp_port *p);

/*
 * Ring peer's doorbell on vector (0 unless the dataport says otherwise).
 * peer < npeers (itself allowed), vector <= DP_MAX_VECTOR.  Returns 0, or
 * -1 with errno EINVAL for a bad peer or vector.  Success means the write
 * was made, not that anyone received it (see the header).
 */
int dp_emit(struct dp_port *p, unsigned peer, unsigned vector);

/*
 * Wait until a doorbell interrupt arrives or timeout_ms passes (0: just
 * check; DP_WAIT_FOREVER: no timeout).  Returns the number of interrupts
 * since the previous dp_wait() or dp_open() (>= 1), 0 on timeout, or -1
 * with errno (EIO: the device went away, e.g. the module was unloaded;
 * EINVAL: timeout_ms < -1).  Signals do not cut the wait short.
 */
int dp_wait(struct dp_port *p, int timeout_ms);

#endif
