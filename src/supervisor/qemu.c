/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qemu: one VM's QEMU command line from the plan; see qemu.h.  Pure:
 * builds strings only.  Trusts the plan (validated by sysconf).
 */
#include "qemu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
add_machine(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-M");
	strv_add(a, "q35");
	strv_add(a, "-accel");
	strv_add(a, q->accel == SC_ACCEL_KVM ? "kvm" : "tcg");
	if (q->accel == SC_ACCEL_KVM) {
		strv_add(a, "-cpu");
		strv_add(a, "host");
	}
	strv_add(a, "-smp");
	strv_addf(a, "%u", q->vm->vcpus);
	strv_add(a, "-nodefaults");
	strv_add(a, "-no-user-config");
	strv_add(a, "-display");
	strv_add(a, "none");
	strv_add(a, "-name");
	strv_addf(a, "%s,process=isles-%s", q->vm->name, q->vm->name);
}

/*
 * Guest RAM is shared (vhost-user back-ends map it): a memfd, or a file
 * on the VM's hugetlbfs mount.
 */
static void
add_memory(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-m");
	strv_addf(a, "%lluM", (unsigned long long)(q->vm->memory >> 20));
	strv_add(a, "-object");
	if (q->vm->hugepages != NULL)
		strv_addf(a, "memory-backend-file,id=mem,size=%llu,"
		    "mem-path=%s,share=on", (unsigned long long)q->vm->memory,
		    q->vm->hugepages);
	else
		strv_addf(a, "memory-backend-memfd,id=mem,size=%llu,share=on",
		    (unsigned long long)q->vm->memory);
	strv_add(a, "-numa");
	strv_add(a, "node,memdev=mem");
}

/*
 * The kernel command line.  no_timer_check: under TCG on a loaded host the
 * kernel's IO-APIC timer check can fail and panic the guest at boot.  A VM
 * with dataports gets their names (isles.dataports=, docs/dataports.md)
 * and a page of its own for each ivshmem BAR0, which UIO maps; a VM with
 * console links gets their names in order (isles.consoles=, its
 * /dev/hvcK, docs/links.md).  A VM with SATA disks (or a passed-through
 * controller) scans them synchronously, so that its rcS can wait for
 * them (scsi_mod.scan=sync).  sysconf checked that it all fits.
 */
static void
add_kernel(const struct qemu_vm *q, struct strv *a)
{
	size_t v = (size_t)(q->vm - q->sys->vms);
	char dp[SC_KERNEL_CMDLINE_MAX + 64] = "";
	char cons[SC_KERNEL_CMDLINE_MAX + 1];

	if (q->vm->ndataports > 0) {
		size_t n;

		n = (size_t)snprintf(dp, sizeof(dp), " isles.dataports=");
		sc_dataport_param(q->sys, v, dp + n, sizeof(dp) - n);
		n = strlen(dp);
		snprintf(dp + n, sizeof(dp) - n,
		    " pci=resource_alignment=12@pci:1af4:1110");
	}
	sc_console_param(q->sys, v, cons, sizeof(cons));
	strv_add(a, "-kernel");
	strv_add(a, q->kernel);
	if (q->initrd != NULL) {
		strv_add(a, "-initrd");
		strv_add(a, q->initrd);
	}
	strv_add(a, "-append");
	strv_addf(a, "console=ttyS0 isles.name=%s panic=-1 no_timer_check%s%s%s"
	    "%s%s%s", q->vm->name, dp, cons[0] ? " isles.consoles=" : "", cons,
	    q->vm->nsata > 0 || q->vm->npci > 0 ? " scsi_mod.scan=sync" : "",
	    q->vm->cmdline ? " " : "", q->vm->cmdline ? q->vm->cmdline : "");
}

/*
 * ttyS0 on the VM's serial socket of isles-consoled, which writes and
 * caps console.log (no logfile= here: QEMU's log would grow without
 * bound).  QEMU connects as a client: the supervisor bound the socket
 * before any QEMU starts, so the connection is queued at once and the
 * first lines of a boot wait in the socket buffer until consoled
 * accepts (consoled opens no socket itself, docs/architecture.md,
 * Lock-down); reconnect=1: back within a second of a consoled restart.
 */
/*
 * QEMU's own seccomp filter, the strictest QEMU 7.2 offers: besides its
 * default set, no obsolete calls, no set*uid/set*gid, no fork or exec,
 * no scheduler or priority changes.  Nothing a VM of Isles needs (no
 * helper programs: NICs are vhost-user, not tap with scripts).
 */
