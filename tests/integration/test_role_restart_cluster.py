"""
The role-restart guarantee on a cluster (issue 8, item 3): three servers
(`-server -bootstrap-expect 3 -retry-join`) and one client agent on
127.0.0.1, each node's five roles (raftd, gossipd, checkd, httpd, dnsd)
started as separate processes — not `cairn agent`, which would restart
them itself — with load running from start to end:

  - KV writers through the client and through a follower server (unique
    keys; every PUT answered 200 `true` is recorded as acknowledged);
  - one thread incrementing a counter key through the client with ?cas
    (read, then PUT ?cas=<ModifyIndex> value+1);
  - on the client agent, service `web` with an HTTP check against a small
    HTTP server run by this test, and service `api` with a TTL check the
    test keeps passing (PUT /v1/agent/check/pass);
  - DNS queries (TCP) for web.service.consul on the client's and a
    server's dnsd;
  - blocking health watchers (/v1/health/service/web?passing&index=&wait=)
    on the client and a server.

Then each role is restarted in turn, kill -9 and SIGTERM, on the client
and on the leader or a follower: raftd (client, follower, leader: it
catches up), gossipd (started again *without* -retry-join: it rejoins
from <data_dir>/serf/local.snapshot), checkd (it resumes its checks and
the catalog keeps both services passing), httpd, dnsd. While a role is
down, httpd and dnsd answer at once with an error naming it or with a
stale answer, and recover by themselves. Finally a graceful rolling
restart of every role on every node under load.

Asserted at the end: no acknowledged write lost (each acknowledged key
with its value on every server, read with ?stale once all applied the
same index); none applied twice (the sole cas writer never gets `false`,
and the counter's final value is the number of updates it saw applied:
the acknowledged ones plus indeterminate ones it read back as applied);
no request hung (every HTTP request has a timeout; the maximum latency is
bounded by rpc_hold_timeout plus slack); every failure is a 5xx with a
non-empty text body, or a refused connection to a role that was down.

The documented client-visible errors (the only ones allowed in the
rolling restart, each only while the named role of the node asked is
restarting, plus a second of slack):
  - connection refused from a restarting httpd (HTTP) or dnsd (DNS/TCP),
    or a connection closed by one that stops (kill -9; or the end of a
    SIGTERM drain, for a request sent on a kept-alive connection);
  - 503 "agent is shutting down" from an httpd draining after SIGTERM;
  - SERVFAIL from a restarted dnsd before its first catalog read;
  - 503 "rpc error: raftd unavailable" / "rpc error: raftd timed out"
    from a node whose own raftd is restarting;
  - 503 "rpc error: checkd unavailable" (agent endpoints: TTL pass) from
    a node whose checkd is restarting;
  - 500 "No cluster leader" while a server raftd restarts (leader
    change), once rpc_hold_timeout passed, or 500 "leadership lost while
    committing log" for a write its old leader could not commit (both
    Consul's texts);
  - 500 "rpc error making call: server X (addr) restarted" (or "... is
    not answering", "... failed or left") on the client agent for a
    write in flight to a server X whose raftd stopped: it may have
    applied (the cas counter sees it). A read in flight is sent again
    at once, also when X came back before a probe missed it (its
    results carry a new incarnation, raftd/client.c), so none waits
    for its deadline: "timeout waiting for server X" is not allowed;
  - a known limitation, counted and capped (IN_FLIGHT_LOST below): a
    request already forwarded to a server whose raftd stops may be
    answered 503 "rpc error: timed out" (or "timeout waiting
    for the leader") after its deadline instead of being re-sent.
DNS answers for web while raftd or checkd is down may be stale (the last
view) but never empty: the service stays registered and passing.

The client runs with leave_on_terminate false: with Consul's client
default (true) a SIGTERM'd gossipd leaves the cluster, and a node that
left does not rejoin from its snapshot (rejoin_after_leave), so a rolling
restart of client agents needs it (or rejoin_after_leave).
Reference: DESIGN.md §2-§3, spec/fault-testing.md §3.4 and §4.
"""
import base64
import http.server
import json
import os
import signal
import socket
import threading
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
import requests

from conftest import Node, start_servers, wait_until

ROLES = ("gossipd", "raftd", "checkd", "httpd", "dnsd")
HOLD = 4.0          # performance.rpc_hold_timeout
TIMEOUT = HOLD + 8  # every plain HTTP request's client-side timeout
WATCH_WAIT = 2.0    # blocking watchers' ?wait
SLACK = 1.5         # seconds a documented error may trail its restart


# ---------------------------------------------------------------- helpers

