"""
Operating a Raft cluster (raftd/operator.c, httpd/api_operator.c,
cli/cmd_operator.c, cli/cmd_info.c), with three real agents:

- `cairn operator raft list-peers` prints Consul's table (three voters,
  one leader) and `cairn info` shows raft state Leader on the leader and
  Follower elsewhere;
- POST /v1/operator/raft/transfer-leader?id=<node id> moves leadership
  to that server ({"Success":true}), so does `cairn operator raft
  transfer-leader -id=`; an unknown id is refused (500);
- `cairn leave` on the leader hands leadership over and has the new
  leader remove it from the Raft configuration (list-peers shows two)
  and writes go on; restarted with -retry-join it is added back (three
  again);
- `cairn operator raft remove-peer -address=` removes a server, which
  the leader adds back as it is still alive in gossip;
- SIGTERM with leave_on_terminate on the leader hands leadership over
  before it stops; the others remove it and take writes.
"""
import os
import signal
import time
import subprocess

import requests

from conftest import BUILD, start_servers, wait_until


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
    nodes = start_servers(node_factory, 3, "ops",
                          conf={"leave_on_terminate": True,
                                "performance": {"raft_multiplier": 1}})
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

    # graceful leave of the leader: it hands leadership over, the new
    # leader removes it; two peers, writes go on
    gone = lead
    out = cairn(gone, "leave")
    assert out.returncode == 0, out.stderr
    assert "Graceful leave complete" in out.stdout
    assert "handing leadership over first" in gone.log("agent")
    rest = [n for n in nodes if n is not gone]
    assert leader_node(rest) is not None
    assert any("leave: removing server" in n.log("agent") for n in rest)
    wait_until(lambda: len(servers(rest[0])) == 2, timeout=15,
               what="two peers after the leave")
    assert addr(gone) not in {s["Address"] for s in servers(rest[1])}
    out = cairn(rest[1], "operator", "raft", "list-peers")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 3
    for i, n in enumerate(rest):
        r = n.put("/v1/kv/ops/after-leave%d" % i, data="v")
        assert r.status_code == 200 and r.json() is True, r.text
    gone.procs["agent"].wait(timeout=20)

    # rejoin: back to three, it catches up (a node that left rejoins
    # only through -retry-join, as Consul's rejoin_after_leave false)
    gone.http = requests.Session()
    if "-retry-join" not in gone.extra:
        gone.extra += ["-retry-join",
                       "127.0.0.1:%d" % rest[0].ports["serf_lan"]]
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

    # SIGTERM with leave_on_terminate on the leader: it hands leadership
    # over, leaves, and the others remove it and keep taking writes
    wait_until(lambda: len(servers(lead)) == 3, timeout=30,
               what="the removed server back")
    lead = leader_node(nodes)
    rest = [n for n in nodes if n is not lead]
    lead.kill("agent", signal.SIGTERM)
    assert "handing leadership over" in lead.log("agent")
    wait_until(lambda: leader_node(rest) is not None, timeout=15,
               what="a new leader")
    wait_until(lambda: len(servers(rest[0])) == 2, timeout=30,
               what="the terminated leader removed")
    r = rest[0].put("/v1/kv/ops/after-term", data="1")
    assert r.status_code == 200 and r.json() is True, r.text


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


def test_single_server_grows_into_a_cluster(node_factory):
    """A -bootstrap-expect 1 server runs the Raft core alone, leads at
    once, and adds a server that joins later (no second bootstrap); the
    new one gets the data and takes writes (forwarded)."""
    a = node_factory(name="grow1", dev=False,
                     extra=["-server", "-bootstrap-expect", "1",
                            "-bind", "127.0.0.1"])
    t0 = time.monotonic()
    a.start_agent()
    took = time.monotonic() - t0
    r = a.put("/v1/kv/grow/before", data="1")
    assert r.status_code == 200 and r.json() is True, r.text
    assert [s["Address"] for s in servers(a)] == [addr(a)]
    assert info(a)["raft"]["state"] == "Leader"
    b = node_factory(name="grow2", dev=False,
                     extra=["-server", "-bind", "127.0.0.1", "-retry-join",
                            "127.0.0.1:%d" % a.ports["serf_lan"],
                            "-retry-interval", "1s"])
    b.start_agent(wait=False)
    wait_until(lambda: len(servers(a)) == 2 and
               all(s["Voter"] for s in servers(a)), timeout=30,
               what="the second server added as a voter")
    wait_until(lambda: b.get("/v1/status/leader", timeout=3).json() == addr(a),
               timeout=15, what="the second server follows")
    wait_until(lambda: b.get("/v1/kv/grow/before?stale&raw",
                             timeout=3).text == "1",
               timeout=15, what="replicated to the new server")
    r = b.put("/v1/kv/grow/after", data="2")
    assert r.status_code == 200 and r.json() is True, r.text
    assert a.get("/v1/kv/grow/after?raw").text == "2"
    assert "bootstrapped a cluster" not in b.log("agent")
    assert took < 10, took


def test_dev_agent_ready_quickly(node_factory):
    """-dev runs the Raft core as a single voter that elects itself at
    its first tick: ready without an election timeout."""
    n = node_factory(name="quick1")
    t0 = time.monotonic()
    n.start_agent()
    took = time.monotonic() - t0
    s = info(n)
    assert s["raft"]["state"] == "Leader"
    assert s["raft"]["num_peers"] == "0"
    assert s["raft"]["latest_configuration"] == (
        "[{Suffrage:Voter ID:%s Address:%s}]" %
        (n.get("/v1/agent/self").json()["Config"]["NodeID"], addr(n)))
    assert took < 2.0, took
