"""
Client agents (issue 3 items 6 and 7, issue 4 item 4): one server
(`-server -bootstrap-expect 1`) and four client agents on 127.0.0.1, each
with its own ports and data dir, joined by -retry-join. Every node runs
raftd, gossipd, checkd, httpd and dnsd as separate roles; a client's raftd
keeps no state and forwards every request to the server it learned from
gossip (raftd/client.c).

In order, on one cluster:
  - all five see five alive members (/v1/agent/members, `cairn members`);
  - KV through python-consul on a client is read back on the server and
    on another client; headers and 404s are the server's;
  - a blocking GET on a client wakes on a write made on the server;
  - /v1/status/leader and /v1/status/peers on a client are the server's;
  - a service registered on a client (/v1/agent/service/register) reaches
    the catalog on the server (checkd's anti-entropy through the client's
    raftd) and the client's own DNS (dnsd's view through it);
  - with the server's raftd killed, a client's request fails with a 5xx
    within rpc_hold_timeout plus slack (never hangs), and works again once
    the server's raftd is back;
  - kill -9 of a client's gossipd: failed elsewhere; restarted: alive;
  - `cairn leave` on a client makes it left; force-leave of a failed
    member makes it left.
"""
import json
import os
import signal
import threading
import time

import consul
import dns.message
import dns.query
import dns.rdatatype
import pytest
import requests

from conftest import (Node, cli, members, start_servers, statuses,
                      stop_nodes, wait_until)

N = 5
ROLES = ("gossipd", "raftd", "checkd", "httpd", "dnsd")


def flags(seed_port):
    return ["-bind", "127.0.0.1", "-advertise", "127.0.0.1",
            "-retry-interval", "1s", "-retry-join", f"127.0.0.1:{seed_port}"]


def client_of(node):
    return consul.Consul(host="127.0.0.1", port=node.ports["http"])


@pytest.fixture(scope="module")
def cluster():
    nodes = []
    try:
        srv = Node(name="ca1", dev=False)
        srv.extra = ["-server", "-bootstrap-expect", "1"] + \
            flags(srv.ports["serf_lan"])
        nodes.append(srv)
        for i in range(2, N + 1):
            n = Node(name=f"ca{i}", dev=False)
            n.extra = flags(srv.ports["serf_lan"])
            nodes.append(n)
        for n in nodes:
            n.start_roles(ROLES, wait=False)

        def converged():
            return all(list(statuses(n).values()).count(1) == N
                       for n in nodes)
        wait_until(converged, timeout=30, interval=0.1,
                   what="five agents to see five alive members")
        for n in nodes:
            n.wait_ready(timeout=20)
        yield nodes
    finally:
        stop_nodes(nodes)


def test_five_alive_members(cluster):
    for n in cluster:
        assert {k: m["Status"] for k, m in members(n).items()} == \
            {f"ca{i}": 1 for i in range(1, N + 1)}
    p = cli(cluster[3], "members")
    assert p.returncode == 0, p.stderr
    rows = [line.split() for line in p.stdout.splitlines()[1:]]
    assert sorted(r[0] for r in rows) == [f"ca{i}" for i in range(1, N + 1)]
    assert all(r[2] == "alive" for r in rows)
    assert [r[3] for r in rows if r[0] == "ca1"] == ["server"]
    assert [r[3] for r in rows if r[0] == "ca2"] == ["client"]


def test_client_raftd_keeps_no_state(cluster):
    for n in cluster[1:]:
        assert not os.path.exists(os.path.join(n.data_dir, "raft"))
    assert os.path.exists(os.path.join(cluster[0].data_dir, "raft"))
    assert "client agent: forwarding" in cluster[1].log("raftd")


