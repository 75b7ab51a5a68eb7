# SPDX-License-Identifier: BSD-2-Clause
"""The 32-bit (i386) guest image, booted with qemu-system-i386, without
the supervisor.

Builds the image with `build/isles image --arch i386` (Debian's
linux-image-686 and the i386 packages of busybox-static, e2fsprogs and
iperf3, Isles' guest programs from build/guest32/, isles_dataport.ko built
against linux-headers-*-686) and boots it the way test_image.py boots the
x86_64 image: TCG, q35, 256 MiB of shared memfd guest memory (so that
vhost-user back-ends can map it).  The VM has a vhost-user-blk disk served
by build/isles-diskd, a virtio-net NIC on QEMU's restricted user network,
and an ivshmem-doorbell dataport served by build/isles-dataportd that it
shares with an x86_64 VM booted later from the x86_64 image.

What a user relies on is checked: the build's paths and cache (next to,
not instead of, the x86_64 image), an i686 kernel running 32-bit programs,
the agent's protocol from the 32-bit agent (exec, exit codes and signals,
stdin, large output, KILL), the drivers of Isles' devices, ext4 made and
checked on the vhost-user disk with the data landing in the host's image
file, DHCP on the NIC, iperf3, the 32-bit dataport tools on the shared
memory and doorbells, a ping-pong with the x86_64 VM over the same
dataport, and power-off on the ACPI power button.

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_image_i386.py
(-s shows the measured build and boot times).
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from agentclient import AgentClient, EXIT, STDERR, STDOUT  # noqa: E402
from dataportd import Dataportd  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISLES = os.environ.get("ISLES_BIN", os.path.join(ROOT, "build", "isles"))
DISKD = os.path.join(ROOT, "build", "isles-diskd")
ALIGN = "pci=resource_alignment=12@pci:1af4:1110"
DP_SIZE = 64 << 10
PART_MIB = 32


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


def isles_image(*args, timeout=900):
    r = subprocess.run([ISLES, "image"] + list(args), capture_output=True,
                       text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    return lines["kernel"], lines["initrd"], r


@pytest.fixture(scope="module")
def images():
    """Build the i386 image (timed), and the x86_64 one for the peer VM."""
    for prog in (ISLES, DISKD):
        if not os.access(prog, os.X_OK):
            pytest.fail("%s is not built: run make" % prog)
    t = time.monotonic()
    kernel, initrd, _ = isles_image("--arch", "i386")
    first = time.monotonic() - t
    t = time.monotonic()
    again = isles_image("--arch", "i386", timeout=60)
    report("isles image --arch i386: first call %.2f s, again with nothing changed "
           "%.3f s; vmlinuz %d KiB, initrd.img %d KiB" % (
               first, time.monotonic() - t, os.path.getsize(kernel) // 1024,
               os.path.getsize(initrd) // 1024))
    assert again[:2] == (kernel, initrd)
    k64, i64, _ = isles_image()
    return dict(i386=(kernel, initrd), x86_64=(k64, i64))


def qemu_cmd(arch, d, name, kernel, initrd, append, devices):
    """The command line of test_image.py, for either architecture."""
    qemu = "qemu-system-i386" if arch == "i386" else "qemu-system-x86_64"
    return [
        qemu, "-M", "q35", "-accel", "tcg", "-m", "256",
        "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
        "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
        "-numa", "node,memdev=mem",
        "-kernel", kernel, "-initrd", initrd,
        "-append", "console=ttyS0 isles.name=%s panic=-1 no_timer_check %s" % (name, append),
        "-chardev", "socket,id=ser0,path=%s/serial.sock,server=on,wait=off,"
        "logfile=%s/console.log" % (d, d),
        "-serial", "chardev:ser0",
        "-device", "virtio-serial-pci",
        "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % d,
        "-device", "virtserialport,chardev=agent,name=org.isles.agent",
        "-qmp", "unix:%s/qmp.sock,server=on,wait=off" % d,
    ] + devices


class VM:
    def __init__(self, top, arch, name, kernel, initrd, append, devices):
        self.name = name
        self.dir = os.path.join(top, name)
        os.makedirs(self.dir)
        self.cmd = qemu_cmd(arch, self.dir, name, kernel, initrd, append, devices)
        self.log = open(os.path.join(self.dir, "qemu.log"), "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.agent = None

    def connect(self, timeout=240):
        """Wait for the agent; returns the seconds since QEMU started."""
        self.agent = AgentClient.connect(os.path.join(self.dir, "agent.sock"), timeout=30)
        self.agent.hello(timeout=timeout)
        return time.monotonic() - self.started

    def sh(self, script, stdin=None, timeout=120):
        return self.agent.run(["sh", "-c", script], stdin=stdin, timeout=timeout)

    def ok(self, script, stdin=None, timeout=120):
        r = self.sh(script, stdin=stdin, timeout=timeout)
        assert r.code == 0, "%s: %s: exit %d\n%s%s\nconsole:\n%s" % (
            self.name, script, r.code, r.out.decode(errors="replace"),
            r.err.decode(errors="replace"), self.console()[-3000:])
        return r.out.decode()

    def console(self):
        try:
            with open(os.path.join(self.dir, "console.log"), "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def qmp(self, command):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(os.path.join(self.dir, "qmp.sock"))
        try:
            f = s.makefile("rwb")
            json.loads(f.readline())
            for name in ("qmp_capabilities", command):
                f.write(json.dumps({"execute": name}).encode() + b"\n")
                f.flush()
                while True:
                    msg = json.loads(f.readline())
                    if "return" in msg or "error" in msg:
                        break
            return msg
        finally:
            s.close()

    def kill(self):
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def primary_partitions(path):
    """[(start_byte, size_bytes)] of the MBR's primary entries, by sfdisk."""
    out = subprocess.run(["/sbin/sfdisk", "-d", path], capture_output=True,
                         text=True, check=True).stdout
    parts = []
    for line in out.splitlines():
        if line.startswith(path):
            f = dict(kv.strip().split("=") for kv in line.split(":")[1].split(",")
                     if "=" in kv)
            parts.append((int(f["start"]) * 512, int(f["size"]) * 512))
    return parts


