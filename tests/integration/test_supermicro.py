# SPDX-License-Identifier: BSD-2-Clause
"""The seed's "supermicro" system end to end through `isles up`, from the
shipped examples/supermicro.conf (rewritten only where it must be: the disk
image goes into the test's own directory, the uplink TAP gets a unique
name, and the commented-out host serial console is enabled on a pty the
test holds), with the seed README's guest commands unchanged, once with
the shipped 32-bit guests and once with every VM switched to 64-bit by
its one arch key:

    console    Return @ 1 on the host serial line switches input to vm1
    vm1, vm0   cat /dev/hvc0 / echo ... > /dev/hvc0   (the console link)
    vm2, vm3   vsock-server 1234 / vsock-client 3 1234 Hello, world!

    vm0..vm2   mount /dev/vda1 /mnt   (each its own partition of one disk,
               made ext4 by the first isles up; only that partition's
               bytes change)
    vm0, vm1   ifconfig eth0 192.168.1.1 / .2; ping from vm1 to vm0
    vm0        udhcpc -i eth1   (the wan switch's uplink is a host TAP whose
               far side, moved into the test's network namespace, has an
               address and dnsmasq: traffic never leaves the namespace)

plus the supervisor's side: kill -9 of the disk server during a write and
of the switch, both restarted with the VMs' devices reconnecting; `isles
status` showing per-port counters.  One system for the whole module (four
VMs take about 30 s to boot under TCG).  Needs root, ip, dnsmasq, sfdisk.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time

import threading

import pytest

from conftest import ISLES, ROOT, System

EXAMPLE = ROOT / "examples" / "supermicro.conf"
CHUNK = 64 * 1024
NS_ADDR = "10.99.0.1"
WRITE_BLOCKS = 3200     # 12.5 MiB in 4 KiB direct writes: seconds under TCG


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, capture_output=True, timeout=30)


def wait_for(what, cond, timeout, step=0.2):
    """cond() until it returns something true; fail after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out ({timeout} s): {what}"
        time.sleep(step)


def chunk_hashes(path):
    with open(path, "rb") as f:
        return [hashlib.sha1(b).digest() for b in iter(lambda: f.read(CHUNK), b"")]


def partitions(img):
    """{number: (start byte, end byte)} from sfdisk -J."""
    t = json.loads(subprocess.run(["sfdisk", "-J", str(img)], check=True,
                                  capture_output=True, text=True).stdout)
    t = t["partitiontable"]
    ss = t.get("sectorsize", 512)
    out = {}
    for p in t["partitions"]:
        n = int(re.search(r"(\d+)$", p["node"]).group(1))
        out[n] = (p["start"] * ss, (p["start"] + p["size"]) * ss)
    return out


class Line:
    """The far end of the host serial line, always read, as a terminal
    server is: expect() searches what arrived since the last match."""

    def __init__(self, fd):
        self.fd, self.buf, self.pos = fd, bytearray(), 0
        self.cv = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            try:
                b = os.read(self.fd, 65536)
            except OSError:
                b = b""
            with self.cv:
                if not b:
                    self.fd = None
                self.buf += b
                self.cv.notify_all()
            if not b:
                return

    def send(self, b):
        os.write(self.fd, b)

    def expect(self, patterns, timeout=60):
        """Index of the first of patterns (regex bytes) to match."""
        if not isinstance(patterns, list):
            patterns = [patterns]
        res = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                hits = [(m.start(), i, m) for i, r in enumerate(res)
                        if (m := r.search(self.buf, self.pos))]
                if hits:
                    _, i, m = min(hits)
                    self.pos, self.last = m.end(), m
                    return i
                left = deadline - time.monotonic()
                assert left > 0 and self.fd is not None, \
                    f"serial line: no {patterns} in " \
                    f"{bytes(self.buf[self.pos:])[-600:]!r}"
                self.cv.wait(left)


def have_prereqs():
    missing = [p for p in ("ip", "dnsmasq", "sfdisk") if shutil.which(p) is None]
    if os.geteuid() != 0:
        missing.append("root")
    return missing


