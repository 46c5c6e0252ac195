"""
Sessions in a three-server cluster: create and renew on followers
(forwarded to the leader), locks and invalidation replicated to every
server, and TTL timers re-armed by a new leader after a failover (spec
§2.5: "reset ... when a new leader is elected").
"""
import json
import os
import signal
import time

from conftest import one_leader, start_servers, wait_until


def test_sessions_across_servers_and_failover(node_factory):
    nodes = start_servers(node_factory, 3, "ss")
    wait_until(lambda: one_leader(nodes), timeout=40, interval=0.2,
               what="one leader")
    leader = nodes[0].get("/v1/status/leader").json()
    old = next(n for n in nodes if "127.0.0.1:%d" % n.ports["server"] == leader)
    f1, f2 = [n for n in nodes if n is not old]
    # sessions are tied to a registered node: wait for f1's own node
    wait_until(lambda: f1.get("/v1/catalog/node/%s" % f1.name).status_code == 200
               and f1.get("/v1/catalog/node/%s" % f1.name).json() is not None,
               timeout=30, what="f1 in the catalog")

    r = f1.put("/v1/session/create",
               data='{"TTL":"10s","Checks":[],"LockDelay":"1s"}')
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    assert f2.put("/v1/kv/cl/lock?acquire=%s" % sid, data=b"me").json() is True
    for n in nodes:
        wait_until(lambda: n.get("/v1/kv/cl/lock?stale").status_code == 200 and
                   n.get("/v1/kv/cl/lock?stale").json()[0].get("Session") == sid,
                   timeout=5, what="lock replicated to %s" % n.name)
        assert n.get("/v1/session/info/%s?consistent" % sid).json()[0]["ID"] == sid
    r = f2.put("/v1/session/renew/%s" % sid)
    assert r.status_code == 200 and r.json()[0]["ID"] == sid

    # the leader goes away; the new leader re-arms the TTL timer
    old.stop()

    def new_leader():
        ls = {n.get("/v1/status/leader", timeout=3).json() for n in (f1, f2)}
        return len(ls) == 1 and "" not in ls and leader not in ls
    wait_until(new_leader, timeout=30, interval=0.2, what="a new leader")
    t0 = time.monotonic()
    assert f1.get("/v1/session/info/%s" % sid).json()[0]["ID"] == sid
    while f1.get("/v1/session/info/%s" % sid).json():
        assert time.monotonic() - t0 < 30, "session never expired"
        time.sleep(0.25)
    took = time.monotonic() - t0
    assert took > 5, took  # a full 2 x TTL from the new leadership
    kvp = f2.get("/v1/kv/cl/lock").json()[0]
    assert "Session" not in kvp and kvp["LockIndex"] == 1
    # a new session on the new leader takes the released lock
    sid2 = f2.put("/v1/session/create",
                  data='{"Checks":[],"Node":"%s"}' % f1.name).json()["ID"]
    wait_until(lambda: f2.put("/v1/kv/cl/lock?acquire=%s" % sid2,
                              data=b"x").json() is True,
               timeout=5, what="acquire after the lock-delay")
    assert f1.get("/v1/kv/cl/lock?consistent").json()[0]["LockIndex"] == 2


def _role_pid(node, role):
    """The pid of one role the node's `cairn agent` runs (its child)."""
    agent = node.procs["agent"].pid
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == agent and comm == role:
            return int(d)
    return None