@pytest.fixture(scope="module")
def rig(images):
    """isles-diskd and isles-dataportd, and the i386 VM t32 booted alone
    (its boot time is measured); the x86_64 peer t64 comes later (peer)."""
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    disk = os.path.join(d, "disk.img")
    blk_sock = os.path.join(d, "t32.blk.sock")
    dp_socks = [os.path.join(d, "dp.%s.sock" % n) for n in ("t32", "t64")]
    diskd_log = open(os.path.join(d, "diskd.log"), "wb")
    diskd = subprocess.Popen([DISKD, "--disk", disk, "--name", "d32", "--create",
                              "%dM" % (PART_MIB + 2), "--layout", "mbr",
                              "--part", "%dM" % PART_MIB, "--export", "t32:1=" + blk_sock],
                             stdout=diskd_log, stderr=subprocess.STDOUT)
    dp = Dataportd("dp", DP_SIZE, dp_socks, ["t32", "t64"])
    vms = {}
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(blk_sock):
            assert diskd.poll() is None, open(diskd_log.name).read()
            assert time.monotonic() < deadline, "isles-diskd made no socket"
            time.sleep(0.05)
        dp.start()
        vms["t32"] = VM(d, "i386", "t32", *images["i386"],
                        "isles.dataports=dp:10:t32+t64 " + ALIGN, [
                            "-chardev", "socket,id=d0,path=%s,reconnect=1" % blk_sock,
                            "-device", "vhost-user-blk-pci,chardev=d0",
                            "-netdev", "user,id=n0,restrict=on",
                            "-device", "virtio-net-pci,netdev=n0",
                            "-chardev", "socket,id=dp0,path=%s" % dp_socks[0],
                            "-device", "ivshmem-doorbell,chardev=dp0,vectors=1,addr=0x10"])
        try:
            report("i386 image (qemu-system-i386, bzImage): QEMU start to agent "
                   "ready %.1f s" % vms["t32"].connect())
        except Exception:
            sys.stderr.write(vms["t32"].console()[-4000:])
            raise
        yield dict(dir=d, disk=disk, dp=dp, dp_socks=dp_socks, vms=vms, images=images)
    finally:
        for v in vms.values():
            v.kill()
        if diskd.poll() is None:
            diskd.send_signal(signal.SIGTERM)
            diskd.wait(10)
        diskd_log.close()
        dp.stop()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def peer(rig):
    """The x86_64 VM t64 on the same dataport, booted once t32 is idle."""
    v = VM(rig["dir"], "x86_64", "t64", *rig["images"]["x86_64"],
           "isles.dataports=dp:10:t32+t64 " + ALIGN,
           ["-chardev", "socket,id=dp0,path=%s" % rig["dp_socks"][1],
            "-device", "ivshmem-doorbell,chardev=dp0,vectors=1,addr=0x10"])
    rig["vms"]["t64"] = v
    report("x86_64 image (qemu-system-x86_64, %s): QEMU start to agent ready %.1f s"
           % (os.path.basename(rig["images"]["x86_64"][0]), v.connect()))
    return v


