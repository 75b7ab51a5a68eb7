# SPDX-License-Identifier: BSD-2-Clause
"""isles-diskd with a stock QEMU, without the supervisor.

One 3-partition MBR disk image, created by isles-diskd itself (--create),
one isles-diskd serving vm0, vm1 and vm2 partitions 1, 2 and 3.  Each VM
boots Isles' guest image with a vhost-user-blk-pci device (the command
line of docs/disk-server.md), sees one /dev/vda with one /dev/vda1, makes
an ext4 file system there, writes a file, reboots, reads it back and
checks the file system; the three VMs run at the same time.  From the
host afterwards: every byte outside the partitions is unchanged, and each
partition holds a clean file system with its own VM's file.  (Byte-exact
isolation between partitions under attack is test_blk_hostile.py's.)

A second test kills the daemon with SIGKILL while the guest writes; the
test restarts it, QEMU reconnects, the guest's writes complete and fsck
is clean (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD).

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_diskd.py
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from agentclient import AgentClient  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DISKD = os.path.join(ROOT, "build", "isles-diskd")
ISLES = os.path.join(ROOT, "build", "isles")
MiB = 1 << 20
PART_MIB = 32


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


@pytest.fixture(scope="module")
def image():
    if not os.access(DISKD, os.X_OK) or not os.access(ISLES, os.X_OK):
        pytest.fail("build/isles-diskd or build/isles missing: run make")
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    return lines["kernel"], lines["initrd"]


def partitions(path):
    """[(start_byte, size_bytes)] of the primary MBR entries, by sfdisk."""
    out = subprocess.run(["/sbin/sfdisk", "-d", path], capture_output=True,
                         text=True, check=True).stdout
    parts = []
    for line in out.splitlines():
        if line.startswith(path):
            f = dict(kv.strip().split("=") for kv in line.split(":")[1].split(",")
                     if "=" in kv)
            parts.append((int(f["start"]) * 512, int(f["size"]) * 512))
    return parts


def region_hashes(path, parts):
    """Hash of each partition and of everything outside the partitions."""
    size = os.path.getsize(path)
    edges = sorted(parts)
    outside, pos = hashlib.sha256(), 0
    res = []
    with open(path, "rb") as f:
        for start, length in edges:
            f.seek(pos)
            outside.update(f.read(start - pos))
            f.seek(start)
            h = hashlib.sha256()
            left = length
            while left:
                b = f.read(min(left, 4 * MiB))
                h.update(b)
                left -= len(b)
            res.append(h.hexdigest())
            pos = start + length
        f.seek(pos)
        outside.update(f.read(size - pos))
    return res, outside.hexdigest()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Diskd:
    def __init__(self, d, args):
        self.d = d
        self.args = args
        self.log = open(os.path.join(d, "diskd.log"), "ab")
        self.start()

    def start(self):
        self.proc = subprocess.Popen([DISKD] + self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def wait_sockets(self, socks, timeout=10):
        deadline = time.monotonic() + timeout
        while not all(os.path.exists(s) for s in socks):
            assert self.proc.poll() is None, self.text()
            assert time.monotonic() < deadline, "sockets did not appear"
            time.sleep(0.05)

    def text(self):
        with open(os.path.join(self.d, "diskd.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        return self.proc.returncode


class VM:
    def __init__(self, d, name, kernel, initrd, sock, queues=1):
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.cmd = [
            "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-numa", "node,memdev=mem",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 isles.name=%s panic=-1" % name,
            "-chardev", "socket,id=ser0,path=%s/serial.sock,server=on,wait=off" % self.dir,
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci",
            "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % self.dir,
            "-device", "virtserialport,chardev=agent,name=org.isles.agent",
            "-chardev", "socket,id=d0,path=%s,reconnect=1" % sock,
            "-device", "vhost-user-blk-pci,chardev=d0,num-queues=%d" % queues,
        ]
        self.log = open(os.path.join(self.dir, "qemu.log"), "wb")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.agent = None

    def connect(self, timeout=120):
        if self.agent is None:
            self.agent = AgentClient.connect(os.path.join(self.dir, "agent.sock"), timeout=30)
        self.agent.hello(timeout=timeout)
        return self.agent

    def sh(self, script, timeout=120):
        return self.agent.run(["sh", "-c", script], timeout=timeout)

    def kill(self):
        if self.agent is not None:
            self.agent.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def rig(image):
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    disk = os.path.join(d, "sata.img")
    socks = [os.path.join(d, "vm%d.sock" % i) for i in range(3)]
    args = ["--disk", disk, "--name", "sata", "--create", "%dM" % (3 * PART_MIB + 4),
            "--layout", "mbr", "--part", "%dM:83:boot" % PART_MIB,
            "--part", "%dM" % PART_MIB, "--part", "%dM:83" % PART_MIB]
    for i in range(3):
        # vm2's export has two virtqueues: QEMU (num-queues=2) refuses to
        # start the device unless the back-end offers them.  (A 1-vCPU
        # Linux guest then drives one; isles-blk-hostile uses both.)
        args += ["--export", "vm%d:%d%s=%s" % (i, i + 1, ":queues=2" if i == 2 else "",
                                               socks[i])]
    dd = Diskd(d, args)
    dd.wait_sockets(socks)
    vms = []
    try:
        yield dict(dir=d, disk=disk, socks=socks, diskd=dd, vms=vms, image=image)
    finally:
        for v in vms:
            v.kill()
        dd.stop()
        shutil.rmtree(d, ignore_errors=True)


def vm_life(rig, i):
    """vm<i>: check its disk, mkfs, write, reboot, fsck, read back."""
    name = "vm%d" % i
    t = time.monotonic()
    vm = VM(rig["dir"], name, *rig["image"], rig["socks"][i], queues=2 if i == 2 else 1)
    rig["vms"].append(vm)
    vm.connect()
    # One disk, one partition, the VM's serial, the seed's layout.
    r = vm.sh("cat /proc/partitions; cat /sys/block/vda/serial; echo; "
              "cat /sys/block/vda/vda1/start /sys/block/vda/size "
              "/sys/block/vda/ro")
    assert r.code == 0, r.err
    words = r.out.split()
    assert b"vda1" in words and b"vda2" not in words and b"vdb" not in words
    assert b"sata-%s-p%d" % (name.encode(), i + 1) in words
    assert words[-3:] == [b"64", b"%d" % (64 + PART_MIB * 2048), b"0"]
    if i == 1:
        # vm1 switches its disk to write-through (CONFIG_WCE).
        r = vm.sh("echo 'write through' > /sys/block/vda/cache_type")
        assert r.code == 0, r.err
    r = vm.sh("modprobe ext4; mkfs.ext4 -q -F /dev/vda1 && mount /dev/vda1 /mnt && "
              "echo 'written by %s' > /mnt/hello && umount /mnt" % name)
    assert r.code == 0, r.err
    vm.agent.start(["reboot", "-f"])    # no answer: the VM resets
    time.sleep(1)
    vm.connect()
    r = vm.sh("modprobe ext4; e2fsck -fn /dev/vda1 >/dev/null && mount /dev/vda1 /mnt && "
              "cat /mnt/hello && umount /mnt")
    assert r.code == 0, r.err
    assert r.out == b"written by %s\n" % name.encode()
    report("%s: boot, mkfs, write, reboot, read back: %.1f s" %
           (name, time.monotonic() - t))


def test_three_vms_own_partitions(rig):
    """vm0..vm2 at the same time, each on its own partition."""
    import threading
    disk, dd = rig["disk"], rig["diskd"]
    parts = partitions(disk)
    assert len(parts) == 3 and all(s == PART_MIB * MiB for _, s in parts)
    before, outside0 = region_hashes(disk, parts)
    errors = {}

    def run(i):
        try:
            vm_life(rig, i)
        except BaseException as e:  # reported below, per VM
            errors[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(600)
    for i, e in sorted(errors.items()):
        raise AssertionError("vm%d: %r" % (i, e)) from e
    # Three VMs connected and idle: the daemon sleeps (no polling).
    time.sleep(1)
    c0 = cpu_seconds(dd.proc.pid)
    time.sleep(3)
    idle = cpu_seconds(dd.proc.pid) - c0
    report("isles-diskd CPU with three idle VMs connected: %.2f s in 3 s" % idle)
    assert idle < 0.05
    for vm in list(rig["vms"]):
        vm.kill()
        rig["vms"].remove(vm)
    # From the host: every partition changed, nothing outside them did, and
    # each VM's file is in its own physical partition, whose file system
    # is clean.
    after, outside = region_hashes(disk, parts)
    assert outside == outside0, "bytes outside the partitions changed"
    for i, (start, size) in enumerate(parts):
        assert after[i] != before[i], "vm%d's partition unchanged" % i
        part = os.path.join(rig["dir"], "part%d.img" % i)
        with open(disk, "rb") as f, open(part, "wb") as o:
            f.seek(start)
            o.write(f.read(size))
        r = subprocess.run(["/sbin/e2fsck", "-fn", part], capture_output=True)
        assert r.returncode == 0, r.stdout
        r = subprocess.run(["/sbin/debugfs", "-R", "cat /hello", part],
                           capture_output=True)
        assert r.stdout == b"written by vm%d\n" % i
        os.unlink(part)
    assert dd.proc.poll() is None
    assert dd.stop() == 0
    log = dd.text()
    assert "vm1: write cache off" in log and "vm0: write cache" not in log


def test_existing_image_never_touched(rig):
    disk, dd = rig["disk"], rig["diskd"]
    with open(disk, "rb") as f:
        h0 = hashlib.sha256(f.read()).hexdigest()
    st0 = os.stat(disk)
    dd.stop()
    # Same --create again, with a different layout: the image stays as it is.
    args = ["--disk", disk, "--create", "8M", "--layout", "gpt", "--part", "1M",
            "--export", "vm0:1=%s" % rig["socks"][0]]
    p = subprocess.Popen([DISKD] + args, stderr=subprocess.PIPE)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert b"exists: used as it is" in err
    with open(disk, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == h0
    assert os.stat(disk).st_size == st0.st_size


def test_configuration_errors(tmp_path):
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    try:
        disk = os.path.join(d, "d.img")
        base = [DISKD, "--disk", disk, "--create", "16M", "--part", "4M", "--part", "4M"]
        # A partition given writable to two VMs.
        r = subprocess.run(base + ["--export", "a:1=%s/a" % d, "--export", "b:1:ro=%s/b" % d],
                           capture_output=True, timeout=10)
        assert r.returncode == 1 and b"partition 1 is given to a and b" in r.stderr
        # A partition that does not exist.
        r = subprocess.run(base + ["--export", "a:3=%s/a" % d], capture_output=True, timeout=10)
        assert r.returncode == 1 and b"no partition 3" in r.stderr
        # Malformed export.
        r = subprocess.run(base + ["--export", "a:x=%s/a" % d], capture_output=True, timeout=10)
        assert r.returncode == 2
        # A second daemon on a disk in use.
        p = subprocess.Popen(base + ["--export", "a:1=%s/a" % d], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists("%s/a" % d):
                assert p.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            # It waits for the lock for 10 s (lock_disk), then gives up.
            r = subprocess.run(base + ["--export", "b:2=%s/b" % d], capture_output=True,
                               timeout=60)
            assert r.returncode == 1 and b"in use by another isles-diskd" in r.stderr
        finally:
            p.send_signal(signal.SIGTERM)
            p.communicate(timeout=10)
        r = subprocess.run([DISKD, "--print-capabilities"], capture_output=True, timeout=10)
        assert r.returncode == 0 and b'"type": "block"' in r.stdout
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_crash_restart_without_loss(rig):
    """kill -9 the daemon while the guest writes; restart it; no loss."""
    dd = rig["diskd"]
    vm = VM(rig["dir"], "vm0", *rig["image"], rig["socks"][0])
    rig["vms"].append(vm)
    agent = vm.connect()
    r = vm.sh("modprobe ext4; mkfs.ext4 -q -F /dev/vda1 && mount /dev/vda1 /mnt && "
              "dd if=/dev/urandom of=/tmp/src bs=64k count=32 2>/dev/null && "
              "md5sum < /tmp/src")
    assert r.code == 0, r.err
    want = r.out.split()[0]
    # The writer: 2 MiB copies onto four files, each ended by fsync (the
    # guest's FLUSH makes the daemon fdatasync the image on the host,
    # which takes a while), for longer than the kills below last.
    chan = agent.start(["sh", "-c",
                        "i=0; while [ $i -lt 24 ]; do "
                        "dd if=/tmp/src of=/mnt/f$((i % 4)) bs=64k conv=fsync 2>/dev/null "
                        "|| exit 1; i=$((i + 1)); done; sync; echo done"])
    t0 = time.monotonic()
    kills = 0
    for delay in (1.0, 0.7, 0.9, 0.6, 0.8):
        time.sleep(delay)
        if dd.proc.poll() is not None:
            break
        dd.proc.send_signal(signal.SIGKILL)
        dd.proc.wait(10)
        kills += 1
        dd.start()
        dd.wait_sockets(rig["socks"])
    try:
        res = agent.wait(chan, timeout=180)
    except TimeoutError:
        print(dd.text())
        print(vm.sh("dmesg | tail -30; cat /sys/block/vda/inflight").out.decode())
        raise
    report("crash test: the writer took %.1f s" % (time.monotonic() - t0))
    if res.code != 0:
        print(dd.text())
        print(vm.sh("dmesg | tail -30").out.decode())
    assert res.code == 0 and res.out == b"done\n", res
    r = vm.sh("for i in 0 1 2 3; do md5sum < /mnt/f$i; done; "
              "umount /mnt && e2fsck -fn /dev/vda1")
    assert r.code == 0, (r.out, r.err)
    sums = [l.split()[0] for l in r.out.splitlines()[:4]]
    assert sums == [want] * 4
    log = dd.text()
    resub = sum(int(l.split("resubmitting ")[1].split()[0])
                for l in log.splitlines() if "resubmitting" in l)
    report("crash test: %d kills, %d requests in flight resubmitted after restarts"
           % (kills, resub))
    assert kills == 5


def test_lock_held_a_moment_is_waited_for(rig):
    """A disk's lock held briefly after its daemon died (the kernel tears a
    killed daemon's io_uring down after the process) is waited for; one
    held for good means "in use by another isles-diskd"."""
    import fcntl
    d = rig["dir"]
    img = os.path.join(d, "other.img")
    sock = os.path.join(d, "other.sock")
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    subprocess.run(["/sbin/sfdisk", "-q", img], input=",4M\n", text=True,
                   check=True, capture_output=True)
    holder = open(img, "rb")
    fcntl.flock(holder, fcntl.LOCK_EX)
    dd = Diskd(d, ["--disk", img, "--name", "other", "--export",
                   "v:1=" + sock])
    try:
        time.sleep(1.0)
        assert dd.proc.poll() is None, dd.text()
        assert not os.path.exists(sock)
        fcntl.flock(holder, fcntl.LOCK_UN)
        dd.wait_sockets([sock], timeout=30)
        assert "waiting up to" in dd.text()
    finally:
        holder.close()
        dd.stop()
    # The rig's daemon holds sata.img for good: a second one gives up.
    dd2 = Diskd(d, ["--disk", rig["disk"], "--name", "again", "--export",
                    "v:1=" + os.path.join(d, "again.sock")])
    assert dd2.proc.wait(60) != 0
    assert "in use by another isles-diskd" in dd2.text()


def sfdisk_json(path):
    import json
    r = subprocess.run(["/sbin/sfdisk", "--json", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["partitiontable"]


@pytest.mark.parametrize("layout,parts,export,node", [
    ("mbr", ["4M", "4M:83:logical", "6M:82:logical", "rest:83:logical"], 6, 6),
    ("gpt", ["4M", "6M:82:boot", "rest"], 2, 2),
])
def test_layouts_and_mapping(layout, parts, export, node):
    """Layouts isles-diskd creates are what util-linux reads; an export of a
    logical or GPT partition writes exactly that partition's bytes."""
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    try:
        disk = os.path.join(d, "d.img")
        sock = os.path.join(d, "x.sock")
        args = [DISKD, "--disk", disk, "--create", "32M", "--layout", layout]
        for p in parts:
            args += ["--part", p]
        args += ["--export", "x:%d=%s" % (export, sock)]
        p = subprocess.Popen(args, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(sock):
                assert p.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            t = sfdisk_json(disk)
            assert t["label"] == ("dos" if layout == "mbr" else "gpt")
            nodes = {int(e["node"][len(disk):]): e for e in t["partitions"]}
            if layout == "mbr":
                assert sorted(nodes) == [1, 2, 5, 6, 7]   # 2 is the extended one
                assert nodes[6]["type"] == "82"
                assert nodes[7]["start"] + nodes[7]["size"] == 32 * 2048
            else:
                assert sorted(nodes) == [1, 2, 3]
                assert nodes[2]["type"] == "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"
                assert "LegacyBIOSBootable" in nodes[2].get("attrs", "")
            start, size = nodes[node]["start"] * 512, nodes[node]["size"] * 512
            with open(disk, "rb") as f:
                data = f.read()
            # Fill the whole virtual partition (sectors 64..) from a front-end.
            r = subprocess.run([os.path.join(ROOT, "build", "isles-blkbench"), sock,
                                "seqwrite", "65536", "4", "1", "64", str(size // 512)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            with open(disk, "rb") as f:
                after = f.read()
            assert after[start:start + size] == b"\x5a" * size
            assert after[:start] == data[:start]
            assert after[start + size:] == data[start + size:]
        finally:
            p.send_signal(signal.SIGTERM)
            p.communicate(timeout=10)
        assert p.returncode == 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("how", ["fd", "socket-path"])
def test_inherited_fd_and_socket_path(how):
    """The supervisor's way (a listening socket passed as =fd:N) and the
    vhost-user convention (--socket-path) both serve a front-end."""
    import socket as so
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    try:
        disk = os.path.join(d, "d.img")
        path = os.path.join(d, "x.sock")
        args = [DISKD, "--disk", disk, "--create", "16M", "--part", "8M"]
        pass_fds = ()
        if how == "fd":
            ls = so.socket(so.AF_UNIX, so.SOCK_STREAM)
            ls.bind(path)
            ls.listen(4)
            args += ["--export", "x:1=fd:%d" % ls.fileno()]
            pass_fds = (ls.fileno(),)
        else:
            args += ["--export", "x:1", "--socket-path", path]
        p = subprocess.Popen(args, stderr=subprocess.PIPE, pass_fds=pass_fds)
        if how == "fd":
            ls.close()      # only the daemon holds it now
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(path):
                assert p.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            for _ in range(2):  # and again after a disconnect
                r = subprocess.run([os.path.join(ROOT, "build", "isles-blkbench"), path,
                                    "randread", "4096", "4", "0.2"],
                                   capture_output=True, text=True, timeout=30)
                assert r.returncode == 0, r.stderr
                assert "iops=" in r.stdout
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=10)
        assert p.returncode == 0, err
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("how", ["path", "fd"])
def test_cache_none_uses_odirect(tmp_path, how):
    """--cache none (the system file's cache = "none"): guest I/O goes
    through an O_DIRECT descriptor of the disk, and the bytes land; also
    for a disk given as an open fd (how the supervisor passes it)."""
    bench = os.path.join(ROOT, "build", "isles-blkbench")
    img, sock = str(tmp_path / "d.img"), str(tmp_path / "d.sock")
    disk, fds = img, ()
    if how == "fd":
        fd = os.open(img, os.O_RDWR | os.O_CREAT, 0o600)
        disk, fds = "fd:%d" % fd, (fd,)
    p = subprocess.Popen([DISKD, "--disk", disk, "--create", "64M",
                          "--part", "rest", "--cache", "none",
                          "--export", "vm0:1=%s" % sock],
                         stderr=subprocess.PIPE, pass_fds=fds)
    for fd in fds:
        os.close(fd)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        direct = []
        for fd in os.listdir("/proc/%d/fd" % p.pid):
            with open("/proc/%d/fdinfo/%s" % (p.pid, fd)) as f:
                flags = int(f.read().split("flags:")[1].split()[0], 8)
            if (flags & os.O_DIRECT and
                    os.readlink("/proc/%d/fd/%s" % (p.pid, fd)) == img):
                direct.append(fd)
        assert direct, "no O_DIRECT descriptor of the disk"
        # 1 MiB of 0x5a at the partition's first sectors (VM sector 64).
        r = subprocess.run([bench, sock, "seqwrite", "131072", "4", "0.5",
                            "64", "2048"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([bench, sock, "randread", "4096", "8", "0.5",
                            "64", "2048"], capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, r.stderr
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert b"cache none: O_DIRECT" in err
    with open(img, "rb") as f:
        f.seek(MiB)
        assert f.read(MiB) == b"\x5a" * MiB
