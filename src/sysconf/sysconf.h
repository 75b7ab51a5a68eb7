/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysconf: the system file, parsed and validated into a plan.
 *
 * The system file (libconfig syntax, documented in docs/system-file.md) is
 * Isles' wiring diagram and security policy: a VM gets exactly the disks,
 * NICs, dataports and links it lists, nothing else.  sc_load() parses it
 * with libconfig and checks every rule a running system depends on, so
 * that `isles up` never starts a system half-way because of a bad file.
 *
 * Pure apart from reading the file itself and stat()ing the files it names
 * (kernel, initrd, disk images): unit tests call sc_load_string() directly.
 * Users: `isles check`, `isles up` and the supervisor (libsysconf; the
 * files of src/sysconf and how they split the work: loader.h).
 * Every error carries the file name and line.  Objects refer to each other
 * by index into the sc_system arrays, never by pointer, so the plan can be
 * copied and compared.
 */
#ifndef ISLES_SYSCONF_H
#define ISLES_SYSCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SC_MAX_VMS		32
#define SC_MAX_NAME		31	/* [a-z0-9][a-z0-9_-]*, at most this long */
#define SC_MIN_MEMORY		(32ull << 20)
#define SC_MAX_MEMORY		(256ull << 30)
#define SC_MAX_VCPUS		64
#define SC_MAX_DISKS_PER_VM	8
#define SC_MAX_NICS_PER_VM	8
#define SC_MAX_DISKS		32
#define SC_MAX_SWITCHES		32	/* default MACs use 0xAA + switch index */
#define SC_MAX_DISK_SIZE	(64ull << 40)
#define SC_MAX_PARTS		128	/* layout entries; partition numbers 1..128 */
#define SC_MAX_CMDLINE		1024
#define SC_MIN_CONSOLE_LOG	(64ull << 10)
#define SC_MAX_CONSOLE_LOG	(256ull << 20)	/* a cut moves half: ~75 ms here */
#define SC_DEFAULT_CONSOLE_LOG	(4ull << 20)	/* = isles-consoled's own default */

enum sc_accel { SC_ACCEL_AUTO, SC_ACCEL_KVM, SC_ACCEL_TCG };
enum sc_arch { SC_ARCH_X86_64, SC_ARCH_I386 };
enum sc_ptable { SC_PT_NONE, SC_PT_MBR, SC_PT_GPT };

/* One partition of a layout that `isles up` creates on a new image. */
struct sc_layout_part {
	uint64_t size;		/* bytes; 0 = the rest of the disk (last only) */
	uint8_t type;		/* MBR type byte (0x83 Linux by default) */
	bool boot;
	bool logical;		/* MBR: inside the extended partition */
	unsigned number;	/* partition number: MBR primaries 1.., logicals 5..; GPT 1.. */
	int line;
};

/* disks = ( ... ): one physical disk, served by one isles-diskd. */
struct sc_disk {
	char *name;
	char *path;		/* absolute: image file or block device */
	char *path_as_written;	/* as in the file (for messages and the plan) */
	uint64_t size;		/* create the image with this size if missing; 0 = must exist */
	enum sc_ptable layout;	/* partition table to create with the image */
	struct sc_layout_part *parts;
	size_t nparts;
	unsigned queues;	/* virtqueues per export (default 1) */
	int line;
};

/* vm.disks = ( ... ): one virtual disk of a VM (/dev/vda, /dev/vdb, ...). */
struct sc_vm_disk {
	size_t disk;		/* index into sc_system.disks */
	unsigned *partitions;	/* physical partition numbers (1-based) */
	size_t npartitions;
	bool readonly;
	int line;
};

/* switches = ( ... ): one L2 switch, served by one isles-switchd. */
struct sc_switch {
	char *name;
	char *uplink_tap;	/* host TAP device name, or NULL */
	int line;
};

/* vm.nics = ( ... ): one virtio-net NIC (eth0, eth1, ...). */
struct sc_nic {
	size_t sw;		/* index into sc_system.switches */
	uint8_t mac[6];
	bool uplink;		/* frames to unknown MACs leave by the uplink
				   (true when the NIC's switch has one) */
	int line;
};

struct sc_vm {
	char *name;
	int line;
	unsigned index;		/* position in the file: the console's @N */
	uint64_t memory;	/* bytes */
	unsigned vcpus;
	enum sc_arch arch;
	char *hugepages;	/* hugetlbfs mount for guest RAM, or NULL */
	char *hugepages_as_written;
	char *kernel;		/* absolute path, or NULL = Isles' guest image */
	char *initrd;		/* absolute path, or NULL = Isles' guest image */
	char *kernel_as_written;	/* as in the file, or NULL */
	char *initrd_as_written;	/* as in the file, or NULL */
	char *cmdline;		/* extra kernel command line, or NULL */
	struct sc_vm_disk *disks;
	size_t ndisks;
	struct sc_nic *nics;
	size_t nnics;
};

struct sc_system {
	char *file;		/* the path as given */
	char *dir;		/* directory of the file: base of relative paths */
	char *name;		/* system name (default: file name without .conf) */
	enum sc_accel accel;
	uint64_t console_log_max;	/* cap of each VM's console.log, bytes */
	struct sc_vm *vms;
	size_t nvms;
	struct sc_disk *disks;
	size_t ndisks;
	struct sc_switch *switches;
	size_t nswitches;
};

/* Errors: every message is "FILE:LINE: what is wrong" (LINE omitted if unknown). */
#define SC_MAX_ERRORS 32
struct sc_errors {
	size_t n;
	char msg[SC_MAX_ERRORS][256];
	size_t dropped;		/* errors found beyond SC_MAX_ERRORS */
};

/*
 * Parse and validate a system file.  Returns a plan (free with sc_free) or
 * NULL with err filled (at least one message).  All errors found are
 * reported, not only the first, up to SC_MAX_ERRORS.
 */
struct sc_system *sc_load(const char *path, struct sc_errors *err);

/* The same for text in memory; `name` stands for the file in messages. */
struct sc_system *sc_load_string(const char *text, const char *name,
    struct sc_errors *err);

void sc_free(struct sc_system *sys);

/* Print the resolved plan, as `isles check` shows it. */
void sc_print(const struct sc_system *sys, FILE *out);

/* Look a VM up by name; returns its index or -1. */
int sc_vm_find(const struct sc_system *sys, const char *name);

/*
 * Parse "256M", "8K", "1G", "2T", "256MiB", "4096" (bytes): digits and an
 * optional binary unit, nothing else (no sign, no space, no fraction);
 * host_parse_size (src/host/parse.h) is the one parser, this its name for
 * the system file.  Returns 0, or -1 with errno EINVAL (garbage, empty,
 * zero, out NULL) or ERANGE (does not fit in 64 bits).
 */
int sc_parse_size(const char *s, uint64_t *out);

#endif
