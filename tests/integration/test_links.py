# SPDX-License-Identifier: BSD-2-Clause
"""Console links between VMs: isles-linkd with stock QEMU, no supervisor.

One isles-linkd holds link "link0" between vm0 and vm1; each VM boots
Isles' guest image with a named virtio-serial port on the link's socket
(the QEMU arguments of docs/links.md: `-device virtserialport,
name=link0` on a `-chardev socket,...,reconnect=1`), so the guest sees
/dev/virtio-ports/link0 (made by vport-links from sysfs).

Checked, as a user sees it: text both ways (`cat` on one VM, `echo` on
the other); 1 MiB through the link with a slow reader arrives intact
(checksum), the writer held back meanwhile (the daemon holds exactly its
buffer and has stopped reading the writer; the rest waits in the
writer's QEMU and guest); a VM restarted on one end
(its QEMU killed and started again) gets the link back, and what the
other VM wrote while it was away is delivered to it.

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_links.py
"""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from agentclient import AgentClient  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.dirname(os.environ.get("ISLES_BIN", os.path.join(ROOT, "build", "isles")))
ISLES = os.path.join(BUILD, "isles")
LINKD = os.path.join(BUILD, "isles-linkd")
PORT = "/dev/virtio-ports/link0"
BUFFER = 64 * 1024
MiB = 1 << 20


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


