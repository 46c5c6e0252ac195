"""
Integration harness: runs cairn's real binaries on 127.0.0.1 with their own
ports and data directories, and drives them through public surfaces only
(HTTP, DNS, the CLI). Readiness is polled, never slept for; every process
started here is killed by PID in teardown.

Two ways to run a node:
  - Agent: `cairn agent -dev ...`, the way users start it;
  - Roles: each role (raftd, httpd, ...) as its own process with the same
    flags, so a test can kill -9 and restart one role.
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CAIRN_BUILD", os.path.join(ROOT, "build"))


_HANDED_OUT = set()  # ports given out in this run: never twice


def free_port(kind=socket.SOCK_STREAM):
    """A port free for both TCP and UDP on 127.0.0.1, not handed out
    before in this run (the kernel may return the same free port to two
    calls in a row: a node's server and serf_lan ports collided)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port in _HANDED_OUT:
            continue
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            u.close()
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port")


def wait_until(pred, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - polled until deadline
            last_exc = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_exc!r})")


class Node:
    """One cairn node: its ports, data dir and processes."""

    def __init__(self, name="node1", dev=True, extra=None, env=None):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"cairn-{name}-")
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self.ports = {
            "http": free_port(),
            "dns": free_port(),
            "server": free_port(),
            "serf_lan": free_port(),
            "serf_wan": free_port(),
        }
        self.dev = dev
        self.extra = list(extra or [])
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.procs = {}  # role -> Popen
        self.logs = {}
        self.base = f"http://127.0.0.1:{self.ports['http']}"
        self.http = requests.Session()

    # ---- command lines ----
    def flags(self):
        f = []
        if self.dev:
            f.append("-dev")
        f += [
            "-node", self.name,
            "-data-dir", self.data_dir,
            "-http-port", str(self.ports["http"]),
            "-dns-port", str(self.ports["dns"]),
            "-server-port", str(self.ports["server"]),
            "-serf-lan-port", str(self.ports["serf_lan"]),
            "-serf-wan-port", str(self.ports["serf_wan"]),
        ]
        return f + self.extra

    def _spawn(self, key, argv, env=None):
        log = open(os.path.join(self.dir, f"{key}.log"), "ab")
        e = dict(self.env)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=e)
        self.procs[key] = p
        self.logs[key] = log
        return p

    def start_agent(self, wait=True):
        self._spawn("agent", [os.path.join(BUILD, "cairn"), "agent"] + self.flags())
        if wait:
            self.wait_ready()
        return self

    def start_role(self, role, env=None):
        return self._spawn(role, [os.path.join(BUILD, role)] + self.flags(), env=env)

    def start_roles(self, roles=("raftd", "httpd"), wait=True):
        for r in roles:
            self.start_role(r)
        if wait:
            self.wait_ready()
        return self

    def kill(self, key, sig=signal.SIGKILL):
        p = self.procs.get(key)
        if p is None or p.poll() is not None:
            return None
        p.send_signal(sig)
        try:
            return p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def log(self, key):
        path = os.path.join(self.dir, f"{key}.log")
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")

    # ---- HTTP ----
    def url(self, path):
        return self.base + path

    def get(self, path, **kw):
        kw.setdefault("timeout", 15)
        return self.http.get(self.url(path), **kw)

    def put(self, path, data=None, **kw):
        kw.setdefault("timeout", 15)
        return self.http.put(self.url(path), data=data, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 15)
        return self.http.delete(self.url(path), **kw)

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 15)
        return self.http.request(method, self.url(path), **kw)

    def wait_ready(self, timeout=15):
        def leader():
            r = requests.get(self.url("/v1/status/leader"), timeout=2)
            return r.status_code == 200 and r.json() != ""
        wait_until(leader, timeout=timeout, what=f"{self.name} to have a leader")
        # and the KV path works end to end
        wait_until(lambda: requests.get(self.url("/v1/kv/?keys"), timeout=2).status_code == 200,
                   timeout=timeout, what=f"{self.name} KV path")

    def stop(self):
        for key in list(self.procs):
            self.kill(key, signal.SIGTERM)
        for log in self.logs.values():
            log.close()
        self.http.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def node_factory():
    nodes = []

    def make(**kw):
        n = Node(**kw)
        nodes.append(n)
        return n

    yield make
    for n in nodes:
        n.stop()
    for n in nodes:
        n.cleanup()


@pytest.fixture(scope="module")
def agent():
    """A dev agent started the way users start it: `cairn agent -dev`."""
    n = Node(name="dev1")
    try:
        n.start_agent()
        yield n
    finally:
        n.stop()
        n.cleanup()


