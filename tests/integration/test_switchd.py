# SPDX-License-Identifier: BSD-2-Clause
"""Integration tests of isles-switchd with stock QEMU guests (standalone).

The test starts the switch daemons and four QEMU guests itself (no
supervisor): switch "lan" with vm0..vm3 (eth0, 02:00:00:00:aa:0N) and
switch "wan" with vm0's eth1 and an uplink TAP device.  The "wan" daemon
runs inside a network namespace of the test's own, where the TAP's far
side has an address and dnsmasq serves DHCP on a private range: no
traffic leaves that namespace.  Guests are driven through the Isles
agent (agentclient.py) over virtio-serial.

What a user would see is asserted: the seed's two ifconfig lines then
ping -c 3; every pair of VMs pings; a broadcast reaches every other VM;
a frame to an unknown MAC and a frame with a forged source MAC reach no
VM and are counted; udhcpc on eth1 gets a lease from the namespace and
pings it; killing the switch daemon and starting it again lets ping
resume; an idle switch uses no CPU.
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

from agentclient import AgentClient, AgentError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("ISLES_BUILD", os.path.join(ROOT, "build"))
SWITCHD = os.environ.get("ISLES_SWITCHD", os.path.join(BUILD, "isles-switchd"))
KERNEL = os.path.join(BUILD, "image", "vmlinuz")
INITRD = os.path.join(BUILD, "image", "initrd.img")
QEMU = shutil.which("qemu-system-x86_64")

NVMS = 4


def mac(n, sw=0):
    return "02:00:00:00:%02x:%02x" % (0xAA + sw, n + 1)


def have_prereqs():
    missing = [p for p in (SWITCHD, KERNEL, INITRD) if not os.path.exists(p)]
    if QEMU is None:
        missing.append("qemu-system-x86_64")
    if shutil.which("dnsmasq") is None:
        missing.append("dnsmasq")
    if os.geteuid() != 0:
        missing.append("root")
    return missing


@pytest.fixture(autouse=True, scope="module")
def prerequisites(built):
    # Missing prerequisites fail the tests: a skipped test proves nothing.
    missing = have_prereqs()
    if missing:
        pytest.fail("missing: %s" % " ".join(missing))


class Switch:
    """One isles-switchd process."""

    def __init__(self, run, name, ports, uplink=None, netns=None):
        self.run, self.name, self.ports = run, name, ports
        self.uplink, self.netns = uplink, netns
        self.stats_path = os.path.join(run, "%s.stats" % name)
        self.log = os.path.join(run, "%s.log" % name)
        self.proc = None

    def start(self):
        if os.path.exists(self.stats_path):
            os.unlink(self.stats_path)     # left over by a killed daemon
        argv = [SWITCHD, "--name", self.name, "--stats", self.stats_path]
        for pname, pmac, path in self.ports:
            argv += ["--port", "%s:%s=%s" % (pname, pmac, path)]
        if self.uplink:
            argv += ["--uplink", self.uplink]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        paths = [p for _, _, p in self.ports] + [self.stats_path]
        while not all(os.path.exists(p) for p in paths):
            assert self.proc.poll() is None, open(self.log).read()
            assert time.monotonic() < deadline, "switch %s not ready" % self.name
            time.sleep(0.05)
        # The stats socket is bound last: once it answers, all is set up.
        self.stats()

    def stats(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(self.stats_path)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return json.loads(data)

    def port(self, pname):
        for p in self.stats()["ports"]:
            if p["name"] == pname:
                return p
        raise KeyError(pname)

    def cpu_ticks(self):
        pid = self.daemon_pid()
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])   # utime + stime

    def daemon_pid(self):
        return self.proc.pid

    def kill(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class VM:
    """One QEMU guest with the Isles image, driven through its agent."""

    def __init__(self, run, name, nics):
        self.run, self.name, self.nics = run, name, nics
        self.dir = os.path.join(run, name)
        os.makedirs(self.dir, exist_ok=True)
        self.agent_path = os.path.join(self.dir, "agent.sock")
        self.proc = None
        self.agent = None

    def start(self):
        argv = [QEMU, "-nodefaults", "-no-user-config", "-display", "none",
                "-m", "256", "-smp", "1", "-no-reboot",
                "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
                "-numa", "node,memdev=mem",
                "-kernel", KERNEL, "-initrd", INITRD,
                "-append", "console=ttyS0 isles.name=%s panic=-1" % self.name,
                "-chardev", "file,id=ser,path=%s" % os.path.join(self.dir, "console.log"),
                "-serial", "chardev:ser",
                "-device", "virtio-serial-pci,id=vser",
                "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % self.agent_path,
                "-device", "virtserialport,bus=vser.0,chardev=agent,name=org.isles.agent"]
        # vectors=0 (no MSI-X): QEMU 7.2 under TCG crashes in vhost_net_start
        # masking the config interrupt of an MSI-X virtio-net (docs/switch.md).
        for i, (sock, nmac) in enumerate(self.nics):
            argv += ["-chardev", "socket,id=n%d,path=%s,reconnect=1" % (i, sock),
                     "-netdev", "vhost-user,id=net%d,chardev=n%d" % (i, i),
                     "-device", "virtio-net-pci,netdev=net%d,mac=%s,romfile=,vectors=0" % (i, nmac)]
        with open(os.path.join(self.dir, "qemu.log"), "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)

    def connect(self, timeout=150):
        # QEMU may drop the first connection while the guest's port is not
        # open yet: reconnect until the agent answers.
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, "%s: QEMU exited:\n%s" % (
                self.name, self.tail())
            self.agent = AgentClient.connect(self.agent_path, timeout=30)
            try:
                self.agent.hello(timeout=max(1.0, deadline - time.monotonic()))
                return
            except (OSError, AgentError):
                self.agent.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def tail(self, n=30):
        out = []
        for f in ("console.log", "qemu.log"):
            try:
                with open(os.path.join(self.dir, f), errors="replace") as fh:
                    out += fh.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def sh(self, cmd, timeout=60, stdin=None):
        r = self.agent.run(["/bin/sh", "-c", cmd], stdin=stdin, timeout=timeout)
        return r.code, r.out.decode(errors="replace") + r.err.decode(errors="replace")

    def ok(self, cmd, timeout=60):
        code, out = self.sh(cmd, timeout)
        assert code == 0, "%s: `%s` failed (%d):\n%s" % (self.name, cmd, code, out)
        return out

    def rx_packets(self, dev="eth0"):
        return int(self.ok("cat /sys/class/net/%s/statistics/rx_packets" % dev))

    def stop(self):
        if self.agent:
            try:
                self.agent.close()
            except OSError:
                pass
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Lab:
    pass


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


@pytest.fixture(scope="module")
def lab():
    lab = Lab()
    lab.run = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    tag = "%d" % (os.getpid() % 100000)
    lab.netns = "islsw%s" % tag
    lab.tap = "isltap%s" % tag
    lab.vms = []
    lab.switches = []
    lab.dnsmasq = None
    try:
        sh("ip netns add %s" % lab.netns)
        sh("ip netns exec %s ip link set lo up" % lab.netns)
        lan_ports = [("vm%d.0" % i, mac(i), os.path.join(lab.run, "lan.vm%d.sock" % i))
                     for i in range(NVMS)]
        wan_ports = [("vm0.1", mac(0, 1), os.path.join(lab.run, "wan.vm0.sock"))]
        lab.lan = Switch(lab.run, "lan", lan_ports)
        lab.wan = Switch(lab.run, "wan", wan_ports, uplink=lab.tap, netns=lab.netns)
        lab.switches = [lab.lan, lab.wan]
        for s in lab.switches:
            s.start()
        # The far side of the uplink: an address and a DHCP server, all
        # inside the test's namespace.
        ns = "ip netns exec %s " % lab.netns
        sh(ns + "ip addr add 10.213.0.1/24 dev %s" % lab.tap)
        sh(ns + "ip link set %s up" % lab.tap)
        lab.dnsmasq = subprocess.Popen(
            ["ip", "netns", "exec", lab.netns, "dnsmasq", "--no-daemon",
             "--conf-file=/dev/null", "--port=0", "--bind-interfaces",
             "--interface=%s" % lab.tap, "--except-interface=lo",
             "--dhcp-range=10.213.0.100,10.213.0.150,255.255.255.0,1h",
             "--dhcp-leasefile=%s" % os.path.join(lab.run, "leases"),
             "--pid-file=%s" % os.path.join(lab.run, "dnsmasq.pid")],
            stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(lab.run, "dnsmasq.log"), "wb"),
            stderr=subprocess.STDOUT)
        for i in range(NVMS):
            nics = [(lan_ports[i][2], mac(i))]
            if i == 0:
                nics.append((wan_ports[0][2], mac(0, 1)))
            vm = VM(lab.run, "vm%d" % i, nics)
            lab.vms.append(vm)
            vm.start()
        for vm in lab.vms:
            vm.connect()
            # No IPv6 chatter: counters below must move only for what a
            # test sends.
            vm.sh("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                  "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6")
        yield lab
    finally:
        for vm in lab.vms:
            vm.stop()
        for s in lab.switches:
            s.kill()
        if lab.dnsmasq:
            lab.dnsmasq.kill()
            lab.dnsmasq.wait()
        subprocess.run(["ip", "netns", "del", lab.netns], check=False)
        if os.environ.get("ISLES_KEEP_RUN"):
            print("run dir kept:", lab.run)
        else:
            shutil.rmtree(lab.run, ignore_errors=True)


def ensure_addresses(lab):
    """Every VM's eth0 at 192.168.1.N+1 (idempotent): tests run alone too."""
    for i, vm in enumerate(lab.vms):
        vm.ok("ifconfig eth0 192.168.1.%d" % (i + 1))


