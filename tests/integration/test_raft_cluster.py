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

Three real agents forming a cluster need gossipd's member events
(discovery_server_seen); until gossipd publishes them the multi-server
path is covered in process by tests/unit/test_raftd_cluster.c.
"""
import time

import requests

from conftest import wait_until


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
