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
#define SC_MAX_DATAPORTS	64
#define SC_MAX_DATAPORTS_PER_VM	16	/* PCI slots 0x10-0x1f (docs/dataports.md) */
#define SC_MIN_DATAPORT		(4ull << 10)
#define SC_MAX_DATAPORT		(1ull << 30)
#define SC_DRIVER_DATAPORT	(4ull << 20)	/* default for a driver-VM disk */
#define SC_DRIVER_TIMEOUT	60	/* seconds a request waits for it */
#define SC_MAX_SATA_PER_VM	6	/* ports of QEMU's AHCI controller */
#define SC_MAX_PCI_PER_VM	8
#define SC_MAX_CONSOLES		32
#define SC_MAX_VSOCK_RULES	64
#define SC_KERNEL_CMDLINE_MAX	2047	/* x86 COMMAND_LINE_SIZE - 1 */
#define SC_HOST_PEER		"host"	/* a dataport's disk-daemon peer */

enum sc_accel { SC_ACCEL_AUTO, SC_ACCEL_KVM, SC_ACCEL_TCG };
enum sc_arch { SC_ARCH_X86_64, SC_ARCH_I386 };
enum sc_ptable { SC_PT_NONE, SC_PT_MBR, SC_PT_GPT };

/*
 * A disk image to make inside a new file system (driver-VM client disks,
 * docs/driver-vm.md): a sparse file of `size` with one partition from
 * 1 MiB holding an ext4 file system, like the seed's dd/fdisk/mkfs recipe.
 */
struct sc_image_file {
	char *path;		/* relative to the file system's root */
	uint64_t size;
};

/* One partition of a layout that `isles up` creates on a new image. */
struct sc_layout_part {
	uint64_t size;		/* bytes; 0 = the rest of the disk (last only) */
	uint8_t type;		/* MBR type byte (0x83 Linux by default) */
	bool boot;
	bool logical;		/* MBR: inside the extended partition */
	unsigned number;	/* partition number: MBR primaries 1.., logicals 5..; GPT 1.. */
	bool ext4;		/* format = "ext4": made with a file system */
	struct sc_image_file *images;	/* ext4: files to make in it */
	size_t nimages;
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
	bool cache_none;	/* cache = "none": O_DIRECT (isles-diskd --cache none) */
	int line;
};

/*
 * vm.disks = ( ... ): one virtual disk of a VM (/dev/vda, /dev/vdb, ...):
 * partitions of a declared disk (driver < 0), or a disk served by a
 * driver VM over a dataport (docs/driver-vm.md).
 */
struct sc_vm_disk {
	size_t disk;		/* partitions: index into sc_system.disks */
	unsigned *partitions;	/* physical partition numbers (1-based) */
	size_t npartitions;
	bool readonly;
	int driver;		/* the driver VM's index, -1: partitions */
	size_t dataport;	/* driver: index into sc_system.dataports */
	unsigned timeout;	/* driver: seconds a request may wait */
	char *driver_name;	/* driver: as written */
	char *dataport_name;
	uint64_t dataport_size;
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
	size_t *sata;		/* disks attached whole over AHCI (/dev/sda...) */
	size_t nsata;
	char (*pci)[16];	/* host PCI devices given to it (vfio-pci) */
	size_t npci;
	uint32_t cid;		/* vsock CID, 0: no vsock device */
	size_t *dataports;	/* its dataports, in PCI slot order (K) */
	size_t ndataports;
};

/*
 * dataports = ( ... ), and the dataport of each driver-VM disk: memory
 * shared by its peers plus doorbells.  Peer IDs are positions in peers[];
 * with host, peer 0 is the disk daemon serving VM client's disk
 * client_disk and peer 1 the driver VM.
 */
struct sc_dataport {
	char *name;
	uint64_t size;		/* bytes, a power of two */
	size_t *peers;		/* VM indexes (host: peers[0] unused) */
	size_t npeers;
	bool host;
	size_t client, client_disk;
	int line;
};

/* consoles = ( ... ): a console link, /dev/hvcN in each of two VMs. */
struct sc_console_link {
	char *name;
	size_t vm[2];
	int line;
};

/* vsock = ( ... ): who may connect to whom, on which port. */
struct sc_vsock_rule {
	size_t client, server;	/* VM indexes */
	uint32_t port;		/* the server's port */
	int line;
};

/* console = { ... }: the multiplexed console on a host serial device. */
struct sc_serial {
	char *device;		/* absolute path of a character device */
	unsigned speed;		/* baud */
	char format[4];		/* "8N1" */
	int line;
};

/*
 * The termios speed of a host serial console running at `baud`, or B0
 * (0) when baud is not one the system file allows (9600 ... 921600).
 * The one table of allowed speeds: the loader checks with it, the
 * supervisor sets the line with it.
 */
unsigned sc_line_speed(unsigned baud);

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
	struct sc_dataport *dataports;
	size_t ndataports;
	struct sc_console_link *consoles;
	size_t nconsoles;
	struct sc_vsock_rule *vsock;
	size_t nvsock;
	struct sc_serial *serial;	/* NULL: the console is the terminal */
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

/*
 * The system as a Graphviz graph in the dot language (`isles graph`):
 * VMs, disks and partitions, switches and uplinks, dataports, console
 * links, vsock rules, passthrough devices, the console.  0, or -1 if
 * writing failed.
 */
int sc_graph(const struct sc_system *sys, FILE *out);

/* Print the resolved plan, as `isles check` shows it. */
void sc_print(const struct sc_system *sys, FILE *out);

/* Look a VM up by name; returns its index or -1. */
int sc_vm_find(const struct sc_system *sys, const char *name);

/*
 * The value of isles.dataports= for VM v (docs/dataports.md), or "" if it
 * has none, into buf (len bytes).  Returns the length it needs (as
 * snprintf).
 */
int sc_dataport_param(const struct sc_system *sys, size_t v, char *buf,
    size_t len);

/* The peer ID of VM v on dataport d, or -1. */
int sc_dataport_peer(const struct sc_dataport *d, size_t v);

/*
 * The names of VM v's console links, in file order, comma-separated (the
 * guest's isles.consoles=: link K is /dev/hvcK there, docs/links.md), into
 * buf like snprintf; returns the length it needs.
 */
int sc_console_param(const struct sc_system *sys, size_t v, char *buf,
    size_t len);

/*
 * Parse "256M", "8K", "1G", "2T", "256MiB", "4096" (bytes): digits and an
 * optional binary unit, nothing else (no sign, no space, no fraction);
 * host_parse_size (src/host/parse.h) is the one parser, this its name for
 * the system file.  Returns 0, or -1 with errno EINVAL (garbage, empty,
 * zero, out NULL) or ERANGE (does not fit in 64 bits).
 */
int sc_parse_size(const char *s, uint64_t *out);

#endif
