"""
Node health from gossip (issue 5 item 5, item 7's last test; issue 7's
"session invalidated when its node's gossipd is killed"): the leader
reconciles the LAN members into the catalog (raftd/reconcile.c).

On a cluster of three servers and a client agent started role by role
(so one role can be killed alone):
  - every node is in /v1/catalog/nodes with serfHealth passing and every
    server has the consul service on its server port with Consul's
    ServiceMeta, on every server,
    and a reconcile writes nothing more once they are (no index churn);
  - kill -9 of the client's gossipd: the servers see its serfHealth
    critical, its service leaves ?passing and DNS (a blocked ?index watcher
    wakes) but stays in the catalog, the session created on that node
    (default checks: serfHealth) is invalidated and its lock released;
    gossipd restarted: passing again; a node with serfHealth that gossip
    does not know is reaped, one without serfHealth stays;
  - kill -9 of the leader's gossipd: the leader marks its own
    serfHealth critical (its consul service leaves ?passing); gossipd
    restarted: passing again;
  - `cairn leave` on a node: its node is deregistered and its session
    invalidated (Behavior delete: the held key deleted);
  - `cairn force-leave` of the failed client: deregistered.
And -dev shows its own node with serfHealth passing and the consul
service (its ServiceMeta too).
"""
import json
import threading
import time

import dns.message
import dns.query
import dns.rdatatype
import pytest

from conftest import (Node, cli, one_leader, start_servers, stop_nodes,
                      wait_until)

ROLES = ("raftd", "checkd", "gossipd", "httpd", "dnsd")


def jget(node, path, timeout=5):
    r = node.get(path, timeout=timeout)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def srv_ports(node, name):
    """The SRV ports of name.service.consul in node's DNS (None when it
    does not answer)."""
    q = dns.message.make_query(f"{name}.service.consul.", "SRV")
    try:
        a = dns.query.udp(q, "127.0.0.1", port=node.ports["dns"], timeout=2)
    except Exception:
        return None
    return [rr.port for rrs in a.answer for rr in rrs
            if rrs.rdtype == dns.rdatatype.SRV]


def serf(node, of):
    """The serfHealth check of node `of` as `node` sees it (None if
    absent)."""
    try:
        checks = node.get(f"/v1/health/node/{of}", timeout=5).json()
    except Exception:
        return None
    for c in checks or []:
        if c["CheckID"] == "serfHealth":
            return c
    return None


@pytest.fixture(scope="module")
def cluster():
    nodes = []
    try:
        start_servers(nodes, 3, "sh", extra=["-advertise", "127.0.0.1"],
                      seed_joins=True, start=False)
        seed = nodes[0].ports["serf_lan"]
        nodes.append(Node(name="shc", dev=False))  # a client agent
        nodes[3].extra = ["-bind", "127.0.0.1", "-advertise", "127.0.0.1",
                          "-retry-join", f"127.0.0.1:{seed}",
                          "-retry-interval", "1s"]
        for n in nodes:
            n.start_roles(ROLES, wait=False)
        wait_until(lambda: one_leader(nodes), timeout=60, interval=0.2,
                   what="one leader")
        yield nodes
    finally:
        stop_nodes(nodes)


def consul_meta(node):
    """The ServiceMeta Consul's leader gives the consul service of a
    server (leader_registrator_v1.go handleAliveMember), with node's
    version (/v1/agent/self Config.Version)."""
    version = jget(node, "/v1/agent/self")["Config"]["Version"]
    return {"non_voter": "false", "read_replica": "false",
            "raft_version": "3", "serf_protocol_current": "2",
            "serf_protocol_max": "5", "serf_protocol_min": "1",
            "version": version}


def leader_of(nodes):
    addr = nodes[0].get("/v1/status/leader").json()
    return next(n for n in nodes
                if f"127.0.0.1:{n.ports['server']}" == addr)


def servers(nodes):
    return [n for n in nodes if n.name != "shc"]