@pytest.fixture
def kv(agent):
    """The agent with an empty KV store."""
    r = agent.delete("/v1/kv/?recurse")
    assert r.status_code == 200
    return agent


# ---- helpers shared by the cluster tests ----

def members(node, wan=False):
    """/v1/agent/members (?wan) as seen by node: name -> Member JSON."""
    r = node.get("/v1/agent/members" + ("?wan" if wan else ""), timeout=5)
    assert r.status_code == 200, r.text
    return {m["Name"]: m for m in r.json()}


def statuses(node):
    """name -> serf status (1 alive, 3 left, 4 failed) as node sees it;
    {} while its httpd does not answer."""
    try:
        return {k: m["Status"] for k, m in members(node).items()}
    except requests.RequestException:
        return {}


def cli(node, *args, timeout=30):
    """`cairn <args[0]> -http-addr <node> <args[1:]>`, output captured."""
    return subprocess.run([os.path.join(BUILD, "cairn"), args[0],
                           "-http-addr", f"127.0.0.1:{node.ports['http']}"] +
                          list(args[1:]),
                          capture_output=True, text=True, timeout=timeout)


def start_servers(make, count, prefix, conf=None, extra=(), roles=None,
                  seed_joins=False, start=True):
    """count servers named <prefix>1.. with -server -bootstrap-expect
    count on 127.0.0.1, the others joined to the first by -retry-join
    (the first too with seed_joins), each with conf (a dict) as a config
    file and extra flags. make is node_factory, or a list the new Nodes
    are appended to (a module fixture stops them). Started as `cairn
    agent` (roles None) or as the given roles, without waiting, unless
    start is false.

    -retry-interval 1s: all start at once, so a first join may find the
    seed's gossipd not listening yet, and Consul's default retry is 30 s."""
    nodes = []
    for i in range(count):
        kw = dict(name="%s%d" % (prefix, i + 1), dev=False,
                  extra=["-server", "-bootstrap-expect", str(count),
                         "-bind", "127.0.0.1"] + list(extra))
        if callable(make):
            n = make(**kw)
        else:
            n = Node(**kw)
            make.append(n)
        if conf is not None:
            path = os.path.join(n.dir, "server.json")
            with open(path, "w") as f:
                json.dump(conf, f)
            n.extra += ["-config-file", path]
        nodes.append(n)
    join = "127.0.0.1:%d" % nodes[0].ports["serf_lan"]
    for n in nodes if seed_joins else nodes[1:]:
        n.extra += ["-retry-join", join]
    for n in nodes:
        n.extra += ["-retry-interval", "1s"]
    if start:
        for n in nodes:
            if roles is None:
                n.start_agent(wait=False)
            else:
                n.start_roles(roles, wait=False)
    return nodes


def one_leader(nodes):
    """The leader address all nodes agree on, or None."""
    ls = {n.get("/v1/status/leader", timeout=3).json() for n in nodes}
    if len(ls) == 1 and "" not in ls:
        return ls.pop()
    return None


def stop_nodes(nodes):
    """A module fixture's teardown: stop every node, then remove their
    directories unless CAIRN_KEEP is set (to read the logs)."""
    for n in nodes:
        n.stop()
    if not os.environ.get("CAIRN_KEEP"):
        for n in nodes:
            n.cleanup()


def stale_kv(node, prefix):
    """node's own (?stale) view of the keys under prefix: {key: value}."""
    r = node.get("/v1/kv/%s/?recurse&stale" % prefix, timeout=10)
    if r.status_code == 404:
        return {}
    assert r.status_code == 200, r.text
    return {e["Key"]: base64.b64decode(e["Value"] or "").decode()
            for e in r.json()}


def check_no_lost_writes(nodes, acked, prefix):
    """Once every server applied the same index, each one's local
    (?stale) view holds every acknowledged key (acked: {key: value}) with
    its value, and all views are identical."""
    def applied(n):
        r = n.get("/v1/agent/self", timeout=5)
        return int(r.json()["Stats"]["raft"]["applied_index"])
    wait_until(lambda: len({applied(n) for n in nodes}) == 1, timeout=30,
               interval=0.1, what="every server applied the same index")
    views = {n.name: stale_kv(n, prefix) for n in nodes}
    for name, view in views.items():
        missing = [k for k in acked if k not in view]
        wrong = [k for k in acked if k in view and view[k] != acked[k]]
        assert not missing, "%s lost %d acknowledged writes, e.g. %s" % (
            name, len(missing), missing[:5])
        assert not wrong, "%s has other values for %s" % (name, wrong[:5])
    first = views[nodes[0].name]
    for n in nodes[1:]:
        assert views[n.name] == first, "%s and %s differ" % (
            nodes[0].name, n.name)