@pytest.fixture(scope="module", params=["i386", "x86_64"])
def sm(built, request):
    missing = have_prereqs()
    if missing:
        pytest.fail("needs " + ", ".join(missing))
    tag = "%d%d" % (os.getpid() % 10000, len(request.param))
    tap, ns = f"islsm{tag}", f"islsm{tag}"
    s = System.create("", name="supermicro")
    img = s.base / "sata.img"
    conf = EXAMPLE.read_text()
    # The host serial console on a pty: we hold the master side, as a
    # terminal server or IPMI Serial-over-LAN would.
    master, slave = os.openpty()
    line = os.ttyname(slave)
    # Only what must change: the image path, the TAP name, the console.
    for old, new in (('"/var/tmp/isles-supermicro-sata.img"', f'"{img}"'),
                     ('"isles-tap0"', f'"{tap}"'),
                     ('# console = { device = "/dev/ttyS1";',
                      f'console = {{ device = "{line}";')):
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    assert conf.count('arch = "i386";') == 4
    conf = conf.replace('arch = "i386";', f'arch = "{request.param}";')
    s.conf.write_text(conf)
    s.arch = request.param
    s.img, s.tap, s.ns, s.dnsmasq = img, tap, ns, None
    s.line = Line(master)
    s.written = set()
    try:
        with s:
            t0 = time.monotonic()
            s.up()
            s.boot_seconds = time.monotonic() - t0
            print(f"isles up (4 VMs ready): {s.boot_seconds:.1f} s")
            s.pristine = chunk_hashes(img)
            # The far side of vm0's eth1: the supervisor created the TAP in
            # the host's namespace and holds it; move it into ours.
            sh(f"ip netns add {ns}")
            sh(f"ip link set {tap} netns {ns}")
            nsx = f"ip netns exec {ns} "
            sh(nsx + "ip link set lo up")
            sh(nsx + f"ip addr add {NS_ADDR}/24 dev {tap}")
            sh(nsx + f"ip link set {tap} up")
            s.dnsmasq = subprocess.Popen(
                ["ip", "netns", "exec", ns, "dnsmasq", "--no-daemon",
                 "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
                 f"--interface={tap}", "--except-interface=lo",
                 "--dhcp-range=10.99.0.100,10.99.0.150,255.255.255.0,1h",
                 f"--dhcp-leasefile={s.base / 'leases'}",
                 f"--pid-file={s.base / 'dnsmasq.pid'}"],
                stdin=subprocess.DEVNULL,
                stdout=open(s.base / "dnsmasq.log", "wb"),
                stderr=subprocess.STDOUT)
            yield s
    finally:
        if s.dnsmasq is not None:
            s.dnsmasq.kill()
            s.dnsmasq.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False,
                       capture_output=True)
        os.close(master)
        os.close(slave)


# The supervisor's restart paths do not depend on the guests' word size:
# they run once, on the shipped 32-bit system.
only_32bit = pytest.mark.parametrize("sm", ["i386"], indirect=True)


def ok(s, vm, *cmd, timeout=60):
    rc, out, err = s.exec(vm, *cmd, timeout=timeout, limit=timeout + 30)
    assert rc == 0, f"{vm}: {' '.join(cmd)} -> {rc}\n{out}{err}"
    return out


def daemon(s, name):
    return next(d for d in s.status()["daemons"] if d["name"] == name)


def switch_stats(s, name):
    return next(w for w in s.status()["switches"] if w["switch"] == name)


def addresses(sm):
    """Every VM's eth0 at 192.168.1.N+1 (idempotent: tests run alone too)."""
    for i in range(4):
        ok(sm, f"vm{i}", "ifconfig", "eth0", f"192.168.1.{i + 1}")


def test_all_four_vms_ready(sm):
    for i in range(4):
        uname = ok(sm, f"vm{i}", "uname", "-m").strip()
        assert uname == ("i686" if sm.arch == "i386" else "x86_64"), uname
    st = sm.status()
    assert [(v["name"], v["state"]) for v in st["vms"]] == \
        [(f"vm{i}", "ready") for i in range(4)]
    daemons = {d["name"]: d["state"] for d in st["daemons"]}
    for d in ("diskd:sata", "switchd:lan", "switchd:wan", "linkd", "vsockd",
              "serial"):
        assert daemons.get(d) == "running", daemons


