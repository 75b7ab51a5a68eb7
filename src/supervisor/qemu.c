/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * qemu: one VM's QEMU command line from the plan; see qemu.h.  Pure:
 * builds strings only.  Trusts the plan (validated by sysconf).
 */
#include "qemu.h"

#include <stdio.h>
#include <stdlib.h>

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

static void
add_kernel(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-kernel");
	strv_add(a, q->kernel);
	if (q->initrd != NULL) {
		strv_add(a, "-initrd");
		strv_add(a, q->initrd);
	}
	strv_add(a, "-append");
	/*
	 * no_timer_check: under TCG on a loaded host the kernel's IO-APIC
	 * timer check can fail and panic the guest at boot.
	 */
	strv_addf(a, "console=ttyS0 isles.name=%s panic=-1 no_timer_check%s%s",
	    q->vm->name,
	    q->vm->cmdline ? " " : "", q->vm->cmdline ? q->vm->cmdline : "");
}

/*
 * ttyS0 on a socket that isles-consoled connects to; it writes and caps
 * console.log (no logfile= here: QEMU's log would grow without bound).
 * wait=on: QEMU does not run the guest before consoled is connected (it
 * retries every 50 ms to 1 s), or the log would miss the first lines of
 * a boot; once running, QEMU never waits for it again.
 */
static void
add_serial(const struct qemu_vm *q, struct strv *a)
{
	strv_add(a, "-chardev");
	strv_addf(a, "socket,id=ser0,path=%s/vm/%s/serial.sock,server=on,"
	    "wait=on", q->rundir, q->vm->name);
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
		if (vm->disks[j].disk == vm->disks[i].disk)
			k++;
	if (k == 0)
		snprintf(out, len, "%s", vm->name);
	else
		snprintf(out, len, "%s-%zu", vm->name, k);
}

/* One vhost-user-blk per virtual disk, served by isles-diskd. */
static void
add_disks(const struct qemu_vm *q, struct strv *a)
{
	for (size_t i = 0; i < q->vm->ndisks; i++) {
		const struct sc_disk *d = &q->sys->disks[q->vm->disks[i].disk];
		char exp[48];

		qemu_disk_export(q->vm, i, exp, sizeof(exp));
		strv_add(a, "-chardev");
		strv_addf(a, "socket,id=d%zu,path=%s/disk/%s/%s.sock,"
		    "reconnect=1", i, q->rundir, d->name, exp);
		strv_add(a, "-device");
		strv_addf(a, "vhost-user-blk-pci,chardev=d%zu,num-queues=%u",
		    i, d->queues ? d->queues : 1);
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
	{ "memory", add_memory },
	{ "kernel", add_kernel },
	{ "serial", add_serial },
	{ "agent", add_agent },
	{ "qmp", add_qmp },
	{ "disks", add_disks },
	{ "nics", add_nics },
};

const char *
qemu_binary(void)
{
	const char *q = getenv("ISLES_QEMU");

	return q != NULL && *q != '\0' ? q : "qemu-system-x86_64";
}

int
qemu_check(const struct sc_system *sys, char *err, size_t errlen)
{
	for (size_t i = 0; i < sys->nvms; i++) {
		const struct sc_vm *vm = &sys->vms[i];

		if (vm->arch != SC_ARCH_X86_64) {
			snprintf(err, errlen, "%s:%d: vm %s: only x86_64 "
			    "guests are supported yet", sys->file, vm->line,
			    vm->name);
			return -1;
		}
	}
	return 0;
}

int
qemu_build(const struct qemu_vm *q, struct strv *out, char *err,
    size_t errlen)
{
	strv_add(out, qemu_binary());
	for (size_t i = 0; i < sizeof(qemu_devs) / sizeof(qemu_devs[0]); i++)
		qemu_devs[i].add(q, out);
	if (out->oom) {
		snprintf(err, errlen, "out of memory building the QEMU "
		    "command line");
		return -1;
	}
	return 0;
}