def test_seed_ping(lab):
    """The seed, verbatim: two ifconfig lines, then ping -c 3."""
    vm0, vm1 = lab.vms[0], lab.vms[1]
    vm0.ok("ifconfig eth0 192.168.1.1")
    vm1.ok("ifconfig eth0 192.168.1.2")
    out = vm1.ok("ping -c 3 192.168.1.1")
    assert "3 packets received" in out, out
    # The switch saw it: vm1 sent and received on its port.
    p = lab.lan.port("vm1.0")
    assert p["state"] == "up"
    assert p["rx_packets"] >= 3 and p["tx_packets"] >= 3, p


def test_all_pairs_ping(lab):
    ensure_addresses(lab)
    for i in range(2, NVMS):
        lab.vms[i].ok("ifconfig eth0 192.168.1.%d" % (i + 1))
    for i in range(NVMS):
        for j in range(NVMS):
            if i != j:
                out = lab.vms[i].ok("ping -c 1 -W 5 192.168.1.%d" % (j + 1))
                assert "1 packets received" in out, out


def test_broadcast_reaches_every_other_vm(lab):
    ensure_addresses(lab)
    sender = lab.vms[2]
    before = {i: lab.vms[i].rx_packets() for i in range(NVMS)}
    sw_before = lab.lan.stats()
    # Broadcast ARP requests for vm0's address (-b: never go unicast).
    sender.sh("arping -b -c 3 -w 5 -I eth0 192.168.1.1")
    sw_after = lab.lan.stats()
    for i in range(NVMS):
        got = lab.vms[i].rx_packets() - before[i]
        if i == 2:
            continue
        assert got >= 3, "vm%d received %d of the 3 broadcasts" % (i, got)
    for pb, pa in zip(sw_before["ports"], sw_after["ports"]):
        if pb["name"] != "vm2.0":
            assert pa["tx_packets"] - pb["tx_packets"] >= 3, (pb, pa)
    # Never back to the sender: it received only vm0's unicast replies.
    got = lab.vms[2].rx_packets() - before[2]
    assert got <= 3, "the sender got %d frames back" % got


