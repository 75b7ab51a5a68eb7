# SPDX-License-Identifier: BSD-2-Clause
"""`isles web` on the shipped examples/supermicro.conf, in a real headless
Chromium (Debian's chromium driven by playwright-core: web_drive.js):

    the page, opened with the printed token, shows every VM of the file
    in the picture with its state, and every switch port's counters on
    its edge, live (a ping between two VMs shows up); a click on vm1 opens its console
    (xterm.js), root/root logs in and `hostname` reads back vm1; a second
    page watches the same console; kill -9 of a VM's QEMU from the host
    shows it crashed on the page without a reload; the Restart button
    (confirmed) brings it back; the Down button (confirmed) stops the
    system, and isles web with it.

and, without a browser: a console WebSocket that stops reading has the
oldest output dropped and is told so (the VM and the other page go on);
isles-webd runs locked down (no_new_privs, a
seccomp filter); the access rules: no token or a wrong one gets
403 for the page and its files, a WebSocket without the cookie or with a
foreign Origin is refused (and one with both right is accepted, so that
the refusals are not a broken handshake).

The file is rewritten only where it must be, as test_supermicro.py does:
the disk image goes into the test's own directory and the uplink TAP
gets a unique name.  One system for the module.  Needs root (the TAP),
node and chromium (scripts/deps.sh) and web/node_modules (make: npm ci).
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import ISLES, ROOT, System

EXAMPLE = ROOT / "examples" / "supermicro.conf"
DRIVER = ROOT / "tests" / "integration" / "web_drive.js"
LONG = 300


def wait_for(what, cond, timeout, step=0.5):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < deadline, f"timed out ({timeout} s): {what}"
        time.sleep(step)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """web_drive.js: one JSON command per line, one JSON answer."""

    def __init__(self):
        self.p = subprocess.Popen(["node", str(DRIVER)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)

    def do(self, op, **kw):
        self.p.stdin.write(json.dumps(dict(op=op, **kw)) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        assert line, f"the browser driver exited ({self.p.poll()})"
        a = json.loads(line)
        assert a["ok"], f"{op} {kw}: {a.get('error')}\n{a.get('logs')}"
        return a

    def close(self):
        try:
            self.do("quit")
        except (AssertionError, BrokenPipeError, ValueError):
            pass
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture(scope="module")
def web(built):
    if os.geteuid() != 0:
        pytest.fail("needs root (the switch's uplink TAP)")
    missing = [p for p in ("node", "chromium") if shutil.which(p) is None]
    assert not missing, "needs " + ", ".join(missing) + " (scripts/deps.sh)"
    assert (ROOT / "web" / "node_modules" / "playwright-core").is_dir(), \
        "web/node_modules: run make (npm ci)"
    tag = "%d" % (os.getpid() % 100000)
    s = System.create("", name="supermicro")
    img = s.base / "sata.img"
    conf = EXAMPLE.read_text()
    for old, new in (('"/var/tmp/isles-supermicro-sata.img"', f'"{img}"'),
                     ('"isles-tap0"', f'"islweb{tag}"')):
        assert conf.count(old) == 1, old
        conf = conf.replace(old, new)
    s.conf.write_text(conf)
    s.vm_names = re.findall(r'\{ name = "(vm\d+)";', conf)
    assert len(s.vm_names) == 4
    with s:
        s.up()
        port = free_port()
        s.web = subprocess.Popen(
            [str(ISLES), "web", "--listen", f"127.0.0.1:{port}", "--system",
             s.name], env=s.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=open(s.base / "web.err", "w"),
            text=True)
        try:
            line = s.web.stdout.readline()
            m = re.match(r"isles web: (http://127\.0\.0\.1:(\d+)/\?token="
                         r"([0-9a-f]{32}))$", line.strip())
            assert m, f"isles web printed {line!r}; " \
                      f"{(s.base / 'web.err').read_text()}"
            s.url, s.port, s.token = m.group(1), int(m.group(2)), m.group(3)
            assert s.port == port
            yield s
        finally:
            if s.web.poll() is None:
                s.web.terminate()
                s.web.wait(timeout=30)
        # isles-webd's own log (its stderr): no sanitizer report.
        err = (s.base / "web.err").read_text(errors="replace")
        assert "Sanitizer" not in err and "runtime error:" not in err, err


@pytest.fixture(scope="module")
def browser(web):
    b = Browser()
    yield b
    b.close()


def http(port, path, headers=()):
    """One HTTP/1.1 request; returns (status code, headers text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        for h in headers:
            req += h + "\r\n"
        s.sendall((req + "Connection: close\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n")[0].decode(errors="replace")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head)
    assert m, f"not an HTTP answer: {data[:200]!r}"
    return int(m.group(1)), head


def ws_handshake(port, path, origin, cookie):
    key = base64.b64encode(os.urandom(16)).decode()
    hdrs = ["Upgrade: websocket", "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin:
        hdrs.append(f"Origin: {origin}")
    if cookie:
        hdrs.append(f"Cookie: isles_token={cookie}")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        s.sendall((req + "\r\n".join(hdrs) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


def test_web_is_its_own_locked_down_process(web):
    # isles web became isles-webd: same pid, the daemon's lock-down.
    with open(f"/proc/{web.web.pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[0] == b"isles-webd"
    with open(f"/proc/{web.web.pid}/status") as f:
        st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
    assert st["NoNewPrivs"].strip() == "1"
    if "asan" not in str(ISLES):        # sanitizer builds load no filter
        assert st["Seccomp"].strip() == "2"


def test_non_loopback_listen_warns_and_sigterm_stops(web):
    port = free_port()
    p = subprocess.Popen([str(ISLES), "web", "--listen", f"0.0.0.0:{port}",
                          web.name], env=web.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        url = p.stdout.readline()
        warn = p.stdout.readline()
        assert re.match(rf"isles web: http://0\.0\.0\.0:{port}/\?token="
                        r"[0-9a-f]{32}$", url.strip()), url
        assert "warning" in warn and "token" in warn and \
            "only protection" in warn, warn
        # A fresh token each time: the first server's is not this one's.
        assert web.token not in url
        code, _ = http(port, f"/?token={web.token}")
        assert code in (401, 403)
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, p.stderr.read()
    # The system is not affected.
    assert web.vm("vm0")["state"] == "ready"


def test_bad_listen_is_a_usage_error(web):
    for bad in ("localhost:8080", "127.0.0.1", "127.0.0.1:0", "1.2.3:80"):
        r = web.isles("web", "--listen", bad, web.name, timeout=60)
        assert r.returncode == 2 and "--listen" in r.stderr, (bad, r)


def test_page_needs_the_token(web):
    for path in ("/", "/index.html", "/app.js", "/xterm.js"):
        code, _ = http(web.port, path)
        assert code in (401, 403), (path, code)
    wrong = "0" * 32 if web.token != "0" * 32 else "1" * 32
    code, _ = http(web.port, f"/?token={wrong}")
    assert code in (401, 403)
    code, _ = http(web.port, "/app.js", [f"Cookie: isles_token={wrong}"])
    assert code in (401, 403)
    # The right token: a cookie that scripts cannot read, then the page.
    code, head = http(web.port, f"/?token={web.token}")
    assert code == 302, head
    cookie = re.search(r"(?im)^set-cookie: (.*)$", head).group(1)
    assert f"isles_token={web.token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    code, head = http(web.port, "/", [f"Cookie: isles_token={web.token}"])
    assert code == 200, head


def test_websocket_origin_and_token(web):
    own = f"http://127.0.0.1:{web.port}"
    for path in ("/ws/status", "/ws/console/1"):
        assert ws_handshake(web.port, path, own, web.token) == 101
        assert ws_handshake(web.port, path, "http://evil.example",
                            web.token) in (401, 403, None)
        assert ws_handshake(web.port, path, f"http://127.0.0.1:{web.port + 1}",
                            web.token) in (401, 403, None)
        assert ws_handshake(web.port, path, None, web.token) in (401, 403, None)
        assert ws_handshake(web.port, path, own, None) in (401, 403, None)
        assert ws_handshake(web.port, path, own, "f" * 32) in (401, 403, None)


def test_picture_shows_every_vm(web, browser):
    a = browser.do("open", url=web.url)
    # The token went into a cookie and out of the address bar.
    assert "token" not in a["url"]
    assert sorted(a["states"]) == sorted(web.vm_names)
    assert set(a["states"].values()) == {"ready"}, a["states"]


def test_picture_shows_port_counters_live(web, browser):
    ports = {(p["sw"], p["port"]) for p in browser.do("ports")["ports"]}
    # Every switch port of the file: each VM's NICs and the uplink.
    assert ports == {("lan", f"{v}.0") for v in web.vm_names} | \
        {("wan", "vm0.1"), ("wan", "uplink")}, ports
    st = {(sw["switch"], p["name"]): p for sw in web.status()["switches"]
          for p in sw["ports"]}
    before = st[("lan", "vm1.0")]["rx_packets"]
    web.ok("vm0", "ifconfig", "eth0", "192.168.1.1")
    web.ok("vm1", "ifconfig", "eth0", "192.168.1.2")
    web.ok("vm1", "ping", "-c", "3", "192.168.1.1", timeout=120)
    # rx of vm1's port = what vm1 sent into the switch: 3 pings at least.
    a = browser.do("wait_port", sw="lan", port="vm1.0", rx=before + 3)
    p = next(p for p in a["ports"] if p["port"] == "vm1.0")
    assert p["text"].startswith("rx "), p


def test_console_login_hostname(web, browser):
    browser.do("console", vm="vm1")
    browser.do("type", text="\n")
    browser.do("wait_text", re=r"vm1 login:\s*$", timeout=LONG * 1000)
    browser.do("type", text="root\n")
    browser.do("wait_text", re=r"Password:\s*$", timeout=LONG * 1000)
    browser.do("type", text="root\n")
    browser.do("wait_text", re=r"#\s*$", timeout=LONG * 1000)
    browser.do("type", text="hostname\n")
    browser.do("wait_text", re=r"^\s*vm1\s*$", timeout=LONG * 1000)


def test_second_page_watches_the_same_console(web, browser):
    other = Browser()
    try:
        other.do("open", url=web.url)
        other.do("console", vm="vm1")
        # The replay brings what the first page did.
        other.do("wait_text", re=r"hostname", timeout=LONG * 1000)
        # What one types, both see.
        browser.do("type", text="echo both-$((6*7))\n")
        other.do("wait_text", re=r"^both-42\s*$", timeout=LONG * 1000)
        browser.do("wait_text", re=r"^both-42\s*$", timeout=LONG * 1000)
    finally:
        other.close()


def test_killed_vm_shown_crashed_then_restart_button(web, browser):
    browser.do("mark")
    vm = web.vm("vm2")
    assert vm["state"] == "ready" and vm["pid"] > 0
    os.kill(vm["pid"], signal.SIGKILL)
    # A VM that dies on its own stays down (the supervisor does not
    # restart it behind the user's back): the page shows it, live.
    a = browser.do("wait_state", vm="vm2", **{"is": "crashed"})
    assert a["states"]["vm2"] == "crashed"
    assert {k: v for k, v in a["states"].items() if k != "vm2"} == \
        {k: "ready" for k in web.vm_names if k != "vm2"}
    browser.do("check_mark")
    # Restart, confirmed in the page's dialog, through the supervisor.
    browser.do("restart", vm="vm2")
    browser.do("wait_message", re="vm2 restarted and ready")
    browser.do("wait_state", vm="vm2", **{"is": "ready"})
    browser.do("check_mark")
    after = web.vm("vm2")
    assert after["state"] == "ready"
    assert after["pid"] not in (0, vm["pid"])
    assert after["restarts"] >= 1


def ws_frames(sock, until, timeout):
    """Read server WebSocket frames (unmasked) from sock; returns the
    binary messages' payloads once until(messages) is true."""
    buf, msgs = b"", []
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while not until(msgs):
        assert time.monotonic() < deadline, f"timed out; {len(msgs)} messages"
        chunk = sock.recv(65536)
        assert chunk, "the server closed the WebSocket"
        buf += chunk
        while len(buf) >= 2:
            n, off = buf[1] & 0x7f, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                break
            if buf[0] & 0x0f == 2:
                msgs.append(buf[off:off + n])
            buf = buf[off + n:]
    return msgs


def test_page_that_does_not_read_never_slows_the_vm(web, browser):
    """A console WebSocket whose reader stops: the VM's output goes on,
    the oldest of it is dropped for that page only, and the page is told
    how much when it reads again; the newest output is still there."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", web.port))
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /ws/console/3 HTTP/1.1\r\nHost: 127.0.0.1:{web.port}"
                   f"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Origin: http://127.0.0.1:{web.port}\r\n"
                   f"Cookie: isles_token={web.token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        # 2 MiB of output while this page reads nothing (the VM's own
        # command must finish: nothing waits for us).
        web.ok("vm3", "sh", "-c", "head -c 2097152 /dev/zero | tr '\\000' x "
               "> /dev/ttyS0; echo; echo END-OF-FLOOD > /dev/ttyS0",
               timeout=LONG)
        # Meanwhile the other page's console still works.
        browser.do("type", text="echo still-$((6*7))\n")
        browser.do("wait_text", re=r"^still-42\s*$", timeout=LONG * 1000)
        msgs = ws_frames(s, lambda m: any(b"END-OF-FLOOD" in x for x in m[-3:]),
                         LONG)
    finally:
        s.close()
    dropped = [json.loads(m[1:]) for m in msgs if m[:1] == b"N"]
    dropped = sum(n["count"] for n in dropped if n["kind"] == "dropped")
    got = sum(len(m) - 1 for m in msgs if m[:1] in (b"O", b"P"))
    assert dropped > 0, f"nothing dropped; {got} bytes received"
    # Far less than 2 MiB was held for this page: its queue is bounded.
    assert got < 1024 * 1024, got


def test_down_button_stops_system_and_web(web, browser):
    browser.do("down")
    assert web.web.wait(timeout=LONG) == 0, (web.base / "web.err").read_text()
    wait_for("system down", lambda: web.isles(
        "status", "--system", web.name, timeout=30).returncode != 0, LONG)
    web.web.stdout.close()