@pytest.mark.parametrize("i", [0, 1, 2])
def test_each_vm_mounts_its_own_partition(sm, i):
    vm = f"vm{i}"
    parts = ok(sm, vm, "cat", "/proc/partitions")
    names = {l.split()[3]: int(l.split()[2]) for l in parts.splitlines()[2:] if l.split()}
    assert names.get("vda1") == 64 * 1024 and "vda2" not in names, parts
    # The seed's command as is: isles up made the partition ext4.
    ok(sm, vm, "mount", "/dev/vda1", "/mnt")
    ok(sm, vm, "sh", "-c", f"echo hello from {vm} > /mnt/hello")
    ok(sm, vm, "sync")
    ok(sm, vm, "umount", "/mnt")
    sm.written.add(i + 1)
    # From the host: only the written VMs' partitions changed, sector 0
    # (the real table) and the gaps did not.
    now = chunk_hashes(sm.img)
    parts = partitions(sm.img)
    assert sorted(parts) == [1, 2, 3]
    changed = {k for k, (a, b) in enumerate(zip(sm.pristine, now)) if a != b}
    for k in changed:
        off = k * CHUNK
        inside = [n for n, (a, b) in parts.items() if a <= off and off + CHUNK <= b]
        assert inside and inside[0] in sm.written, \
            f"byte {off} of the disk changed, outside partitions {sorted(sm.written)}"
    a, b = parts[i + 1]
    assert any(a <= k * CHUNK < b for k in changed), f"partition {i + 1} unchanged"


def test_vm3_has_no_disk(sm):
    out = ok(sm, "vm3", "cat", "/proc/partitions")
    assert "vda" not in out
    rc, _, _ = sm.exec("vm3", "ls", "/dev/vda")
    assert rc != 0


def test_nics_come_up_unconfigured(sm):
    for i in range(4):
        out = ok(sm, f"vm{i}", "ip", "-4", "addr", "show", "dev", "eth0")
        assert "inet " not in out, out


def test_seed_ifconfig_and_ping(sm):
    for i in range(4):
        ok(sm, f"vm{i}", "ifconfig", "eth0", f"192.168.1.{i + 1}")
    out = ok(sm, "vm1", "ping", "-c", "3", "192.168.1.1", timeout=30)
    assert "3 packets received" in out, out


def test_all_pairs_ping(sm):
    addresses(sm)
    for i in range(4):
        for j in range(4):
            if i == j:
                continue
            out = ok(sm, f"vm{i}", "ping", "-c", "1", "-W", "5",
                     f"192.168.1.{j + 1}", timeout=30)
            assert "1 packets received" in out, out


def test_status_shows_switch_counters(sm):
    addresses(sm)
    for i in range(4):
        out = ok(sm, f"vm{i}", "ping", "-c", "3", f"192.168.1.{(i + 1) % 4 + 1}",
                 timeout=30)
        assert "3 packets received" in out, out
    lan = switch_stats(sm, "lan")
    ports = {p["name"]: p for p in lan["ports"]}
    assert sorted(ports) == ["vm0.0", "vm1.0", "vm2.0", "vm3.0"]
    for name, p in ports.items():
        assert p["state"] == "up", p
        # Every VM sent and received at least its pings' frames.
        assert p["rx_packets"] >= 3 and p["tx_packets"] >= 3, p
        assert p["rx_bytes"] >= 3 * 98 and p["tx_bytes"] >= 3 * 98, p
        assert set(p["drop"]) >= {"malformed", "spoofed_source", "no_buffers",
                                  "port_down"}
    wan = switch_stats(sm, "wan")
    assert {p["name"] for p in wan["ports"]} == {"vm0.1", "uplink"}
    text = sm.isles("status", "--system", "supermicro", timeout=30)
    assert text.returncode == 0, text.stderr
    assert "switch lan:" in text.stdout and "switch wan:" in text.stdout
    row = next(l for l in text.stdout.splitlines() if l.split()[:1] == ["vm1.0"])
    assert row.split()[1] == "up" and int(row.split()[2]) >= 3, row
    assert re.search(r"diskd:sata\s+running", text.stdout), text.stdout


