#!/usr/bin/python3
"""
bench/kv_cluster: a 3-server cairn cluster against a 3-member etcd
cluster (Debian's etcd-server) on the same machine, in the same run.
etcd is loaded two ways: through its v3 JSON gateway under the same load
generator as cairn (wrk; rows "etcd-gw"), and over gRPC, its native
protocol, with build/bench/etcdload (rows "etcd-grpc"; etcdload.go, the
shape of etcd's own `benchmark put|range`, which Debian does not ship:
N clients over ceil(N/10) connections by default).

- PUT throughput and p50/p99 latency at 1, 16, 64, 256 clients: cairn
  `PUT /v1/kv/bench/<t>/<n>`, etcd `POST /v3/kv/put` (v3 JSON gateway,
  base64 key and value); both on the leader, both fsync on (their
  defaults: cairn's group-committed synced RocksDB writes, etcd's WAL).
- GET throughput of one key: cairn default / ?stale / ?consistent, etcd
  serializable / linearizable (the default), gateway `POST /v3/kv/range`
  and gRPC Range; on the leader.
- ratios cairn/etcd-grpc and cairn/etcd-gw for each PUT and GET point.
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
# which etcd load generators: the JSON gateway under wrk, gRPC (etcdload)
ETCD_LOAD = os.environ.get("ETCD_LOAD", "gateway grpc").split()
ETCDLOAD = os.environ.get("ETCDLOAD",
                          os.path.join(ROOT, "build", "bench", "etcdload"))
# gRPC connections for N etcdload clients: GRPC_CONNS=<M> or ceil(N/10)
# (etcd's performance docs: 1,000 clients over 100 connections)
GRPC_CONNS = os.environ.get("GRPC_CONNS")
ATTEMPT_TIMEOUT = 0.2

PROCS = []  # every Popen started here
_PORTS = set()  # ports handed out in this run


def free_port():
    """A TCP and UDP port free on 127.0.0.1, never the same twice in a run."""
    for _ in range(50):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port in _PORTS:
            continue
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
        _PORTS.add(port)
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

    def grpc_put(self, lead, clients):
        return etcdload("127.0.0.1:%d" % self.members[lead]["client"],
                        ["-op", "put"], clients)

    def grpc_get(self, lead, q, clients):
        return etcdload("127.0.0.1:%d" % self.members[lead]["client"],
                        ["-op", "range", "-key", "bench/get",
                         "-consistency", "s" if q == "1" else "l"], clients)


def b64(s):
    import base64
    return base64.b64encode(s.encode()).decode()


def parse_result(out, who):
    for line in out.splitlines():
        if line.startswith("RESULT"):
            return dict(kv.split("=") for kv in line.split()[1:])
    raise RuntimeError("%s printed no RESULT:\n%s" % (who, out))


def grpc_conns(clients):
    if GRPC_CONNS:
        return min(clients, int(GRPC_CONNS))
    return (clients + 9) // 10


def etcdload(endpoint, args, clients):
    """build/bench/etcdload (etcd's `benchmark` shape) for DUR seconds."""
    argv = [ETCDLOAD, "-endpoints", endpoint, "-clients", str(clients),
            "-conns", str(grpc_conns(clients)), "-duration", str(DUR)] + args
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=DUR + 120)
    return parse_result(p.stdout + p.stderr, "etcdload")


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
    return parse_result(out, "wrk")


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


HEAD = "%-9s %-3s %-12s %7s %5s %8s %8s %8s %6s %5s"


def row(label, op, mode, clients, conns, r):
    print("%-9s %-3s %-12s %7d %5d %8s %8s %8s %6s %5s" % (
        label, op, mode, clients, conns, r["rps"], r["p50_us"], r["p99_us"],
        r["errors"], open("/proc/loadavg").read().split()[0]), flush=True)