def test_leader_raftd_kill9_keeps_lock_and_rearms_ttl(node_factory):
    """kill -9 of the leader's raftd while a TTL session holds a lock: the
    new leader keeps the lock and the session; a renewed session lives on;
    one never renewed after the takeover expires 1x..2x TTL after it
    (Consul re-arms every timer at 2 x TTL when it becomes leader)."""
    ttl = 3.0
    nodes = start_servers(node_factory, 3, "sk",
                          conf={"session_ttl_min": "1s"})
    wait_until(lambda: one_leader(nodes), timeout=40, interval=0.2,
               what="one leader")
    leader = nodes[0].get("/v1/status/leader").json()
    old = next(n for n in nodes if "127.0.0.1:%d" % n.ports["server"] == leader)
    f1, f2 = [n for n in nodes if n is not old]
    wait_until(lambda: f1.get("/v1/catalog/node/%s" % f1.name).json()
               is not None, timeout=30, what="f1 in the catalog")
    # a transaction with catalog and KV ops, sent to a follower, is
    # forwarded and replicated to every server
    r = f2.put("/v1/txn", data=json.dumps([
        {"Node": {"Verb": "set", "Node": {"Node": "txnode",
                                           "Address": "10.7.0.1"}}},
        {"Service": {"Verb": "set", "Node": "txnode",
                     "Service": {"ID": "txsvc", "Service": "txsvc"}}},
        {"KV": {"Verb": "set", "Key": "kl/txn", "Value": "eA=="}}]))
    assert r.status_code == 200, r.text
    at = r.json()["Results"][0]["Node"]["ModifyIndex"]
    for n in nodes:
        wait_until(lambda: [x["ModifyIndex"] for x in n.get(
            "/v1/catalog/service/txsvc?stale").json()] == [at],
            timeout=10, what="the txn replicated to %s" % n.name)
    body = '{"TTL":"%ds","Checks":[],"LockDelay":"0s","Node":"%s"}' % (
        ttl, f1.name)
    kept = f1.put("/v1/session/create", data=body).json()["ID"]
    idle = f1.put("/v1/session/create", data=body).json()["ID"]
    assert f1.put("/v1/kv/kl/kept?acquire=%s" % kept, data=b"a").json()
    assert f1.put("/v1/kv/kl/idle?acquire=%s" % idle, data=b"b").json()
    pid = _role_pid(old, "raftd")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)

    def renew(sid):
        try:
            return f1.put("/v1/session/renew/%s" % sid,
                          timeout=2).status_code
        except Exception:  # noqa: BLE001 - no leader for a moment
            return None

    # renew `kept` through the election; `idle` is left alone. The old
    # leader's process is gone: a consistent read that succeeds now is
    # served by a leadership that began after the kill (the agent
    # restarts raftd, which may win the new election: that is a new
    # leadership as well)
    def new_leader():
        renew(kept)
        try:
            return f2.get("/v1/kv/kl/kept?consistent",
                          timeout=2).status_code == 200
        except Exception:  # noqa: BLE001 - no leader for a moment
            return False
    wait_until(new_leader, timeout=30, interval=0.1, what="a new leader")
    t0 = time.monotonic()
    for key, sid in (("kept", kept), ("idle", idle)):
        kvp = f2.get("/v1/kv/kl/%s?consistent" % key).json()[0]
        assert kvp.get("Session") == sid, (key, kvp)
    # renewing every TTL/3 keeps `kept` past 2 x TTL; `idle` expires
    # between 1x and 2x TTL after the takeover (t0 is just after it)
    idle_gone = None
    while time.monotonic() - t0 < 2.5 * ttl:
        assert renew(kept) == 200
        if idle_gone is None and f2.get("/v1/session/info/%s?consistent"
                                        % idle).json() == []:
            idle_gone = time.monotonic() - t0
        time.sleep(ttl / 3)
    assert idle_gone is not None, "idle session never expired"
    assert ttl * 1.0 - 0.5 <= idle_gone <= 2 * ttl + 1.5, idle_gone
    kvp = f2.get("/v1/kv/kl/idle?consistent").json()[0]
    assert "Session" not in kvp
    kvp = f2.get("/v1/kv/kl/kept?consistent").json()[0]
    assert kvp.get("Session") == kept
    # stop renewing: `kept` goes 1x..2x TTL after its last renew
    t1 = time.monotonic()
    wait_until(lambda: f2.get("/v1/session/info/%s?consistent" % kept)
               .json() == [], timeout=4 * ttl, interval=0.1,
               what="kept session expiry")
    took = time.monotonic() - t1
    assert ttl - 0.5 <= took <= 2 * ttl + 1.5, took
    assert "Session" not in f2.get("/v1/kv/kl/kept").json()[0]
