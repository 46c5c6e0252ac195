"""
The WAN pool (spec §6.4, §6.5): servers of two datacenters join each
other's WAN pool (-retry-join-wan, then PUT /v1/agent/join/:addr?wan);
member names there are <node>.<dc>; the LAN pools stay separate; a client
has no WAN pool and refuses a WAN join.
"""
from conftest import Node, wait_until


def names(node, wan=False):
    r = node.get("/v1/agent/members" + ("?wan" if wan else ""), timeout=5)
    assert r.status_code == 200, r.text
    return sorted(m["Name"] for m in r.json() if m["Status"] == 1)


def test_wan_pool(node_factory):
    base = ["-bind", "127.0.0.1", "-advertise", "127.0.0.1",
            "-retry-interval-wan", "1s"]
    a = node_factory(name="wa", dev=False)
    a.extra = ["-server", "-datacenter", "dc1"] + base
    b = node_factory(name="wb", dev=False)
    b.extra = ["-server", "-datacenter", "dc2",
               "-retry-join-wan", f"127.0.0.1:{a.ports['serf_wan']}"] + base
    c = node_factory(name="wc", dev=False)
    c.extra = ["-datacenter", "dc2"] + base
    for n in (a, b, c):
        n.start_roles(("gossipd", "httpd"), wait=False)
    wait_until(lambda: names(a, wan=True) == ["wa.dc1", "wb.dc2"] and
               names(b, wan=True) == ["wa.dc1", "wb.dc2"], timeout=20,
               interval=0.1, what="the WAN pool to hold both servers")
    assert names(a) == ["wa"] and names(b) == ["wb"]
    wan = {m["Name"]: m for m in a.get("/v1/agent/members?wan").json()}
    assert wan["wb.dc2"]["Port"] == b.ports["serf_wan"]
    assert wan["wb.dc2"]["Tags"]["dc"] == "dc2"
    # the client joins dc2's LAN through the join API; no WAN for it
    r = c.put(f"/v1/agent/join/127.0.0.1:{b.ports['serf_lan']}")
    assert r.status_code == 200, r.text
    wait_until(lambda: names(b) == ["wb", "wc"], timeout=10,
               what="wc in dc2's LAN pool")
    assert c.get("/v1/agent/members?wan").json() == []
    r = c.put(f"/v1/agent/join/127.0.0.1:{a.ports['serf_wan']}?wan")
    assert r.status_code == 500
    assert "Must be a server to join WAN cluster" in r.text