def server_addr(n):
    return "127.0.0.1:%d" % n.ports["server"]


def without_join(extra):
    out, skip = [], False
    for a in extra:
        if skip:
            skip = False
            continue
        if a == "-retry-join":
            skip = True
            continue
        out.append(a)
    return out


def leader_of(nodes):
    ls = set()
    for n in nodes:
        try:
            ls.add(n.get("/v1/status/leader", timeout=3).json())
        except (requests.RequestException, ValueError):
            return None
    if len(ls) == 1 and "" not in ls:
        return ls.pop()
    return None


def raft_stats(n):
    r = n.get("/v1/agent/self", timeout=5)
    assert r.status_code == 200, r.text
    return r.json()["Stats"]["raft"]


class HitServer:
    """The HTTP check's target: answers 200 and counts the hits."""

    def __init__(self):
        outer = self
        self.hits = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.hits += 1
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.th = threading.Thread(target=self.srv.serve_forever,
                                   daemon=True)
        self.th.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


# ------------------------------------------------------------------ load

class Load:
    """Every load thread reports each request here: what was asked of
    which node and role, when, how long it took and how it ended."""

    def __init__(self, nodes, client, follower):
        self.nodes = nodes
        self.client = client
        self.follower = follower
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.acked = {}             # key -> value
        self.fails = []             # (t0, t1, node, what, error text)
        self.bad = []               # violations found by the threads
        self.maxlat = {}            # what -> seconds
        self.cas_acked = 0
        self.cas_applied = 0        # acked + indeterminate seen applied
        self.cas_false = []
        self.windows = []           # (node, role, t_down, t_up or None)
        self.threads = []
        self.tl = threading.local()  # the calling thread's last error
        self.cas_unacked = []        # errors of cas PUTs that applied

    # windows in which a role of a node is down or restarting
    def down(self, node, role):
        with self.lock:
            self.windows.append([node.name, role, time.monotonic(), None])

    def up(self, node, role):
        with self.lock:
            for w in self.windows:
                if w[0] == node.name and w[1] == role and w[3] is None:
                    w[3] = time.monotonic()

    def explained(self, node_name, roles, t0, t1):
        """A role of roles on node_name ("*" = any node) was down at some
        point in [t0 - SLACK, t1]."""
        with self.lock:
            for name, role, a, b in self.windows:
                if role not in roles or (node_name != "*" and
                                         name != node_name):
                    continue
                b = time.monotonic() if b is None else b
                if a <= t1 and b + SLACK >= t0:
                    return True
        return False

    def note(self, what, node, t0, err):
        t1 = time.monotonic()
        self.tl.err = (round(t1 - t0, 2), err)
        with self.lock:
            self.maxlat[what] = max(self.maxlat.get(what, 0.0), t1 - t0)
            if err is not None:
                self.fails.append((t0, t1, node.name, what, err))

    def http(self, s, what, node, method, path, **kw):
        """One request; returns the response or None. Failures are
        recorded: a 5xx must carry a text body; a 4xx or a 5xx without
        a body or a timeout is a violation at once."""
        kw.setdefault("timeout", TIMEOUT)
        t0 = time.monotonic()
        try:
            r = s.request(method, node.url(path), **kw)
        except requests.ConnectionError as e:
            txt = str(e)
            kind = ("refused" if "refused" in txt.lower() else
                    "closed" if "Connection aborted" in txt or
                    "reset" in txt.lower() else "conn: " + txt[:120])
            if isinstance(e, requests.ReadTimeout):
                kind = "timeout"
            self.note(what, node, t0, kind)
            return None
        except requests.Timeout:
            self.note(what, node, t0, "timeout")
            return None
        if r.status_code >= 500:
            self.note(what, node, t0, "%d %s" % (r.status_code,
                                                 r.text.strip()[:120]))
            return None
        if r.status_code != 200:
            self.note(what, node, t0, "%d %s" % (r.status_code,
                                                 r.text.strip()[:120]))
            return None
        self.note(what, node, t0, None)
        return r

    # the threads
    def writer(self, node, tag):
        s = requests.Session()
        seq = 0
        while not self.stop_ev.is_set():
            key = "rr/%s/%d" % (tag, seq)
            val = "%s-%d" % (tag, seq)
            seq += 1
            r = self.http(s, "kv put", node, "PUT", "/v1/kv/" + key,
                          data=val)
            if r is not None:
                try:
                    ok = r.json() is True
                except ValueError:
                    ok = False
                if ok:
                    with self.lock:
                        self.acked[key] = val
                else:
                    with self.lock:
                        self.bad.append("PUT %s answered %r" % (key, r.text))
            else:
                time.sleep(0.05)
            time.sleep(0.01)

    def read_counter(self, s):
        r = self.http(s, "cas read", self.client, "GET",
                      "/v1/kv/rr/counter?consistent")
        if r is None:
            return None
        e = r.json()[0]
        return int(base64.b64decode(e["Value"]).decode()), e["ModifyIndex"]

    def cas_writer(self):
        s = requests.Session()
        cur = None
        while not self.stop_ev.is_set():
            if cur is None:
                cur = self.read_counter(s)
                if cur is None:
                    time.sleep(0.05)
                    continue
            v, idx = cur
            r = self.http(s, "cas put", self.client, "PUT",
                          "/v1/kv/rr/counter?cas=%d" % idx, data=str(v + 1))
            if r is not None and r.json() is True:
                with self.lock:
                    self.cas_acked += 1
                    self.cas_applied += 1
                cur = None
                continue
            if r is not None:
                # the only writer got false: a write it was not told
                # about was applied (or one was applied twice)
                with self.lock:
                    self.cas_false.append((v, idx))
                cur = None
                continue
            # indeterminate: read back until a read succeeds
            err = self.tl.err
            while not self.stop_ev.is_set():
                nxt = self.read_counter(s)
                if nxt is not None:
                    break
                time.sleep(0.05)
            else:
                return
            if nxt[0] == v + 1:
                with self.lock:
                    self.cas_applied += 1
                    self.cas_unacked.append(err)
            elif nxt[0] != v:
                with self.lock:
                    self.bad.append("counter moved from %d to %d" %
                                    (v, nxt[0]))
            cur = nxt

    def ttl_passer(self):
        s = requests.Session()
        while not self.stop_ev.is_set():
            self.http(s, "ttl pass", self.client, "PUT",
                      "/v1/agent/check/pass/api-ttl?note=load")
            self.stop_ev.wait(0.5)

    def dns_asker(self, node):
        q = dns.message.make_query("web.service.consul.", "A")
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            try:
                a = dns.query.tcp(q, "127.0.0.1", port=node.ports["dns"],
                                  timeout=TIMEOUT)
            except (ConnectionRefusedError, ConnectionResetError,
                    EOFError):
                # refused, or closed by a dnsd being stopped
                self.note("dns", node, t0, "refused")
            except (dns.exception.Timeout, socket.timeout):
                self.note("dns", node, t0, "timeout")
            except (OSError, EOFError, dns.exception.DNSException) as e:
                self.note("dns", node, t0, "dns: %r" % e)
            else:
                addrs = [rr.address for rrs in a.answer for rr in rrs
                         if rrs.rdtype == dns.rdatatype.A]
                if a.rcode() == dns.rcode.SERVFAIL:
                    self.note("dns", node, t0, "SERVFAIL")
                elif a.rcode() != dns.rcode.NOERROR or \
                        addrs != ["127.0.0.9"]:
                    self.note("dns", node, t0, "answer %s %s" % (
                        dns.rcode.to_text(a.rcode()), addrs))
                else:
                    self.note("dns", node, t0, None)
            self.stop_ev.wait(0.1)

    def watcher(self, node):
        s = requests.Session()
        idx = 0
        while not self.stop_ev.is_set():
            r = self.http(s, "watch", node, "GET",
                          "/v1/health/service/web?passing&index=%d&wait=%ds"
                          % (idx, WATCH_WAIT),
                          timeout=WATCH_WAIT + TIMEOUT)
            if r is None:
                time.sleep(0.05)
                continue
            if len(r.json()) != 1:
                with self.lock:
                    self.bad.append("%s: web passing %d instances" %
                                    (node.name, len(r.json())))
            idx = int(r.headers.get("X-Consul-Index", "0"))

    def start(self):
        c, f = self.client, self.follower
        targets = [(self.writer, (c, "c")), (self.writer, (f, "f")),
                   (self.cas_writer, ()), (self.ttl_passer, ()),
                   (self.dns_asker, (c,)), (self.dns_asker, (f,)),
                   (self.watcher, (c,)), (self.watcher, (f,))]
        for fn, args in targets:
            t = threading.Thread(target=fn, args=args, daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=WATCH_WAIT + TIMEOUT + 5)
        assert not any(t.is_alive() for t in self.threads)

    def counts(self):
        with self.lock:
            return len(self.acked), self.cas_acked

    def progress(self, what="load to make progress", timeout=30):
        """Both KV writers and the cas writer acknowledged more."""
        with self.lock:
            c0 = sum(1 for k in self.acked if k.startswith("rr/c/"))
            f0 = len(self.acked) - c0
            k0 = self.cas_acked

        def moved():
            with self.lock:
                c = sum(1 for k in self.acked if k.startswith("rr/c/"))
                return (c > c0 and len(self.acked) - c > f0 and
                        self.cas_acked > k0)
        wait_until(moved, timeout=timeout, interval=0.05, what=what)

    def failures_since(self, t):
        with self.lock:
            return [f for f in self.fails if f[1] >= t]