def rx_bytes(vm):
    return int(vm.ok("cat /sys/class/net/eth0/statistics/rx_bytes"))


# Probe frames are 1042 bytes (ping -s 1000); background frames (ARP) are
# 42.  A VM that received even one probe shows >= 1000 more bytes.
PROBE = "-s 1000"


def test_unknown_unicast_reaches_no_vm(lab):
    ensure_addresses(lab)
    sender = lab.vms[1]
    others = [0, 2, 3]
    # A permanent neighbour entry: the pings go out as unicast frames to
    # a MAC that no port has (and no ARP request is broadcast first).
    sender.ok("arp -i eth0 -s 192.168.1.99 02:00:00:00:aa:99")
    before = {i: rx_bytes(lab.vms[i]) for i in others}
    drops = lab.lan.port("vm1.0")["drop"]["unknown_unicast"]
    code, out = sender.sh("ping -c 5 -W 1 %s 192.168.1.99" % PROBE)
    assert code != 0, out
    assert lab.lan.port("vm1.0")["drop"]["unknown_unicast"] - drops == 5
    for i in others:
        got = rx_bytes(lab.vms[i]) - before[i]
        assert got < 1000, "vm%d received %d bytes: the probes reached it" % (i, got)
    sender.ok("arp -i eth0 -d 192.168.1.99")


