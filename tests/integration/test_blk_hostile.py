# SPDX-License-Identifier: BSD-2-Clause
"""isles-diskd against a hostile VMM (build/isles-blk-hostile).

The hostile front-end attacks vm0's export (partition 1) with malformed
rings, descriptor chains, vhost-user messages and requests spilling past
the partition's end, and checks the daemon's answer to each (see
tests/hostile/blk_hostile.c).  Here, around it: every case the program
defines (its --list) ran once and passed, the daemon (plain and ASan+UBSan
builds, both required: `make` and `make SANITIZE=1`) is still running
afterwards, and partitions 2 and 3 and every byte outside the partitions
are byte-for-byte unchanged, and the daemon's RSS and open fds after
the cases are what they were before (RSS within 32 MiB: the ASan build's
allocator keeps freed memory in quarantine).

Run: /usr/bin/python3 -m pytest -v tests/integration/test_blk_hostile.py
"""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOSTILE = os.path.join(ROOT, "build", "isles-blk-hostile")
MiB = 1 << 20


# Both daemons, whether built or not: a missing one fails its test.
BUILDS = [os.path.join(ROOT, "build", "isles-diskd"),
          os.path.join(ROOT, "build", "asan", "isles-diskd")]


def defined_cases():
    """The cases the hostile program defines, by its own --list."""
    r = subprocess.run([HOSTILE, "--list"], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0, r
    names = r.stdout.split()
    assert names and len(names) == len(set(names)), names
    return names


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def regions(disk):
    """Hashes of: partition 1, 2, 3 and the rest (table, gaps, tail)."""
    with open(disk, "rb") as f:
        data = f.read()
    # Layout made by --create below: 1 MiB aligned, 8 MiB each.
    p = [(1 * MiB, 8 * MiB), (9 * MiB, 8 * MiB), (17 * MiB, 8 * MiB)]
    hs = [hashlib.sha256(data[s:s + n]).hexdigest() for s, n in p]
    rest = data[:p[0][0]] + data[p[2][0] + p[2][1]:]
    return hs, hashlib.sha256(rest).hexdigest()


@pytest.mark.parametrize("diskd", BUILDS, ids=lambda p: os.path.relpath(p, ROOT))
def test_hostile_front_end(diskd):
    assert os.access(HOSTILE, os.X_OK), "%s missing: run make" % HOSTILE
    assert os.access(diskd, os.X_OK), "%s missing: run make and make SANITIZE=1" % diskd
    cases = defined_cases()
    d = tempfile.mkdtemp(prefix="isl.", dir="/tmp")
    # The disk lives on a file system of its own, which one case freezes.
    fs, fsimg = os.path.join(d, "fs"), os.path.join(d, "fs.img")
    os.mkdir(fs)
    subprocess.run(["truncate", "-s", "96M", fsimg], check=True)
    subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", fsimg], check=True)
    subprocess.run(["mount", "-o", "loop", fsimg, fs], check=True)
    disk = os.path.join(fs, "d.img")
    socks = [os.path.join(d, "vm%d.sock" % i) for i in range(3)]
    env = dict(os.environ, ASAN_OPTIONS="abort_on_error=0:exitcode=66")
    proc = subprocess.Popen(
        [diskd, "--disk", disk, "--name", "hostile", "--create", "32M",
         "--part", "8M", "--part", "8M", "--part", "8M",
         "--export", "vm0:1:queues=2=" + socks[0], "--export", "vm1:2=" + socks[1],
         "--export", "vm2:3:ro=" + socks[2]],
        stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 10
        while not all(os.path.exists(s) for s in socks):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        # Give the other partitions recognisable contents.
        with open(disk, "r+b") as f:
            for i, s in enumerate((9 * MiB, 17 * MiB)):
                f.seek(s)
                f.write(bytes([0x40 + i]) * (8 * MiB))
        before, rest_before = regions(disk)
        rss0, fds0 = rss_kib(proc.pid), len(os.listdir("/proc/%d/fd" % proc.pid))
        r = subprocess.run([HOSTILE, socks[0], socks[2], socks[1], fs],
                           capture_output=True, text=True, timeout=180)
        print(r.stdout)
        assert r.returncode == 0, r.stdout + r.stderr
        lines = r.stdout.splitlines()
        # Every defined case ran exactly once and passed, nothing else did.
        ok = [l[3:] for l in lines if l.startswith("ok ")]
        assert ok == cases, r.stdout
        assert not [l for l in lines if l.startswith("FAIL")], r.stdout
        n = len(cases)
        assert lines[-1] == "cases: %d defined, %d run, %d passed" % (n, n, n), r.stdout
        assert proc.poll() is None, "the daemon died"
        # Memory and fds bounded: what the attacks cost is given back
        # (the stall and flood cases leave nothing queued behind them).
        # The last connections close asynchronously (a reset waits for the
        # requests the frozen file system held): give them time.
        nfds = lambda: len(os.listdir("/proc/%d/fd" % proc.pid))
        deadline = time.monotonic() + 60
        while nfds() != fds0 and time.monotonic() < deadline:
            time.sleep(0.5)
        rss1, fds1 = rss_kib(proc.pid), nfds()
        print("isles-diskd: RSS %d KiB -> %d KiB, fds %d -> %d after %d cases"
              % (rss0, rss1, fds0, fds1, n))
        assert fds1 == fds0, "fds leaked"
        assert rss1 < rss0 + 32 * 1024, "memory grew by %d KiB" % (rss1 - rss0)
        after, rest_after = regions(disk)
        assert after[1:] == before[1:], "another VM's partition changed"
        assert rest_after == rest_before, "bytes outside the partitions changed"
    finally:
        subprocess.run(["fsfreeze", "-u", fs], capture_output=True)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        subprocess.run(["umount", fs], check=False)
        shutil.rmtree(d, ignore_errors=True)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