def test_uplink_dhcp_and_ping(sm):
    # The seed's command, unchanged: busybox udhcpc runs the image's
    # /etc/udhcpc/default.script and goes to the background once bound.
    ok(sm, "vm0", "udhcpc", "-i", "eth1", timeout=60)
    out = ok(sm, "vm0", "ip", "-4", "addr", "show", "dev", "eth1")
    assert re.search(r"inet 10\.99\.0\.1\d\d/24", out), out
    out = ok(sm, "vm0", "ping", "-c", "3", "-W", "5", NS_ADDR, timeout=30)
    assert "3 packets received" in out, out
    up = next(p for p in switch_stats(sm, "wan")["ports"] if p["name"] == "uplink")
    assert up["rx_packets"] > 0 and up["tx_packets"] > 0, up


def line_login(c, vm):
    """Bring vm (input already switched to it) to a root shell; every
    prompt is matched by vm's own name or colour, since the line carries
    every VM's output."""
    c.send(b"\r")
    colour = rb"(\x1b\[[0-9;]*m)"
    i = c.expect([colour + rb"[^\x1b]*" + vm.encode() + rb" login: ",
                  rb"root@" + vm.encode() + rb":[^#\x1b]*# "])
    if i == 0:
        col = re.escape(c.last.group(1))
        c.send(b"root\r")
        c.expect(col + rb"Password: ")
        c.send(b"root\r")
        c.expect(rb"root@" + vm.encode() + rb":[^#\x1b]*# ")


def test_serial_console_switching(sm):
    """The seed's tip 1 on the host serial line: Return, @, N."""
    c = sm.line
    for n in (1, 2):
        c.send(f"\r@{n}".encode())
        c.expect(f"Switching input to {n} \\(vm{n}\\)".encode())
        line_login(c, f"vm{n}")
        c.send(b"echo on-$(hostname)-$((6*7))\r")
        c.expect(f"on-vm{n}-42".encode())
    # What was typed went to vm1 and vm2 only, each its own line.
    log = (sm.r / "vm" / "vm1" / "console.log").read_bytes()
    assert b"on-vm1-42" in log and b"on-vm2" not in log


def test_console_link_hvc(sm):
    """The seed's later virtio-console demo: cat on one VM, echo on the
    other, both /dev/hvc0."""
    r = sm.bg("vm1", "head", "-n", "1", "/dev/hvc0")
    try:
        ok(sm, "vm0", "sh", "-c", "echo hello over hvc > /dev/hvc0")
        out, err = r.communicate(timeout=60)
    finally:
        if r.poll() is None:
            r.kill()
            r.wait()
    assert r.returncode == 0 and out == "hello over hvc\n", (out, err)
    rc, _, _ = sm.exec("vm2", "test", "-e", "/dev/hvc0")
    assert rc != 0, "vm2 has no console link"


def test_vsock_hello_world(sm):
    """A server on CID 3 port 1234 receives "Hello, world!" from CID 4."""
    srv = sm.bg("vm2", "vsock-server", "-t", "60", "1234")
    try:
        assert "listening" in srv.stderr.readline()
        ok(sm, "vm3", "vsock-client", "3", "1234", "Hello, world!")
        out, err = srv.communicate(timeout=60)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert "Hello, world!" in out, (out, err)
    # Not the other way: no rule lets vm2 connect to vm3.
    srv = sm.bg("vm3", "vsock-server", "-t", "20", "1234")
    try:
        assert "listening" in srv.stderr.readline()
        rc, _, err = sm.exec("vm2", "vsock-client", "4", "1234", "nope",
                             limit=60)
        assert rc != 0 and "reset" in err.lower(), err
    finally:
        srv.kill()
        srv.wait()