def test_forged_source_dropped_and_counted(lab):
    ensure_addresses(lab)
    forger, victim = lab.vms[3], lab.vms[0]
    before = rx_bytes(victim)
    drops = lab.lan.port("vm3.0")["drop"]["spoofed_source"]
    # The guest's own raw frames with another source MAC: change the
    # interface's MAC under the driver and send unicast probes to vm0.
    forger.ok("ip link set eth0 down && ip link set eth0 address 02:00:00:00:aa:77 "
              "&& ip link set eth0 up && ifconfig eth0 192.168.1.4 "
              "&& arp -i eth0 -s 192.168.1.1 %s" % mac(0))
    try:
        code, out = forger.sh("ping -c 5 -W 1 %s 192.168.1.1" % PROBE)
        assert code != 0, out
    finally:
        forger.ok("arp -i eth0 -d 192.168.1.1; ip link set eth0 down && "
                  "ip link set eth0 address %s && ip link set eth0 up && "
                  "ifconfig eth0 192.168.1.4" % mac(3))
    assert lab.lan.port("vm3.0")["drop"]["spoofed_source"] - drops >= 5
    got = rx_bytes(victim) - before
    assert got < 1000, "vm0 received %d bytes: the forged frames reached it" % got
    # The forger's port is not in error: with its own MAC back, it talks.
    assert lab.lan.port("vm3.0")["state"] == "up"
    assert "1 packets received" in forger.ok("ping -c 1 -W 5 192.168.1.1")