def test_every_node_registered_passing(cluster):
    names = sorted(n.name for n in cluster)

    def all_passing(viewer):
        nodes = sorted(x["Node"] for x in jget(viewer, "/v1/catalog/nodes"))
        if nodes != names:
            return False
        return all((serf(viewer, n) or {}).get("Status") == "passing"
                   for n in names)
    for viewer in cluster:
        wait_until(lambda: all_passing(viewer), timeout=60, interval=0.2,
                   what=f"every node passing as {viewer.name} sees it")
    for viewer in cluster:
        c = serf(viewer, cluster[1].name)
        assert c["Name"] == "Serf Health Status"
        assert c["Output"] == "Agent alive and reachable"
        assert c["ServiceID"] == ""
        svcs = jget(viewer, "/v1/catalog/service/consul")
        assert sorted((s["Node"], s["ServicePort"]) for s in svcs) == \
            sorted((n.name, n.ports["server"]) for n in servers(cluster))
        for s in svcs:
            assert s["Address"] == "127.0.0.1"
            assert s["ServiceMeta"] == consul_meta(viewer)
    # nothing left to write: the serfHealth checks and consul services
    # keep their ModifyIndex over two member polls (every 2 s; a poll is
    # reconciled when the list changed). The catalog index itself may
    # still move with the agents' own anti-entropy at startup.
    def indexes():
        v = cluster[1]
        out = {n: serf(v, n)["ModifyIndex"] for n in names}
        for sv in jget(v, "/v1/catalog/service/consul"):
            out["consul@" + sv["Node"]] = sv["ModifyIndex"]
        return out
    before = indexes()
    time.sleep(5)
    assert indexes() == before


def test_gossipd_kill_critical_session_invalidated(cluster):
    victim = cluster[3]  # the client agent
    others = servers(cluster)
    r = victim.put("/v1/agent/service/register",
                   data=json.dumps({"Name": "x", "ID": "x1", "Port": 7001}))
    assert r.status_code == 200, r.text

    def x_passing(viewer):
        return [e["Node"]["Node"]
                for e in jget(viewer, "/v1/health/service/x?passing")]
    for o in others:
        wait_until(lambda: x_passing(o) == [victim.name], timeout=30,
                   what=f"x passing on {o.name}")
    wait_until(lambda: srv_ports(others[0], "x") == [7001], timeout=15,
               what="x in DNS")
    wait_until(lambda: (serf(victim, victim.name) or {}).get("Status") ==
               "passing", timeout=30, what="the victim's own serfHealth")
    # a session on the victim with the default checks holds a lock
    r = victim.put("/v1/session/create")
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    info = jget(victim, f"/v1/session/info/{sid}")[0]
    assert info["Node"] == victim.name
    assert info["NodeChecks"] == ["serfHealth"]
    assert victim.put(f"/v1/kv/sh/lock?acquire={sid}", data=b"v").json() \
        is True

    # a node with a serfHealth check that gossip does not know is reaped
    # (after 10 s of member lists without it) once a full reconcile sees
    # it (the kill below changes the member list); one without
    # serfHealth is not gossip's and stays
    for node, checks in (("ghost", [{"CheckID": "serfHealth",
                                     "Name": "Serf Health Status",
                                     "Status": "passing"}]),
                         ("external", [])):
        r = others[1].put("/v1/catalog/register", data=json.dumps(
            {"Node": node, "Address": "10.9.9.9", "Checks": checks}))
        assert r.status_code == 200 and r.json() is True, r.text
    # a watcher blocked on ?passing wakes when the node fails
    r = others[0].get("/v1/health/service/x?passing")
    idx = int(r.headers["X-Consul-Index"])
    woke = {}

    def watch():
        t0 = time.monotonic()
        w = others[0].get(f"/v1/health/service/x?passing&index={idx}"
                          "&wait=120s", timeout=150)
        woke["after"] = time.monotonic() - t0
        woke["body"] = w.json()
        woke["index"] = int(w.headers["X-Consul-Index"])
    t = threading.Thread(target=watch)
    t.start()
    time.sleep(0.5)  # let it block (it must not return before the kill)
    assert "body" not in woke

    victim.kill("gossipd")
    for o in others:
        wait_until(lambda: (serf(o, victim.name) or {}).get("Status") ==
                   "critical", timeout=60, interval=0.2,
                   what=f"{victim.name} critical on {o.name}")
    c = serf(others[1], victim.name)
    assert c["Output"] == "Agent not live or unreachable"
    t.join(timeout=30)
    assert not t.is_alive(), "the blocked watcher never woke"
    assert woke["body"] == [] and woke["index"] > idx
    # out of DNS too (a critical node check excludes the instance)
    wait_until(lambda: srv_ports(others[0], "x") == [], timeout=15,
               what="x out of DNS")
    for o in others:
        assert x_passing(o) == []
        # still in the catalog, only unhealthy
        all_x = jget(o, "/v1/health/service/x")
        assert [e["Service"]["ID"] for e in all_x] == ["x1"]
        assert [n["Node"] for n in jget(o, "/v1/catalog/nodes")
                if n["Node"] == victim.name] == [victim.name]
    # the session is invalidated everywhere and the lock released
    for o in others:
        wait_until(lambda: jget(o, f"/v1/session/info/{sid}") == [],
                   timeout=20, what=f"session gone on {o.name}")
        wait_until(lambda: "Session" not in
                   jget(o, "/v1/kv/sh/lock")[0], timeout=20,
                   what=f"lock released on {o.name}")
    kvp = jget(others[0], "/v1/kv/sh/lock")[0]
    assert kvp["LockIndex"] == 1

    def nodes(o):
        return [n["Node"] for n in jget(o, "/v1/catalog/nodes")]
    for o in others:
        wait_until(lambda: "ghost" not in nodes(o), timeout=40,
                   what=f"ghost reaped on {o.name}")
        assert "external" in nodes(o)

    # gossipd back: passing again, x back in ?passing
    victim.start_role("gossipd")
    for o in others:
        wait_until(lambda: (serf(o, victim.name) or {}).get("Status") ==
                   "passing", timeout=60, interval=0.2,
                   what=f"{victim.name} passing again on {o.name}")
        wait_until(lambda: x_passing(o) == [victim.name], timeout=20,
                   what=f"x passing again on {o.name}")


