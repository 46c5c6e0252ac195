"""
Operating a Raft cluster (raftd/operator.c, httpd/api_operator.c,
cli/cmd_operator.c, cli/cmd_info.c), with three real agents:

- `cairn operator raft list-peers` prints Consul's table (three voters,
  one leader) and `cairn info` shows raft state Leader on the leader and
  Follower elsewhere;
- POST /v1/operator/raft/transfer-leader?id=<node id> moves leadership
  to that server ({"Success":true}), so does `cairn operator raft
  transfer-leader -id=`; an unknown id is refused (500);
- `cairn leave` on a follower removes it from the Raft configuration
  (list-peers shows two) and writes go on; restarted with -retry-join it
  is added back (three again);
- `cairn operator raft remove-peer -address=` removes a server, which
  the leader adds back as it is still alive in gossip.
"""
import os
import subprocess

import requests

from conftest import BUILD, wait_until


def cairn(node, *args, timeout=30):
    env = dict(os.environ)
    env["CONSUL_HTTP_ADDR"] = "127.0.0.1:%d" % node.ports["http"]
    return subprocess.run([os.path.join(BUILD, "cairn")] + list(args),
                          env=env, capture_output=True, text=True,
                          timeout=timeout)


def addr(n):
    return "127.0.0.1:%d" % n.ports["server"]


def servers(n, stale=False):
    r = n.get("/v1/operator/raft/configuration" + ("?stale" if stale else ""))
    assert r.status_code == 200, r.text
    return r.json()["Servers"]


def leader_node(nodes):
    ls = {n.get("/v1/status/leader", timeout=3).json() for n in nodes}
    if len(ls) != 1 or "" in ls:
        return None
    return next((n for n in nodes if addr(n) in ls), None)


def info(n):
    out = cairn(n, "info")
    assert out.returncode == 0, out.stderr
    sections, cur = {}, None
    for line in out.stdout.splitlines():
        if not line.startswith("\t"):
            cur = line.rstrip(":")
            sections[cur] = {}
        else:
            k, _, v = line[1:].partition(" = ")
            sections[cur][k] = v
    return sections


