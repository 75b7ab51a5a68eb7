# SPDX-License-Identifier: BSD-2-Clause
"""vsock between VMs: isles-vsockd with stock QEMU, without the supervisor.

One isles-vsockd serves three VMs booted by hand from Isles' guest image,
each with a vhost-user-vsock-pci device on its own socket (the QEMU
arguments of docs/links.md):

    vm3  CID 3   the server (vsock-server)
    vm4  CID 4   its declared client: --allow vm4:vm3:1234
    vm5  CID 5   no rule at all

Checked, as a user sees it: the seed's demo ("Hello, world!" from CID 4
to a server on CID 3 port 1234); a 10 MiB stream with its checksum, and
the same echoed back (both directions through the relay at once), with
the TCG throughput printed; an undeclared pair (vm5 -> vm3), an
undeclared port (vm4 -> vm3:22) and the wrong direction (vm3 -> vm4) fail
at once with "Connection reset by peer", the server never sees them, and
the daemon's stats count them per pair; a VM whose QEMU is restarted gets
vsock back (the relay keeps serving the others meanwhile).

Run: /usr/bin/python3 -m pytest -v -s tests/integration/test_vsock.py
(-s shows the measured figures).
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
VSOCKD = os.path.join(BUILD, "isles-vsockd")
MiB = 1 << 20
CIDS = {"vm3": 3, "vm4": 4, "vm5": 5}


def report(msg):
    sys.stderr.write("\n[measure] %s\n" % msg)


@pytest.fixture(scope="module")
def image():
    for p in (ISLES, VSOCKD):
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
            "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
            "-numa", "node,memdev=mem",
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
        """Until the shell test holds in the guest (bounded)."""
        self.ok("for i in $(seq %d); do %s && exit 0; usleep 100000; done; exit 1"
                % (timeout * 10, test), timeout=timeout + 30)

    def finished(self, tag, timeout=120):
        """(exit code, stdout bytes, stderr text) of a background command."""
        self.wait_for("[ -s /tmp/%s.rc ]" % tag, timeout)
        rc = int(self.ok("cat /tmp/%s.rc" % tag))
        out = self.sh("cat /tmp/%s.out" % tag).out
        return rc, out, self.ok("cat /tmp/%s.err" % tag)

    def kill(self):
        if self.agent is not None:
            self.agent.close()
            self.agent = None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def vsock_device(sock):
    """The host side of a VM's vsock (docs/links.md): no reconnect=1, QEMU
    7.2's vhost-user-vsock cannot start without the back-end."""
    return ["-chardev", "socket,id=vsock0,path=%s" % sock,
            "-device", "vhost-user-vsock-pci,chardev=vsock0"]


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
    return json.loads(data)


def pair(st, a, b):
    for p in st["pairs"]:
        if p["from"] == a and p["to"] == b:
            return p
    return None


@pytest.fixture(scope="module")
def rig(image):
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    sock = lambda n: os.path.join(d, "%s.vsock" % n)  # noqa: E731
    log = open(os.path.join(d, "vsockd.log"), "wb")
    args = [VSOCKD, "--name", "test", "--stats", os.path.join(d, "stats.sock"),
            "--allow", "vm4:vm3:1234"]
    for n, cid in CIDS.items():
        args += ["--vm", "%s:%d=%s" % (n, cid, sock(n))]
    daemon = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    vms = {}
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(d, "stats.sock")):
            assert daemon.poll() is None, open(os.path.join(d, "vsockd.log")).read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for n in CIDS:
            vms[n] = VM(d, n, *image, vsock_device(sock(n)))
        for v in vms.values():
            report("%s: QEMU start to agent ready %.1f s" % (v.name, v.connect()))
        yield dict(dir=d, vms=vms, daemon=daemon, stats=os.path.join(d, "stats.sock"),
                   image=image, sock=sock)
    finally:
        for v in vms.values():
            v.kill()
        if daemon.poll() is None:
            daemon.terminate()
            daemon.wait(10)
        log.close()
        text = open(os.path.join(d, "vsockd.log"), errors="replace").read()
        shutil.rmtree(d, ignore_errors=True)
        assert "Sanitizer" not in text and "runtime error" not in text, text
        assert daemon.returncode == 0, text


def serve(vm, tag, flags="", port=1234):
    """vsock-server on port in the background, once it listens; a flags
    string starting with | is a pipe for its output instead."""
    if flags.startswith("|"):
        cmd = "vsock-server -t 120 %d %s" % (port, flags)
    else:
        cmd = "vsock-server -t 120 %s %d" % (flags, port)
    vm.background(cmd, tag)
    vm.wait_for("grep -q 'listening on port %d' /tmp/%s.err" % (port, tag))


def test_guest_sees_its_cid(rig):
    # Each guest's CID is the one the daemon gave its device (config
    # space), as the guest's own kernel reports it.
    for n, cid in CIDS.items():
        vm = rig["vms"][n]
        assert "vmw_vsock_virtio_transport " in vm.ok("lsmod")
        assert vm.ok("vsock-client -l") == "%d\n" % cid
    st = stats(rig["stats"])
    assert [(v["name"], v["cid"], v["state"]) for v in st["vms"]] == \
        [("vm3", 3, "up"), ("vm4", 4, "up"), ("vm5", 5, "up")]