# --------------------------------------------------------------- cluster

class Cluster:
    def __init__(self, servers, client, hits):
        self.servers = servers
        self.client = client
        self.nodes = servers + [client]
        self.hits = hits
        self.load = None

    def leader(self):
        addr = wait_until(lambda: leader_of(self.servers), timeout=40,
                          interval=0.1, what="one leader")
        return next(n for n in self.servers if server_addr(n) == addr)

    def a_follower(self):
        lead = self.leader()
        return next(n for n in self.servers if n is not lead and
                    n is not self.load.follower)

    def start(self, n, role):
        if role == "gossipd":
            # restarted without -retry-join: it rejoins from its snapshot
            saved = n.extra
            n.extra = without_join(saved)
            try:
                p = n.start_role(role)
            finally:
                n.extra = saved
            assert "-retry-join" not in p.args
            return p
        return n.start_role(role)

    def restart(self, n, role, sig, between=None):
        """Stop one role with sig, run between() while it is down, start
        it again and wait until it serves."""
        self.load.down(n, role)
        n.kill(role, sig)
        if between is not None:
            between()
        self.start(n, role)
        self.wait_serving(n, role)
        self.load.up(n, role)

    def wait_serving(self, n, role):
        if role == "httpd":
            wait_until(lambda: requests.get(n.url("/v1/agent/self"),
                                            timeout=3).status_code == 200,
                       timeout=20, what="%s httpd back" % n.name)
        elif role == "raftd":
            self.wait_caught_up(n)
        elif role == "gossipd":
            self.wait_members()
        elif role == "checkd":
            wait_until(lambda: n.get("/v1/agent/checks", timeout=3)
                       .status_code == 200, timeout=20,
                       what="%s checkd back" % n.name)
        elif role == "dnsd":
            q = dns.message.make_query("web.service.consul.", "A")

            def answers():
                a = dns.query.tcp(q, "127.0.0.1", port=n.ports["dns"],
                                  timeout=3)
                return [rr.address for rrs in a.answer for rr in rrs] == \
                    ["127.0.0.9"]
            wait_until(answers, timeout=20, what="%s dnsd back" % n.name)

    def wait_caught_up(self, n):
        lead = self.leader()
        if n in self.servers:
            target = int(raft_stats(lead)["commit_index"])
            wait_until(lambda: int(raft_stats(n)["applied_index"]) >= target,
                       timeout=30, interval=0.1,
                       what="%s raftd to catch up" % n.name)
        wait_until(lambda: n.get("/v1/kv/rr/counter?stale", timeout=3)
                   .status_code == 200, timeout=30, interval=0.1,
                   what="%s KV path" % n.name)

    def wait_members(self):
        def all_alive():
            for n in self.nodes:
                r = n.get("/v1/agent/members", timeout=3)
                if r.status_code != 200:
                    return False
                st = {m["Name"]: m["Status"] for m in r.json()}
                if st != {m.name: 1 for m in self.nodes}:
                    return False
            return True
        wait_until(all_alive, timeout=40, interval=0.1,
                   what="every node to see four alive members")

    def catalog_right(self):
        """Both services of the client are in the catalog with their
        checks passing, as seen from every server."""
        for s in self.servers:
            for svc in ("web", "api"):
                r = s.get("/v1/health/service/%s?passing&stale" % svc,
                          timeout=5)
                if r.status_code != 200 or len(r.json()) != 1:
                    return False
                checks = {c["CheckID"]: c["Status"]
                          for c in r.json()[0]["Checks"]}
                if not all(v == "passing" for v in checks.values()):
                    return False
                if len(checks) != 2:  # serfHealth and the service's own
                    return False
        return True


