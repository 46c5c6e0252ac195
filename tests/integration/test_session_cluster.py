"""
Sessions in a three-server cluster: create and renew on followers
(forwarded to the leader), locks and invalidation replicated to every
server, and TTL timers re-armed by a new leader after a failover (spec
§2.5: "reset ... when a new leader is elected").
"""
import time

from conftest import wait_until


def test_sessions_across_servers_and_failover(node_factory):
    nodes = []
    for i in range(3):
        nodes.append(node_factory(name="ss%d" % (i + 1), dev=False,
                                  extra=["-server", "-bootstrap-expect", "3",
                                         "-bind", "127.0.0.1"]))
    join = "127.0.0.1:%d" % nodes[0].ports["serf_lan"]
    for n in nodes[1:]:
        n.extra += ["-retry-join", join]
    for n in nodes:
        n.start_agent(wait=False)

    def agreed():
        ls = {n.get("/v1/status/leader", timeout=3).json() for n in nodes}
        return len(ls) == 1 and "" not in ls
    wait_until(agreed, timeout=40, interval=0.2, what="one leader")
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
