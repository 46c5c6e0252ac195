#!/usr/bin/python3
"""
bench/kv_cluster: a 3-server cairn cluster against a 3-member etcd
cluster (Debian's etcd-server) on the same machine, in the same run,
under the same load generator (wrk).

- PUT throughput and p50/p99 latency at 1, 16, 64, 256 clients: cairn
  `PUT /v1/kv/bench/<t>/<n>`, etcd `POST /v3/kv/put` (v3 JSON gateway,
  base64 key and value); both on the leader, both fsync on (their
  defaults: cairn's group-committed synced RocksDB writes, etcd's WAL).
- GET throughput of one key: cairn default / ?stale / ?consistent, etcd
  serializable / linearizable (the default); on the leader.
- failover: kill -9 of the leader's Raft process (cairn: raftd; etcd:
  etcd), then writes through a surviving member, each attempt with a
  200 ms timeout, until one is acknowledged; the time from the kill to
  that acknowledgement; the killed process restarts and catches up
  before the next kill. p50 and max over KILLS kills.

Both clusters run with a 1 s election timeout (cairn raft_multiplier 1,
etcd's default) and 100 ms heartbeats. Every process is started and
stopped here by PID. Run through run.sh; prints a table for
bench/RESULTS.md.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("B", os.path.join(ROOT, "build"))
DUR = int(os.environ.get("DUR", "5"))
PUT_CONNS = [int(c) for c in os.environ.get("CONNS", "1 16 64 256").split()]
GET_CONNS = [int(c) for c in os.environ.get("GET_CONNS", "64").split()]
KILLS = int(os.environ.get("KILLS", "20"))
ONLY = os.environ.get("ONLY", "cairn etcd").split()
PHASES = os.environ.get("PHASES", "put get failover").split()
ATTEMPT_TIMEOUT = 0.2

PROCS = []  # every Popen started here


def free_port():
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
        return port
    raise RuntimeError("no free port")


def spawn(argv, log):
    f = open(log, "ab")
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    f.close()
    PROCS.append(p)
    return p


def kill9(p):
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()


def stop_all():
    for p in PROCS:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in PROCS:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except (requests.RequestException, ValueError, KeyError) as e:
            last = e
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for %s (%r)" % (what, last))


class Cairn:
    name = "cairn"
    ROLES = ("gossipd", "raftd", "httpd")

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "cairn")
        self.nodes = []
        conf = os.path.join(tmp, "cairn.json")
        with open(conf, "w") as f:
            json.dump({"performance": {"raft_multiplier": 1},
                       "retry_interval": "1s",
                       "limits": {"http_max_conns_per_client": 1024}}, f)
        for i in range(3):
            d = os.path.join(self.dir, "n%d" % (i + 1))
            os.makedirs(d)
            ports = {k: free_port() for k in
                     ("http", "dns", "server", "serf_lan", "serf_wan")}
            self.nodes.append({"dir": d, "ports": ports, "procs": {},
                               "name": "kc%d" % (i + 1)})
        for i, n in enumerate(self.nodes):
            n["flags"] = [
                "-server", "-bootstrap-expect", "3", "-bind", "127.0.0.1",
                "-node", n["name"], "-data-dir", os.path.join(n["dir"], "data"),
                "-config-file", conf,
                "-log-level", os.environ.get("LOG_LEVEL", "warn")] + sum(
                (["-%s-port" % k.replace("_", "-"), str(v)]
                 for k, v in n["ports"].items()), [])
            if i > 0:
                n["flags"] += ["-retry-join", "127.0.0.1:%d" %
                               self.nodes[0]["ports"]["serf_lan"]]

    def start_role(self, i, role):
        n = self.nodes[i]
        n["procs"][role] = spawn([os.path.join(B, role)] + n["flags"],
                                 os.path.join(n["dir"], role + ".log"))

    def start(self):
        for i in range(3):
            for role in self.ROLES:
                self.start_role(i, role)

    def url(self, i):
        return "http://127.0.0.1:%d" % self.nodes[i]["ports"]["http"]

    def leader(self):
        """Index of the node all three name as leader, or None."""
        ls = {requests.get(self.url(i) + "/v1/status/leader",
                           timeout=2).json() for i in range(3)}
        if len(ls) != 1 or "" in ls:
            return None
        addr = ls.pop()
        for i, n in enumerate(self.nodes):
            if addr == "127.0.0.1:%d" % n["ports"]["server"]:
                return i
        return None

    def applied(self, i):
        r = requests.get(self.url(i) + "/v1/agent/self", timeout=2)
        return int(r.json()["Stats"]["raft"]["applied_index"])

    def stable(self):
        """One agreed leader, every server applied the same index."""
        lead = self.leader()
        if lead is None:
            return None
        if len({self.applied(i) for i in range(3)}) != 1:
            return None
        return lead

    def put(self, s, i, key, val, timeout):
        r = s.put(self.url(i) + "/v1/kv/" + key, data=val, timeout=timeout)
        return r.status_code == 200 and r.json() is True

    def seed_get(self):
        assert self.put(requests, 0, "bench/get", "value-0123456789", 10)

    def kill_raft(self, i):
        kill9(self.nodes[i]["procs"]["raftd"])

    def restart_raft(self, i):
        self.start_role(i, "raftd")

    def wrk_put(self, lead):
        return (self.url(lead), os.path.join(HERE, "cairn_put.lua"), {})

    def get_modes(self):
        return [("default", ""), ("stale", "?stale"),
                ("consistent", "?consistent")]

    def wrk_get(self, lead, q):
        return (self.url(lead) + "/v1/kv/bench/get" + q, None, {})


class Etcd:
    name = "etcd"

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "etcd")
        self.members = []
        for i in range(3):
            d = os.path.join(self.dir, "e%d" % (i + 1))
            os.makedirs(d)
            self.members.append({"name": "e%d" % (i + 1), "dir": d,
                                 "client": free_port(), "peer": free_port()})
        cluster = ",".join("%s=http://127.0.0.1:%d" % (m["name"], m["peer"])
                           for m in self.members)
        for m in self.members:
            m["argv"] = [
                shutil.which("etcd"), "--name", m["name"],
                "--data-dir", os.path.join(m["dir"], "data"),
                "--listen-client-urls", "http://127.0.0.1:%d" % m["client"],
                "--advertise-client-urls",
                "http://127.0.0.1:%d" % m["client"],
                "--listen-peer-urls", "http://127.0.0.1:%d" % m["peer"],
                "--initial-advertise-peer-urls",
                "http://127.0.0.1:%d" % m["peer"],
                "--initial-cluster", cluster,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", "cairn-bench",
                "--logger", "zap", "--log-level", "warn"]

    def start_member(self, i):
        m = self.members[i]
        m["proc"] = spawn(m["argv"], os.path.join(m["dir"], "etcd.log"))

    def start(self):
        for i in range(3):
            self.start_member(i)

    def url(self, i):
        return "http://127.0.0.1:%d" % self.members[i]["client"]

    def status(self, i):
        r = requests.post(self.url(i) + "/v3/maintenance/status", data="{}",
                          timeout=2)
        return r.json()

    def stable(self):
        st = [self.status(i) for i in range(3)]
        leaders = {s.get("leader") for s in st}
        if len(leaders) != 1 or None in leaders or "0" in leaders:
            return None
        if len({s.get("raftIndex") for s in st}) != 1:
            return None
        lead = leaders.pop()
        for i, s in enumerate(st):
            if s["header"]["member_id"] == lead:
                return i
        return None

    def put(self, s, i, key, val, timeout):
        body = json.dumps({"key": b64(key), "value": b64(val)})
        r = s.post(self.url(i) + "/v3/kv/put", data=body, timeout=timeout)
        return r.status_code == 200 and "header" in r.json()

    def seed_get(self):
        assert self.put(requests, 0, "bench/get", "value-0123456789", 10)

    def kill_raft(self, i):
        kill9(self.members[i]["proc"])

    def restart_raft(self, i):
        self.start_member(i)

    def wrk_put(self, lead):
        return (self.url(lead), os.path.join(HERE, "etcd_put.lua"), {})

    def get_modes(self):
        return [("serializable", "1"), ("linearizable", "0")]

    def wrk_get(self, lead, q):
        return (self.url(lead), os.path.join(HERE, "etcd_get.lua"),
                {"SERIALIZABLE": q})


def b64(s):
    import base64
    return base64.b64encode(s.encode()).decode()


def wrk(url, script, conns, env, tmp):
    done = os.path.join(ROOT, "bench", "kv_single", "done.lua")
    lua = os.path.join(tmp, "wrk.lua")
    with open(lua, "w") as f:
        if script:
            with open(script) as s:
                f.write(s.read())
        with open(done) as s:
            f.write(s.read())
    e = dict(os.environ)
    e.update(env)
    t = 1 if conns == 1 else 2
    out = subprocess.run(["wrk", "-t%d" % t, "-c%d" % conns,
                          "-d%ds" % DUR, "-s", lua, url],
                         capture_output=True, text=True, env=e).stdout
    for line in out.splitlines():
        if line.startswith("RESULT"):
            return dict(kv.split("=") for kv in line.split()[1:])
    raise RuntimeError("wrk printed no RESULT:\n" + out)


def stable_leader(sysm, timeout=60):
    """The leader's index once sysm is stable (index 0 is falsy)."""
    def pred():
        lead = sysm.stable()
        return None if lead is None else (lead,)
    return wait_until(pred, timeout, "%s stable" % sysm.name)[0]