@pytest.fixture(scope="module")
def cluster():
    hits = HitServer()
    nodes = []
    try:
        conf = {"performance": {"raft_multiplier": 1,
                                "rpc_hold_timeout": "%ds" % HOLD},
                "retry_interval": "1s"}
        for i in range(3):
            n = Node(name="rc%d" % (i + 1), dev=False)
            n.extra = ["-server", "-bootstrap-expect", "3",
                       "-bind", "127.0.0.1", "-advertise", "127.0.0.1"]
            nodes.append(n)
        c = Node(name="rc4", dev=False)
        c.extra = ["-bind", "127.0.0.1", "-advertise", "127.0.0.1"]
        nodes.append(c)
        join = "127.0.0.1:%d" % nodes[0].ports["serf_lan"]
        for n in nodes:
            cf = dict(conf)
            if n is c:
                cf["leave_on_terminate"] = False
            path = os.path.join(n.dir, "rc.json")
            with open(path, "w") as f:
                json.dump(cf, f)
            n.extra += ["-config-file", path, "-retry-join", join]
        for n in nodes:
            n.start_roles(ROLES, wait=False)
        cl = Cluster(nodes[:3], c, hits)
        for n in nodes:
            n.wait_ready(timeout=60)
        cl.wait_members()
        lead = cl.leader()
        follower = next(n for n in cl.servers if n is not lead)
        # the services on the client agent
        r = c.put("/v1/agent/service/register", data=json.dumps({
            "Name": "web", "ID": "web1", "Address": "127.0.0.9",
            "Port": hits.port,
            "Check": {"CheckID": "web-http", "Interval": "1s",
                      "Timeout": "2s",
                      "HTTP": "http://127.0.0.1:%d/health" % hits.port}}))
        assert r.status_code == 200, r.text
        r = c.put("/v1/agent/service/register", data=json.dumps({
            "Name": "api", "ID": "api1", "Address": "127.0.0.10",
            "Port": 9000,
            "Check": {"CheckID": "api-ttl", "TTL": "15s"}}))
        assert r.status_code == 200, r.text
        assert c.put("/v1/agent/check/pass/api-ttl").status_code == 200
        assert c.put("/v1/kv/rr/counter", data=b"0").json() is True
        wait_until(cl.catalog_right, timeout=30, interval=0.1,
                   what="web and api passing in the catalog")
        cl.wait_serving(c, "dnsd")
        cl.wait_serving(follower, "dnsd")
        cl.load = Load(nodes, c, follower)
        cl.load.start()
        cl.load.progress("load to start")
        yield cl
    finally:
        if nodes and getattr(locals().get("cl"), "load", None):
            cl.load.stop_ev.set()
        for n in nodes:
            n.stop()
        hits.close()
        if not os.environ.get("CAIRN_KEEP"):
            for n in nodes:
                n.cleanup()


