"""
Disk faults under raftd (spec/fault-testing.md §3.6, matrix rows F28,
F29 and the EIO half of F31): the disk fills up, or fdatasync fails with EIO. raftd keeps
its Raft log in pre-zeroed segment files (raftd/raftlog.c) and the state
in RocksDB; a failed log append or state write makes it exit (fatalx)
before anything more is acknowledged, and `cairn agent` restarts it with
a back-off. What must hold, checked here through the HTTP API:

  - ENOSPC on a single server, on a tmpfs data dir this test mounts and
    fills with a file of its own. Two places: "state" fills the disk at
    once, so the state writes (RocksDB WAL, memtable flush) fail first;
    "segment" first writes until the newest log segment has no room for
    the next entry, then fills the disk, so the next append must make a
    new 8 MiB segment and fails (the log append path). Writes fail with
    a 5xx or a connection error within a bound, never a 4xx and never a
    hang; once the filler is deleted, PUTs work again by themselves,
    every PUT acknowledged 200 `true` (also those acknowledged while the
    disk was full) reads back with its value (?consistent), raftd logged
    no damage/corruption, and an agent restarted on the same data dir
    still has them all.
  - fdatasync/fsync fail with EIO (the LD_PRELOAD shim fsfault.c, built
    here, switched on by a control file) in ONE server of three:
      * a follower: the majority keeps acknowledging writes, the
        follower's raftd exits and keeps exiting while the file exists;
        once it is removed it catches up (its ?stale read returns the
        last acknowledged value);
      * the leader: it exits, another server becomes leader and takes
        writes; after removing the file the old leader rejoins.
    Each time every acknowledged key is present with its value on all
    three servers (?stale, once all applied the same index).
  - ENOSPC on a follower of three (F28): its data dir is a tmpfs this
    test fills while writes go on through the leader; the follower's
    raftd exits, the majority keeps acknowledging; once the filler is
    deleted it comes back by itself and catches up, and every
    acknowledged key is on all three servers.

Run as root (mount). Each write's client timeout is 15 s; a 5xx there
takes raftd's IPC timeout (a few seconds), so latency is bounded by 15 s.

raftd ends by its own fatal exit (status 1), never by a signal: with
RocksDB's text LOG on, Debian's 7.8.3 (built with assertions) aborted
raftd from a background thread on the log line after a failed LOG write
(`Assertion sync_without_flush_called_` in WritableFileWriter); store.c
now keeps that LOG empty.
"""
import errno
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import (check_no_lost_writes, stale_kv, start_servers,
                      stop_nodes, wait_until)

HERE = os.path.dirname(os.path.abspath(__file__))
REQ_TIMEOUT = 15.0
LAT_BOUND = REQ_TIMEOUT - 0.5  # a request that took this long hung
BAD_LOG = ("corrupt", "damaged", "not a cairn log segment")

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="mounts a tmpfs: needs root")


# ------------------------------------------------------------ helpers

def raftd_ends(node):
    """How node's agent saw its raftd end, each time (exit status or
    signal)."""
    return [ln.split("cairn[", 1)[1].split(": ", 1)[1].split(";")[0]
            for ln in node.log("agent").splitlines()
            if "cairn[" in ln and ("raftd exited" in ln or
                                   "raftd was killed" in ln)]


def raftd_exits(node):
    return len(raftd_ends(node))


def assert_clean_ends(node):
    ends = raftd_ends(node)
    assert all(e.startswith("raftd exited with status") for e in ends), ends


def agent_running(node):
    """Waits for the agent's banner: until then it counts a role that
    ends as a failed start-up and stops (cli/cmd_agent.c), where a fault
    test wants the role restarted."""
    wait_until(lambda: "==> Cairn agent running!" in node.log("agent"),
               timeout=40, interval=0.05,
               what="%s's agent to be running" % node.name)


def raftd_trouble(node):
    """raftd's warnings, fatal errors and aborts, for the summary."""
    return [ln for ln in node.log("agent").splitlines()
            if ("raftd[" in ln and (" warn: " in ln or " fatal: " in ln))
            or "Assertion" in ln]