@pytest.fixture(scope="module")
def image():
    for p in (ISLES, LINKD):
        if not os.access(p, os.X_OK):
            pytest.fail("%s is not built: run make" % p)
    r = subprocess.run([ISLES, "image"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    return lines["kernel"], lines["initrd"]


class VM:
    """One VM of Isles' guest image under QEMU (TCG), driven by its agent."""

    def __init__(self, d, name, kernel, initrd, devices):
        self.name = name
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.cmd = [
            "qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-m", "256",
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 isles.name=%s panic=-1 no_timer_check" % name,
            "-chardev", "socket,id=ser0,path=%s/serial.sock,server=on,wait=off,"
            "logfile=%s/console.log" % (self.dir, self.dir),
            "-serial", "chardev:ser0",
            "-device", "virtio-serial-pci,id=vser0",
            "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off" % self.dir,
            "-device", "virtserialport,bus=vser0.0,chardev=agent,name=org.isles.agent",
        ] + devices
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "qemu.log"), "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.agent = None

    def connect(self, timeout=300):
        self.agent = AgentClient.connect(os.path.join(self.dir, "agent.sock"), timeout=30)
        self.agent.hello(timeout=timeout)
        # The image has no udev: name the ports (docs/links.md).
        self.ok("vport-links -q")
        return time.monotonic() - self.started

    def sh(self, script, timeout=120):
        return self.agent.run(["sh", "-c", script], timeout=timeout)

    def ok(self, script, timeout=120):
        r = self.sh(script, timeout=timeout)
        assert r.code == 0, "%s: %s: exit %d\n%s%s" % (
            self.name, script, r.code, r.out.decode(errors="replace"),
            r.err.decode(errors="replace"))
        return r.out.decode()

    def background(self, cmd, tag):
        """Start cmd in the background; output and status in /tmp/TAG.*."""
        self.ok("rm -f /tmp/%s.*; ({ %s; } >/tmp/%s.out 2>/tmp/%s.err; echo $? "
                ">/tmp/%s.rc) </dev/null >/dev/null 2>&1 &" % (tag, cmd, tag, tag, tag))

    def wait_for(self, test, timeout=60):
        self.ok("for i in $(seq %d); do %s && exit 0; usleep 100000; done; exit 1"
                % (timeout * 10, test), timeout=timeout + 30)

    def finished(self, tag, timeout=120):
        """(exit code, stdout bytes, stderr text) of a background command."""
        self.wait_for("[ -s /tmp/%s.rc ]" % tag, timeout)
        rc = int(self.ok("cat /tmp/%s.rc" % tag))
        return rc, self.sh("cat /tmp/%s.out" % tag).out, self.ok("cat /tmp/%s.err" % tag)

    def reading(self):
        """Until a process in the VM has the link's port open."""
        self.wait_for("ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q 'vport0p2$'")

    def kill(self):
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def link_port(sock):
    """The host side of one end of a console link (docs/links.md)."""
    return ["-chardev", "socket,id=link0,path=%s,reconnect=1" % sock,
            "-device", "virtserialport,bus=vser0.0,chardev=link0,name=link0"]


def stats(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    st = json.loads(data)
    return {side["vm"]: side for side in st["links"][0]["sides"]}


@pytest.fixture(scope="module")
def rig(image):
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    sock = lambda n: os.path.join(d, "link0.%s.sock" % n)  # noqa: E731
    log = open(os.path.join(d, "linkd.log"), "wb")
    st = os.path.join(d, "stats.sock")
    daemon = subprocess.Popen([LINKD, "--name", "test", "--stats", st, "--link",
                               "link0:vm0=%s,vm1=%s" % (sock("vm0"), sock("vm1"))],
                              stdout=log, stderr=subprocess.STDOUT)
    vms = {}
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(st):
            assert daemon.poll() is None, open(os.path.join(d, "linkd.log")).read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for n in ("vm0", "vm1"):
            vms[n] = VM(d, n, *image, link_port(sock(n)))
        for v in vms.values():
            report("%s: QEMU start to agent ready %.1f s" % (v.name, v.connect()))
        yield dict(dir=d, vms=vms, daemon=daemon, stats=st)
    finally:
        for v in vms.values():
            v.kill()
        if daemon.poll() is None:
            daemon.terminate()
            daemon.wait(10)
        log.close()
        text = open(os.path.join(d, "linkd.log"), errors="replace").read()
        shutil.rmtree(d, ignore_errors=True)
        assert "Sanitizer" not in text and "runtime error" not in text, text
        assert daemon.returncode == 0, text


def test_port_is_named(rig):
    for vm in rig["vms"].values():
        assert vm.ok("readlink %s" % PORT) == "../vport0p2\n"
        assert vm.ok("cat /sys/class/virtio-ports/vport0p2/name") == "link0\n"


def test_text_both_ways(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    for reader, writer in ((vm0, vm1), (vm1, vm0)):
        reader.background("head -n 2 %s" % PORT, "txt")
        reader.reading()
        writer.ok("echo hello from %s > %s; echo second line > %s"
                  % (writer.name, PORT, PORT))
        rc, out, err = reader.finished("txt")
        assert (rc, err) == (0, "")
        assert out == b"hello from %s\nsecond line\n" % writer.name.encode()


def test_one_mib_slow_reader(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    want = vm1.ok("head -c %d /dev/urandom >/tmp/mib; sha256sum </tmp/mib" % MiB).split()[0]
    before = stats(rig["stats"])
    # Nobody reads on vm0 yet: the writer is held back, nothing is lost.
    vm1.background("cat /tmp/mib > %s" % PORT, "w")
    deadline = time.monotonic() + 60
    while stats(rig["stats"])["vm0"]["held_for"] < BUFFER:
        assert time.monotonic() < deadline, stats(rig["stats"])
        time.sleep(0.2)
    st = stats(rig["stats"])
    assert st["vm0"]["held_for"] == BUFFER           # bounded
    assert st["vm1"]["stalls"] > before["vm1"]["stalls"]
    # A slow reader: 4 KiB at a time, 2 ms apart, exactly 1 MiB.
    t = time.monotonic()
    got = vm0.ok("i=0; while [ $i -lt 256 ]; do dd bs=4096 count=1 iflag=fullblock "
                 "2>/dev/null; usleep 2000; i=$((i+1)); done < %s | sha256sum" % PORT,
                 timeout=600).split()[0]
    wall = time.monotonic() - t
    assert got == want
    assert vm1.finished("w")[0] == 0
    st = stats(rig["stats"])
    assert st["vm0"]["held_for"] == 0
    assert st["vm0"]["bytes_out"] - before["vm0"]["bytes_out"] == MiB
    report("console link, 1 MiB to a slow reader (4 KiB / 2 ms, TCG): %.1f s" % wall)


def test_restarted_vm_gets_the_link_back(rig):
    vm0, vm1 = rig["vms"]["vm0"], rig["vms"]["vm1"]
    vm0.kill()
    deadline = time.monotonic() + 30
    while stats(rig["stats"])["vm0"]["connected"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # vm1 writes while vm0 is away: held for it.
    vm1.ok("echo while you were away > %s" % PORT)
    vm0.start()
    report("vm0 restarted: QEMU start to agent ready %.1f s" % vm0.connect())
    assert stats(rig["stats"])["vm0"]["connects"] == 2
    vm0.background("head -n 1 %s" % PORT, "away")
    assert vm0.finished("away")[1] == b"while you were away\n"
    # And the link works both ways again.
    vm1.background("head -n 1 %s" % PORT, "back")
    vm1.reading()
    vm0.ok("echo back again > %s" % PORT)
    assert vm1.finished("back")[1] == b"back again\n"
    vm0.background("head -n 1 %s" % PORT, "fwd")
    vm0.reading()
    vm1.ok("echo and forth > %s" % PORT)
    assert vm0.finished("fwd")[1] == b"and forth\n"