# ------------------------------------------------------------- the checks

def prompt_error(n, path, method="GET", expect=None, **kw):
    """A request answered at once with a 5xx and a reason."""
    t0 = time.monotonic()
    r = requests.request(method, n.url(path), timeout=TIMEOUT, **kw)
    took = time.monotonic() - t0
    assert r.status_code >= 500, (path, r.status_code, r.text)
    assert r.text.strip(), "a 5xx carries its reason"
    if expect is not None:
        assert r.text.strip() == expect, (path, r.text)
    assert took < HOLD + 2, (path, took)
    return r


def dns_stale_or_servfail(n):
    """dnsd with a role it needs down: the last view's answer at once,
    or SERVFAIL; never silence."""
    q = dns.message.make_query("web.service.consul.", "A")
    t0 = time.monotonic()
    a = dns.query.tcp(q, "127.0.0.1", port=n.ports["dns"], timeout=5)
    assert time.monotonic() - t0 < 2
    addrs = [rr.address for rrs in a.answer for rr in rrs]
    assert (a.rcode() == dns.rcode.NOERROR and addrs == ["127.0.0.9"]) or \
        a.rcode() == dns.rcode.SERVFAIL, (a.rcode(), addrs)


def test_raftd_restarts(cluster):
    cl, load = cluster, cluster.load
    c = cl.client

    def client_down():
        prompt_error(c, "/v1/kv/rr/c/0", expect="rpc error: raftd unavailable")
        prompt_error(c, "/v1/kv/rr/x", "PUT", data=b"x")
        dns_stale_or_servfail(c)
    cl.restart(c, "raftd", signal.SIGKILL, client_down)
    load.progress("writes after the client's raftd restart")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        cl.restart(cl.a_follower(), "raftd", sig)
        load.progress("writes after a follower's raftd restart")
    old = cl.leader()
    load.down(old, "raftd")
    old.kill("raftd", signal.SIGKILL)
    rest = [n for n in cl.servers if n is not old]
    t0 = time.monotonic()
    wait_until(lambda: leader_of(rest) not in (None, server_addr(old)),
               timeout=20, interval=0.1, what="a new leader")
    print("\nnew leader after kill -9 of the leader: %.2f s" %
          (time.monotonic() - t0))
    dns_stale_or_servfail(old)
    cl.start(old, "raftd")
    cl.wait_caught_up(old)
    load.up(old, "raftd")
    load.progress("writes after the leader's raftd restart")