def test_leader_gossipd_kill_marks_leader_critical(cluster):
    """The leader's own gossipd killed: only that gossipd tells the leader
    about members, so the leader marks its own serfHealth critical once
    gossipd has not answered for 5 s (Consul: a node whose serf agent is
    not alive is failed), its consul service leaves ?passing; gossipd
    back: passing again."""
    leader = leader_of(cluster)
    others = servers(cluster)
    for o in others:
        wait_until(lambda: (serf(o, leader.name) or {}).get("Status") ==
                   "passing", timeout=60, what=f"the leader on {o.name}")

    def consul_passing(o):
        return sorted(e["Node"]["Node"] for e in
                      jget(o, "/v1/health/service/consul?passing"))
    leader.kill("gossipd")
    for o in others:
        wait_until(lambda: (serf(o, leader.name) or {}).get("Status") ==
                   "critical", timeout=30, interval=0.2,
                   what=f"the leader critical on {o.name}")
    assert leader_of(cluster) is leader  # Raft does not need gossip
    c = serf(others[0], leader.name)
    assert c["Output"] == "Agent not live or unreachable"
    assert c["Name"] == "Serf Health Status"
    for o in others:
        assert leader.name not in consul_passing(o)
        # the node and its consul service stay in the catalog
        assert leader.name in [s["Node"] for s in
                               jget(o, "/v1/catalog/service/consul")]
    leader.start_role("gossipd")
    for o in others:
        wait_until(lambda: (serf(o, leader.name) or {}).get("Status") ==
                   "passing", timeout=60, interval=0.2,
                   what=f"the leader passing again on {o.name}")
        wait_until(lambda: leader.name in consul_passing(o), timeout=20,
                   what=f"the leader's consul service passing on {o.name}")
    assert serf(others[0], leader.name)["Output"] == \
        "Agent alive and reachable"


