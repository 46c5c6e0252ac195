#!/usr/bin/env python3
"""
bench/lock/lock.py — issue 7's lock figures (run by bench/lock/run.sh):

 1. lock round trips: N contenders (1 and 16), each with its own session
    (no checks), loop on one key: PUT ?acquire=<sid> and, when it answers
    true, PUT ?release=<sid> (one round trip = one acquire + one release);
    a contender refused waits on a blocking GET of the key until no
    session holds it, as the leader-election recipe does (spec §2.4).
    Against one `cairn agent -dev`, then 3 servers (contenders spread over
    the three agents' HTTP ports; followers forward to the leader).
 2. failover: 3 servers plus a client agent "holder". A session created
    on the holder's agent holds the key; `kill -9` of the holder's whole
    agent (its process group: the supervisor and every role); a contender
    on a server acquires as soon as it can (blocking GET, then an acquire
    attempt every 20 ms while lock-delay refuses it). Measured: kill ->
    the key's Session cleared (invalidation) and kill -> the contender
    holds it. Two session kinds: "serfHealth" (the default checks: the
    holder's node failing in gossip invalidates it) and "ttl" (TTL 10s,
    no checks: expiry 10-20 s after the last renew, which was just before
    the kill). Each with LockDelay 15s (the default) and 0s.

Prints lines to paste into bench/RESULTS.md. Python's `requests` is the
client (16 threads under the GIL: the client, not only cairn, bounds the
16-contender figure; see the CPU note it prints).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CAIRN = os.path.join(ROOT, "build", "cairn")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    def __init__(self, tmp, name, extra):
        self.name = name
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.ports = {k: free_port() for k in
                      ("http", "dns", "server", "serf_lan", "serf_wan")}
        self.extra = extra
        self.base = "http://127.0.0.1:%d" % self.ports["http"]
        self.http = requests.Session()
        self.p = None

    def start(self):
        argv = [CAIRN, "agent", "-node", self.name,
                "-data-dir", os.path.join(self.dir, "data"),
                "-http-port", str(self.ports["http"]),
                "-dns-port", str(self.ports["dns"]),
                "-server-port", str(self.ports["server"]),
                "-serf-lan-port", str(self.ports["serf_lan"]),
                "-serf-wan-port", str(self.ports["serf_wan"]),
                "-log-level", "warn"] + self.extra
        log = open(os.path.join(self.dir, "agent.log"), "ab")
        # its own process group: kill -9 of the whole agent
        self.p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        return self

    def signal(self, sig):
        if self.p is not None and self.p.poll() is None:
            os.killpg(self.p.pid, sig)

    def stop(self):
        self.signal(signal.SIGTERM)
        if self.p is not None:
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.p.wait()

    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        return self.http.get(self.base + path, **kw)

    def put(self, path, data=None, **kw):
        kw.setdefault("timeout", 30)
        return self.http.put(self.base + path, data=data, **kw)


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit("timed out waiting for " + what)


def wait_leader(agents):
    def ok():
        ls = {a.get("/v1/status/leader", timeout=2).json() for a in agents}
        return len(ls) == 1 and "" not in ls and all(
            a.get("/v1/kv/?keys", timeout=2).status_code in (200, 404)
            for a in agents)
    wait_until(ok, 60, "a leader")


def session(agent, body):
    r = agent.put("/v1/session/create", data=json.dumps(body))
    assert r.status_code == 200, r.text
    return r.json()["ID"]


def contender(agent, key, sid, stop, counts, lat, i):
    http = requests.Session()
    url = agent.base + "/v1/kv/" + key
    idx = 0
    while not stop.is_set():
        t = time.perf_counter()
        if http.put(url + "?acquire=" + sid, data=b"x").json() is True:
            http.put(url + "?release=" + sid)
            counts[i] += 1
            lat.append(time.perf_counter() - t)
            continue
        # held by another: wait for its release (blocking GET)
        r = http.get(url, params={"index": idx, "wait": "1s"})
        idx = int(r.headers.get("X-Consul-Index", 0))
        if r.status_code == 200 and r.json()[0].get("Session"):
            continue
        idx = 0


def round_trips(agents, n, seconds, key):
    sids = [session(agents[i % len(agents)], {"Checks": [],
                                              "LockDelay": "0s"})
            for i in range(n)]
    stop = threading.Event()
    counts = [0] * n
    lat = []
    ths = [threading.Thread(target=contender,
                            args=(agents[i % len(agents)], key, sids[i],
                                  stop, counts, lat, i))
           for i in range(n)]
    c0 = os.times()
    for t in ths:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in ths:
        t.join()
    c1 = os.times()
    for i, s in enumerate(sids):
        agents[i % len(agents)].put("/v1/session/destroy/" + s)
    lat.sort()
    p50 = lat[len(lat) // 2] * 1e3 if lat else 0
    p99 = lat[int(len(lat) * 0.99)] * 1e3 if lat else 0
    cpu = (c1.user - c0.user + c1.system - c0.system) / seconds
    return sum(counts) / seconds, p50, p99, cpu


def failover(tmp, servers, kind, delay, seq):
    join = "127.0.0.1:%d" % servers[0].ports["serf_lan"]
    holder = Agent(tmp, "holder%d" % seq,
                   ["-bind", "127.0.0.1", "-retry-join", join,
                    "-retry-interval", "1s"]).start()
    try:
        wait_until(lambda: holder.get("/v1/catalog/node/" + holder.name)
                   .json() is not None and any(
                       c["CheckID"] == "serfHealth" and
                       c["Status"] == "passing" for c in
                       holder.get("/v1/health/node/" + holder.name).json()),
                   60, "the holder in the catalog")
        body = {"LockDelay": delay}
        if kind == "ttl":
            body.update({"TTL": "10s", "Checks": []})
        sid = session(holder, body)
        key = "bench/failover%d" % seq
        assert holder.put("/v1/kv/%s?acquire=%s" % (key, sid),
                          data=b"holder").json() is True
        if kind == "ttl":
            assert holder.put("/v1/session/renew/" + sid).status_code == 200
        other = session(servers[0], {"Checks": [], "LockDelay": "0s",
                                     "Node": servers[0].name})
        got = {}

        def watch():
            http = requests.Session()
            url = servers[0].base + "/v1/kv/" + key
            idx = 0
            while True:
                r = http.get(url, params={"index": idx, "wait": "5s"},
                             timeout=30)
                idx = int(r.headers.get("X-Consul-Index", 0))
                if not r.json()[0].get("Session"):
                    break
            got["released"] = time.monotonic()
            while http.put(url + "?acquire=" + other,
                           data=b"next").json() is not True:
                time.sleep(0.02)
            got["acquired"] = time.monotonic()
        th = threading.Thread(target=watch)
        th.start()
        time.sleep(0.5)  # the watcher is blocked on the key
        t0 = time.monotonic()
        holder.signal(signal.SIGKILL)
        th.join(120)
        servers[0].put("/v1/session/destroy/" + other)
        if "acquired" not in got:
            return None
        return got["released"] - t0, got["acquired"] - t0
    finally:
        holder.stop()


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 5
    tmp = tempfile.mkdtemp(prefix="cairn-bench-lock.")
    agents = []
    try:
        dev = Agent(tmp, "dev", ["-dev"]).start()
        agents.append(dev)
        wait_leader([dev])
        for n in (1, 16):
            rps, p50, p99, cpu = round_trips([dev], n, secs, "bench/l%d" % n)
            print("dev agent   contenders=%-2d round_trips/s=%.0f p50_ms=%.2f "
                  "p99_ms=%.2f client_cpu=%.2f cores" % (n, rps, p50, p99,
                                                         cpu))
        dev.stop()
        agents.remove(dev)
        servers = [Agent(tmp, "srv%d" % i,
                         ["-server", "-bootstrap-expect", "3",
                          "-bind", "127.0.0.1", "-retry-interval", "1s"])
                   for i in range(3)]
        join = "127.0.0.1:%d" % servers[0].ports["serf_lan"]
        for s in servers[1:]:
            s.extra += ["-retry-join", join]
        for s in servers:
            s.start()
            agents.append(s)
        wait_leader(servers)
        for n in (1, 16):
            rps, p50, p99, cpu = round_trips(servers, n, secs,
                                             "bench/c%d" % n)
            print("3 servers   contenders=%-2d round_trips/s=%.0f p50_ms=%.2f "
                  "p99_ms=%.2f client_cpu=%.2f cores" % (n, rps, p50, p99,
                                                         cpu))
        seq = 0
        for kind in ("serfHealth", "ttl"):
            for delay in ("15s", "0s"):
                seq += 1
                r = failover(tmp, servers, kind, delay, seq)
                if r is None:
                    print("failover    session=%-10s lock_delay=%-3s "
                          "NOT ACQUIRED within 120 s" % (kind, delay))
                    continue
                print("failover    session=%-10s lock_delay=%-3s "
                      "kill->released=%.2fs kill->next_holder=%.2fs" %
                      (kind, delay, r[0], r[1]))
    finally:
        for a in agents:
            a.stop()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
