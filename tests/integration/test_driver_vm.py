# SPDX-License-Identifier: BSD-2-Clause
"""The seed virtio_guest_driver end to end, as shipped: the system is
examples/virtio_guest_driver.conf (32-bit vm0, vm1 clients, vm2 the
driver VM with the SATA disk) with only the disk's path moved into the
test's directory, and the seed README's commands, run with isles exec
(docs/driver-vm.md):

    vm2# mount /dev/sda2 /mnt
    vm2# dataport_sata_backend 2 &
    vm0# mount /dev/vda1 /mnt            (vm1 the same)

What a user sees is checked: `isles up` made the disk and both 100 MiB
images; a client's disk has no size until the driver serves it, then
/dev/vda1 appears; files written on each client survive umount and
mount; a client never sees the other's files; a hostile client (a
front-end playing vm0's QEMU: requests past the end, absurd lengths,
unknown types, malformed rings) gets errors while vm1 keeps working, and
vm0 comes back to a clean file system; the backend killed while a client
writes (frozen first, so the writes are surely in flight) and started
again: the client's writes complete and its file system is clean; at the
end the files are inside file-image-1 and file-image-2, read in vm2 with
the seed's own losetup -o 1048576 recipe.

Run: /usr/bin/python3 -m pytest -p no:cacheprovider -v
     tests/integration/test_driver_vm.py
"""

import os
import re
import subprocess

import pytest

from conftest import ROOT, System, wait_for

HOSTILE = os.path.join(os.path.dirname(str(ROOT / "build" / "isles")),
                       "isles-blk-hostile")
IMAGE_SECTORS = 100 * 2048


@pytest.fixture(scope="module")
def gd(built):
    text = (ROOT / "examples" / "virtio_guest_driver.conf").read_text()
    s = System.create("", name="virtio_guest_driver")
    disk = s.base / "sata.img"
    text, n = re.subn(r'path = "[^"]*sata\.img"', f'path = "{disk}"', text)
    assert n == 1
    s.conf.write_text(text)
    s.disk = disk
    with s:
        s.up(timeout=600)
        yield s


def backend(s, *args):
    """Start dataport_sata_backend in vm2, as the README does (&)."""
    s.ok("vm2", "sh", "-c", "dataport_sata_backend " + " ".join(args) +
         " >>/tmp/backend.log 2>&1 &")


def backend_pid(s):
    out = s.ok("vm2", "sh", "-c", "pidof dataport_sata_backend || true")
    return out.split()


def vda1(s, vm):
    wait_for(lambda: s.exec(vm, "test", "-b", "/dev/vda1")[0] == 0,
             f"/dev/vda1 on {vm}", 60)


def test_up_made_the_disk_and_the_images(gd):
    assert gd.disk.exists()
    out = gd.ok("vm2", "sh", "-c", "mount /dev/sda2 /mnt && "
                "stat -c '%n %s' /mnt/data/file-image-1 "
                "/mnt/data/file-image-2 && fdisk -l /mnt/data/file-image-1")
    assert "/mnt/data/file-image-1 104857600" in out
    assert "/mnt/data/file-image-2 104857600" in out
    # One partition from sector 2048 (1 MiB), as the seed's recipe.
    assert re.search(r"file-image-1p1\s.*\s2048\s+204799\s", out), out
    # The clients see no SATA disk and no dataport; no size yet.
    for vm in ("vm0", "vm1"):
        out = gd.ok(vm, "sh", "-c", "ls /dev/sd* /dev/uio* 2>&1; "
                    "cat /sys/block/vda/size")
        assert "No such file" in out and out.split()[-1] == "0", out


def test_seed_readme(gd):
    backend(gd, "2")
    for i, vm in enumerate(("vm0", "vm1")):
        vda1(gd, vm)
        size = gd.ok(vm, "cat", "/sys/block/vda/size").strip()
        assert int(size) == IMAGE_SECTORS
        gd.ok(vm, "mount", "/dev/vda1", "/mnt")
        gd.ok(vm, "sh", "-c", f"head -c 3145728 /dev/urandom > /mnt/file{i} && "
              f"echo client{i} > /mnt/who && sync")
        want = gd.ok(vm, "sha256sum", f"/mnt/file{i}").split()[0]
        gd.ok(vm, "umount", "/mnt")
        gd.ok(vm, "mount", "/dev/vda1", "/mnt")
        assert gd.ok(vm, "sha256sum", f"/mnt/file{i}").split()[0] == want
        assert gd.ok(vm, "cat", "/mnt/who").strip() == f"client{i}"
    log = gd.ok("vm2", "cat", "/tmp/backend.log")
    assert "client 1: dataport client1" in log
    assert "client 2: dataport client2" in log


