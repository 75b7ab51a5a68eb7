# SPDX-License-Identifier: BSD-2-Clause
"""Dataport benchmark (reported, not a test; see README.md): doorbell
round-trip latency between two VMs (dataport_pingpong, strict ping-pong)
and memcpy bandwidth into and out of a dataport inside a VM beside private
memory (dataport copybench), ROUNDS rounds, every run printed.

    bench/dataport/run.sh           ROUNDS=3 COUNT=1000 by default
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISLES = str(ROOT / "build" / "isles")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
COUNT = int(os.environ.get("COUNT", "1000"))
ARCH = os.environ.get("ARCH", "x86_64")

CONF = f"""
name = "dpbench";
accel = "tcg";
dataports = ( {{ name = "dp"; size = "4M"; vms = [ "vm0", "vm1" ]; }} );
vms = (
  {{ name = "vm0"; arch = "{ARCH}"; memory = "256M"; }},
  {{ name = "vm1"; arch = "{ARCH}"; memory = "256M"; }}
);
"""


def main():
    base = tempfile.mkdtemp(prefix="isl.dpbench.", dir="/tmp")
    env = dict(os.environ, ISLES_RUN_DIR=base)
    conf = Path(base) / "dpbench.conf"
    conf.write_text(CONF)

    def isles(*a, check=True):
        r = subprocess.run([ISLES, *a], env=env, capture_output=True,
                           text=True, timeout=600)
        if check and r.returncode != 0:
            raise RuntimeError(f"isles {' '.join(a)}: {r.stderr}")
        return r.stdout.strip()

    try:
        isles("up", "--detach", str(conf))
        for rnd in range(ROUNDS):
            srv = subprocess.Popen(
                [ISLES, "exec", "-t", "300", "vm1", "--", "dataport_pingpong",
                 "dp", "serve", str(COUNT), "20000", "vm0"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert srv.stdout.readline().strip() == "ready"
            print(f"round {rnd + 1}: " + isles(
                "exec", "-t", "300", "vm0", "--", "dataport_pingpong", "dp",
                "start", str(COUNT), "20000", "vm1"))
            srv.communicate(timeout=120)
            print(f"round {rnd + 1}: " + isles(
                "exec", "vm0", "--", "dataport", "copybench", "dp", "2"))
        print(f"({ARCH} guests, TCG, 2 host cores; load "
              f"{os.getloadavg()[0]:.2f})", file=sys.stderr)
    finally:
        isles("down", "--timeout", "20", "dpbench", check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
