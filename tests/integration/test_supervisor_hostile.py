# SPDX-License-Identifier: BSD-2-Clause
"""The supervisor against a hostile guest agent (no VM is booted: QEMU is
replaced by tests/integration/fakeqemu.py through ISLES_QEMU)."""

import subprocess
import time
from pathlib import Path

import pytest

from conftest import ISLES

FAKE = Path(__file__).resolve().parent / "fakeqemu.py"
CONF = 'name = "hostile";\nvms = ( { name = "vm0"; }, { name = "vm1"; } );\n'


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def fake(built):
    from conftest import System
    with System.create(CONF, name="hostile") as s:
        s.env["ISLES_QEMU"] = str(FAKE)
        s.up()
        yield s


def test_invalid_frames_are_dropped(fake):
    rc, out, err = fake.exec("vm0", "junk")
    assert (rc, out) == (5, "ok\n"), err
    assert fake.vm("vm0")["state"] == "ready"
    assert fake.exec("vm0", "hi") == (0, "hello\n", "")


def test_flooding_agent_is_throttled_not_buffered(fake):
    sup = fake.status()["supervisor_pid"]
    before = rss_kib(sup)
    size = 64 << 20
    p = subprocess.Popen([str(ISLES), "exec", "--system", "hostile", "vm0",
                          "--", "flood", str(size)], env=fake.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(3)          # the client does not read: backpressure
        grown = rss_kib(sup) - before
        assert grown < 8 * 1024, f"supervisor grew by {grown} KiB"
        # Another VM is not held up by vm0's stalled client.
        assert fake.exec("vm1", "hi", limit=20) == (0, "hello\n", "")
        out, err = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 0, err
    assert len(out) == size and out.count(b"f") == size