def failover(sysm, kills):
    """Times from kill -9 of the leader's Raft process to the first
    write acknowledged through a survivor."""
    times = []
    s = requests.Session()
    for k in range(kills):
        lead = stable_leader(sysm)
        probe = (lead + 1) % 3
        assert sysm.put(s, probe, "fo/warm", "w", 5)
        t0 = time.monotonic()
        sysm.kill_raft(lead)
        n = 0
        while True:
            n += 1
            try:
                if sysm.put(s, probe, "fo/%d-%d" % (k, n), "x",
                            ATTEMPT_TIMEOUT):
                    break
            except (requests.RequestException, ValueError):
                s.close()
                s = requests.Session()
            if time.monotonic() - t0 > 60:
                raise RuntimeError("%s: no write 60 s after a kill" %
                                   sysm.name)
        took = time.monotonic() - t0
        times.append(took)
        sysm.restart_raft(lead)
        print("  %s kill %2d: first acknowledged write after %.3f s" %
              (sysm.name, k + 1, took), flush=True)
    return times


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-kvc-")
    systems = []
    try:
        if "cairn" in ONLY:
            systems.append(Cairn(tmp))
        if "etcd" in ONLY:
            systems.append(Etcd(tmp))
        for sysm in systems:
            sysm.start()
        for sysm in systems:
            stable_leader(sysm)
            wait_until(lambda: sysm.seed_get() is None, 30,
                       "%s seed write" % sysm.name)
        print("== machine: %d cores, load average %s" % (
            os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
        print("== wrk %d s per point, load on the leader" % DUR)
        res = {}
        if "put" in PHASES:
            print("%-6s %-4s %-13s %5s %10s %9s %9s %7s" % (
                "system", "op", "mode", "conns", "req/s", "p50_us",
                "p99_us", "errors"))
            for c in PUT_CONNS:
                for sysm in systems:
                    lead = stable_leader(sysm)
                    url, script, env = sysm.wrk_put(lead)
                    r = wrk(url, script, c, env, tmp)
                    res[(sysm.name, "PUT", c)] = r
                    print("%-6s %-4s %-13s %5d %10s %9s %9s %7s" % (
                        sysm.name, "PUT", "-", c, r["rps"], r["p50_us"],
                        r["p99_us"], r["errors"]), flush=True)
        if "get" in PHASES:
            for c in GET_CONNS:
                for sysm in systems:
                    lead = stable_leader(sysm)
                    for mode, q in sysm.get_modes():
                        url, script, env = sysm.wrk_get(lead, q)
                        r = wrk(url, script, c, env, tmp)
                        res[(sysm.name, mode, c)] = r
                        print("%-6s %-4s %-13s %5d %10s %9s %9s %7s" % (
                            sysm.name, "GET", mode, c, r["rps"],
                            r["p50_us"], r["p99_us"], r["errors"]),
                            flush=True)
        if "put" in PHASES and len(systems) == 2:
            print("== PUT ratios cairn/etcd (throughput; p50 latency)")
            for c in PUT_CONNS:
                a, b = res[("cairn", "PUT", c)], res[("etcd", "PUT", c)]
                print("  %3d clients: %.2fx req/s, p50 %.2fx" % (
                    c, float(a["rps"]) / float(b["rps"]),
                    float(a["p50_us"]) / max(1.0, float(b["p50_us"]))))
        if "get" in PHASES and len(systems) == 2:
            print("== GET ratios (req/s)")
            for c in GET_CONNS:
                for ca, eb in (("stale", "serializable"),
                               ("consistent", "linearizable"),
                               ("default", "linearizable")):
                    a, b = res[("cairn", ca, c)], res[("etcd", eb, c)]
                    print("  %3d clients: cairn %s / etcd %s: %.2fx" % (
                        c, ca, eb, float(a["rps"]) / float(b["rps"])))
        if "failover" in PHASES:
            print("== failover: kill -9 of the leader -> first acknowledged "
                  "write (%d kills, %d ms attempts)" %
                  (KILLS, ATTEMPT_TIMEOUT * 1000))
            fo = {}
            for sysm in systems:
                fo[sysm.name] = failover(sysm, KILLS)
            for name, ts in fo.items():
                print("  %-6s p50 %.3f s, max %.3f s, min %.3f s" % (
                    name, statistics.median(ts), max(ts), min(ts)))
        print("== machine: %d cores, load average %s" % (
            os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
    finally:
        stop_all()
        if os.environ.get("KEEP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
