"""
Crash faults of a real Raft cluster (issue 4, item 6): servers on
127.0.0.1, each node run as separate roles (gossipd, raftd, httpd) so
that one test can `kill -9` a single raftd and start it again.

- set workload under a crash of the leader: writer threads PUT unique
  keys through every server and record the PUTs acknowledged `true`;
  the leader's raftd is killed mid-load; a new leader must take a write
  within a bound; the killed raftd restarts and catches up; then every
  acknowledged key is present with its acknowledged value on every
  server (read locally with ?stale once all have applied the same index).
  Run twice: with Consul's snapshot settings (the restarted server
  catches up from the log) and with a threshold so low that the new
  leader has compacted past it (it catches up from an InstallSnapshot,
  seen in its log and in Stats.raft.last_snapshot_index).
- five servers elect one leader that all agree on, and elect another
  when the leader's raftd is killed; the old one rejoins as follower.

Timing runs with performance.raft_multiplier 1 (a 500 ms election timeout).
Reference: spec/fault-testing.md §3.4 (crash) and §4 (set workload).
"""
import random
import threading
import time

import requests

from conftest import check_no_lost_writes, start_servers, wait_until

ROLES = ("gossipd", "raftd", "httpd")


def _server_addr(n):
    return "127.0.0.1:%d" % n.ports["server"]


def make_cluster(node_factory, count, prefix, conf=None):
    """count servers with -bootstrap-expect count, joined by -retry-join,
    each with conf (a dict) as a config file; roles started, no wait."""
    base = {"performance": {"raft_multiplier": 1}}
    base.update(conf or {})
    return start_servers(node_factory, count, prefix, conf=base, roles=ROLES)


def leaders(nodes):
    return {n.get("/v1/status/leader", timeout=3).json() for n in nodes}


def wait_one_leader(nodes, not_addr=None, timeout=40):
    """All nodes name the same non-empty leader (not not_addr)."""
    def agreed():
        ls = leaders(nodes)
        if len(ls) == 1 and "" not in ls and not_addr not in ls:
            return ls.pop()
        return None
    return wait_until(agreed, timeout=timeout, interval=0.1,
                      what="one leader agreed by %s" %
                      [n.name for n in nodes])


def by_addr(nodes, addr):
    return next(n for n in nodes if _server_addr(n) == addr)


def raft_stats(n):
    r = n.get("/v1/agent/self", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["Stats"]["raft"]


class Writers:
    """Threads writing unique keys set/<w>-<seq> through the given nodes.
    A PUT answered 200 `true` is acknowledged; anything else (5xx,
    timeout, reset) is indeterminate and may or may not have applied."""

    def __init__(self, nodes, count, prefix):
        self.nodes = nodes
        self.prefix = prefix
        self.acked = {}  # key -> value
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(w,),
                                         daemon=True)
                        for w in range(count)]
        self.attempts = 0
        self.failures = 0
        self.down = set()  # names of nodes whose raftd is down: skipped

    def run(self, w):
        s = requests.Session()
        rnd = random.Random(w)
        seq = 0
        while not self.stop_ev.is_set():
            n = self.nodes[(w + seq) % len(self.nodes)]
            if n.name in self.down:
                # its httpd answers 5xx only after its IPC timeout
                seq += 1
                continue
            key = "%s/%d-%d" % (self.prefix, w, seq)
            val = "v%d-%d-%08x" % (w, seq, rnd.getrandbits(32))
            seq += 1
            ok = False
            try:
                r = s.put(n.url("/v1/kv/" + key), data=val, timeout=10)
                ok = r.status_code == 200 and r.json() is True
            except (requests.RequestException, ValueError):
                pass
            with self.lock:
                self.attempts += 1
                if ok:
                    self.acked[key] = val
                else:
                    self.failures += 1
            if not ok:
                time.sleep(0.05)
        s.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def count(self):
        with self.lock:
            return len(self.acked)

    def wait_acked(self, more, timeout=30):
        target = self.count() + more
        wait_until(lambda: self.count() >= target, timeout=timeout,
                   interval=0.05, what="%d more acknowledged writes" % more)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in self.threads)


