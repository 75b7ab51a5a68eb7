#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""fio inside a QEMU guest against /dev/vda, served by isles-diskd and by
qemu-storage-daemon in turn, in the same run (bench/blk/guest.sh).

One image file in the page cache; isles-diskd exports its partition 1,
qsd exports the same bytes (a raw node with the partition's offset and
size), both on CPU 1.  For each back-end in turn (order shuffled per
round) a VM boots (the Isles guest image, 1 vCPU, 512 MiB memfd memory,
on CPU 0) with the back-end's disk as vhost-user-blk /dev/vda and a second,
plain virtio-blk disk /dev/vdb holding the host's fio and the libraries it
loads (an ext4 image made here with mke2fs -d; the guest image is not
changed).  fio then runs in the guest through the isles agent:

  randread 4 KiB QD1 (psync), randread 4 KiB QD32 (libaio),
  seqread 128 KiB QD8 (libaio), all O_DIRECT in the guest.

Printed per job: IOPS, MB/s, p50 completion latency, and the back-end's
CPU-seconds (utime + stime of all its threads) over the job.  Under TCG
the guest's own CPU (emulated) sets the pace, not the back-end: the
figures show what a guest sees and what the back-end costs per request,
they do not rank the back-ends' speed.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from agentclient import AgentClient  # noqa: E402

SECS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
ACCEL = os.environ.get("ACCEL", "tcg")
IMAGE = os.environ.get("ISLES_IMAGE", os.path.join(TOP, "build", "image"))
BENCH_DIR = os.environ.get("BENCH_DIR", "/var/tmp")
HZ = os.sysconf("SC_CLK_TCK")

JOBS = [
    ("randread", 4096, 1, "psync"),
    ("randread", 4096, 32, "libaio"),
    ("read", 131072, 8, "libaio"),
]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / HZ


def wait_sock(path, proc, what):
    for _ in range(100):
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            sys.exit("guest bench: %s exited" % what)
        time.sleep(0.1)
    sys.exit("guest bench: %s did not create %s" % (what, path))


