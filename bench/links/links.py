#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Throughput of the links between two VMs: vsock through isles-vsockd,
a console link through isles-linkd, and for comparison the same console
link made the way the original did it (one QEMU's chardev connected
straight to the other's, no Isles process in between).

Two VMs (vm0 CID 3, vm1 CID 4; 256M, 1 vCPU, TCG unless KVM works; the
QEMU arguments of docs/links.md) boot Isles' guest image by hand, without
the supervisor.  vm1 sends, vm0 receives:

  vsock   dd if=/dev/zero | vsock-client 3 1234  ->  vsock-server -d -s 1234
          (the server's figure: accept to the peer's close)
  link    dd if=/dev/zero > /dev/virtio-ports/P  ->  a reader in vm0 that reads
          one byte, notes /proc/uptime, reads the rest, notes it again
          (10 ms resolution; the writer's guest buffers up to ~4 MiB
          itself, so only the reader's clock means anything)

P is link0 (isles-linkd) or direct0 (QEMU to QEMU).  Each figure is the
median of RUNS runs, with the CPU-seconds (utime + stime) of the daemon
and of both QEMUs over the runs.

    bench/links/links.py [RUNS] [VSOCK_MIB] [LINK_MIB]   (default 3 128 32)

Under TCG every figure measures the emulated guests more than the
daemons: see bench/links/README.md.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from test_vsock import VM  # noqa: E402

BUILD = os.path.join(ROOT, "build")
MiB = 1 << 20


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_path(p, proc, what):
    deadline = time.monotonic() + 10
    while not os.path.exists(p):
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit("bench/links: %s did not start" % what)
        time.sleep(0.05)


def main():
    args = [int(a) for a in sys.argv[1:4]]
    runs, vs_mib, ln_mib = (args + [3, 128, 32][len(args):])[:3]
    r = subprocess.run([os.path.join(BUILD, "isles"), "image"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit("bench/links: isles image failed:\n" + r.stderr)
    img = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    procs, vms = [], {}
    try:
        log = open(os.path.join(d, "daemons.log"), "wb")
        vs = subprocess.Popen([os.path.join(BUILD, "isles-vsockd"), "-q",
                               "--vm", "vm0:3=%s/vm0.vsock" % d,
                               "--vm", "vm1:4=%s/vm1.vsock" % d,
                               "--allow", "vm1:vm0:1234"], stdout=log, stderr=log)
        procs.append(vs)
        ln = subprocess.Popen([os.path.join(BUILD, "isles-linkd"), "-q", "--link",
                               "link0:vm0=%s/l0.vm0.sock,vm1=%s/l0.vm1.sock" % (d, d)],
                              stdout=log, stderr=log)
        procs.append(ln)
        wait_path("%s/vm1.vsock" % d, vs, "isles-vsockd")
        wait_path("%s/l0.vm1.sock" % d, ln, "isles-linkd")
        for n, direct in (("vm0", "server=on,wait=off"), ("vm1", "reconnect=1")):
            vms[n] = VM(d, n, img["kernel"], img["initrd"], [
                "-chardev", "socket,id=vsock0,path=%s/%s.vsock" % (d, n),
                "-device", "vhost-user-vsock-pci,chardev=vsock0",
                "-chardev", "socket,id=link0,path=%s/l0.%s.sock,reconnect=1" % (d, n),
                "-device", "virtserialport,bus=vser0.0,chardev=link0,name=link0",
                "-chardev", "socket,id=direct0,path=%s/direct.sock,%s" % (d, direct),
                "-device", "virtserialport,bus=vser0.0,chardev=direct0,name=direct0",
            ])
            if n == "vm0":
                # vm1's client chardev needs vm0's listening socket.
                wait_path("%s/direct.sock" % d, vms[n].proc, "vm0's QEMU")
        for v in vms.values():
            v.connect()
            v.ok("vport-links -q")
        vm0, vm1 = vms["vm0"], vms["vm1"]
        qemus = [v.proc.pid for v in vms.values()]

        # vsock
        rates, c0, q0 = [], cpu(vs.pid), sum(cpu(p) for p in qemus)
        for i in range(runs):
            vm0.background("vsock-server -t 300 -d -s 1234", "s%d" % i)
            vm0.wait_for("grep -q listening /tmp/s%d.err" % i)
            vm1.ok("dd if=/dev/zero bs=64k count=%d 2>/dev/null | vsock-client 3 1234"
                   % (vs_mib * 16), timeout=900)
            rc, _, err = vm0.finished("s%d" % i, timeout=600)
            m = re.search(r"(\d+) bytes received in ([0-9.]+) s", err)
            if rc != 0 or m is None or int(m.group(1)) != vs_mib * MiB:
                sys.exit("bench/links: vsock run failed: %s" % err)
            rates.append(int(m.group(1)) / float(m.group(2)) / 1e6)
        c1, q1 = cpu(vs.pid), sum(cpu(p) for p in qemus)
        print("vsock   %3d MiB x %d: median %7.2f MB/s (runs %s); isles-vsockd %.2f "
              "CPU-s, QEMUs %.1f CPU-s" % (vs_mib, runs, statistics.median(rates),
                                         " ".join("%.1f" % x for x in rates), c1 - c0,
                                         q1 - q0))

        # Console links: through isles-linkd and QEMU to QEMU, alternating
        # run by run (the machine is shared: compare medians of
        # interleaved runs, never two separate series).
        n = ln_mib * MiB
        rates = {"link0": [], "direct0": []}
        dcpu = {"link0": 0.0, "direct0": 0.0}
        qcpu = {"link0": 0.0, "direct0": 0.0}
        for i in range(runs):
            for port, daemon in (("link0", ln), ("direct0", None)):
                tag = "%s%d" % (port, i)
                c0 = cpu(daemon.pid) if daemon else 0.0
                q0 = sum(cpu(p) for p in qemus)
                vm0.background("{ dd bs=1 count=1 of=/dev/null 2>/dev/null; "
                               "cut -d' ' -f1 /proc/uptime; head -c %d >/dev/null; "
                               "cut -d' ' -f1 /proc/uptime; } </dev/virtio-ports/%s"
                               % (n - 1, port), tag)
                vm0.wait_for("ls -l /proc/[0-9]*/fd 2>/dev/null | grep -q "
                             "\"$(readlink /dev/virtio-ports/%s | cut -c4-)$\"" % port)
                vm1.background("dd if=/dev/zero bs=64k count=%d 2>/dev/null "
                               ">/dev/virtio-ports/%s" % (ln_mib * 16, port), "w" + tag)
                rc, out, err = vm0.finished(tag, timeout=900)
                t = [float(x) for x in out.split()]
                if rc != 0 or len(t) != 2 or t[1] <= t[0]:
                    sys.exit("bench/links: %s run failed: %r %s" % (port, out, err))
                rates[port].append((n - 1) / (t[1] - t[0]) / 1e6)
                vm1.finished("w" + tag)
                dcpu[port] += (cpu(daemon.pid) if daemon else 0.0) - c0
                qcpu[port] += sum(cpu(p) for p in qemus) - q0
        for port in ("link0", "direct0"):
            print("%-7s %3d MiB x %d: median %7.2f MB/s (runs %s); %s%.1f CPU-s QEMUs"
                  % (port, ln_mib, runs, statistics.median(rates[port]),
                     " ".join("%.1f" % x for x in rates[port]),
                     "isles-linkd %.2f CPU-s, " % dcpu[port] if port == "link0"
                     else "(no daemon) ", qcpu[port]))
    finally:
        for v in vms.values():
            v.kill()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(10)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