def test_gossipd_restarts_rejoin_without_retry_join(cluster):
    cl, load = cluster, cluster.load
    c = cl.client
    f = cl.a_follower()
    for n in (c, f):
        snap = os.path.join(n.data_dir, "serf", "local.snapshot")
        wait_until(lambda: os.path.exists(snap), timeout=10,
                   what="%s's gossip snapshot" % n.name)

    def down():
        prompt_error(c, "/v1/agent/members",
                     expect="rpc error: gossipd unavailable")
    joins = {n.name: n.log("gossipd").count("lan join completed")
             for n in (c, f)}
    cl.restart(c, "gossipd", signal.SIGKILL, down)
    cl.restart(f, "gossipd", signal.SIGTERM)
    # each joined again by itself, from the addresses in its snapshot
    for n in (c, f):
        wait_until(lambda: n.log("gossipd").count("lan join completed") >
                   joins[n.name], timeout=15,
                   what="%s's gossipd to rejoin from its snapshot" % n.name)
    # the client still forwards through servers it learned again
    load.progress("writes after the gossipd restarts")


def test_checkd_restarts_resume_checks(cluster):
    cl, load = cluster, cluster.load
    c = cl.client
    for sig in (signal.SIGKILL, signal.SIGTERM):
        def down():
            prompt_error(c, "/v1/agent/services",
                         expect="rpc error: checkd unavailable")
            # the catalog keeps the services while checkd is down
            assert cl.catalog_right()
            dns_stale_or_servfail(c)
        cl.restart(c, "checkd", sig, down)
        h0 = cl.hits.hits
        wait_until(lambda: cl.hits.hits >= h0 + 2, timeout=15,
                   what="the HTTP check to run again")
        r = c.get("/v1/agent/checks")
        assert r.status_code == 200
        checks = r.json()
        assert checks["web-http"]["Status"] == "passing", checks
        assert checks["api-ttl"]["Status"] == "passing", checks
        assert cl.catalog_right()
    f = cl.a_follower()
    cl.restart(f, "checkd", signal.SIGKILL)
    wait_until(cl.catalog_right, timeout=15, what="the catalog right")
    load.progress("writes after the checkd restarts")


def test_httpd_and_dnsd_restarts(cluster):
    cl, load = cluster, cluster.load
    c = cl.client
    f = load.follower

    def refused(n):
        def down():
            with pytest.raises(requests.ConnectionError):
                requests.get(n.url("/v1/status/leader"), timeout=TIMEOUT)
        return down
    cl.restart(c, "httpd", signal.SIGKILL, refused(c))
    cl.restart(f, "httpd", signal.SIGTERM, refused(f))
    cl.restart(c, "dnsd", signal.SIGKILL)
    cl.restart(f, "dnsd", signal.SIGTERM)
    load.progress("writes after the httpd and dnsd restarts")


def test_errors_so_far_are_prompt_and_clear(cluster):
    """Every failure up to here: a refused connection to a role that was
    down, or a 5xx with a reason; none timed out."""
    load = cluster.load
    with load.lock:
        fails = list(load.fails)
        bad = list(load.bad)
    assert not bad, bad[:5]
    for t0, t1, name, what, err in fails:
        assert err != "timeout", (name, what, t1 - t0)
        # a request in flight to a restarted server is not left to its
        # deadline (raftd/client.c sees the new incarnation)
        assert "timeout waiting for server" not in err, (name, what, err)
        assert err in ("refused", "closed", "SERVFAIL") or \
            err[:1] == "5" or err.startswith("answer"), (name, what, err)
        if err in ("refused", "closed"):
            role = "dnsd" if what == "dns" else "httpd"
            assert load.explained(name, (role,), t0, t1), (
                name, what, t0, load.windows)


# Known limitation (reported, raftd/forward.c and client.c): a request
# already forwarded to a server whose raftd then stops is not always
# re-sent elsewhere; it is answered once its deadline passes (the hold
# plus slack, and a blocking read's wait), with one of these. Allowed
# only across a server raftd restart, and counted (at most a few).
IN_FLIGHT_LOST = (
    "503 rpc error: timed out",
    "503 rpc error: timeout waiting for the leader",
)
MAX_IN_FLIGHT_LOST = 4

