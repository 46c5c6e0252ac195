#!/usr/bin/python3
"""
bench/gossip/converge.py [N] — real gossipd processes on 127.0.0.1: N
agents (gossipd + httpd each; one server, N-1 clients) join by
-retry-join to the first; prints the time until every agent sees N alive
members (process start included), the time from `kill -9` of one
gossipd until every other agent sees it failed, and each gossipd's RSS.
Stops what it starts by PID. Run by bench/gossip/run.sh.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


def statuses(http):
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{http}/v1/agent/members", timeout=2) as r:
            return {m["Name"]: m["Status"] for m in json.load(r)}
    except OSError:
        return {}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    top = tempfile.mkdtemp(prefix="cairn-gossip-bench-")
    agents = []
    procs = []
    try:
        for i in range(n):
            ports = {k: free_port() for k in
                     ("http", "dns", "server", "serf_lan", "serf_wan")}
            d = os.path.join(top, f"a{i}")
            os.makedirs(d)
            agents.append((f"a{i}", d, ports))
        seed = agents[0][2]["serf_lan"]
        t0 = time.monotonic()
        for i, (name, d, p) in enumerate(agents):
            flags = ["-node", name, "-data-dir", d,
                     "-bind", "127.0.0.1", "-advertise", "127.0.0.1",
                     "-retry-interval", "1s",
                     "-retry-join", f"127.0.0.1:{seed}",
                     "-http-port", str(p["http"]),
                     "-dns-port", str(p["dns"]),
                     "-server-port", str(p["server"]),
                     "-serf-lan-port", str(p["serf_lan"]),
                     "-serf-wan-port", str(p["serf_wan"])]
            if i == 0:
                flags.append("-server")
            log = open(os.path.join(d, "log"), "ab")
            g = subprocess.Popen([os.path.join(BUILD, "gossipd")] + flags,
                                 stdout=log, stderr=log)
            h = subprocess.Popen([os.path.join(BUILD, "httpd")] + flags,
                                 stdout=log, stderr=log)
            procs.append((g, h))
        while not all(list(statuses(p["http"]).values()).count(1) == n
                      for _, _, p in agents):
            if time.monotonic() - t0 > 60:
                raise SystemExit("no convergence within 60 s")
            time.sleep(0.02)
        conv = time.monotonic() - t0
        time.sleep(2)
        rss = [rss_kb(g.pid) for g, _ in procs]
        victim = n - 1
        procs[victim][0].send_signal(signal.SIGKILL)
        procs[victim][0].wait()
        t1 = time.monotonic()
        vname = agents[victim][0]
        while not all(statuses(p["http"]).get(vname) == 4
                      for _, _, p in agents[:victim]):
            if time.monotonic() - t1 > 90:
                raise SystemExit("failure not detected within 90 s")
            time.sleep(0.05)
        det = time.monotonic() - t1
        print(f"real processes, n={n} on 127.0.0.1: converged in "
              f"{conv:.2f} s (process start included); kill -9 of one "
              f"gossipd seen failed by all {n - 1} others in {det:.2f} s; "
              f"gossipd RSS {min(rss) / 1024:.1f}–{max(rss) / 1024:.1f} MB")
    finally:
        for g, h in procs:
            for p in (g, h):
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
        for g, h in procs:
            for p in (g, h):
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
