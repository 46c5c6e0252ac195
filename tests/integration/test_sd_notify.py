"""
The systemd protocol without systemd: each role started with
NOTIFY_SOCKET and WATCHDOG_USEC (as systemd starts a Type=notify unit with
WatchdogSec=) sends READY=1 once it serves, WATCHDOG=1 at least every half
period from its loop, RELOADING=1 on SIGHUP and STOPPING=1 on SIGTERM.
"""
import os
import signal
import socket
import time

from conftest import wait_until


def collect(sock, seconds):
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            out.append(sock.recv(4096).decode())
        except socket.timeout:
            break
    return out


def test_ready_watchdog_reload_stopping(node_factory, tmp_path):
    n = node_factory(name="sd1")
    socks = {}
    for role in ("raftd", "httpd"):
        path = str(tmp_path / f"{role}.notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        socks[role] = s
        n.start_role(role, env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    n.wait_ready()
    for role, s in socks.items():
        msgs = collect(s, 1.5)
        joined = "\n".join(msgs)
        assert "READY=1" in joined, (role, msgs)
        # 400 ms period: pinged every 200 ms, so several in 1.5 s
        assert joined.count("WATCHDOG=1") >= 4, (role, msgs)
        n.procs[role].send_signal(signal.SIGHUP)
        joined = "\n".join(collect(s, 0.5))
        assert "RELOADING=1" in joined, (role, joined)
    for role, s in socks.items():
        n.procs[role].send_signal(signal.SIGTERM)
        assert n.procs[role].wait(10) == 0
        joined = "\n".join(collect(s, 0.3))
        assert "STOPPING=1" in joined, (role, joined)
        s.close()
