"""
Raft in the real daemons (raftd/consensus.c, forward.c, operator.c and
httpd/api_operator.c), through HTTP only.

- A single server (-dev) reports itself in /v1/operator/raft/configuration
  as leader and voter, and DELETE /v1/operator/raft/peer refuses a request
  without ?id/?address (400) and an unknown peer (500).
- A server started with -bootstrap-expect 3 runs the Raft core; alone it
  never bootstraps: /v1/status/leader is "", a ?stale read is answered
  locally with X-Consul-KnownLeader false, and a default read waits
  rpc_hold_timeout and fails with 500 "No cluster leader".
- Three `cairn agent -server -bootstrap-expect 3` joined with -retry-join
  learn each other through gossipd (raftd/members.c), bootstrap, agree on
  one leader, list three peers, replicate writes made on any server, and
  elect a new leader when the leader's agent stops.
(tests/unit/test_raftd_cluster.c covers more of it in process: snapshots,
rejoin, autopilot, concurrent writes across a failover.)
"""
import time

import requests

from conftest import one_leader, start_servers, wait_until


def test_operator_raft_single_server(node_factory):
    n = node_factory(name="op1")
    n.start_roles()
    r = n.get("/v1/operator/raft/configuration")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body.keys()) == ["Servers", "Index"]
    assert len(body["Servers"]) == 1
    s = body["Servers"][0]
    assert list(s.keys()) == ["ID", "Node", "Address", "Leader", "Voter",
                              "ProtocolVersion", "LastIndex"]
    assert s["Node"] == "op1"
    assert s["Address"] == "127.0.0.1:%d" % n.ports["server"]
    assert s["Leader"] is True and s["Voter"] is True
    assert s["ProtocolVersion"] == "3"
    assert len(s["ID"]) == 36
    assert int(r.headers["X-Consul-Index"]) >= 1
    assert r.headers["X-Consul-KnownLeader"] == "true"
    r = n.get("/v1/operator/raft/configuration?stale")
    assert r.status_code == 200 and len(r.json()["Servers"]) == 1

    r = n.delete("/v1/operator/raft/peer")
    assert r.status_code == 400
    assert "Must specify either ?id" in r.text
    r = n.delete("/v1/operator/raft/peer?address=10.9.9.9:8300")
    assert r.status_code == 500
    assert 'address "10.9.9.9:8300" was not found in the Raft configuration' in r.text


def test_clustered_server_without_peers(node_factory):
    n = node_factory(name="c1", dev=False,
                     extra=["-server", "-bootstrap-expect", "3",
                            "-bind", "127.0.0.1"])
    n.start_roles(wait=False)
    wait_until(lambda: requests.get(n.url("/v1/status/leader"), timeout=2).status_code == 200,
               timeout=15, what="httpd and raftd up")
    assert n.get("/v1/status/leader").json() == ""
    r = n.get("/v1/kv/missing?stale")
    assert r.status_code == 404
    assert r.headers["X-Consul-KnownLeader"] == "false"
    t0 = time.monotonic()
    r = n.get("/v1/kv/missing")
    took = time.monotonic() - t0
    assert r.status_code == 500
    assert r.text.strip() == "No cluster leader"
    assert took >= 6.5, took  # rpc_hold_timeout 7s
    assert "raft: server" in n.log("raftd")


def _leader_of(nodes):
    return nodes[0].get("/v1/status/leader").json()


def test_three_agents_form_a_cluster(node_factory):
    """Three `cairn agent -server -bootstrap-expect 3` join by gossip
    (-retry-join), elect one leader, replicate writes made on any of them,
    and elect a new leader when the leader's agent stops."""
    nodes = start_servers(node_factory, 3, "srv")
    wait_until(lambda: one_leader(nodes), timeout=40, interval=0.2,
               what="one leader for all three")
    leader = _leader_of(nodes)
    addrs = {"127.0.0.1:%d" % n.ports["server"] for n in nodes}
    assert leader in addrs
    peers = nodes[1].get("/v1/status/peers").json()
    assert sorted(peers) == sorted(addrs)
    conf = nodes[2].get("/v1/operator/raft/configuration").json()
    assert len(conf["Servers"]) == 3
    assert sum(1 for s in conf["Servers"] if s["Leader"]) == 1

    # writes on every server, read back everywhere (default: via the leader)
    for i, n in enumerate(nodes):
        r = n.put("/v1/kv/cluster/k%d" % i, data="v%d" % i)
        assert r.status_code == 200 and r.json() is True, r.text
    for n in nodes:
        for i in range(3):
            r = n.get("/v1/kv/cluster/k%d?raw" % i)
            assert r.status_code == 200 and r.text == "v%d" % i
        r = n.get("/v1/kv/cluster/k0?consistent&raw")
        assert r.status_code == 200 and r.text == "v0"
        wait_until(lambda: n.get("/v1/kv/cluster/k2?stale&raw").text == "v2",
                   timeout=5, what="replicated to %s" % n.name)

    # the leader's agent stops: the other two elect a new leader
    old = next(n for n in nodes if "127.0.0.1:%d" % n.ports["server"] == leader)
    rest = [n for n in nodes if n is not old]
    old.stop()

    def new_leader():
        ls = {n.get("/v1/status/leader", timeout=3).json() for n in rest}
        return len(ls) == 1 and "" not in ls and leader not in ls
    wait_until(new_leader, timeout=30, interval=0.2, what="a new leader")
    r = rest[1].put("/v1/kv/cluster/after", data="x")
    assert r.status_code == 200 and r.json() is True, r.text
    r = rest[0].get("/v1/kv/cluster/after?raw")
    assert r.status_code == 200 and r.text == "x"