static void
add_sandbox(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-sandbox");
	strv_add(a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	    "resourcecontrol=deny");
}

static void
add_serial(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=ser0,path=%s/vm/%s/serial.sock,reconnect=1",
	    q->rundir, q->vm->name);
	strv_add(a, "-serial");
	strv_add(a, "chardev:ser0");
}

static void
add_agent(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-device");
	strv_add(a, "virtio-serial-pci,id=vser0");
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=agent,path=%s/vm/%s/agent.sock,server=on,"
	    "wait=off", q->rundir, q->vm->name);
	strv_add(a, "-device");
	strv_add(a, "virtserialport,bus=vser0.0,chardev=agent,"
	    "name=org.isles.agent");
}

static void
add_qmp(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-qmp");
	strv_addf(a, "unix:%s/vm/%s/qmp.sock,server=on,wait=off", q->rundir,
	    q->vm->name);
}

void
qemu_disk_export(const struct sc_vm *vm, size_t i, char *out, size_t len)
{
	size_t k = 0;

	for (size_t j = 0; j < i; j++)
		if (vm->disks[j].driver < 0 && vm->disks[i].driver < 0 &&
		    vm->disks[j].disk == vm->disks[i].disk)
			k++;
	if (k == 0)
		snprintf(out, len, "%s", vm->name);
	else
		snprintf(out, len, "%s-%zu", vm->name, k);
}

/*
 * One vhost-user-blk per virtual disk, served by isles-diskd: partitions
 * of a disk (R/disk/DISK/EXPORT.sock) or a disk a driver VM serves over
 * a dataport (R/dpdisk/DATAPORT/VM.sock).
 */
static void
add_disks(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->ndisks; i++) {
		const struct sc_vm_disk *vd = &q->vm->disks[i];
		unsigned queues = 1;
		char exp[48];

		strv_add(a, "-chardev");
		if (vd->driver >= 0) {
			strv_addf(a, "socket,id=d%zu,path=%s/dpdisk/%s/%s.sock,"
			    "reconnect=1", i, q->rundir,
			    q->sys->dataports[vd->dataport].name, q->vm->name);
		} else {
			const struct sc_disk *d = &q->sys->disks[vd->disk];

			qemu_disk_export(q->vm, i, exp, sizeof(exp));
			strv_addf(a, "socket,id=d%zu,path=%s/disk/%s/%s.sock,"
			    "reconnect=1", i, q->rundir, d->name, exp);
			queues = d->queues ? d->queues : 1;
		}
		strv_add(a, "-device");
		strv_addf(a, "vhost-user-blk-pci,chardev=d%zu,num-queues=%u",
		    i, queues);
	}
}

/*
 * A VM's own SATA disks (a driver VM's, docs/driver-vm.md): attached
 * whole to the q35 machine's own AHCI controller (ICH9, 0000:00:1f.2,
 * six ports ide.0 to ide.5); the guest sees /dev/sda...  cache=none: the
 * driver VM has its own page cache.
 */
static void
add_sata(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->nsata; i++) {
		const struct sc_disk *d = &q->sys->disks[q->vm->sata[i]];

		strv_add(a, "-drive");
		strv_addf(a, "file=%s,if=none,id=sata%zu,format=raw,cache=none,"
		    "aio=io_uring", d->path, i);
		strv_add(a, "-device");
		strv_addf(a, "ide-hd,drive=sata%zu,bus=ide.%zu", i, i);
	}
}

/*
 * Dataports: an ivshmem-doorbell device per dataport at PCI slot 0x10 +
 * K on pcie.0 (the contract of docs/dataports.md), its chardev on this
 * VM's socket of the dataport's isles-dataportd.
 */
static void
add_dataports(const struct qemu_vm *q, struct strv *a)
{
	for (size_t k = 0; k < q->vm->ndataports; k++) {
		const struct sc_dataport *d =
		    &q->sys->dataports[q->vm->dataports[k]];

		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=dp%zu,path=%s/dataport/%s/%s.sock", k,
		    q->rundir, d->name, q->vm->name);
		strv_add(a, "-device");
		strv_addf(a, "ivshmem-doorbell,chardev=dp%zu,vectors=1,"
		    "addr=0x%02zx", k, 0x10 + k);
	}
}

/*
 * Console links: a named virtio-serial port per link on the agent's bus,
 * its chardev on this VM's socket of isles-linkd (reconnect=1: QEMU comes
 * back to a restarted daemon).  Not virtconsole: it drops what its
 * chardev cannot take at once (docs/links.md).
 */