def test_a_client_never_sees_the_other(gd):
    assert gd.ok("vm0", "ls", "/mnt").split() == ["file0", "lost+found",
                                                  "who"]
    assert gd.ok("vm1", "ls", "/mnt").split() == ["file1", "lost+found",
                                                  "who"]


def vm1_io(s, tag):
    out = s.ok("vm1", "sh", "-c",
               f"head -c 1048576 /dev/urandom > /mnt/{tag} && sync && "
               f"sha256sum /mnt/{tag} && echo 3 > /proc/sys/vm/drop_caches "
               f"&& sha256sum /mnt/{tag}")
    a, b = out.split()[0], out.split()[2]
    assert a == b


def test_hostile_client_gets_errors_the_other_keeps_working(gd):
    gd.ok("vm0", "umount", "/mnt")
    pid = gd.vm("vm0")["pid"]
    os.kill(pid, 9)
    wait_for(lambda: gd.vm("vm0")["state"] == "crashed", "vm0 down", 60)
    sock = gd.r / "dpdisk" / "client1" / "vm0.sock"
    r = subprocess.run([HOSTILE, "--client", str(sock)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"cases: (\d+) defined, (\d+) run, (\d+) passed", r.stdout)
    assert m and m.group(1) == m.group(2) == m.group(3), r.stdout
    vm1_io(gd, "during")
    assert gd.daemon("diskd:client1")["restarts"] == 0
    r = gd.isles("restart", "--system", gd.name, "vm0", timeout=300)
    assert r.returncode == 0, r.stderr
    vda1(gd, "vm0")
    gd.ok("vm0", "e2fsck", "-fn", "/dev/vda1", timeout=120)
    gd.ok("vm0", "mount", "/dev/vda1", "/mnt")
    assert gd.ok("vm0", "cat", "/mnt/who").strip() == "client0"


def test_backend_killed_while_a_client_writes(gd):
    want = gd.ok("vm0", "sh", "-c", "head -c 8388608 /dev/urandom > /tmp/big && "
                 "sha256sum /tmp/big").split()[0]
    pids = backend_pid(gd)
    assert len(pids) == 1
    gd.ok("vm2", "kill", "-STOP", pids[0])
    # The copy lands in vm0's page cache; sync must then wait for the
    # frozen backend: its writes are in flight when it is killed.
    w = gd.bg("vm0", "sh", "-c", "cp /tmp/big /mnt/big && sync", timeout=300)
    try:
        wait_for(lambda: gd.exec("vm0", "sh", "-c",
                                 "grep -q '^Dirty: *[1-9]' /proc/meminfo || "
                                 "grep -q '^Writeback: *[1-9]' /proc/meminfo"
                                 )[0] == 0 or w.poll() is not None,
                 "vm0 to have writes pending", 60)
        gd.ok("vm2", "kill", "-KILL", pids[0])
        wait_for(lambda: not backend_pid(gd), "the backend to die", 30)
        backend(gd, "2")
        out, err = w.communicate(timeout=300)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert w.returncode == 0, err
    gd.ok("vm0", "umount", "/mnt")
    gd.ok("vm0", "e2fsck", "-fn", "/dev/vda1", timeout=120)
    gd.ok("vm0", "mount", "/dev/vda1", "/mnt")
    gd.ok("vm0", "sh", "-c", "echo 3 > /proc/sys/vm/drop_caches")
    assert gd.ok("vm0", "sha256sum", "/mnt/big").split()[0] == want


def test_files_are_inside_the_images(gd):
    sums = {}
    for i, vm in enumerate(("vm0", "vm1")):
        sums[i] = gd.ok(vm, "sha256sum", f"/mnt/file{i}").split()[0]
        gd.ok(vm, "umount", "/mnt")
    gd.ok("vm2", "sh", "-c", "kill $(pidof dataport_sata_backend); "
          "while pidof dataport_sata_backend; do sleep 0.2; done; true")
    for i in (0, 1):
        img = f"/mnt/data/file-image-{i + 1}"
        out = gd.ok("vm2", "sh", "-c",
                    f"mkdir -p /m{i} && losetup -o 1048576 -f {img} && "
                    f"mount -o ro $(losetup -a | grep {img} | "
                    f"cut -d: -f1) /m{i} && ls /m{i} && "
                    f"sha256sum /m{i}/file{i} && cat /m{i}/who")
        assert f"file{1 - i}" not in out.split()
        assert sums[i] in out and f"client{i}" in out, out
        gd.ok("vm2", "umount", f"/m{i}")
    gd.ok("vm2", "losetup", "-D")
    assert gd.ok("vm2", "losetup", "-a").strip() == ""
