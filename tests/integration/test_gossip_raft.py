"""
Gossip feeds Raft discovery (issue 3, item 4): three `cairn agent -server
-bootstrap-expect 3` on 127.0.0.1, joined by -retry-join to the first
one's serf port, find each other through gossipd's member events
(raftd/gossip_sub.c -> discovery_server_seen), bootstrap one Raft
cluster with one leader, and a KV write on one server is read on
another.
"""
import time

import requests

from conftest import wait_until


def leader_of(n):
    try:
        r = requests.get(n.url("/v1/status/leader"), timeout=2)
        return r.json() if r.status_code == 200 else None
    except requests.RequestException:
        return None


def test_three_servers_bootstrap_by_gossip(node_factory):
    nodes = [node_factory(name=f"s{i}", dev=False) for i in (1, 2, 3)]
    seed = nodes[0].ports["serf_lan"]
    for n in nodes:
        n.extra = ["-server", "-bootstrap-expect", "3", "-bind", "127.0.0.1",
                   "-advertise", "127.0.0.1", "-retry-join",
                   f"127.0.0.1:{seed}", "-retry-interval", "1s"]
    t0 = time.monotonic()
    for n in nodes:
        n.start_agent(wait=False)

    def one_leader():
        ls = [leader_of(n) for n in nodes]
        return ls[0] and all(x == ls[0] for x in ls) and ls[0]
    leader = wait_until(one_leader, timeout=40, interval=0.2,
                        what="one leader on all three servers")
    print(f"\nleader {leader} elected {time.monotonic() - t0:.2f} s "
          "after start")
    ports = {f"127.0.0.1:{n.ports['server']}" for n in nodes}
    assert leader in ports
    peers = nodes[1].get("/v1/status/peers").json()
    assert set(peers) == ports
    # all three see each other as alive servers
    ms = nodes[2].get("/v1/agent/members").json()
    assert sorted(m["Name"] for m in ms if m["Status"] == 1) == ["s1", "s2", "s3"]
    assert all(m["Tags"]["role"] == "consul" and m["Tags"]["expect"] == "3"
               for m in ms)
    # a write on one server is read on another
    r = nodes[0].put("/v1/kv/gossip/raft", data=b"formed")
    assert r.status_code == 200 and r.json() is True
    r = nodes[2].get("/v1/kv/gossip/raft?raw")
    assert r.status_code == 200 and r.content == b"formed"