def test_raft_operations(node_factory):
    nodes = [node_factory(name="ops%d" % (i + 1), dev=False,
                          extra=["-server", "-bootstrap-expect", "3",
                                 "-bind", "127.0.0.1"]) for i in range(3)]
    join = "127.0.0.1:%d" % nodes[0].ports["serf_lan"]
    for n in nodes[1:]:
        n.extra += ["-retry-join", join]
    for n in nodes:
        n.start_agent(wait=False)
    wait_until(lambda: leader_node(nodes) is not None, timeout=40,
               interval=0.2, what="one leader for all three")
    wait_until(lambda: all(len(servers(n, True)) == 3 and
                           all(s["Node"] for s in servers(n, True))
                           for n in nodes),
               timeout=20, what="three named peers everywhere")

    # list-peers: Consul's table
    out = cairn(nodes[1], "operator", "raft", "list-peers")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Node", "ID", "Address", "State", "Voter",
                                "RaftProtocol", "Commit", "Index", "Trails",
                                "Leader", "By"]
    assert len(lines) == 4
    lead = leader_node(nodes)
    rows = {l.split()[0]: l.split() for l in lines[1:]}
    assert set(rows) == {"ops1", "ops2", "ops3"}
    for n in nodes:
        row = rows[n.name]
        assert row[2] == addr(n)
        assert row[3] == ("leader" if n is lead else "follower")
        assert row[4] == "true" and row[5] == "3"
        assert len(row[1]) == 36
    assert rows[lead.name][7] == "-"
    out = cairn(nodes[2], "operator", "raft", "list-peers", "-stale")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 4

    # cairn info: raft state on leader and followers
    for n in nodes:
        s = info(n)
        for sec in ("agent", "build", "consul", "raft", "runtime",
                    "serf_lan", "serf_wan"):
            assert sec in s, (sec, s.keys())
        assert s["raft"]["state"] == ("Leader" if n is lead else "Follower")
        assert s["consul"]["leader"] == ("true" if n is lead else "false")
        assert s["consul"]["leader_addr"] == addr(lead)
        assert s["raft"]["num_peers"] == "2"
        assert s["serf_lan"]["members"] == "3"
        assert int(s["raft"]["commit_index"]) >= 1
        assert int(s["raft"]["term"]) >= 1

    # transfer-leader over HTTP, sent to a follower, to a named server
    ids = {s["Address"]: s["ID"] for s in servers(lead)}
    others = [n for n in nodes if n is not lead]
    target = others[0]
    r = others[1].request("POST", "/v1/operator/raft/transfer-leader?id=" +
                          ids[addr(target)])
    assert r.status_code == 200, r.text
    assert r.json() == {"Success": True}
    wait_until(lambda: leader_node(nodes) is target, timeout=10,
               what="leadership on %s" % target.name)
    assert info(target)["raft"]["state"] == "Leader"
    r = target.request("POST", "/v1/operator/raft/transfer-leader?id=nope")
    assert r.status_code == 500 and "cannot find peer" in r.text
    # and with the CLI, back to the first leader
    out = cairn(nodes[0], "operator", "raft", "transfer-leader",
                "-id=" + ids[addr(lead)])
    assert out.returncode == 0, out.stderr
    wait_until(lambda: leader_node(nodes) is lead, timeout=10,
               what="leadership back on %s" % lead.name)
    r = lead.put("/v1/kv/ops/after-transfer", data="1")
    assert r.status_code == 200 and r.json() is True, r.text

    # graceful leave of a follower: two peers, writes go on
    gone = others[1]
    out = cairn(gone, "leave")
    assert out.returncode == 0, out.stderr
    assert "Graceful leave complete" in out.stdout
    rest = [n for n in nodes if n is not gone]
    wait_until(lambda: len(servers(rest[0])) == 2, timeout=15,
               what="two peers after the leave")
    assert addr(gone) not in {s["Address"] for s in servers(rest[1])}
    out = cairn(rest[1], "operator", "raft", "list-peers")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 3
    for i, n in enumerate(rest):
        r = n.put("/v1/kv/ops/after-leave%d" % i, data="v")
        assert r.status_code == 200 and r.json() is True, r.text
    gone.procs["agent"].wait(timeout=20)

    # rejoin: back to three, it catches up
    gone.http = requests.Session()
    gone.start_agent(wait=False)
    wait_until(lambda: len(servers(lead)) == 3, timeout=30,
               what="three peers after the rejoin")
    wait_until(lambda: gone.get("/v1/kv/ops/after-leave1?stale&raw",
                                timeout=3).text == "v",
               timeout=20, what="the rejoined server caught up")

    # remove-peer by address: it goes (and, alive in gossip, comes back)
    victim = next(n for n in nodes if n is not leader_node(nodes))
    out = cairn(lead, "operator", "raft", "remove-peer",
                "-address=" + addr(victim))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 'Removed peer with address "%s"' % addr(victim)
    out = cairn(lead, "operator", "raft", "remove-peer")
    assert out.returncode == 1
    assert "an address or id is required" in out.stderr
    out = cairn(lead, "operator", "raft", "remove-peer", "-id=nope")
    assert out.returncode == 1
    assert 'id "nope" was not found in the Raft configuration' in out.stderr


def test_transfer_leader_single_server(node_factory):
    n = node_factory(name="tl1")
    n.start_roles()
    r = n.request("POST", "/v1/operator/raft/transfer-leader")
    assert r.status_code == 500 and "cannot find peer" in r.text
    out = cairn(n, "operator", "raft", "transfer-leader")
    assert out.returncode == 1
    assert "Error transferring leadership" in out.stderr
    s = info(n)
    assert s["raft"]["state"] == "Leader"
    assert s["consul"]["leader"] == "true"