def test_hello_world(rig):
    vm3, vm4 = rig["vms"]["vm3"], rig["vms"]["vm4"]
    serve(vm3, "hello", "-s")
    r = vm4.sh("vsock-client 3 1234 Hello, world!")
    assert (r.code, r.err) == (0, b""), r
    rc, out, err = vm3.finished("hello")
    assert (rc, out) == (0, b"Hello, world!\n")
    # From CID 4, as the server's kernel saw it.
    assert "vsock-server: 4:" in err and " 14 bytes received" in err, err


def test_stream_10mib_with_checksum(rig):
    vm3, vm4 = rig["vms"]["vm3"], rig["vms"]["vm4"]
    want = vm4.ok("head -c %d /dev/urandom >/tmp/big; sha256sum </tmp/big"
                  % (10 * MiB)).split()[0]
    # The server's checksum of what it received, computed in its guest.
    serve(vm3, "sum", "| sha256sum")
    t = time.monotonic()
    r = vm4.sh("vsock-client -s 3 1234 </tmp/big", timeout=600)
    wall = time.monotonic() - t
    assert r.code == 0, r
    rc, out, err = vm3.finished("sum", timeout=300)
    assert rc == 0, err
    assert out.split()[0].decode() == want
    report("vsock 10 MiB CID 4 -> CID 3 (TCG): %.1f s wall, %.2f MB/s; %s"
           % (wall, 10 * MiB / wall / 1e6, r.err.decode().strip()))

    # Echoed back at the same time: both directions through the relay.
    serve(vm3, "echo", "-e -d")
    t = time.monotonic()
    r = vm4.sh("vsock-client -r 3 1234 </tmp/big | sha256sum", timeout=900)
    wall = time.monotonic() - t
    assert r.code == 0, r
    assert r.out.split()[0].decode() == want
    assert vm3.finished("echo", timeout=300)[0] == 0
    report("vsock 10 MiB echoed (20 MiB through the relay, TCG): %.1f s wall" % wall)
    st = stats(rig["stats"])
    assert pair(st, "vm4", "vm3")["bytes"] >= 20 * MiB
    assert pair(st, "vm3", "vm4")["bytes"] >= 10 * MiB
    assert pair(st, "vm4", "vm3")["lost"] == pair(st, "vm3", "vm4")["lost"] == 0


def test_undeclared_is_refused(rig):
    vm3, vm4, vm5 = rig["vms"]["vm3"], rig["vms"]["vm4"], rig["vms"]["vm5"]
    before = stats(rig["stats"])
    serve(vm3, "refuse")
    reset = b"Connection reset by peer"
    # A pair with no rule at all.
    r = vm5.sh("vsock-client 3 1234 from vm5")
    assert r.code == 1 and reset in r.err, r
    # The declared client, on a port no rule names.
    serve(vm3, "p22", port=22)
    r = vm4.sh("vsock-client 3 22 to port 22")
    assert r.code == 1 and reset in r.err, r
    # The server may not connect to its client.
    serve(vm4, "back")
    r = vm3.sh("vsock-client 4 1234 from the server")
    assert r.code == 1 and reset in r.err, r
    # Nobody received anything; the declared client still gets through.
    r = vm4.sh("vsock-client 3 1234 declared")
    assert r.code == 0, r
    assert vm3.finished("refuse") == (0, b"declared\n",
                                      "vsock-server: listening on port 1234\n")
    vm3.ok("pkill vsock-server || true")
    vm4.ok("pkill vsock-server || true")
    after = stats(rig["stats"])

    def refused(st, a, b):
        p = pair(st, a, b)
        return p["refused"]["policy"] if p else 0

    assert refused(after, "vm5", "vm3") == refused(before, "vm5", "vm3") + 1
    assert refused(after, "vm4", "vm3") == refused(before, "vm4", "vm3") + 1
    assert refused(after, "vm3", "vm4") == refused(before, "vm3", "vm4") + 1
    assert pair(after, "vm5", "vm3")["declared"] is False
    assert pair(after, "vm5", "vm3")["packets"] == 0


def test_restarted_vm_gets_vsock_back(rig):
    vms = rig["vms"]
    vm3, vm4 = vms["vm3"], vms["vm4"]
    vm3.kill()
    # While vm3 is gone, connecting to it fails at once (dst_down).
    r = vm4.sh("vsock-client 3 1234 nobody")
    assert r.code == 1 and b"Connection reset by peer" in r.err, r
    st = stats(rig["stats"])
    assert [v["state"] for v in st["vms"] if v["name"] == "vm3"] == ["down"]
    vm3.start()
    report("vm3 restarted: QEMU start to agent ready %.1f s" % vm3.connect())
    serve(vm3, "again")
    r = vm4.sh("vsock-client 3 1234 Hello again")
    assert r.code == 0, r
    assert vm3.finished("again")[1] == b"Hello again\n"
    assert pair(stats(rig["stats"]), "vm4", "vm3")["refused"]["dst_down"] >= 1
