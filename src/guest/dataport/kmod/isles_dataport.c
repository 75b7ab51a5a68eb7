// SPDX-License-Identifier: GPL-2.0
/*
 * isles_dataport: the guest end of an Isles dataport (docs/dataports.md).
 *
 * A dataport is a region of memory shared between VMs plus doorbells.  The
 * host gives each VM one QEMU ivshmem-doorbell PCI device (1af4:1110) per
 * dataport; this driver makes each such device one UIO device /dev/uioN
 * named "isles-dataport", so that guest programs (src/guest/dataport/
 * libdataport) map it and wait for doorbells without further kernel code:
 *
 *   UIO map 0  BAR0, the register page (IntrMask, IntrStatus, IVPosition,
 *              Doorbell), one page, mapped uncached; mmap offset 0
 *   UIO map 1  BAR2, the shared memory, mapped cacheable; mmap offset one
 *              page
 *   interrupt  every MSI-X vector the device has calls uio_event_notify();
 *              without MSI-X (no vectors to be had, or a device without
 *              them) the INTx line is taken, acknowledged through
 *              IntrStatus; with neither (QEMU 7.2's ivshmem-plain) the
 *              UIO device has no interrupt and read() fails with EIO
 *
 * so read() of 4 bytes on /dev/uioN blocks until an interrupt and returns
 * UIO's event count, and poll() works (both are the UIO core's).  The
 * driver only maps and signals: it never reads or writes the shared memory,
 * and it reads no register the peer controls, so nothing a peer VM does
 * reaches this code except as an interrupt.  It trusts the PCI core's
 * resources.
 *
 * UIO refuses to mmap a physical region that does not start on a page
 * boundary or is smaller than the mapping, and BAR0 is 256 bytes that
 * firmware may pack into a page with other devices' registers.  The guest
 * kernel must therefore boot with pci=resource_alignment=12@pci:1af4:1110,
 * which makes the PCI core give each ivshmem BAR0 a page of its own (its
 * resource becomes 4 KiB, nothing else is placed in that page).  Without
 * it, probe fails with a message naming the parameter.
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uio_driver.h>

#define DP_NAME			"isles-dataport"
#define DP_VERSION		"1"

#define DP_BAR_REGS		0
#define DP_BAR_SHM		2

/* BAR0 registers (QEMU docs/specs/ivshmem-spec.rst). */
#define DP_REG_INTRMASK		0x00
#define DP_REG_INTRSTATUS	0x04
#define DP_REG_LEN		0x10

#define DP_MAP_REGS		0
#define DP_MAP_SHM		1

struct dp_dev {
	struct pci_dev *pdev;
	struct uio_info info;
	void __iomem *regs;	/* for the INTx status register only */
	int nvecs;		/* vectors allocated: MSI-X, 1 for INTx, or 0 */
	int nirqs;		/* of those, handlers requested */
	bool intx;
	char **irq_names;	/* one per vector: request_irq keeps them */
};

/* One MSI-X vector fired: a peer rang this VM's doorbell. */
static irqreturn_t dp_msix_irq(int irq, void *arg)
{
	struct dp_dev *dp = arg;

	uio_event_notify(&dp->info);
	return IRQ_HANDLED;
}

/*
 * INTx (no MSI-X): the line may be shared.  Reading IntrStatus clears it
 * and lowers the line; all-ones means the device is gone.
 */
static irqreturn_t dp_intx_irq(int irq, void *arg)
{
	struct dp_dev *dp = arg;
	u32 status = ioread32(dp->regs + DP_REG_INTRSTATUS);

	if (status == 0 || status == ~0U)
		return IRQ_NONE;
	uio_event_notify(&dp->info);
	return IRQ_HANDLED;
}

static void dp_free_irqs(struct dp_dev *dp)
{
	if (dp->intx)
		iowrite32(0, dp->regs + DP_REG_INTRMASK);
	while (dp->nirqs > 0) {
		dp->nirqs--;
		free_irq(pci_irq_vector(dp->pdev, dp->nirqs), dp);
	}
	if (dp->irq_names != NULL)
		for (int i = 0; i < dp->nvecs; i++)
			kfree(dp->irq_names[i]);
	kfree(dp->irq_names);
	dp->irq_names = NULL;
	pci_free_irq_vectors(dp->pdev);
	dp->nvecs = 0;
	dp->intx = false;
}