def test_kv_through_clients(cluster):
    srv, c2, c3 = cluster[0], cluster[1], cluster[2]
    k2, k3, ks = client_of(c2), client_of(c3), client_of(srv)
    assert k2.kv.put("ca/key", "from-client") is True
    idx, got = ks.kv.get("ca/key")
    assert got["Value"] == b"from-client"
    idx3, got3 = k3.kv.get("ca/key")
    assert got3["Value"] == b"from-client"
    assert got3["ModifyIndex"] == got["ModifyIndex"]
    # the server's headers, through two raftds
    r = c3.get("/v1/kv/ca/key")
    assert r.status_code == 200
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert r.headers["X-Consul-LastContact"] == "0"
    assert int(r.headers["X-Consul-Index"]) == got["ModifyIndex"]
    r = c3.get("/v1/kv/ca/missing")
    assert r.status_code == 404
    assert int(r.headers["X-Consul-Index"]) >= got["ModifyIndex"]
    r = c2.get("/v1/kv/ca/missing?stale")
    assert r.status_code == 404
    r = c2.get("/v1/kv/ca/key?consistent")
    assert r.status_code == 200 and json.loads(r.text)[0]["Key"] == "ca/key"
    # check-and-set and delete, as on a server
    assert k3.kv.put("ca/key", "cas", cas=1) is False
    assert k3.kv.put("ca/key", "cas", cas=got["ModifyIndex"]) is True
    assert ks.kv.get("ca/key")[1]["Value"] == b"cas"
    assert k2.kv.delete("ca/key") is True
    assert ks.kv.get("ca/key")[1] is None
    # txn and sessions go through too
    r = c2.put("/v1/txn", data=json.dumps([
        {"KV": {"Verb": "set", "Key": "ca/t", "Value": "eA=="}}]))
    assert r.status_code == 200, r.text
    assert ks.kv.get("ca/t")[1]["Value"] == b"x"
    # the default session checks serfHealth of the client's own node,
    # which the leader keeps from gossip
    def serf_health():
        r = srv.get("/v1/health/node/ca3")
        return any(c["CheckID"] == "serfHealth" and c["Status"] == "passing"
                   for c in r.json())
    wait_until(serf_health, timeout=15, what="ca3's serfHealth")
    sid = k3.session.create(name="ca-lock", ttl=30)
    assert k3.session.info(sid)[1]["Node"] == "ca3"
    assert k3.kv.put("ca/lock", "me", acquire=sid) is True
    assert ks.kv.get("ca/lock")[1]["Session"] == sid
    assert k2.session.info(sid)[1]["Name"] == "ca-lock"
    k3.session.destroy(sid)


def test_blocking_get_on_client_wakes_on_server_write(cluster):
    srv, c4 = cluster[0], cluster[3]
    assert client_of(srv).kv.put("ca/watch", "v1") is True
    idx, _ = client_of(c4).kv.get("ca/watch")
    out = {}

    def block():
        t0 = time.monotonic()
        out["r"] = client_of(c4).kv.get("ca/watch", index=idx, wait="30s")
        out["took"] = time.monotonic() - t0
    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), "the blocking GET returned at once"
    assert client_of(srv).kv.put("ca/watch", "v2") is True
    t.join(timeout=15)
    assert not t.is_alive()
    idx2, got = out["r"]
    assert got["Value"] == b"v2" and int(idx2) > int(idx)
    assert out["took"] < 10
    # a blocking GET that times out returns the same index after the wait
    t0 = time.monotonic()
    r = c4.get(f"/v1/kv/ca/watch?index={idx2}&wait=1s")
    assert time.monotonic() - t0 >= 0.9
    assert r.status_code == 200 and r.headers["X-Consul-Index"] == str(idx2)


def test_status_on_client_is_the_servers(cluster):
    srv, c5 = cluster[0], cluster[4]
    leader = srv.get("/v1/status/leader").json()
    assert leader == f"127.0.0.1:{srv.ports['server']}"
    assert c5.get("/v1/status/leader").json() == leader
    assert c5.get("/v1/status/peers").json() == srv.get("/v1/status/peers").json()


def test_agent_self_stats_are_the_clients(cluster):
    srv, c5 = cluster[0], cluster[4]
    st = c5.get("/v1/agent/self").json()["Stats"]
    assert st["consul"]["server"] == "false"
    assert st["consul"]["known_servers"] == "1"
    assert st["raft"] == {}
    st = srv.get("/v1/agent/self").json()["Stats"]
    assert st["consul"]["server"] == "true"
    assert st["raft"]["state"] == "Leader"