static void
add_links(const struct qemu_vm *q, struct strv *a)
{
	size_t v = (size_t)(q->vm - q->sys->vms), k = 0;

	for (size_t i = 0; i < q->sys->nconsoles; i++) {
		const struct sc_console_link *l = &q->sys->consoles[i];

		if (l->vm[0] != v && l->vm[1] != v)
			continue;
		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=link%zu,path=%s/link/%s/%s.sock,"
		    "reconnect=1", k, q->rundir, l->name, q->vm->name);
		strv_add(a, "-device");
		strv_addf(a, "virtserialport,bus=vser0.0,chardev=link%zu,"
		    "name=%s", k, l->name);
		k++;
	}
}

/*
 * vsock: a vhost-user-vsock device on this VM's socket of isles-vsockd,
 * which gives the guest its CID.  No reconnect=1: QEMU 7.2 cannot start
 * the device with it, nor reconnect (the supervisor restarts the VM
 * instead, docs/links.md).
 */
static void
add_vsock(const struct qemu_vm *q, struct strv *a)
{
	if (q->vm->cid == 0)
		return;
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=vsock0,path=%s/vsock/%s.sock", q->rundir,
	    q->vm->name);
	strv_add(a, "-device");
	strv_add(a, "vhost-user-vsock-pci,chardev=vsock0");
}

/* Host PCI devices given to the VM (checked by isles check and up). */
static void
add_passthrough(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->npci; i++) {
		strv_add(a, "-device");
		strv_addf(a, "vfio-pci,host=%s", q->vm->pci[i]);
	}
}

/*
 * One virtio-net per NIC on a vhost-user port of isles-switchd.
 * vectors=0: QEMU 7.2 under TCG crashes with MSI-X on vhost-user-net
 * (docs/switch.md); romfile= skips the PXE ROM.
 */
static void
add_nics(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->nnics; i++) {
		const struct sc_nic *n = &q->vm->nics[i];

		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=net%zu,path=%s/switch/%s/%s.%zu.sock,"
		    "reconnect=1", i, q->rundir, q->sys->switches[n->sw].name,
		    q->vm->name, i);
		strv_add(a, "-netdev");
		strv_addf(a, "vhost-user,id=nic%zu,chardev=net%zu", i, i);
		strv_add(a, "-device");
		strv_addf(a, "virtio-net-pci,netdev=nic%zu,mac=%02x:%02x:%02x:"
		    "%02x:%02x:%02x,romfile=,vectors=0", i, n->mac[0], n->mac[1],
		    n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	}
}

static const struct qemu_dev {
	const char *kind;
	void (*add)(const struct qemu_vm *, struct strv *);
} qemu_devs[] = {
	{ "machine", add_machine },
	{ "sandbox", add_sandbox },
	{ "memory", add_memory },
	{ "kernel", add_kernel },
	{ "serial", add_serial },
	{ "agent", add_agent },
	{ "qmp", add_qmp },
	{ "disks", add_disks },
	{ "sata", add_sata },
	{ "nics", add_nics },
	{ "dataports", add_dataports },
	{ "links", add_links },
	{ "vsock", add_vsock },
	{ "passthrough", add_passthrough },
};

const char *
qemu_binary_for(enum sc_arch arch)
{
	const char *q = getenv(arch == SC_ARCH_I386 ? "ISLES_QEMU_I386" :
	    "ISLES_QEMU");

	if (q != NULL && *q != '\0')
		return q;
	return arch == SC_ARCH_I386 ? "qemu-system-i386" :
	    "qemu-system-x86_64";
}

const char *
qemu_binary(void)
{
	return qemu_binary_for(SC_ARCH_X86_64);
}

int
qemu_check(const struct sc_system *sys, char *err, size_t errlen)
{
	for (size_t i = 0; i < sys->nvms; i++) {
		const struct sc_vm *vm = &sys->vms[i];

		if (vm->arch == SC_ARCH_I386 && vm->memory > (3ull << 30)) {
			snprintf(err, errlen, "%s:%d: vm %s: an i386 guest "
			    "(no PAE) can use at most 3G of memory", sys->file,
			    vm->line, vm->name);
			return -1;
		}
	}
	return 0;
}

int
qemu_build(const struct qemu_vm *q, struct strv *out, char *err,
    size_t errlen)
{
	strv_add(out, qemu_binary_for(q->vm->arch));
	for (size_t i = 0; i < sizeof(qemu_devs) / sizeof(qemu_devs[0]); i++)
		qemu_devs[i].add(q, out);
	if (out->oom) {
		snprintf(err, errlen, "out of memory building the QEMU "
		    "command line");
		return -1;
	}
	return 0;
}