DOCUMENTED = {
    "refused": ("httpd", "dnsd"),
    "503 rpc error: raftd unavailable": ("raftd",),
    "503 rpc error: raftd timed out": ("raftd",),
    "503 rpc error: checkd unavailable": ("checkd",),
    "503 agent is shutting down": ("httpd",),
    "SERVFAIL": ("dnsd",),
}


def documented(load, fail):
    t0, t1, name, what, err = fail
    if err in ("refused", "closed"):
        role = "dnsd" if what == "dns" else "httpd"
        return load.explained(name, (role,), t0, t1)
    if err in DOCUMENTED:
        return load.explained(name, DOCUMENTED[err], t0, t1)
    if err in ("500 No cluster leader",
               "500 leadership lost while committing log") or \
            err.startswith("500 rpc error making call"):
        # a leader change: any server's raftd restarting
        return load.explained("*", ("raftd",), t0, t1)
    if err in IN_FLIGHT_LOST:
        return load.explained("*", ("raftd",), t0, t1)
    return False


def test_rolling_restart_under_load(cluster):
    cl, load = cluster, cluster.load
    t_start = time.monotonic()
    order = [n for n in cl.servers if n is not cl.leader()] + \
        [cl.leader(), cl.client]
    for n in order:
        for role in ("dnsd", "httpd", "checkd", "gossipd", "raftd"):
            cl.restart(n, role, signal.SIGTERM)
    load.progress("writes after the rolling restart")
    took = time.monotonic() - t_start
    fails = load.failures_since(t_start)
    print("\nrolling restart: %.1f s, %d client-visible errors, "
          "kinds %s" % (took, len(fails),
                        sorted({f[4] for f in fails})))
    for f in fails:
        print("  %.2f+%.2f %s %s %s" % (f[0] - t_start, f[1] - f[0],
                                        f[2], f[3], f[4]))
    odd = [f for f in fails if not documented(load, f)]
    with load.lock:
        near = [(w[0], w[1], round(w[2] - t_start, 2),
                 round((w[3] or 0) - t_start, 2)) for w in load.windows
                if any(w[2] <= f[1] and (w[3] or f[1]) + SLACK >= f[0]
                       for f in odd)]
    assert not odd, ([(round(f[0] - t_start, 2), round(f[1] - f[0], 2))
                      + f[2:] for f in odd[:10]], "restarts then:", near)
    lost = [f for f in fails if f[4] in IN_FLIGHT_LOST]
    assert len(lost) <= MAX_IN_FLIGHT_LOST, lost
    assert cl.catalog_right()


def test_nothing_lost_nothing_twice(cluster):
    cl, load = cluster, cluster.load
    load.stop()
    with load.lock:
        bad = list(load.bad)
        fails = list(load.fails)
    assert not bad, bad[:5]
    assert not load.cas_false, load.cas_false[:5]
    assert not [f for f in fails if f[4] == "timeout"]
    print("\ncas updates applied without an acknowledgement:",
          load.cas_unacked)
    print("\nacked writes %d, cas acked %d applied %d, failures %d, "
          "max latency %s" % (len(load.acked), load.cas_acked,
                              load.cas_applied, len(fails),
                              {k: round(v, 2) for k, v in
                               load.maxlat.items()}))
    # nothing hung: bounded by the hold plus slack
    for what, lat in load.maxlat.items():
        bound = HOLD + 4 + (WATCH_WAIT * 1.1 if what == "watch" else 0)
        assert lat < bound, (what, lat)

    def same_applied():
        return len({int(raft_stats(n)["applied_index"])
                    for n in cl.servers}) == 1
    wait_until(same_applied, timeout=30, interval=0.1,
               what="every server applied the same index")
    for s in cl.servers:
        r = s.get("/v1/kv/rr/?recurse&stale", timeout=10)
        assert r.status_code == 200, r.text
        view = {e["Key"]: base64.b64decode(e["Value"] or "").decode()
                for e in r.json()}
        missing = [k for k in load.acked if k not in view]
        wrong = [k for k in load.acked if k in view and
                 view[k] != load.acked[k]]
        assert not missing, "%s lost %d acknowledged writes: %s" % (
            s.name, len(missing), missing[:5])
        assert not wrong, (s.name, wrong[:5])
        counter = int(view["rr/counter"])
        assert counter == load.cas_applied, (s.name, counter,
                                             load.cas_applied)
        assert load.cas_acked <= counter
    assert load.cas_acked > 20
    assert len(load.acked) > 200