def test_client_without_servers(node_factory):
    lone = node_factory(name="lone", dev=False)
    # a shorter hold (performance.rpc_hold_timeout) keeps the test quick
    cfg = os.path.join(lone.dir, "perf.json")
    with open(cfg, "w") as f:
        json.dump({"performance": {"rpc_hold_timeout": "3s"}}, f)
    lone.extra = ["-bind", "127.0.0.1", "-advertise", "127.0.0.1",
                  "-config-file", cfg]
    lone.start_roles(("gossipd", "raftd", "httpd"), wait=False)
    wait_until(lambda: "client agent: forwarding" in lone.log("raftd"),
               timeout=10, what="the lone client's raftd")
    wait_until(lambda: requests.get(lone.url("/v1/agent/members"),
                                    timeout=2).status_code == 200,
               timeout=10, what="the lone client's httpd")
    t0 = time.monotonic()
    r = lone.get("/v1/kv/k", timeout=30)
    took = time.monotonic() - t0
    assert r.status_code == 500
    assert r.text.strip() == "No known Consul servers"
    assert 2.8 <= took < 3 + 3, took  # held for rpc_hold_timeout


def test_service_on_client_reaches_catalog_and_dns(cluster):
    srv, c2 = cluster[0], cluster[1]
    r = c2.put("/v1/agent/service/register", data=json.dumps(
        {"Name": "cweb", "ID": "cweb1", "Port": 8080, "Address": "127.0.0.7",
         "Tags": ["t1"]}))
    assert r.status_code == 200, r.text

    def in_catalog():
        r = srv.get("/v1/catalog/service/cweb")
        return r.status_code == 200 and [s["Node"] for s in r.json()] == ["ca2"]
    wait_until(in_catalog, timeout=15, what="cweb in the server's catalog")
    # on the client too, and in the client's DNS
    r = c2.get("/v1/catalog/service/cweb")
    assert r.json()[0]["ServicePort"] == 8080

    def in_dns():
        q = dns.message.make_query("cweb.service.consul.", "SRV")
        try:
            a = dns.query.udp(q, "127.0.0.1", port=c2.ports["dns"], timeout=2)
        except Exception:
            return False
        return [rr.port for rrs in a.answer for rr in rrs
                if rrs.rdtype == dns.rdatatype.SRV] == [8080]
    wait_until(in_dns, timeout=15, what="cweb in the client's DNS")
    r = c2.put("/v1/agent/service/deregister/cweb1")
    assert r.status_code == 200
    wait_until(lambda: srv.get("/v1/catalog/service/cweb").json() == [],
               timeout=15, what="cweb gone from the catalog")


def test_server_raftd_down_then_back(cluster):
    srv, c3 = cluster[0], cluster[2]
    srv.kill("raftd", signal.SIGKILL)
    try:
        t0 = time.monotonic()
        r = c3.put("/v1/kv/ca/down", data=b"x", timeout=30)
        took = time.monotonic() - t0
        assert r.status_code >= 500, (r.status_code, r.text)
        assert r.text.strip(), "an error names the reason"
        assert took < 7 + 3.5, took  # rpc_hold_timeout + slack
        print(f"\nwrite with the server's raftd down: {r.status_code} "
              f"{r.text.strip()!r} after {took:.2f} s")
        t0 = time.monotonic()
        r = c3.get("/v1/kv/ca/down", timeout=30)
        took = time.monotonic() - t0
        assert r.status_code >= 500, (r.status_code, r.text)
        assert took < 7 + 3.5, took
    finally:
        srv.start_role("raftd")

    def works():
        try:
            return c3.put("/v1/kv/ca/down", data=b"y",
                          timeout=15).status_code == 200
        except requests.RequestException:
            return False
    wait_until(works, timeout=20, interval=0.2,
               what="the client's write after the server's raftd restart")
    assert client_of(srv).kv.get("ca/down")[1]["Value"] == b"y"