/*
 * Every MSI-X vector the device has, else INTx, else none (QEMU 7.2's
 * ivshmem-plain has neither: UIO then fails read() with EIO, as for any
 * device without an interrupt).  Sets dp->nvecs; the handlers are
 * requested by dp_request_irqs() once the UIO device exists.
 */
static int dp_alloc_vectors(struct dp_dev *dp)
{
	struct pci_dev *pdev = dp->pdev;
	int nvec = pci_msix_vec_count(pdev);
	int got = -ENOSPC;

	if (nvec > 0)
		got = pci_alloc_irq_vectors(pdev, nvec, nvec, PCI_IRQ_MSIX);
	if (got < 0) {
		if (nvec > 0)
			dev_warn(&pdev->dev, "cannot enable %d MSI-X vectors "
			    "(%d): trying INTx\n", nvec, got);
		if (pdev->pin == 0 || pdev->irq == 0) {
			dev_info(&pdev->dev, "no MSI-X and no INTx: doorbells "
			    "cannot be received\n");
			return 0;
		}
		got = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_LEGACY);
		if (got < 0)
			return got;
		dp->intx = true;
	}
	dp->nvecs = got;
	dp->irq_names = kcalloc(got, sizeof(*dp->irq_names), GFP_KERNEL);
	if (dp->irq_names == NULL)
		goto nomem;
	for (int i = 0; i < got; i++) {
		dp->irq_names[i] = kasprintf(GFP_KERNEL, "%s[%s]:%d", DP_NAME,
		    pci_name(pdev), i);
		if (dp->irq_names[i] == NULL)
			goto nomem;
	}
	return 0;
nomem:
	dp_free_irqs(dp);
	return -ENOMEM;
}

/* Called after uio_register_device(): the handlers notify it. */
static int dp_request_irqs(struct dp_dev *dp)
{
	struct pci_dev *pdev = dp->pdev;
	int err;

	for (int i = 0; i < dp->nvecs; i++) {
		err = request_irq(pci_irq_vector(pdev, i), dp->intx ?
		    dp_intx_irq : dp_msix_irq, dp->intx ? IRQF_SHARED : 0,
		    dp->irq_names[i], dp);
		if (err)
			return err;	/* the caller frees what was taken */
		dp->nirqs++;
	}
	if (dp->intx)
		iowrite32(1, dp->regs + DP_REG_INTRMASK);
	return 0;
}

/* The register BAR must be a whole page of its own (see the header). */
static int dp_check_bars(struct pci_dev *pdev)
{
	struct resource *regs = &pdev->resource[DP_BAR_REGS];
	struct resource *shm = &pdev->resource[DP_BAR_SHM];

	if (!(pci_resource_flags(pdev, DP_BAR_REGS) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, DP_BAR_REGS) < DP_REG_LEN) {
		dev_err(&pdev->dev, "BAR0 %pR is not the ivshmem register "
		    "BAR\n", regs);
		return -ENODEV;
	}
	if (!PAGE_ALIGNED(pci_resource_start(pdev, DP_BAR_REGS)) ||
	    pci_resource_len(pdev, DP_BAR_REGS) < PAGE_SIZE) {
		dev_err(&pdev->dev, "BAR0 %pR is not a page of its own, so "
		    "UIO cannot map it: boot the guest with "
		    "pci=resource_alignment=12@pci:1af4:1110\n", regs);
		return -ENODEV;
	}
	if (!(pci_resource_flags(pdev, DP_BAR_SHM) & IORESOURCE_MEM) ||
	    !PAGE_ALIGNED(pci_resource_start(pdev, DP_BAR_SHM)) ||
	    pci_resource_len(pdev, DP_BAR_SHM) < PAGE_SIZE) {
		dev_err(&pdev->dev, "BAR2 %pR is not usable shared memory "
		    "(missing, or smaller than a page)\n", shm);
		return -ENODEV;
	}
	return 0;
}

