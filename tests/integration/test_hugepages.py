# SPDX-License-Identifier: BSD-2-Clause
"""Guest RAM on hugetlbfs (`hugepages = "DIR"` in the system file).

QEMU's memory-backend-file on a hugetlbfs mount is the configuration
DPDK, SPDK and OVS document for vhost-user; its memory file is not a
sealed memfd, which Isles' daemons used to refuse.  vm0's RAM lives on
hugepages: its /dev/vda (isles-diskd) takes a file system and its eth0
(isles-switchd) pings vm1, whose RAM is an ordinary memfd.

Run: /usr/bin/python3 -m pytest -v tests/integration/test_hugepages.py
"""

import os

CONF = """
name = "huge";
disks = ( { name = "d"; path = "%(dir)s/disk.img"; size = "64M";
            layout = "mbr"; partitions = ( { size = "32M"; } ); } );
switches = ( { name = "lan"; } );
vms = (
  { name = "vm0"; memory = "256M"; hugepages = "%(hp)s";
    disks = ( { disk = "d"; partitions = [ 1 ]; } );
    nics = ( { switch = "lan"; } ); },
  { name = "vm1"; memory = "256M"; nics = ( { switch = "lan"; } ); }
);
"""


def test_hugepage_guest_serves_disk_and_nic(hugetlbfs, make_system):
    # hugetlbfs first: torn down after the system (QEMU holds the mount).
    hp = hugetlbfs(140)             # 256 MiB of guest RAM + slack
    s = make_system("", name="huge")
    s.conf.write_text(CONF % {"dir": s.base, "hp": hp})
    s.up()
    # QEMU really put vm0's RAM there (the file is unlinked: see its maps).
    maps = ""
    for pid in s.procs():
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if b"isles.name=vm0 " in f.read():
                with open("/proc/%d/maps" % pid) as m:
                    maps += m.read()
    assert hp in maps, "vm0's guest RAM is not on the hugetlbfs mount"
    rc, out, err = s.exec("vm0", "sh", "-c",
                          "mkfs.ext4 -q /dev/vda1 && mount /dev/vda1 /mnt && "
                          "echo hello > /mnt/f && sync && umount /mnt && "
                          "mount /dev/vda1 /mnt && cat /mnt/f", limit=180)
    assert rc == 0 and out.strip() == "hello", (rc, out, err)
    assert s.exec("vm0", "ifconfig", "eth0", "192.168.1.1")[0] == 0
    assert s.exec("vm1", "ifconfig", "eth0", "192.168.1.2")[0] == 0
    rc, out, err = s.exec("vm0", "ping", "-c", "3", "-W", "5",
                          "192.168.1.2", limit=60)
    assert rc == 0, out + err