def test_large_frames_and_tso_between_vms(lab):
    ensure_addresses(lab)
    vm0, vm1 = lab.vms[0], lab.vms[1]
    # Jumbo frames: one 8042-byte frame each way per ping, no IP fragments.
    for vm in (vm0, vm1):
        vm.ok("ip link set eth0 mtu 9000")
    try:
        before = lab.lan.port("vm1.0")
        out = vm1.ok("ping -c 2 -W 5 -s 8000 192.168.1.1")
        assert "2 packets received" in out, out
        after = lab.lan.port("vm1.0")
        assert after["rx_bytes"] - before["rx_bytes"] >= 2 * 8042
        assert after["tx_bytes"] - before["tx_bytes"] >= 2 * 8042
    finally:
        for vm in (vm0, vm1):
            vm.ok("ip link set eth0 mtu 1500")
    # TCP between VMs: with TSO, vm1's stack hands the switch super-frames
    # (a TCG guest sends small ones: TCP sizes them to about 1 ms of its
    # sending rate), which must reach vm0 whole, as TSO frames, with the
    # data intact.  How many there are and how large they are depend on
    # how busy the machine is; what is asserted does not.
    size = 8 << 20
    vm1.ok("dd if=/dev/urandom of=/tmp/blob bs=65536 count=%d 2>/dev/null"
           % (size // 65536), timeout=120)
    want = vm1.ok("md5sum < /tmp/blob").split()[0]
    # busybox nc quits when its stdin ends: hold the server's stdin open
    # with a fifo until it has seen the client's end of stream.
    server = vm0.agent.start(["/bin/sh", "-c",
                              "rm -f /tmp/hold /tmp/got; mkfifo /tmp/hold; "
                              "{ nc -l -p 5001 < /tmp/hold > /tmp/got; } & "
                              "exec 3>/tmp/hold; wait; "
                              "wc -c < /tmp/got; md5sum < /tmp/got; rm /tmp/got"])
    # Listening (port 5001 = 0x1389 in state 0A, on IPv4 or IPv6: busybox
    # nc takes an IPv6 socket) before the client starts.
    vm0.ok("for i in $(seq 300); do grep -qE ':1389 [0-9A-F]+:0000 0A' "
           "/proc/net/tcp /proc/net/tcp6 2>/dev/null && exit 0; sleep 0.1; "
           "done; exit 1", timeout=60)
    before = {p["name"]: p for p in lab.lan.stats()["ports"]}
    vm1.ok("nc 192.168.1.1 5001 < /tmp/blob; rm /tmp/blob", timeout=180)
    r = vm0.agent.wait(server, timeout=120)
    after = {p["name"]: p for p in lab.lan.stats()["ports"]}
    got = r.out.decode().split()
    # The stream arrived whole and unchanged: nothing was cut or lost.
    if got[:2] != [str(size), want]:
        pytest.fail("received %r, sent %d bytes with md5 %s; switch: %s" % (
            r.out, size, want, json.dumps(lab.lan.stats())))
    d = {n: {k: v - before[n][k] for k, v in after[n].items()
             if isinstance(v, int)} for n in after}
    assert d["vm1.0"]["rx_bytes"] >= size, d["vm1.0"]
    # Super-frames entered the switch from vm1 and left it as super-frames
    # for vm0 (the only port they are addressed to; nobody else sends TSO
    # to vm0 here): each was delivered whole, as one TSO frame, or dropped
    # at vm0's port and counted there; none was segmented or duplicated.
    gso_in, gso_out = d["vm1.0"]["rx_gso_packets"], d["vm0.0"]["tx_gso_packets"]
    egress = sum(after["vm0.0"]["drop"][k] - before["vm0.0"]["drop"][k]
                 for k in ("no_buffers", "too_big", "offload", "port_down"))
    print("TSO frames: %d from vm1, %d delivered to vm0, %d frames dropped "
          "at vm0's port; %d frames, %d bytes from vm1" % (
              gso_in, gso_out, egress, d["vm1.0"]["rx_packets"],
              d["vm1.0"]["rx_bytes"]))
    assert gso_in > 0, "no TSO frame from vm1: %s" % d["vm1.0"]
    assert gso_out > 0, "no TSO frame delivered to vm0: %s" % d["vm0.0"]
    assert gso_in - egress <= gso_out <= gso_in, (gso_in, gso_out, egress)
    for p in lab.lan.stats()["ports"]:
        for k in ("offload", "too_big", "malformed", "bad_gso"):
            assert p["drop"][k] == 0, p


UDHCPC_SCRIPT = b"""#!/bin/sh
case "$1" in
bound|renew) ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up ;;
deconfig) ifconfig "$interface" 0.0.0.0 up ;;
esac
exit 0
"""


def dhcp_lease(vm0):
    """udhcpc on eth1 (the wan switch); returns the address leased."""
    # The image has no udhcpc default script: give it a minimal one.
    code, out = vm0.sh("cat > /tmp/udhcpc.sh && chmod +x /tmp/udhcpc.sh",
                       stdin=UDHCPC_SCRIPT)
    assert code == 0, out
    out = vm0.ok("udhcpc -i eth1 -n -q -t 10 -T 2 -s /tmp/udhcpc.sh", timeout=60)
    addr = vm0.ok("ip -4 addr show dev eth1")
    m = re.search(r"inet (10\.213\.0\.1\d\d)/", addr)
    assert m, out + addr
    return m.group(1)


def test_uplink_dhcp_and_ping(lab):
    vm0 = lab.vms[0]
    dhcp_lease(vm0)
    assert "3 packets received" in vm0.ok("ping -c 3 -W 5 10.213.0.1")
    up = lab.wan.port("uplink")
    assert up["state"] == "up" and up["tx_packets"] > 0 and up["rx_packets"] > 0, up


def test_tcp_from_the_uplink_crosses_as_tso(lab):
    """TCP from the far side of the uplink: the host kernel hands the switch
    TSO super-frames (the TAP has TUNSETOFFLOAD), which pass the switch's
    TSO header checks and reach vm0 whole, with the data intact."""
    vm0 = lab.vms[0]
    m = re.search(r"inet (10\.213\.0\.1\d\d)/", vm0.ok("ip -4 addr show dev eth1"))
    ip = m.group(1) if m else dhcp_lease(vm0)
    data = os.urandom(4 << 20)
    server = vm0.agent.start(["/bin/sh", "-c",
                              "rm -f /tmp/hold /tmp/got; mkfifo /tmp/hold; "
                              "{ nc -l -p 5002 < /tmp/hold > /tmp/got; } & "
                              "exec 3>/tmp/hold; wait; "
                              "wc -c < /tmp/got; md5sum < /tmp/got; rm /tmp/got"])
    vm0.ok("for i in $(seq 300); do grep -qE ':138A [0-9A-F]+:0000 0A' "
           "/proc/net/tcp /proc/net/tcp6 2>/dev/null && exit 0; sleep 0.1; "
           "done; exit 1", timeout=60)
    before = {p["name"]: p for p in lab.wan.stats()["ports"]}
    # The sender runs in the test's namespace, on the TAP's side.
    send = ("import socket, sys\n"
            "s = socket.create_connection((sys.argv[1], 5002), timeout=60)\n"
            "s.sendall(sys.stdin.buffer.read())\n"
            "s.shutdown(socket.SHUT_WR)\n"
            "s.recv(1)\n")
    subprocess.run(["ip", "netns", "exec", lab.netns, sys.executable, "-c",
                    send, ip], input=data, check=True, timeout=180)
    r = vm0.agent.wait(server, timeout=120)
    after = {p["name"]: p for p in lab.wan.stats()["ports"]}
    got = r.out.decode().split()
    assert got[:2] == [str(len(data)), hashlib.md5(data).hexdigest()], (
        r.out, json.dumps(lab.wan.stats()))
    gso_in = after["uplink"]["rx_gso_packets"] - before["uplink"]["rx_gso_packets"]
    gso_out = after["vm0.1"]["tx_gso_packets"] - before["vm0.1"]["tx_gso_packets"]
    print("TSO frames from the uplink: %d, delivered to vm0: %d" % (gso_in, gso_out))
    assert gso_in > 0 and gso_out > 0, (before, after)
    for p in after.values():
        for k in ("malformed", "bad_gso", "offload", "too_big"):
            assert p["drop"][k] == 0, p


def test_idle_switch_uses_no_cpu(lab):
    time.sleep(1)
    t0 = lab.lan.cpu_ticks()
    time.sleep(3)
    used = lab.lan.cpu_ticks() - t0
    # clock ticks are 10 ms: a busy-polling loop would show ~300.
    assert used <= 2, "idle switch used %d ticks in 3 s" % used


def test_restart_resumes_traffic(lab):
    ensure_addresses(lab)
    vm1 = lab.vms[1]
    lab.lan.kill(signal.SIGKILL)
    code, _ = vm1.sh("ping -c 1 -W 1 192.168.1.1")
    assert code != 0, "ping went through with the switch dead"
    t0 = time.monotonic()
    lab.lan.start()
    deadline = t0 + 30
    while True:
        code, out = vm1.sh("ping -c 1 -W 1 192.168.1.1")
        if code == 0:
            break
        assert time.monotonic() < deadline, "no ping 30 s after the restart"
    took = time.monotonic() - t0
    print("ping resumed %.1f s after the restart" % took)
    assert took < 15, "ping resumed only after %.1f s" % took
    assert lab.lan.port("vm1.0")["state"] == "up"


# --- the daemon's conventions, without VMs -------------------------------

def test_print_capabilities():
    out = subprocess.run([SWITCHD, "--print-capabilities"], check=True,
                         capture_output=True, timeout=10).stdout
    assert json.loads(out) == {"type": "net"}


def test_bad_command_lines_exit_2():
    """Every bad command line is exit status 2 (docs/switch.md), with a
    message naming what is wrong, before any socket is made."""
    run = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    a, b = os.path.join(run, "a.sock"), os.path.join(run, "b.sock")
    try:
        for args, says in (
                (["--port", "vm0.0=" + a], b"bad --port"),
                (["--port", "vm0.0:02:00:00:00:aa:0g=" + a], b"bad --port"),
                (["--port", "vm0.0:02:00:00:00:aa:01="], b"bad --port"),
                (["--port", "vm0.0:02:00:00:00:aa:01=fd:x"], b"bad --port"),
                (["--port", "vm0.0:01:00:5e:00:00:01=" + a], b"not a unicast MAC"),
                (["--socket-path", a, "--mac", "ff:ff:ff:ff:ff:ff"],
                 b"port0: not a unicast MAC"),
                (["--port", "v/0:02:00:00:00:aa:01=" + a], b"bad name"),
                (["--port", "vm0.0:02:00:00:00:aa:01=" + a,
                  "--port", "vm0.0:02:00:00:00:aa:02=" + b], b"given twice"),
                (["--port", "vm0.0:02:00:00:00:aa:01=" + a,
                  "--port", "vm1.0:02:00:00:00:aa:01=" + b], b"given twice"),
                (["--port", "vm0.0:02:00:00:00:aa:01=" + a,
                  "--uplink", "a-tap-name-too-long"], b"not an interface name"),
                (["--port", "vm0.0:02:00:00:00:aa:01=" + a, "extra"], b"usage"),
                ([], b"usage")):
            r = subprocess.run([SWITCHD] + args, capture_output=True, timeout=10)
            assert r.returncode == 2, (args, r)
            assert says in r.stderr, (args, r.stderr)
            assert os.listdir(run) == [], (args, os.listdir(run))
        # A socket that cannot be made is not a command-line error: 1.
        r = subprocess.run([SWITCHD, "--port", "vm0.0:02:00:00:00:aa:01=" +
                            os.path.join(run, "no", "such", "dir.sock")],
                           capture_output=True, timeout=10)
        assert r.returncode == 1, r
    finally:
        shutil.rmtree(run, ignore_errors=True)


def test_inherited_listening_fd():
    """--fd N (vhost-user program conventions): a socket made by the caller."""
    run = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    path = os.path.join(run, "port.sock")
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    lsock.listen(1)
    proc = subprocess.Popen([SWITCHD, "--fd", str(lsock.fileno()), "--mac",
                             "02:00:00:00:aa:07", "--stats",
                             os.path.join(run, "stats.sock")],
                            pass_fds=[lsock.fileno()], stderr=subprocess.DEVNULL)
    lsock.close()
    try:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(5)
        c.connect(path)
        # VHOST_USER_GET_FEATURES: request 1, flags = version 1, no payload.
        c.sendall(struct.pack("<III", 1, 1, 0))
        hdr = c.recv(12, socket.MSG_WAITALL)
        req, flags, size = struct.unpack("<III", hdr)
        assert (req, size) == (1, 8) and flags & 4, hdr
        (features,) = struct.unpack("<Q", c.recv(8, socket.MSG_WAITALL))
        for bit in (0, 1, 7, 8, 11, 12, 15, 32):   # csum, tso, mrg_rxbuf, v1
            assert features & (1 << bit), hex(features)
        c.close()
        # SIGTERM: a clean exit.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(run, ignore_errors=True)