def fatal_lines(node):
    return [ln for ln in node.log("agent").splitlines()
            if "raftd[" in ln and " fatal: " in ln]


def bad_lines(node):
    return [ln for ln in node.log("agent").splitlines()
            if any(b in ln.lower() for b in BAD_LOG)]


def try_put(session, node, key, val):
    """One PUT: ("ok", secs, None) when acknowledged 200 `true`, else
    ("fail", secs, what) for a 5xx or a connection error (indeterminate),
    ("bad", secs, what) for a 4xx or a 200 other than `true`."""
    t0 = time.monotonic()
    try:
        r = session.put(node.url("/v1/kv/" + key), data=val,
                        timeout=REQ_TIMEOUT)
    except requests.RequestException as e:
        return ("fail", time.monotonic() - t0, type(e).__name__)
    dt = time.monotonic() - t0
    if r.status_code == 200 and r.text.strip() == "true":
        return ("ok", dt, None)
    if r.status_code >= 500:
        return ("fail", dt, "%d %s" % (r.status_code, r.text.strip()[:80]))
    return ("bad", dt, "%d %s" % (r.status_code, r.text.strip()[:80]))


def fill(path):
    """Writes path until the file system is full; returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    total = 0
    try:
        for chunk in (1 << 20, 4096):
            buf = b"\xa5" * chunk
            while True:
                try:
                    n = os.write(fd, buf)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
                total += n
                if n < chunk:
                    break
    finally:
        os.close(fd)
    return total


def seg_room(data_dir):
    """Bytes left after the last record of the newest log segment
    (segments are zero-filled when made: the tail is the last non-zero
    byte)."""
    d = os.path.join(data_dir, "raft", "raftlog")
    segs = sorted(f for f in os.listdir(d) if f.endswith(".seg"))
    with open(os.path.join(d, segs[-1]), "rb") as f:
        data = f.read()
    return len(data) - len(data.rstrip(b"\0"))


def big_value(rnd, size):
    return "%x-" % rnd.getrandbits(64) + "".join(
        rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(64)) * (size // 64)


def read_back(node, acked):
    """Every acknowledged key has its value (?consistent)."""
    for k, v in acked.items():
        r = node.get("/v1/kv/%s?consistent&raw" % k, timeout=REQ_TIMEOUT)
        assert r.status_code == 200, "acknowledged %s: %d %s" % (
            k, r.status_code, r.text[:100])
        assert r.text == v, "acknowledged %s has another value" % k


# ------------------------------------------------------- ENOSPC, 1 server

@pytest.mark.parametrize("where,size", [("state", "24m"),
                                        ("segment", "48m")])
def test_enospc_single_server(node_factory, where, size):
    n = node_factory(name="full-" + where, dev=False,
                     extra=["-server", "-bootstrap-expect", "1",
                            "-bind", "127.0.0.1"])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs",
                    n.data_dir], check=True)
    s = requests.Session()
    rnd = random.Random(where)
    acked, fails, lat = {}, [], []
    try:
        n.start_agent()
        agent_running(n)
        seq = 0

        def put(val):
            nonlocal seq
            key = "full/%d" % seq
            seq += 1
            res = try_put(s, n, key, val)
            lat.append(res[1])
            assert res[0] != "bad", "%s: %s" % (key, res[2])
            if res[0] == "ok":
                acked[key] = val
            else:
                fails.append((key, res[2]))
            return res[0] == "ok"

        for _ in range(5):
            assert put(big_value(rnd, 100 << 10))
        vsize = 400 << 10
        if where == "segment":
            # until the newest segment cannot take one more such value
            while seg_room(n.data_dir) > vsize + 4096:
                assert put(big_value(rnd, vsize)), fails
            vsize += 8192
        filler = os.path.join(n.data_dir, "filler")
        filled = fill(filler)
        exits0 = raftd_exits(n)

        # writes must start failing well before 40 more of them fit
        for _ in range(40):
            if not put(big_value(rnd, vsize)):
                break
        assert fails, "%d writes acknowledged on a full disk" % len(acked)
        # go on while the disk is full until raftd was seen to exit and
        # be restarted into the full disk at least once (or 6 s)
        t_end = time.monotonic() + 6
        while time.monotonic() < t_end and raftd_exits(n) < exits0 + 2:
            if not put(big_value(rnd, vsize)):
                time.sleep(0.1)
        assert raftd_exits(n) > exits0, \
            "raftd did not exit on ENOSPC; failures %s; log:\n%s" % (
                fails[:5], n.log("agent")[-3000:])
        fatals = fatal_lines(n)
        if where == "segment":
            # the append that needed a new segment on the full disk
            assert any("log append" in ln for ln in fatals), fatals
            assert "raftlog: cannot make segment" in n.log("agent")

        os.unlink(filler)
        t_free = time.monotonic()
        probe = {}

        def writable():
            v = "after-%d" % time.monotonic_ns()
            if try_put(s, n, "full/after", v)[0] == "ok":
                probe["full/after"] = v
                return True
            return False
        wait_until(writable, timeout=45, interval=0.2,
                   what="a PUT to work again after freeing %d bytes" % filled)
        recovered = time.monotonic() - t_free
        acked.update(probe)
        read_back(n, acked)
        assert max(lat) < LAT_BOUND, "a PUT took %.1f s" % max(lat)
        assert not bad_lines(n), bad_lines(n)

        # raftd opens the data dir left by the episode from scratch
        n.stop()
        n.http = requests.Session()
        n.start_agent()
        agent_running(n)
        read_back(n, acked)
        assert not bad_lines(n), bad_lines(n)
        assert_clean_ends(n)
        print("\nENOSPC %s: %d acknowledged, %d failed (%s), raftd %s,"
              " PUT works %.1f s after freeing; fatal: %s" % (
                  where, len(acked), len(fails),
                  sorted({f[1] for f in fails}), raftd_ends(n), recovered,
                  sorted({ln.split(" fatal: ")[1] for ln in fatals})))
        print("\n".join(raftd_trouble(n)))
    finally:
        s.close()
        n.stop()
        subprocess.run(["umount", n.data_dir], check=False)


# ------------------------------------------- fdatasync EIO, 3 servers

@pytest.fixture(scope="module")
def shim():
    d = tempfile.mkdtemp(prefix="cairn-fsfault-")
    so = os.path.join(d, "fsfault.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", so,
                    os.path.join(HERE, "fsfault.c"), "-ldl"], check=True)
    yield so
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(shim):
    """Three agents, each with the shim preloaded (inert until the
    node's own control file <dir>/fsfault.on exists), faults limited to
    raftd."""
    nodes = []
    try:
        start_servers(nodes, 3, "eio",
                      conf={"performance": {"raft_multiplier": 1}},
                      start=False)
        for n in nodes:
            n.fault = os.path.join(n.dir, "fsfault.on")
            # under CAIRN_BUILD=build/asan the shim comes before ASan's
            # runtime, which it refuses unless told it is fine
            asan = n.env.get("ASAN_OPTIONS", "")
            n.env.update({"LD_PRELOAD": shim, "FSFAULT_FILE": n.fault,
                          "FSFAULT_PROG": "raftd",
                          "ASAN_OPTIONS": (asan + ":" if asan else "") +
                          "verify_asan_link_order=0"})
            n.start_agent(wait=False)
        wait_leader(nodes)
        for n in nodes:
            agent_running(n)
        yield nodes
    finally:
        stop_nodes(nodes)


def addr(n):
    return "127.0.0.1:%d" % n.ports["server"]


def wait_leader(nodes, timeout=40):
    """The node all of nodes agree is the leader (one of them: a server
    that stopped is still named for an election timeout)."""
    mine = {addr(n) for n in nodes}

    def agreed():
        ls = {n.get("/v1/status/leader", timeout=3).json() for n in nodes}
        return ls.pop() if len(ls) == 1 and ls <= mine else None
    a = wait_until(agreed, timeout=timeout, interval=0.1,
                   what="one leader agreed by %s" % [n.name for n in nodes])
    return next(n for n in nodes if addr(n) == a)


class Writers:
    """One thread per node writing unique keys <prefix>/<node>-<seq>
    (values padded with pad bytes) through it; acknowledged (200 `true`)
    ones are kept with the time."""

    def __init__(self, nodes, prefix, pad=0):
        self.nodes, self.prefix, self.pad = nodes, prefix, pad
        self.acked = {}   # key -> (value, node name, monotonic time)
        self.bad = []
        self.maxlat = 0.0
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,),
                                         daemon=True) for n in nodes]

    def run(self, n):
        s = requests.Session()
        seq = 0
        while not self.stop_ev.is_set():
            key = "%s/%s-%d" % (self.prefix, n.name, seq)
            val = "v-%d-%d" % (seq, time.monotonic_ns())
            val += "." * self.pad
            seq += 1
            res = try_put(s, n, key, val)
            with self.lock:
                self.maxlat = max(self.maxlat, res[1])
                if res[0] == "ok":
                    self.acked[key] = (val, n.name, time.monotonic())
                elif res[0] == "bad":
                    self.bad.append((key, res[2]))
            if res[0] != "ok":
                time.sleep(0.05)
        s.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def count(self, via=None):
        with self.lock:
            return sum(1 for a in self.acked.values()
                       if via is None or a[1] in via)

    def wait_more(self, more, via=None, timeout=30):
        target = self.count(via) + more
        wait_until(lambda: self.count(via) >= target, timeout=timeout,
                   interval=0.05, what="%d more writes acknowledged via %s"
                   % (more, via or "any node"))

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=REQ_TIMEOUT + 5)
        assert not any(t.is_alive() for t in self.threads)
        assert not self.bad, self.bad[:5]
        assert self.maxlat < LAT_BOUND, "a PUT took %.1f s" % self.maxlat


def check_all_present(nodes, acked, prefix):
    """check_no_lost_writes on this file's acked: {key: (value, ...)}."""
    check_no_lost_writes(nodes, {k: v[0] for k, v in acked.items()}, prefix)


def eio_episode(nodes, victim, writers, prefix):
    """Switches the fault on in victim's raftd until it has exited twice
    (the restart failed too) while the others keep acknowledging writes
    through themselves, then off; returns (seconds on, acks while on)."""
    others = [n for n in nodes if n is not victim]
    names = [n.name for n in others]
    exits0 = raftd_exits(victim)
    hits = victim.fault + ".hits"
    t_on = time.monotonic()
    open(victim.fault, "w").close()
    try:
        wait_until(lambda: raftd_exits(victim) >= exits0 + 1, timeout=20,
                   interval=0.05, what="%s's raftd to exit on EIO"
                   % victim.name)
        assert os.path.exists(hits), "the shim never failed a sync"
        wait_leader(others, timeout=30)  # the same or a new one
        writers.wait_more(20, via=names, timeout=30)
        # its restart into the failing disk fails as well
        wait_until(lambda: raftd_exits(victim) >= exits0 + 2, timeout=20,
                   interval=0.1, what="%s's restarted raftd to exit again"
                   % victim.name)
    finally:
        os.unlink(victim.fault)
    t_off = time.monotonic()
    with writers.lock:
        during = [k for k, a in writers.acked.items()
                  if t_on <= a[2] <= t_off]
    return t_off - t_on, during


def test_fdatasync_eio_follower(cluster):
    nodes = cluster
    leader = wait_leader(nodes)
    follower = next(n for n in nodes if n is not leader)
    w = Writers([leader], "eiof").start()
    try:
        w.wait_more(20)
        secs, during = eio_episode(nodes, follower, w, "eiof")
        # it comes back by itself and catches up: its local read has the
        # last value acknowledged through the leader
        w.wait_more(10)
        with w.lock:
            last = max(w.acked.items(), key=lambda kv: kv[1][2])
        wait_until(lambda: stale_kv(follower, "eiof").get(last[0]) ==
                   last[1][0], timeout=45, interval=0.2,
                   what="%s to catch up after EIO" % follower.name)
    finally:
        w.stop()
    assert wait_leader(nodes) is leader  # the leader was not disturbed
    check_all_present(nodes, w.acked, "eiof")
    fatals = fatal_lines(follower)
    assert any("log append" in ln or "persist" in ln or "cannot start" in ln
               for ln in fatals), fatals
    assert not any(bad_lines(n) for n in nodes)
    print("\nEIO follower %s: on %.1f s, %d acknowledged meanwhile, "
          "%d in all; raftd exits %d; fatal: %s" % (
              follower.name, secs, len(during), len(w.acked),
              raftd_exits(follower),
              sorted({ln.split(" fatal: ")[1] for ln in fatals})))


def test_fdatasync_eio_leader(cluster):
    nodes = cluster
    leader = wait_leader(nodes)
    w = Writers(nodes, "eiol").start()
    try:
        w.wait_more(30)
        secs, during = eio_episode(nodes, leader, w, "eiol")
        others = [n for n in nodes if n is not leader]
        new = wait_leader(others)
        assert new is not leader
        # the old leader's raftd comes back by itself and takes writes
        # through its own httpd again (forwarded to the new leader)
        w.wait_more(5, via=[leader.name], timeout=60)
    finally:
        w.stop()
    wait_leader(nodes)
    check_all_present(nodes, w.acked, "eiol")
    via_old = [k for k in during if w.acked[k][1] == leader.name]
    fatals = fatal_lines(leader)
    assert fatals, "no fatal line from %s's raftd" % leader.name
    assert not any(bad_lines(n) for n in nodes)
    print("\nEIO leader %s: on %.1f s, %d acknowledged meanwhile (%d via "
          "it), %d in all, new leader %s; raftd exits %d; fatal: %s" % (
              leader.name, secs, len(during), len(via_old), len(w.acked),
              new.name, raftd_exits(leader),
              sorted({ln.split(" fatal: ")[1] for ln in fatals})))


# ------------------------------------------- ENOSPC on a follower of 3

def test_enospc_follower(node_factory):
    nodes = start_servers(node_factory, 3, "fullf",
                          conf={"performance": {"raft_multiplier": 1}},
                          start=False)
    small = nodes[2]
    # room for all this test writes once the filler is gone
    # (the log and the state each hold every 16 KiB value until a
    # snapshot: 96 MiB filled up with cairn's own data in some runs)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs",
                    small.data_dir], check=True)
    try:
        for n in nodes:
            n.start_agent(wait=False)
        leader = wait_leader(nodes)
        for n in nodes:
            agent_running(n)
        if leader is small:
            r = leader.request("POST", "/v1/operator/raft/transfer-leader",
                               timeout=REQ_TIMEOUT)
            assert r.status_code == 200, r.text
            leader = wait_leader(nodes[:2])
            wait_leader(nodes)
        # 16 KiB values: the follower's state writes fill its RocksDB
        # write buffer (and need a new file) within a second or two
        w = Writers([leader], "fullf", pad=16 << 10).start()
        try:
            w.wait_more(20)
            exits0 = raftd_exits(small)
            filler = os.path.join(small.data_dir, "filler")
            t_on = time.monotonic()
            filled = fill(filler)
            try:
                wait_until(lambda: raftd_exits(small) > exits0, timeout=20,
                           interval=0.05, what="%s's raftd to stop on a "
                           "full disk" % small.name)
                # the majority goes on without it
                w.wait_more(20, timeout=30)
                assert wait_leader(nodes[:2]) is leader
            finally:
                os.unlink(filler)
            secs = time.monotonic() - t_on
            w.wait_more(10)
            with w.lock:
                last = max(w.acked.items(), key=lambda kv: kv[1][2])
            wait_until(lambda: stale_kv(small, "fullf").get(last[0]) ==
                       last[1][0], timeout=45, interval=0.2,
                       what="%s to catch up after ENOSPC" % small.name)
        finally:
            w.stop()
        check_all_present(nodes, w.acked, "fullf")
        assert not any(bad_lines(n) for n in nodes)
        assert_clean_ends(small)
        print("\nENOSPC follower %s: full %.1f s (%d bytes of filler), %d "
              "acknowledged in all; raftd %s" % (
                  small.name, secs, filled, len(w.acked), raftd_ends(small)))
        print("\n".join(raftd_trouble(small)))
    finally:
        small.stop()
        subprocess.run(["umount", small.data_dir], check=False)