static int dp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct dp_dev *dp;
	int err;

	dp = kzalloc(sizeof(*dp), GFP_KERNEL);
	if (dp == NULL)
		return -ENOMEM;
	dp->pdev = pdev;

	err = pci_enable_device(pdev);
	if (err)
		goto fail_free;
	err = dp_check_bars(pdev);
	if (err)
		goto fail_disable;
	err = pci_request_regions(pdev, DP_NAME);
	if (err)
		goto fail_disable;
	dp->regs = pci_iomap(pdev, DP_BAR_REGS, DP_REG_LEN);
	if (dp->regs == NULL) {
		err = -ENOMEM;
		goto fail_release;
	}
	/* MSI-X messages are memory writes by the device. */
	pci_set_master(pdev);
	err = dp_alloc_vectors(dp);
	if (err)
		goto fail_unmap;

	dp->info.name = DP_NAME;
	dp->info.version = DP_VERSION;
	/* The handlers are ours (several vectors): UIO requests none. */
	dp->info.irq = dp->nvecs > 0 ? UIO_IRQ_CUSTOM : UIO_IRQ_NONE;

	dp->info.mem[DP_MAP_REGS].name = "registers";
	dp->info.mem[DP_MAP_REGS].addr = pci_resource_start(pdev, DP_BAR_REGS);
	dp->info.mem[DP_MAP_REGS].size = PAGE_SIZE;
	dp->info.mem[DP_MAP_REGS].memtype = UIO_MEM_PHYS;	/* uncached */

	/*
	 * BAR2 is RAM on the host side, shared with the other VMs' QEMUs:
	 * UIO_MEM_IOVA is the physical mapping without pgprot_noncached().
	 */
	dp->info.mem[DP_MAP_SHM].name = "shmem";
	dp->info.mem[DP_MAP_SHM].addr = pci_resource_start(pdev, DP_BAR_SHM);
	dp->info.mem[DP_MAP_SHM].size = pci_resource_len(pdev, DP_BAR_SHM);
	dp->info.mem[DP_MAP_SHM].memtype = UIO_MEM_IOVA;

	err = uio_register_device(&pdev->dev, &dp->info);
	if (err)
		goto fail_vectors;
	err = dp_request_irqs(dp);
	if (err)
		goto fail_unregister;
	pci_set_drvdata(pdev, dp);
	dev_info(&pdev->dev, "%s: %llu KiB shared, interrupts: %d %s\n",
	    dev_name(&dp->info.uio_dev->dev),
	    (unsigned long long)pci_resource_len(pdev, DP_BAR_SHM) >> 10,
	    dp->nvecs, dp->intx ? "INTx" : dp->nvecs ? "MSI-X" : "(none)");
	return 0;

fail_unregister:
	dp_free_irqs(dp);
	uio_unregister_device(&dp->info);
	goto fail_unmap;
fail_vectors:
	dp_free_irqs(dp);
fail_unmap:
	pci_clear_master(pdev);
	pci_iounmap(pdev, dp->regs);
fail_release:
	pci_release_regions(pdev);
fail_disable:
	pci_disable_device(pdev);
fail_free:
	kfree(dp);
	return err;
}

/*
 * Interrupts go first: a handler must not notify a UIO device that is
 * being torn down.  Readers blocked in read() or poll() are woken by
 * uio_unregister_device() and get EIO.
 */
static void dp_remove(struct pci_dev *pdev)
{
	struct dp_dev *dp = pci_get_drvdata(pdev);

	dp_free_irqs(dp);
	uio_unregister_device(&dp->info);
	pci_clear_master(pdev);
	pci_iounmap(pdev, dp->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	pci_set_drvdata(pdev, NULL);
	kfree(dp);
}

static const struct pci_device_id dp_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110) },	/* ivshmem */
	{ 0 }
};
MODULE_DEVICE_TABLE(pci, dp_ids);

static struct pci_driver dp_driver = {
	.name = "isles_dataport",
	.id_table = dp_ids,
	.probe = dp_probe,
	.remove = dp_remove,
};
module_pci_driver(dp_driver);

MODULE_DESCRIPTION("Isles dataport: ivshmem shared memory and doorbells as UIO");
MODULE_LICENSE("GPL");