def put_loaders(sysm, tmp):
    """(row label, connections for N clients, run(lead, clients))."""
    def by_wrk(lead, c):
        url, script, env = sysm.wrk_put(lead)
        return wrk(url, script, c, env, tmp)
    if sysm.name == "cairn":
        return [("cairn", lambda c: c, by_wrk)]
    out = []
    if "gateway" in ETCD_LOAD:
        out.append(("etcd-gw", lambda c: c, by_wrk))
    if "grpc" in ETCD_LOAD:
        out.append(("etcd-grpc", grpc_conns, sysm.grpc_put))
    return out


def get_loaders(sysm, tmp):
    """(row label, mode, connections, run(lead, clients)) per GET mode."""
    out = []
    for mode, q in sysm.get_modes():
        def by_wrk(lead, c, q=q):
            url, script, env = sysm.wrk_get(lead, q)
            return wrk(url, script, c, env, tmp)

        def by_grpc(lead, c, q=q):
            return sysm.grpc_get(lead, q, c)
        if sysm.name == "cairn":
            out.append(("cairn", mode, lambda c: c, by_wrk))
            continue
        if "gateway" in ETCD_LOAD:
            out.append(("etcd-gw", mode, lambda c: c, by_wrk))
        if "grpc" in ETCD_LOAD:
            out.append(("etcd-grpc", mode, grpc_conns, by_grpc))
    return out


def ratio(a, b, k):
    """a/b as "1.23x", or "-" if either side has no figure (no request
    acknowledged in the whole point: wrk then reports 0 req/s and 0 us)."""
    if float(a["rps"]) == 0 or float(b["rps"]) == 0:
        return "-"
    return "%.2fx" % (float(a[k]) / max(1.0, float(b[k])))


def ratios(res):
    """cairn against each etcd load generator measured in this run."""
    peers = [p for p in ("etcd-grpc", "etcd-gw")
             if any(k[0] == p for k in res)]
    if not peers or not any(k[0] == "cairn" for k in res):
        return
    puts = sorted({k[2] for k in res if k[1] == "PUT"})
    if puts:
        print("== PUT ratios cairn/etcd (req/s; p50 latency, < 1 is "
              "cairn faster)")
        for c in puts:
            print("  %3d clients:" % c + "".join(
                "  /%s %s req/s, p50 %s" % (
                    p, ratio(res[("cairn", "PUT", c)], res[(p, "PUT", c)],
                             "rps"),
                    ratio(res[("cairn", "PUT", c)], res[(p, "PUT", c)],
                          "p50_us"))
                for p in peers if (p, "PUT", c) in res))
    gets = sorted({k[2] for k in res if k[1] != "PUT"})
    if gets:
        print("== GET ratios cairn/etcd (req/s)")
    for c in gets:
        for ca, eb in (("stale", "serializable"),
                       ("consistent", "linearizable"),
                       ("default", "linearizable")):
            if ("cairn", ca, c) not in res:
                continue
            print("  %3d clients: cairn %-10s / etcd %-12s:" % (c, ca, eb) +
                  "".join("  /%s %s" % (
                      p, ratio(res[("cairn", ca, c)], res[(p, eb, c)],
                               "rps"))
                      for p in peers if (p, eb, c) in res))


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
        print("== %d s per point, load on the leader; cairn and etcd-gw "
              "under wrk (one connection per client), etcd-grpc under "
              "etcdload" % DUR)
        res = {}
        if "put" in PHASES or "get" in PHASES:
            print(HEAD % ("system", "op", "mode", "clients", "conns",
                          "req/s", "p50_us", "p99_us", "errors", "load1"))
        if "put" in PHASES:
            for c in PUT_CONNS:
                for sysm in systems:
                    for label, conns, run in put_loaders(sysm, tmp):
                        r = run(stable_leader(sysm), c)
                        res[(label, "PUT", c)] = r
                        row(label, "PUT", "-", c, conns(c), r)
        if "get" in PHASES:
            for c in GET_CONNS:
                for sysm in systems:
                    for label, mode, conns, run in get_loaders(sysm, tmp):
                        r = run(stable_leader(sysm), c)
                        res[(label, mode, c)] = r
                        row(label, "GET", mode, c, conns(c), r)
        ratios(res)
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