@pytest.fixture
def t32(rig):
    return rig["vms"]["t32"]


def elf_class_machine(data):
    """(EI_CLASS, e_machine) of an ELF file's first bytes."""
    assert data[:4] == b"\x7fELF", data[:16]
    return data[4], struct.unpack_from("<H", data, 18)[0]


def test_image_paths_and_cache(images):
    kernel, initrd = images["i386"]
    image_dir = os.path.join(ROOT, "build", "image")
    if "ISLES_IMAGE_DIR" not in os.environ and "ISLES_BIN" not in os.environ:
        assert kernel == os.path.join(image_dir, "i386", "vmlinuz")
        assert initrd == os.path.join(image_dir, "i386", "initrd.img")
    # Its own directory beside the x86_64 image, which is unchanged.
    assert os.path.dirname(kernel) == os.path.join(os.path.dirname(images["x86_64"][0]),
                                                   "i386")
    assert os.path.dirname(images["x86_64"][1]) == os.path.dirname(images["x86_64"][0])
    # A bzImage (no PVH entry in Debian's 686 kernel: no vmlinux).
    with open(kernel, "rb") as f:
        head = f.read(0x210)
    assert head[0x202:0x206] == b"HdrS"
    assert not os.path.exists(os.path.join(os.path.dirname(kernel), "vmlinux"))
    release = open(os.path.join(os.path.dirname(kernel), "kernel.release")).read().strip()
    assert re.fullmatch(r"6\.1\.0-\d+-686", release), release
    # Up to date: quick and silent, the same paths.
    t = time.monotonic()
    k, i, r = isles_image("--arch", "i386", timeout=60)
    assert time.monotonic() - t < 2.0
    assert (k, i, r.stderr) == (kernel, initrd, "")