def crash_leader_under_load(node_factory, prefix, conf, writes_while_down):
    nodes = make_cluster(node_factory, 3, prefix, conf)
    leader = wait_one_leader(nodes)
    for n in nodes:
        wait_until(lambda: n.get("/v1/kv/?keys", timeout=3).status_code
                   in (200, 404), timeout=15, what="%s KV path" % n.name)
    w = Writers(nodes, 6, "set").start()
    try:
        w.wait_acked(60)
        old = by_addr(nodes, leader)
        rest = [n for n in nodes if n is not old]
        before = old.log("raftd").count("installed a snapshot")

        t0 = time.monotonic()
        old.kill("raftd")
        w.down.add(old.name)
        # the first write acknowledged after the kill, through a survivor
        took = None
        probe = rest[0]
        while took is None:
            try:
                r = probe.put("/v1/kv/set/probe-%d" % int(t0 * 1000),
                              data="p", timeout=10)
                if r.status_code == 200 and r.json() is True:
                    took = time.monotonic() - t0
                    with w.lock:
                        w.acked["set/probe-%d" % int(t0 * 1000)] = "p"
            except requests.RequestException:
                pass
            assert time.monotonic() - t0 < 20, "no write taken after kill"
        new = wait_one_leader(rest, not_addr=leader, timeout=10)
        assert new != leader
        assert took < 5.0, "first write %.2f s after kill -9" % took

        w.wait_acked(writes_while_down, timeout=60)
        old.start_role("raftd")
        # it rejoins as a follower of the new leader and catches up
        assert wait_one_leader(nodes, timeout=20) == new
        w.down.discard(old.name)
        w.wait_acked(30)
    finally:
        w.stop()
    assert w.count() > 100 + writes_while_down
    check_no_lost_writes(nodes, dict(w.acked), "set")
    print("%s: first write %.2f s after kill -9, %d acked, %d not" % (
        prefix, took, w.count(), w.failures))
    return old, before, took


def test_kill_leader_catch_up_from_log(node_factory):
    old, before, took = crash_leader_under_load(
        node_factory, "fl", None, 50)
    log = old.log("raftd")
    assert log.count("installed a snapshot") == before, \
        "caught up from a snapshot, expected the log"
    assert int(raft_stats(old)["last_snapshot_index"]) == 0


def test_kill_leader_catch_up_from_snapshot(node_factory):
    # a snapshot every 64 applied entries, 16 kept behind it: 300 writes
    # while the old leader is down put its next index out of the log
    conf = {"raft_snapshot_threshold": 64, "raft_trailing_logs": 16}
    old, before, took = crash_leader_under_load(
        node_factory, "fs", conf, 300)
    log = old.log("raftd")
    assert log.count("installed a snapshot") > before, log[-3000:]
    assert int(raft_stats(old)["last_snapshot_index"]) > 0


def test_five_servers_elect_and_reelect(node_factory):
    nodes = make_cluster(node_factory, 5, "f5")
    leader = wait_one_leader(nodes)
    conf = nodes[3].get("/v1/operator/raft/configuration").json()
    assert len(conf["Servers"]) == 5
    assert [s["Address"] for s in conf["Servers"] if s["Leader"]] == [leader]
    assert all(s["Voter"] for s in conf["Servers"])
    old = by_addr(nodes, leader)
    rest = [n for n in nodes if n is not old]
    old.kill("raftd")
    t0 = time.monotonic()
    new = wait_one_leader(rest, not_addr=leader, timeout=15)
    took = time.monotonic() - t0
    assert took < 5.0, took
    terms = {int(raft_stats(n)["term"]) for n in rest}
    assert len(terms) == 1, terms
    r = rest[0].put("/v1/kv/five", data="x")
    assert r.status_code == 200 and r.json() is True, r.text
    old.start_role("raftd")
    assert wait_one_leader(nodes, timeout=20) == new
    wait_until(lambda: old.get("/v1/kv/five?stale&raw", timeout=3).text == "x",
               timeout=10, what="the old leader has the new write")
    assert raft_stats(old)["state"] == "Follower"