def tools_image(d):
    """An ext4 image with fio, its libraries and the loader."""
    root = os.path.join(d, "tools")
    lib = os.path.join(root, "lib")
    os.makedirs(lib)
    shutil.copy("/usr/bin/fio", root)
    out = subprocess.run(["ldd", "/usr/bin/fio"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        path = None
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            path = parts[2]
        elif parts and parts[0].startswith("/"):
            path = parts[0]
        if path:
            shutil.copy(path, os.path.join(lib, os.path.basename(path)))
    img = os.path.join(d, "tools.img")
    subprocess.run(["/sbin/mke2fs", "-q", "-t", "ext4", "-d", root, img,
                    "256M"], check=True)
    return img


def boot(d, sock, tools, tag):
    qemu = subprocess.Popen(
        ["taskset", "-c", "0", "qemu-system-x86_64", "-M", "q35",
         "-accel", ACCEL, "-m", "512", "-smp", "1", "-nodefaults",
         "-no-user-config", "-display", "none",
         "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
         "-numa", "node,memdev=mem",
         "-kernel", os.path.join(IMAGE, "vmlinux"),
         "-initrd", os.path.join(IMAGE, "initrd.img"),
         "-append", "console=ttyS0 isles.name=fio panic=-1 no_timer_check "
         "cryptomgr.notests",
         "-serial", "file:%s/serial-%s.log" % (d, tag),
         "-device", "virtio-serial-pci,addr=0x3",
         "-chardev", "socket,id=agent,path=%s/agent.sock,server=on,wait=off"
         % d,
         "-device", "virtserialport,chardev=agent,name=org.isles.agent",
         "-chardev", "socket,id=blk,path=%s" % sock,
         "-device", "vhost-user-blk-pci,chardev=blk,num-queues=1,addr=0x4",
         "-drive", "file=%s,if=none,id=tools,format=raw,readonly=on" % tools,
         "-device", "virtio-blk-pci,drive=tools,addr=0x5"],
        stdout=subprocess.DEVNULL, stderr=open("%s/qemu-%s.log" % (d, tag),
                                               "w"))
    try:
        wait_sock("%s/agent.sock" % d, qemu, "qemu")
        agent = AgentClient.connect("%s/agent.sock" % d, timeout=60)
        agent.hello(timeout=120)
    except BaseException:
        qemu.kill()
        qemu.wait()
        raise
    return qemu, agent


def sh(agent, cmd, timeout=120):
    r = agent.run(["sh", "-c", cmd], timeout=timeout)
    if r.code != 0:
        sys.exit("guest bench: `%s` failed (%s): %s" % (cmd, r.code,
                                                        r.err[-500:]))
    return r.out


def measure(agent, bpid, tag, rnd):
    sh(agent, "for i in $(seq 50); do [ -b /dev/vdb ] && break; sleep 0.2; "
       "done; mkdir -p /mnt; modprobe ext4 2>/dev/null; "
       "mount -o ro /dev/vdb /mnt")
    for rw, bs, qd, engine in JOBS:
        cmd = ("/mnt/lib/ld-linux-x86-64.so.2 --library-path /mnt/lib "
               "/mnt/fio --name=j --filename=/dev/vda --direct=1 "
               "--rw=%s --bs=%d --iodepth=%d --ioengine=%s --runtime=%d "
               "--time_based --randrepeat=0 "
               "--output-format=json" % (rw, bs, qd, engine, SECS))
        c0 = cpu_s(bpid)
        out = sh(agent, cmd, timeout=SECS + 60)
        c1 = cpu_s(bpid)
        j = json.loads(out[out.index(b"{"):])["jobs"][0]["read"]
        p50 = j["clat_ns"]["percentile"].get("50.000000", 0) / 1000
        print("%s round=%d fio %s bs=%d qd=%d iops=%.0f MB/s=%.1f "
              "p50_us=%.1f backend_cpu_s=%.2f backend_cpu_us_per_io=%.1f"
              % (tag, rnd, rw, bs, qd, j["iops"], j["bw_bytes"] / 1e6, p50,
                 c1 - c0, (c1 - c0) * 1e6 / max(1, j["total_ios"])),
              flush=True)


def main():
    d = tempfile.mkdtemp(prefix="islg.")
    img = os.path.join(BENCH_DIR, "isles-guestbench-%d.img" % os.getpid())
    procs = []
    try:
        isles = subprocess.Popen(
            ["taskset", "-c", "1", os.path.join(TOP, "build", "isles-diskd"),
             "-q", "--disk", img, "--create", "1G", "--part", "rest",
             "--export", "fio:1=%s/isles.sock" % d],
            stderr=open(d + "/diskd.log", "w"))
        procs.append(isles)
        wait_sock(d + "/isles.sock", isles, "isles-diskd")
        subprocess.run("head -c %d /dev/urandom | dd of=%s bs=1M seek=1 "
                       "conv=notrunc status=none iflag=fullblock"
                       % (1022 << 20, img), shell=True, check=True)
        qsd = subprocess.Popen(
            ["taskset", "-c", "1", "qemu-storage-daemon",
             "--blockdev", "driver=file,node-name=file0,filename=%s,"
             "aio=io_uring,cache.direct=off" % img,
             "--blockdev", "driver=raw,node-name=disk0,file=file0,"
             "offset=%d,size=%d" % (1 << 20, 1022 << 20),
             "--export", "type=vhost-user-blk,id=exp0,node-name=disk0,"
             "writable=on,num-queues=1,addr.type=unix,addr.path=%s/qsd.sock"
             % d], stderr=open(d + "/qsd.log", "w"))
        procs.append(qsd)
        wait_sock(d + "/qsd.sock", qsd, "qemu-storage-daemon")
        tools = tools_image(d)
        print("# %s guest fio, accel=%s, %ds per job, %d rounds, load %s"
              % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), ACCEL,
                 SECS, ROUNDS, open("/proc/loadavg").read().split()[:3]),
              flush=True)
        for rnd in range(1, ROUNDS + 1):
            order = [("isles", isles, d + "/isles.sock"),
                     ("qsd", qsd, d + "/qsd.sock")]
            random.shuffle(order)
            for tag, proc, sock in order:
                subprocess.run("cat %s >/dev/null" % img, shell=True)
                if os.path.exists(d + "/agent.sock"):
                    os.unlink(d + "/agent.sock")
                qemu, agent = boot(d, sock, tools, tag)
                try:
                    measure(agent, proc.pid, tag, rnd)
                finally:
                    try:
                        agent.run(["poweroff"], timeout=5)
                    except Exception:
                        pass
                    agent.close()
                    try:
                        qemu.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        qemu.kill()
                        qemu.wait()
        print("# load after: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(d, ignore_errors=True)
        if os.path.exists(img):
            os.unlink(img)


if __name__ == "__main__":
    main()