def test_unknown_architecture_is_a_usage_error():
    r = subprocess.run([ISLES, "image", "--arch", "sparc"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert "unknown guest architecture 'sparc' (x86_64 or i386)" in r.stderr


def test_i686_kernel_runs_32_bit_programs(t32, images):
    assert t32.ok("uname -m") == "i686\n"
    release = open(os.path.join(os.path.dirname(images["i386"][0]),
                                "kernel.release")).read()
    assert t32.ok("uname -r") == release
    # Isles' programs and busybox are 32-bit x86 (ELFCLASS32, EM_386).
    for prog in ("/sbin/isles-agent", "/usr/bin/dataport", "/bin/busybox",
                 "/sbin/mke2fs", "/usr/bin/iperf3"):
        r = t32.agent.run(["head", "-c", "64", prog])
        assert r.code == 0, r
        assert elf_class_machine(r.out) == (1, 3), prog


def test_agent_exec_protocol(t32):
    a = t32.agent
    r = a.run(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert (r.code, r.signal, r.out, r.err) == (3, 0, b"to-out\n", b"to-err\n")
    r = a.run(["sh", "-c", 'echo "$PATH $HOME $TERM $(pwd) $(hostname)"'])
    assert r.out == b"/usr/sbin:/usr/bin:/sbin:/bin /root dumb / t32\n"
    r = a.run(["no-such-command-here"])
    assert r.code == 127 and b"not found" in r.err
    data = os.urandom(300 * 1024)
    r = a.run(["sha256sum"], stdin=data)
    assert r.out.split()[0].decode() == hashlib.sha256(data).hexdigest()
    r = a.run(["sh", "-c", "head -c 3000000 /dev/zero; head -c 1000000 /dev/zero >&2"])
    assert (r.code, len(r.out), len(r.err)) == (0, 3000000, 1000000)
    chan = a.start(["sh", "-c", "sleep 101 & sleep 102"])
    a.run(["true"])
    time.sleep(0.5)
    a.kill(chan, signal.SIGTERM)
    r = a.wait(chan, timeout=10)
    assert (r.code, r.signal) == (-1, signal.SIGTERM)
    assert a.ping(b"\x00\xff" * 100) == b"\x00\xff" * 100


def test_modules_for_isles_devices(t32):
    # Present devices got their drivers at boot (the dataport's too).
    lsmod = "\n" + t32.ok("lsmod")
    for m in ("virtio_pci", "virtio_console", "virtio_blk", "virtio_net", "button",
              "isles_dataport", "uio"):
        assert "\n%s " % m in lsmod, m
    wanted = ["vsock", "vmw_vsock_virtio_transport", "uio_pci_generic", "ext4",
              "crc32c_generic"]
    t32.ok("modprobe -a " + " ".join(wanted))
    lsmod = "\n" + t32.ok("lsmod")
    for m in wanted:
        assert "\n%s " % m in lsmod, m
    # Isles' module was built for this very kernel.
    assert t32.ok("modinfo -F vermagic isles_dataport").split()[0] == \
        t32.ok("uname -r").strip()
    assert t32.ok("ls /dev/vda /dev/vda1").split() == ["/dev/vda", "/dev/vda1"]


def test_ext4_on_vhost_user_disk(rig, t32):
    assert "/dev/vda1" in t32.ok("fdisk -l /dev/vda")
    t32.ok("mkfs.ext4 -q -L from-i386 /dev/vda1 && mount /dev/vda1 /mnt && "
           "echo hello-from-i386 > /mnt/f && umount /mnt && e2fsck -fn /dev/vda1")
    assert t32.ok("mount /dev/vda1 /mnt && cat /mnt/f; umount /mnt") == "hello-from-i386\n"
    t32.ok("sync")
    # The file system is in the host's image file, in the partition.
    (start, size), = primary_partitions(rig["disk"])
    assert size == PART_MIB << 20
    with open(rig["disk"], "rb") as f:
        f.seek(start + 1024)
        sb = f.read(1024)
    assert struct.unpack_from("<H", sb, 56)[0] == 0xEF53          # s_magic
    assert sb[120:136].rstrip(b"\0") == b"from-i386"              # s_volume_name


def test_network_dhcp(t32):
    r = t32.agent.run(["udhcpc", "-i", "eth0", "-n", "-q", "-t", "5"], timeout=60)
    assert r.code == 0, r.err
    assert "inet addr:10.0.2.15" in t32.ok("ifconfig eth0")


def test_iperf3_in_the_guest(t32):
    assert t32.ok("iperf3 --version").startswith("iperf 3.")
    out = t32.ok("iperf3 -s -1 -B 127.0.0.1 >/dev/null 2>&1 & "
                 "for i in 1 2 3 4 5 6 7 8 9 10; do "
                 "iperf3 -c 127.0.0.1 -t 1 -J >/tmp/ip.json && "
                 "{ cat /tmp/ip.json; wait; exit 0; }; sleep 0.5; done; exit 1", timeout=60)
    assert json.loads(out)["end"]["sum_received"]["bytes"] > 0


def background(vm, cmd, tag):
    """Start cmd in vm's background; its output and status go to /tmp/TAG.*."""
    vm.ok("(%s >/tmp/%s.out 2>/tmp/%s.err; echo $? >/tmp/%s.rc) </dev/null "
          ">/dev/null 2>&1 &" % (cmd, tag, tag, tag))


def wait_open(vm, dev):
    """Until a process in vm has dev open (a waiter is ready): bounded."""
    vm.ok("for i in $(seq 600); do "
          "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q ' %s$' && exit 0; "
          "usleep 50000; done; echo nobody opened %s; exit 1" % (dev, dev))


def finished(vm, tag, timeout=60):
    """(exit code, stdout, stderr) of a background() command, once done."""
    vm.ok("for i in $(seq %d); do [ -s /tmp/%s.rc ] && exit 0; usleep 100000; "
          "done; exit 1" % (timeout * 10, tag), timeout=timeout + 30)
    return (int(vm.ok("cat /tmp/%s.rc" % tag)), vm.ok("cat /tmp/%s.out" % tag),
            vm.ok("cat /tmp/%s.err" % tag))


def test_dataport_tools_32_bit(rig, t32):
    assert t32.ok("readlink /dev/dataport/dp") == "/dev/uio0\n"
    assert "isles-dataport[0000:00:10.0]:0" in t32.ok("grep isles-dataport /proc/interrupts")
    assert ("dp: slot 10, /dev/uio0, %d bytes, this VM is t32 (peer 0); "
            "VMs: t32 (0), t64 (1)" % DP_SIZE) in t32.ok("dataport info")
    # The guest's writes land in the daemon's memory, and the other way.
    data = os.urandom(3000)
    assert t32.ok("dataport_write dp 4096", stdin=data) == ""
    assert bytes(rig["dp"].mem[4096:7096]) == data
    back = os.urandom(1000)
    rig["dp"].mem[DP_SIZE - 1000:] = back
    r = t32.sh("dataport_read dp %d" % (DP_SIZE - 1000))
    assert (r.code, r.out) == (0, back)
    r = t32.sh("dataport_read dp 65537")
    assert r.code == 2 and b"OFFSET 65537 is past the end of dataport dp" in r.err
    # Doorbells: nothing rung times out; one rung to itself is received.
    r = t32.sh("dataport_wait dp 200")
    assert r.code == 1 and b"no doorbell on dp within 200 ms" in r.err
    background(t32, "dataport_wait dp 60000", "self")
    wait_open(t32, "/dev/uio0")
    t32.ok("dataport_emit dp t32")
    assert finished(t32, "self") == (0, "1\n", "")


def collect(agent, chan, until=None, timeout=60):
    """Output of a started command: until `until` is in its stdout
    (returns (None, out, err)), or until it exits (returns (code, ...))."""
    out, err = b"", b""
    deadline = time.monotonic() + timeout
    while True:
        ftype, _, c, payload = agent.recv(max(0.0, deadline - time.monotonic()))
        if c != chan:
            continue
        if ftype == STDOUT:
            out += payload
            if until is not None and until in out:
                return None, out, err
        elif ftype == STDERR:
            err += payload
        elif ftype == EXIT:
            return int.from_bytes(payload[:4], "little", signed=True), out, err


def pingpong(server, client, rounds):
    chan = server.agent.start(["dataport_pingpong", "dp", "serve", str(rounds), "10000"])
    code, out, err = collect(server.agent, chan, until=b"ready\n", timeout=60)
    assert code is None, (out, err)
    r = client.agent.run(["dataport_pingpong", "dp", "start", str(rounds), "10000"],
                         timeout=600)
    code, out, err = collect(server.agent, chan, timeout=60)
    assert (code, out, err) == (0, b"served %d round trips\n" % rounds, b"")
    assert r.code == 0 and r.err == b"", r
    assert r.out.startswith(b"%d round trips with %s in " % (rounds, server.name.encode()))
    return r.out.decode().strip()


def test_dataport_with_an_x86_64_guest(rig, t32, peer):
    assert peer.ok("uname -m") == "x86_64\n"
    assert rig["dp"].connected() == [0, 1]
    # Bytes written by the 64-bit tools are read by the 32-bit ones and back.
    data = os.urandom(20000)
    peer.ok("dataport_write dp 8192", stdin=data)
    assert t32.sh("dataport_read dp 8192 20000").out == data
    t32.ok("dataport_write dp 30000", stdin=data[::-1])
    assert peer.sh("dataport_read dp 30000 20000").out == data[::-1]
    # Doorbells both ways, none lost: strict ping-pong.
    report("ping-pong, i386 serving, in the x86_64 VM: %s" % pingpong(t32, peer, 200))
    report("ping-pong, x86_64 serving, in the i386 VM: %s" % pingpong(peer, t32, 200))


def test_powerdown_over_qmp(t32):
    # Last: the VM is gone afterwards.
    t = time.monotonic()
    assert "return" in t32.qmp("system_powerdown")
    t32.proc.wait(60)
    report("i386: system_powerdown to QEMU exit %.1f s" % (time.monotonic() - t))
    assert t32.proc.returncode == 0