def test_kill9_client_gossipd_failed_then_alive(cluster):
    victim = cluster[4]
    others = cluster[:4]
    snap = os.path.join(victim.data_dir, "serf", "local.snapshot")

    def snapshot_alive():
        try:
            with open(snap) as f:
                return f.read().count("alive: ")
        except OSError:
            return 0
    wait_until(lambda: snapshot_alive() == N - 1, timeout=15,
               what="ca5's snapshot to list the four others")
    victim.kill("gossipd", signal.SIGKILL)
    wait_until(lambda: all(statuses(n).get("ca5") == 4 for n in others),
               timeout=30, interval=0.1, what="ca5 seen failed")
    victim.start_role("gossipd")
    wait_until(lambda: all(statuses(n).get("ca5") == 1 for n in cluster),
               timeout=20, interval=0.1, what="ca5 alive again")


def test_leave_and_force_leave(cluster):
    srv, c3, c4, c5 = cluster[0], cluster[2], cluster[3], cluster[4]
    # a graceful leave: left everywhere
    p = cli(c5, "leave")
    assert p.returncode == 0, p.stderr
    wait_until(lambda: all(statuses(n).get("ca5") == 3
                           for n in cluster[:4]),
               timeout=20, interval=0.1, what="ca5 left")
    # a failed member, then force-leave: left
    c4.kill("gossipd", signal.SIGKILL)
    wait_until(lambda: statuses(srv).get("ca4") == 4, timeout=30,
               interval=0.1, what="ca4 failed")
    p = cli(c3, "force-leave", "ca4")
    assert p.returncode == 0, p.stderr
    wait_until(lambda: all(statuses(n).get("ca4") == 3
                           for n in cluster[:3]),
               timeout=20, interval=0.1, what="ca4 left after force-leave")
    # the remaining clients still forward
    assert client_of(c3).kv.put("ca/after", "z") is True
    assert client_of(srv).kv.get("ca/after")[1]["Value"] == b"z"


def test_client_moves_to_another_server(node_factory):
    """Three servers and a client: the client's server loses its raftd;
    the client moves to another server (reads at once, writes once a
    leader is elected) and a blocking read held on it is answered."""
    srvs = start_servers(node_factory, 3, "cm",
                         extra=["-advertise", "127.0.0.1"], seed_joins=True,
                         start=False)
    cl = node_factory(name="cm4", dev=False,
                      extra=flags(srvs[0].ports["serf_lan"]))
    for n in srvs + [cl]:
        n.start_roles(("gossipd", "raftd", "httpd"), wait=False)
    cl.wait_ready(timeout=40)
    kc = client_of(cl)
    assert kc.kv.put("cm/k", "v1") is True
    idx, _ = kc.kv.get("cm/k")

    def used():
        lines = [ln for ln in cl.log("raftd").splitlines()
                 if "client: using server" in ln]
        return lines[-1].split("using server ")[1].split()[0] if lines else None
    name = used()
    victim = next(n for n in srvs if n.name == name)
    out = {}

    def block():
        try:
            out["r"] = kc.kv.get("cm/k", index=idx, wait="20s")
        except Exception as e:  # reported below
            out["e"] = e
    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    victim.kill("raftd", signal.SIGKILL)
    t0 = time.monotonic()

    def stale_read():
        try:
            r = cl.get("/v1/kv/cm/k?stale&raw", timeout=15)
            return r.status_code == 200 and r.text == "v1"
        except requests.RequestException:
            return False
    wait_until(stale_read, timeout=15, interval=0.2,
               what="a stale read through another server")
    moved = time.monotonic() - t0
    assert used() != name
    print(f"\nclient moved from {name} to {used()} in {moved:.2f} s")

    def write():
        try:
            return cl.put("/v1/kv/cm/k", data=b"v2", timeout=15).json() is True
        except (requests.RequestException, ValueError):
            return False
    wait_until(write, timeout=20, interval=0.2, what="a write after the move")
    # the blocking read re-sent to the new server wakes on that write
    t.join(timeout=25)
    assert not t.is_alive() and "e" not in out, out
    assert out["r"][1]["Value"] == b"v2"
    rest = [n for n in srvs if n is not victim]
    wait_until(lambda: rest[0].get("/v1/kv/cm/k?stale&raw").text == "v2",
               timeout=10, what="the write on the servers")
