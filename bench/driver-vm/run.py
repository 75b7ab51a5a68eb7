# SPDX-License-Identifier: BSD-2-Clause
"""Driver-VM disk benchmark (reported, not a test; see README.md).

One client VM (vm0) has two disks of the same size: /dev/vda served by the
driver VM vm2 over a dataport (isles-diskd --dataport -> dataport_sata_backend
-> /mnt/data/file-image-1 on vm2's SATA disk), and /dev/vdb, a partition
export of isles-diskd straight from a host image.  Inside vm0, disk-bench
(QD1, O_DIRECT) runs each case on both disks, alternating, ROUNDS times:
sequential 128 KiB and random 4 KiB, reads and writes.  Every run is
printed, then the medians and the ratio driver / direct.

    bench/driver-vm/run.sh              ROUNDS=3 SECS=5 by default
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISLES = str(ROOT / "build" / "isles")
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECS = int(os.environ.get("SECS", "5"))
ARCH = os.environ.get("ARCH", "i386")

CONF = """
name = "dvbench";
accel = "tcg";
disks = (
  { name = "sata"; path = "@BASE@/sata.img"; size = "200M"; layout = "mbr";
    partitions = ( { size = "16M"; },
                   { format = "ext4";
                     images = ( { path = "data/file-image-1"; size = "128M"; } ); } ); },
  { name = "direct"; path = "@BASE@/direct.img"; size = "140M"; layout = "mbr";
    partitions = ( { size = "128M"; } ); }
);
vms = (
  { name = "vm0"; arch = "@ARCH@"; memory = "256M";
    disks = ( { driver = "vm2"; dataport = "client1"; },
              { disk = "direct"; partitions = [ 1 ]; } ); },
  { name = "vm2"; arch = "@ARCH@"; memory = "256M"; sata = [ "sata" ]; }
);
"""

CASES = [("seq read 128K", ["-b", "131072"]),
         ("rand read 4K", ["-R", "-b", "4096"]),
         ("seq write 128K", ["-w", "-b", "131072"]),
         ("rand write 4K", ["-w", "-R", "-b", "4096"])]


def isles(env, *args, check=True):
    r = subprocess.run([ISLES, *args], env=env, capture_output=True,
                       text=True, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError(f"isles {' '.join(args)}: {r.stderr}")
    return r.stdout


def main():
    base = tempfile.mkdtemp(prefix="isl.dvbench.", dir="/var/tmp")
    env = dict(os.environ, ISLES_RUN_DIR=base)
    conf = Path(base) / "dvbench.conf"
    conf.write_text(CONF.replace("@BASE@", base).replace("@ARCH@", ARCH))
    try:
        isles(env, "up", "--detach", str(conf))
        ex = lambda vm, *c: isles(env, "exec", "-t", "300", vm, "--", *c)
        ex("vm2", "mount", "/dev/sda2", "/mnt")
        ex("vm2", "sh", "-c", "dataport_sata_backend 1 >/tmp/b.log 2>&1 &")
        # /dev/vda has a size once the backend answers.
        ex("vm0", "sh", "-c", "i=0; while [ $(blockdev --getsize64 /dev/vda)"
           " = 0 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done")
        res = {(c, d): [] for c, _ in CASES for d in ("vda", "vdb")}
        for rnd in range(ROUNDS):
            for c, args in CASES:
                order = ("vda", "vdb") if rnd % 2 == 0 else ("vdb", "vda")
                for d in order:
                    out = ex("vm0", "disk-bench", "-t", str(SECS), *args,
                             f"/dev/{d}").strip()
                    print(f"round {rnd + 1} {d}: {out}", file=sys.stderr)
                    f = out.split(": ", 1)[1].split(", ")
                    res[(c, d)].append((float(f[1].split()[0]),
                                        float(f[2].split()[0]),
                                        int(f[3].split()[1])))
        print(f"\ndriver VM vs direct partition export ({ARCH} guests, TCG, "
              f"QD1 O_DIRECT, {ROUNDS} x {SECS} s; load "
              f"{os.getloadavg()[0]:.2f})")
        print(f"{'case':<16} {'driver MB/s':>12} {'direct MB/s':>12} "
              f"{'ratio':>6} {'driver p50 us':>14} {'direct p50 us':>14}")
        for c, _ in CASES:
            a, b = res[(c, "vda")], res[(c, "vdb")]
            ma = statistics.median(x[0] for x in a)
            mb = statistics.median(x[0] for x in b)
            print(f"{c:<16} {ma:>12.1f} {mb:>12.1f} {ma / mb:>6.2f} "
                  f"{statistics.median(x[2] for x in a):>14} "
                  f"{statistics.median(x[2] for x in b):>14}")
    finally:
        isles(env, "down", "--timeout", "20", "dvbench", check=False)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