def test_sigterm_httpd_drains_writes_in_flight(node_factory):
    """A graceful stop of httpd answers the writes already sent to raftd
    with their real outcome, not 503 "agent is shutting down" (which left
    the client not knowing whether the write applied: it had). Blocking
    reads are answered 503 at once; the listener closes at once."""
    n = node_factory(name="rcd").start_roles(("raftd", "httpd"))
    assert n.put("/v1/kv/d/k", data=b"0").json() is True
    idx = int(n.get("/v1/kv/d/k").headers["X-Consul-Index"])
    out = {}

    def call(name, method, path, **kw):
        t0 = time.monotonic()
        out[name] = requests.request(method, n.url(path), timeout=30, **kw)
        out[name + " took"] = time.monotonic() - t0
    blocked = threading.Thread(target=call, args=(
        "watch", "GET", "/v1/kv/d/k?index=%d&wait=30s" % idx))
    blocked.start()
    n.procs["raftd"].send_signal(signal.SIGSTOP)
    try:
        put = threading.Thread(target=call, args=(
            "put", "PUT", "/v1/kv/d/k?cas=%d" % idx), kwargs={"data": b"1"})
        put.start()
        # no observable sign that httpd has sent the PUT to the stopped
        # raftd: give the request this long to get there
        time.sleep(0.5)
        n.procs["httpd"].send_signal(signal.SIGTERM)
        blocked.join(5)
        assert not blocked.is_alive(), "a blocking read held the stop"
        assert out["watch"].status_code == 503
        assert out["watch"].text == "agent is shutting down"
        with pytest.raises(requests.ConnectionError):
            requests.get(n.url("/v1/status/leader"), timeout=5)
        assert put.is_alive()
    finally:
        n.procs["raftd"].send_signal(signal.SIGCONT)
    put.join(15)
    assert out["put"].status_code == 200, out["put"].text
    assert out["put"].json() is True
    assert n.procs["httpd"].wait(timeout=10) == 0
    n.start_role("httpd")
    wait_until(lambda: requests.get(n.url("/v1/kv/d/k?raw"),
                                    timeout=2).text == "1",
               what="the drained write applied once")


def test_read_held_by_a_restarted_leader_is_resent(node_factory):
    """A follower forwards a blocking read to the leader, whose raftd is
    then kill -9'd and started again at once. Whoever wins the election —
    another server, or the same one in a later term (its new process
    knows nothing of the read) — the follower re-sends the read, which
    wakes on the next write instead of waiting out wait + hold. Several
    rounds: the old leader winning again is the case that was missed."""
    conf = {"performance": {"raft_multiplier": 1,
                            "rpc_hold_timeout": "%ds" % HOLD},
            "retry_interval": "1s"}
    nodes = start_servers(node_factory, 3, "rl", conf=conf,
                          roles=("gossipd", "raftd", "httpd"))
    for n in nodes:
        n.wait_ready(timeout=60)
    winners = []
    for rnd in range(4):
        addr = wait_until(lambda: leader_of(nodes), timeout=30,
                          interval=0.1, what="one leader")
        lead = next(n for n in nodes if server_addr(n) == addr)
        fol = next(n for n in nodes if n is not lead)
        assert fol.put("/v1/kv/rl/k", data=b"a%d" % rnd).json() is True
        idx = int(fol.get("/v1/kv/rl/k?consistent")
                  .headers["X-Consul-Index"])
        out = {}

        def block():
            out["r"] = fol.get("/v1/kv/rl/k?index=%d&wait=30s&raw" % idx,
                               timeout=60)
        th = threading.Thread(target=block)
        th.start()
        time.sleep(0.3)  # no outside sign that the read reached the leader
        lead.kill("raftd", signal.SIGKILL)
        lead.start_role("raftd")
        again = wait_until(lambda: leader_of(nodes), timeout=30,
                           interval=0.1, what="a leader again")
        winners.append(again == addr)

        def written():
            try:
                return fol.put("/v1/kv/rl/k", data=b"b%d" % rnd,
                               timeout=10).json() is True
            except (requests.RequestException, ValueError):
                return False
        wait_until(written, timeout=20, interval=0.2, what="the write")
        th.join(HOLD + 4)
        assert not th.is_alive(), (
            "round %d: the read held by the restarted leader (%s, %s) was "
            "not re-sent" % (rnd, lead.name,
                             "re-elected" if winners[-1] else "replaced"))
        assert out["r"].status_code == 200 and \
            out["r"].text == "b%d" % rnd, out["r"].text
    print("\nthe restarted leader won again in rounds: %s" % winners)
