# SPDX-License-Identifier: BSD-2-Clause
"""Console links and vsock brought up by `isles up` from the system file
(docs/links.md): one isles-linkd and one isles-vsockd for the system, the
sockets bound by the supervisor, the devices in each VM's QEMU.

    consoles:  link0 between vm0 and vm1
    vsock:     vm0 cid 3, vm1 cid 4; vm1 may connect to vm0 port 1234
    vm2:       no link, no cid

What a user sees is checked: the seed's demo (`cat /dev/hvc0` on one VM,
`echo ... > /dev/hvc0` on the other) and the same port by name; "Hello,
world!" from CID 4 to CID 3 port 1234; what no rule allows is refused
(the reverse direction, another port); a VM without a cid has no vsock
and a VM without a link has no port; after isles-vsockd is killed the
supervisor restarts it and the VMs with vsock, and vsock works again;
after isles-linkd is killed the link works again.

Run: /usr/bin/python3 -m pytest -p no:cacheprovider -v
     tests/integration/test_links_up.py
"""

import os
import time

import pytest

from conftest import System, wait_for

CONF = """
name = "lk";
accel = "tcg";
consoles = ( { name = "link0"; vms = [ "vm0", "vm1" ]; } );
vsock = ( { client = "vm1"; server = "vm0"; port = 1234; } );
vms = (
  { name = "vm0"; memory = "192M"; cid = 3; },
  { name = "vm1"; memory = "192M"; cid = 4; },
  { name = "vm2"; memory = "192M"; }
);
"""


@pytest.fixture(scope="module")
def lk(built):
    with System.create(CONF, name="lk") as s:
        s.up()
        yield s


def link_says(s, reader, writer, path, text):
    """`head -n 1 PATH` on reader gets what writer echoes into PATH."""
    # Either may come first: until the reader opens the port its QEMU
    # takes nothing, and the line waits in the host.
    r = s.bg(reader, "head", "-n", "1", path)
    try:
        rc, out, err = s.exec(writer, "sh", "-c", f"echo {text} > {path}",
                              timeout=30)
        assert rc == 0, err
        out, err = r.communicate(timeout=60)
    finally:
        if r.poll() is None:
            r.kill()
            r.wait()
    assert r.returncode == 0, err
    assert out.strip() == text


def test_daemons_are_up(lk):
    for name in ("linkd", "vsockd"):
        assert lk.daemon(name)["state"] == "running"


def test_seed_console_link_demo(lk):
    link_says(lk, "vm0", "vm1", "/dev/hvc0", "hello-from-vm1")
    link_says(lk, "vm1", "vm0", "/dev/virtio-ports/link0", "and-back")


def test_vm_without_link_has_no_port(lk):
    rc, out, _ = lk.exec("vm2", "sh", "-c",
                         "ls /dev/virtio-ports; ls /dev | grep -c hvc")
    assert rc != 0 or out.split()[-1] == "0"
    assert "link0" not in out


def vsock_hello(s, text="Hello, world!"):
    srv = s.bg("vm0", "vsock-server", "1234")
    try:
        assert "listening" in srv.stderr.readline()
        rc, out, err = s.exec("vm1", "vsock-client", "3", "1234",
                              input=text + "\n", timeout=30)
        assert rc == 0, err
        out, err = srv.communicate(timeout=60)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    assert out.strip() == text


def test_hello_world_from_cid_4_to_cid_3(lk):
    rc, out, _ = lk.exec("vm1", "vsock-client", "-l")
    assert rc == 0 and out.strip() == "4"
    vsock_hello(lk)


def test_what_no_rule_allows_is_refused(lk):
    srv = lk.bg("vm1", "vsock-server", "-t", "20", "1234")
    try:
        assert "listening" in srv.stderr.readline()
        rc, _, err = lk.exec("vm0", "vsock-client", "4", "1234",
                             input="x\n", timeout=30)
        assert rc != 0 and "reset" in err.lower(), err
    finally:
        srv.kill()
        srv.wait()
    rc, _, err = lk.exec("vm1", "vsock-client", "3", "999", input="x\n",
                         timeout=30)
    assert rc != 0 and "reset" in err.lower(), err


def test_vm_without_cid_has_no_vsock(lk):
    rc, _, err = lk.exec("vm2", "vsock-client", "3", "1234", input="x\n",
                         timeout=30)
    assert rc != 0 and "not supported" in err, err


def test_killed_vsockd_comes_back_with_its_vms(lk):
    before = {v["name"]: v for v in lk.status()["vms"]}
    d = lk.daemon("vsockd")
    os.kill(d["pid"], 9)

    def back():
        st = lk.status()
        n = next(x for x in st["daemons"] if x["name"] == "vsockd")
        vms = {v["name"]: v for v in st["vms"]}
        return (n["state"] == "running" and n["pid"] != d["pid"] and
                all(vms[v]["state"] == "ready" and
                    vms[v]["restarts"] == before[v]["restarts"] + 1
                    for v in ("vm0", "vm1")))
    wait_for(back, "vsockd and vm0, vm1 to come back", 300)
    # vm2 has no vsock: it was not touched.
    assert lk.vm("vm2")["restarts"] == before["vm2"]["restarts"]
    assert "cannot reconnect" in lk.log("supervisor.log")
    vsock_hello(lk, "Hello again")


def test_killed_linkd_comes_back(lk):
    d = lk.daemon("linkd")
    os.kill(d["pid"], 9)
    # One snapshot per poll (a daemon waiting for its back-off has pid 0).
    wait_for(lambda: (lambda n: n["pid"] != d["pid"] and
                      n["state"] == "running")(lk.daemon("linkd")),
             "linkd", 60)
    # QEMU reconnects within about a second (reconnect=1).
    time.sleep(3)
    link_says(lk, "vm0", "vm1", "/dev/hvc0", "after-restart")
