#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Each seed is a small, valid (or nearly valid) input in the format of its
target's header comment, so that the fuzzer starts from inputs that reach
deep into the parser instead of from nothing.  Rerun after changing a
target's input format; the output is committed.  The system-file seeds
are the examples and the golden files (copied, not generated)."""
import glob
import os
import shutil
import struct
import zlib

TOP = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(TOP, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def desc(addr, ln, flags, nxt):
    return struct.pack("<QIHH", addr, ln, flags, nxt)


NEXT, WRITE, INDIRECT = 1, 2, 4

# ---- fuzz_vq: flags, log2 num, image length, image, last_avail, script
def vq_seeds():
    r0, r1 = 0x10000, 0x18000
    for flags, name in ((0, "plain"), (1, "indirect"), (3, "event_idx"),
                        (5, "inflight")):
        num = 8
        d = b""
        d += desc(r0 + 0x4000, 16, NEXT, 1)          # 0: header ...
        d += desc(r0 + 0x4100, 512, NEXT | WRITE, 2)  # 1: ... data in
        d += desc(r0 + 0x4400, 1, WRITE, 0)           # 2: ... status
        d += desc(r0 + 0x1800, 32, INDIRECT, 0)       # 3: indirect table
        d += desc(r1 - 8, 16, 0, 0)                   # 4: spans regions
        d += desc(r0 + 0x4500, 8, NEXT, 6)            # 5: loop 5 -> 6 -> 5
        d += desc(r0 + 0x4600, 8, NEXT, 5)            # 6
        d += desc(r0 + 0x4700, 0, 0, 0)               # 7: zero length
        avail = struct.pack("<HH", 0, 5) + struct.pack("<8H", 0, 3, 4, 5, 7,
                                                       0, 0, 0) + b"\0\0"
        used_off = (16 * num + 6 + 2 * num + 3) & ~3
        img = d + avail
        img += b"\0" * (used_off - len(img)) + b"\0" * (6 + 8 * num)
        # the indirect table at r0 + 0x1800
        img += b"\0" * (0x1800 - len(img))
        img += desc(r0 + 0x4800, 16, NEXT, 1) + desc(r0 + 0x4900, 64, WRITE, 0)
        s = bytes([flags, 3]) + struct.pack("<H", len(img)) + img
        s += struct.pack("<H", 0)  # last_avail
        if flags & 4:
            inf = struct.pack("<QHHHH", 0, 1, num, 0, 0)
            for i in range(num):
                inf += struct.pack("<B5xHQ", 1 if i in (1, 3) else 0, 0, i + 1)
            s += inf
        # pop, pop, push, pop, unpop 1, pop, rewrite avail idx, pop, push all
        s += bytes([0, 0, 3, 1, 5, 0, 2, 7]) + struct.pack("<H", 16 * num + 2)
        s += bytes([9, 0, 0, 4, 6])
        put("fuzz_vq", name, s)


# ---- fuzz_vu: records (see fuzz_vu.c)
def vu_msg(req, payload=b"", flags=1, nfds=0, evt=0, split=0):
    return (bytes([0, 0x80 | nfds if nfds else 0, evt, split]) +
            struct.pack("<III", req, flags, len(payload)) + payload)


def vu_seeds():
    feats = (1 << 9) | (1 << 32) | (1 << 28) | (1 << 29) | (1 << 30)
    proto = (1 << 0) | (1 << 3) | (1 << 9) | (1 << 12) | (1 << 13)
    base = 0x7f0000000000
    s = b""
    s += vu_msg(1)                                   # GET_FEATURES
    s += vu_msg(15)                                  # GET_PROTOCOL_FEATURES
    s += vu_msg(16, struct.pack("<Q", proto))        # SET_PROTOCOL_FEATURES
    s += vu_msg(2, struct.pack("<Q", feats))         # SET_FEATURES
    s += vu_msg(3)                                   # SET_OWNER
    s += vu_msg(17)                                  # GET_QUEUE_NUM
    s += vu_msg(5, struct.pack("<II", 1, 0) +        # SET_MEM_TABLE, 1 fd
                struct.pack("<QQQQ", 0, 0x10000, base, 0), nfds=1, split=7)
    s += vu_msg(8, struct.pack("<II", 0, 8))         # SET_VRING_NUM
    s += vu_msg(9, struct.pack("<IIQQQQ", 0, 0, base + 0, base + 0x200,
                               base + 0x100, 0))    # SET_VRING_ADDR
    s += vu_msg(10, struct.pack("<II", 0, 0))        # SET_VRING_BASE
    s += vu_msg(13, struct.pack("<Q", 0), nfds=1, evt=1)   # CALL
    s += vu_msg(12, struct.pack("<Q", 0), nfds=1, evt=1)   # KICK
    s += vu_msg(18, struct.pack("<II", 0, 1))        # SET_VRING_ENABLE
    ring = desc(0x1000, 64, NEXT, 1) + desc(0x2000, 128, WRITE, 0)
    s += bytes([6]) + struct.pack("<HB", 0, len(ring)) + ring
    s += bytes([6]) + struct.pack("<HB", 0x100, 6) + struct.pack("<HHH", 0, 1, 0)
    s += bytes([5, 0])                               # kick queue 0
    s += vu_msg(24, struct.pack("<III", 0, 16, 0) + b"\0" * 16)  # GET_CONFIG
    s += vu_msg(11, struct.pack("<II", 0, 0))        # GET_VRING_BASE
    s += vu_msg(31, struct.pack("<QQHHI", 0, 0, 2, 8, 0))  # GET_INFLIGHT_FD
    s += vu_msg(34)                                  # RESET_DEVICE
    put("fuzz_vu", "qemu_start", s)
    # Hostile classics: bad vring index, surplus fds, region offset wrap.
    h = vu_msg(1) + vu_msg(8, struct.pack("<II", 200, 8))
    put("fuzz_vu", "bad_index", h)
    h = vu_msg(13, struct.pack("<Q", 0), nfds=9, evt=0xff)
    put("fuzz_vu", "surplus_fds", h)
    h = vu_msg(5, struct.pack("<II", 1, 0) +
               struct.pack("<QQQQ", 0, 0x10000, base, 2**64 - 4096), nfds=1)
    put("fuzz_vu", "region_offset", h)


# ---- fuzz_ptable: mode, [parse] disk size, nparts, nums, requests, disk
def mbr_entry(boot, typ, start, size):
    return struct.pack("<B3sB3sII", 0x80 if boot else 0, b"\0\0\0", typ,
                       b"\0\0\0", start, size)


def sector(entries, sig=True):
    s = bytearray(512)
    for i, e in enumerate(entries):
        s[446 + 16 * i:446 + 16 * i + 16] = e
    if sig:
        s[510:512] = b"\x55\xaa"
    return bytes(s)


def ptable_seeds():
    reqs = b""
    for sec, n in ((0, 1), (1, 70), (63, 2), (64, 8), (2**40, 8), (100, 2**31)):
        reqs += struct.pack("<QI", sec, n)
    reqs = reqs.ljust(120, b"\0")
    # MBR: 1 and 2 primary, 3 extended holding logicals 5 and 6 (EBRs at 8, 16)
    m = sector([mbr_entry(True, 0x83, 2, 2), mbr_entry(False, 0x82, 4, 2),
                mbr_entry(False, 0x05, 8, 20)])
    ebr1 = sector([mbr_entry(False, 0x83, 1, 3), mbr_entry(False, 0x05, 8, 8)])
    ebr2 = sector([mbr_entry(False, 0x83, 1, 4)])
    disk = [m] + [bytes(512)] * 7 + [ebr1] + [bytes(512)] * 7 + [ebr2]
    disk += [bytes(512)] * 12 + [bytes(512)]  # the last: the disk's end
    s = bytes([0]) + struct.pack("<Q", 0) + bytes([3, 1, 5, 6]) + reqs
    put("fuzz_ptable", "mbr_logical", s + b"".join(disk))
    # GPT: protective MBR, header at 1, entries at 2 (4 x 128 bytes)
    nsect = 64
    ents = bytearray(4 * 128)
    linux = bytes.fromhex("af3dc60f838472478e793d69d8477de4")
    for i, (st, en) in enumerate(((34, 40), (41, 50))):
        ents[128 * i:128 * i + 16] = linux
        ents[128 * i + 16:128 * i + 32] = bytes([i + 1]) * 16
        ents[128 * i + 32:128 * i + 48] = struct.pack("<QQ", st, en)
    hdr = bytearray(512)
    hdr[0:92] = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0,
                            0, 1, nsect - 1, 34, nsect - 34, b"\x11" * 16, 2,
                            4, 128, zlib.crc32(bytes(ents)))
    crc = zlib.crc32(bytes(hdr[0:92]))
    hdr[16:20] = struct.pack("<I", crc)
    pm = sector([mbr_entry(False, 0xee, 1, nsect - 1)])
    disk = [pm, bytes(hdr), bytes(ents)] + [bytes(512)] * 2
    tail = bytearray(hdr)  # backup header at the last sector (CRC fixed)
    s = bytes([2]) + struct.pack("<Q", nsect - 6) + bytes([2, 1, 2]) + reqs
    put("fuzz_ptable", "gpt", s + b"".join(disk) + bytes(tail))
    # create: MBR with two primaries and three logicals; GPT with three
    lay = b""
    for f, sz, typ in ((0x81, 4, 0x83), (0x80, 2, 0x82), (0x82, 1, 0x83),
                       (0x82, 1, 0x83), (0x42, 0, 0x83)):
        lay += bytes([f]) + struct.pack("<I", sz) + bytes([typ])
    put("fuzz_ptable", "create_mbr",
        bytes([1, 5]) + struct.pack("<Q", 40 * 2048) + lay)
    lay = b""
    for f, sz, typ in ((0x80, 2, 0xef), (0x80, 8, 0x83), (0x40, 0, 0x82)):
        lay += bytes([f]) + struct.pack("<I", sz) + bytes([typ])
    put("fuzz_ptable", "create_gpt",
        bytes([3, 3]) + struct.pack("<Q", 40 * 2048) + lay)


# ---- fuzz_sysconf: the examples and golden files as they are
def sysconf_seeds():
    srcs = sorted(glob.glob(os.path.join(TOP, "../../examples/*.conf")) +
                  glob.glob(os.path.join(TOP, "../golden/*.conf")))
    d = os.path.join(OUT, "fuzz_sysconf")
    os.makedirs(d, exist_ok=True)
    for p in srcs:
        if os.path.getsize(p) <= 8192:
            shutil.copy(p, os.path.join(d, os.path.basename(p)))


# ---- fuzz_dpblk: flags, size, capacity, slot, cons, image len, image, host
def dpblk_seeds():
    size = 1 << 20
    hdr = struct.pack("<QIIIII", 0x31424450534c5349, 1, 8, 65536, 1, 1)
    hdr = hdr.ljust(64, b"\0") + struct.pack("<I", 3).ljust(64, b"\0")
    hdr = hdr.ljust(256, b"\0")
    reqs = (struct.pack("<QIIQQ", 1, 1, 4096, 0, 0) +
            struct.pack("<QIIQQ", 2, 2, 512, 2047, 0) +
            struct.pack("<QIIQQ", 3, 3, 0, 0, 0))
    img = hdr + reqs
    host = struct.pack("<II", 0, 2)
    host += struct.pack("<QBIB", 7, 1, 4096, 1) + struct.pack("<IB", 0, 1)
    host += struct.pack("<QBIB", 8, 3, 0, 1) + struct.pack("<IB", 0, 1)
    s = bytes([2]) + struct.pack("<QQII", size, 2048, 65536, 0)
    put("fuzz_dpblk", "driver", s + struct.pack("<H", len(img)) + img + host)


# ---- fuzz_conesc: nvms, viewer, names, typed bytes
def conesc_seeds():
    names = ["vm0", "web", "db"]
    s = bytes([len(names) - 1, 0])
    alpha = "abcdefghijklmnopqrstuvwxyz0123456789_-"
    for n in names:
        s += bytes([len(n) - 1]) + bytes(alpha.index(c) for c in n)
    s += b"ls\r@1uname\r@web\rx\r@m0,2\rboth\r@@at\r@?\r@9\r@zz\r@d"
    put("fuzz_conesc", "mux", s)
    put("fuzz_conesc", "viewer", bytes([1, 0x81, 2, 0, 1, 2, 2, 3, 4]) +
        b"\n@0\n@q\n@@\n")


# ---- fuzz_vsock: flags, own cid, nseg, nin, cuts, packet
def vs_hdr(src, dst, sport, dport, ln, typ, op, flags=0):
    return struct.pack("<QQIIIHHIII", src, dst, sport, dport, ln, typ, op,
                       flags, 65536, 0)


def vsock_seeds():
    req = vs_hdr(3, 4, 1024, 5000, 0, 1, 1)
    put("fuzz_vsock", "request", bytes([1, 0, 1, 0]) +
        struct.pack("<H", 44) + req)
    rw = vs_hdr(3, 4, 1024, 5000, 100, 1, 5) + bytes(range(100))
    put("fuzz_vsock", "rw_split", bytes([1, 0, 3, 0]) +
        struct.pack("<HHH", 10, 30, 0) + rw)
    seq = vs_hdr(3, 4, 1024, 5000, 8, 2, 5, 3) + b"payload!"
    put("fuzz_vsock", "seqpacket", bytes([3, 0, 1, 0]) +
        struct.pack("<H", 0) + seq)


if __name__ == "__main__":
    vq_seeds()
    vu_seeds()
    ptable_seeds()
    sysconf_seeds()
    dpblk_seeds()
    conesc_seeds()
    vsock_seeds()