def test_leave_deregisters_node(cluster):
    leader = leader_of(cluster)
    leaver = next(n for n in reversed(servers(cluster)) if n is not leader)
    others = [n for n in cluster if n is not leaver]
    for o in others:
        wait_until(lambda: (serf(o, leaver.name) or {}).get("Status") ==
                   "passing", timeout=60, what=f"{leaver.name} passing")
    # a session of the leaver (default checks) holds a lock, with the
    # delete behaviour: deregistering the node invalidates it
    r = others[0].put("/v1/session/create", data=json.dumps(
        {"Node": leaver.name, "Behavior": "delete"}))
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    assert others[0].put(f"/v1/kv/sh/leaver?acquire={sid}",
                         data=b"v").json() is True
    # as `cairn agent` does after a leave, its checkd stops too (its
    # anti-entropy would otherwise register the node again)
    leaver.kill("checkd")
    p = cli(leaver, "leave")
    assert p.returncode == 0, p.stderr
    assert leaver.procs["gossipd"].wait(timeout=15) == 0

    def gone(o):
        return leaver.name not in [n["Node"] for n in
                                   jget(o, "/v1/catalog/nodes")]
    for o in others:
        wait_until(lambda: gone(o), timeout=30, interval=0.2,
                   what=f"{leaver.name} deregistered on {o.name}")
        assert jget(o, f"/v1/catalog/node/{leaver.name}") is None
        assert serf(o, leaver.name) is None
        svcs = jget(o, "/v1/catalog/service/consul")
        assert leaver.name not in [s["Node"] for s in svcs]
        wait_until(lambda: jget(o, f"/v1/session/info/{sid}") == [],
                   timeout=20, what=f"the leaver's session gone on {o.name}")
        wait_until(lambda: o.get("/v1/kv/sh/leaver").status_code == 404,
                   timeout=20, what=f"the held key deleted on {o.name}")
        # the leader never deregisters itself, and the other stays
        assert sorted(n["Node"] for n in jget(o, "/v1/catalog/nodes")
                      if n["Node"] != "external") == \
            sorted(n.name for n in others)


def test_dev_own_node_passing_with_consul(agent):
    n = agent.name
    wait_until(lambda: (serf(agent, n) or {}).get("Status") == "passing",
               timeout=20, what="the dev node's serfHealth")
    c = serf(agent, n)
    assert c["Output"] == "Agent alive and reachable"
    svcs = jget(agent, "/v1/catalog/service/consul")
    assert [(s["Node"], s["ServicePort"]) for s in svcs] == \
        [(n, agent.ports["server"])]
    assert svcs[0]["ServiceMeta"] == consul_meta(agent)
    assert svcs[0]["ServiceID"] == "consul"
    assert [e["Node"]["Node"] for e in
            jget(agent, "/v1/health/service/consul?passing")] == [n]


def test_force_leave_of_failed_client_deregisters(cluster):
    """Appendix B 7: a failed client stays in the catalog (critical) until
    `cairn force-leave` makes it left; then the leader deregisters it."""
    client = cluster[3]
    srv = next(n for n in servers(cluster) if n.procs["gossipd"].poll()
               is None)
    wait_until(lambda: (serf(srv, client.name) or {}).get("Status") ==
               "passing", timeout=60, what="the client passing")
    client.kill("checkd")  # its anti-entropy would register it again
    client.kill("gossipd")
    wait_until(lambda: (serf(srv, client.name) or {}).get("Status") ==
               "critical", timeout=60, interval=0.2,
               what="the client critical")
    assert client.name in [n["Node"] for n in jget(srv, "/v1/catalog/nodes")]
    p = cli(srv, "force-leave", client.name)
    assert p.returncode == 0, p.stderr
    wait_until(lambda: client.name not in
               [n["Node"] for n in jget(srv, "/v1/catalog/nodes")],
               timeout=30, interval=0.2, what="the client deregistered")
    assert jget(srv, "/v1/health/service/x") == []