@only_32bit
def test_disk_server_killed_during_a_write(sm):
    sm.written.add(1)
    ok(sm, "vm0", "mount", "/dev/vda1", "/mnt")
    ok(sm, "vm0", "sh", "-c", "dd if=/dev/urandom of=/mnt/before bs=64k count=32 "
       "2>/dev/null && sync")
    before = ok(sm, "vm0", "md5sum", "/mnt/before")
    # What the interrupted write will write: random, known to the guest.
    ok(sm, "vm0", "sh", "-c", f"dd if=/dev/urandom of=/tmp/src bs=4k count={WRITE_BLOCKS} "
       "2>/dev/null")
    src = ok(sm, "vm0", "md5sum", "/tmp/src").split()[0]
    old = daemon(sm, "diskd:sata")
    # The write runs in its own `isles exec`, every block a request of its
    # own (O_DIRECT), so the daemon dies with requests in flight.
    t0 = time.monotonic()
    writer = subprocess.Popen(
        [str(ISLES), "exec", "--system", "supermicro", "-t", "150", "vm0",
         "--", "dd", "if=/tmp/src", "of=/mnt/f", "bs=4k", "conv=fsync",
         "oflag=direct"],
        env=sm.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        wait_for("dd writing", lambda: writer.poll() is not None or
                 sm.exec("vm0", "test", "-s", "/mnt/f")[0] == 0, 60)
        assert writer.poll() is None, "the write ended before the kill: make it longer"
        os.kill(old["pid"], signal.SIGKILL)
        t_kill = time.monotonic()
        new = wait_for("diskd restarted", lambda: (lambda d: d if d["state"] == "running"
                       and d["pid"] != old["pid"] else None)(daemon(sm, "diskd:sata")), 30)
        assert new["restarts"] == old["restarts"] + 1
        assert new["last_exit"].startswith("killed by signal 9"), new
        out, err = writer.communicate(timeout=170)
        print(f"dd: killed diskd at {t_kill - t0:.1f} s, dd done at "
              f"{time.monotonic() - t0:.1f} s")
        assert writer.returncode == 0, out + err
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert f"{WRITE_BLOCKS}+0 records out" in err, err
    ok(sm, "vm0", "umount", "/mnt")
    ok(sm, "vm0", "e2fsck", "-fn", "/dev/vda1", timeout=120)
    ok(sm, "vm0", "mount", "/dev/vda1", "/mnt")
    try:
        # Read back from the disk (fresh mount): what was synced before the
        # kill, and what was written across it.
        assert ok(sm, "vm0", "md5sum", "/mnt/before") == before
        assert ok(sm, "vm0", "md5sum", "/mnt/f").split()[0] == src
    finally:
        ok(sm, "vm0", "umount", "/mnt")


@only_32bit
def test_switch_killed_and_restarted(sm):
    addresses(sm)
    old = daemon(sm, "switchd:lan")
    os.kill(old["pid"], signal.SIGKILL)
    t0 = time.monotonic()
    new = wait_for("switchd restarted", lambda: (lambda d: d if d["state"] == "running"
                   and d["pid"] != old["pid"] else None)(daemon(sm, "switchd:lan")), 30)
    assert new["restarts"] == old["restarts"] + 1
    assert new["last_exit"].startswith("killed by signal 9"), new
    text = sm.isles("status", "--system", "supermicro", timeout=30).stdout
    assert re.search(r"switchd:lan\s+running, .*\(last exit: killed by signal 9\b",
                     text), text
    wait_for("ping through the restarted switch",
             lambda: sm.exec("vm1", "ping", "-c", "1", "-W", "1", "192.168.1.1",
                             limit=30)[0] == 0, 90, step=0)
    print(f"ping answered {time.monotonic() - t0:.1f} s after the kill")
    out = ok(sm, "vm1", "ping", "-c", "3", "192.168.1.1", timeout=30)
    assert "3 packets received" in out, out
    lan = {p["name"]: p for p in switch_stats(sm, "lan")["ports"]}
    assert lan["vm1.0"]["state"] == "up" and lan["vm1.0"]["rx_packets"] >= 3
