"""
The catalog and health HTTP API over raw HTTP against `cairn agent -dev`:
the dev node's own registration (Appendix B scenario 1), register and
deregister with Consul's errors, the JSON shapes and field order
(spec §2.0), [] never null, `null` for an unknown node, the X-Consul
headers, ?passing/?tag filtering with node-level checks, and blocking
queries on /v1/health/service that wake on a check of that service and
not on another service.
"""
import json
import os
import signal
import threading
import time

import pytest

from conftest import wait_until


def reg(agent, body):
    return agent.put("/v1/catalog/register", data=json.dumps(body))


def dereg(agent, body):
    return agent.put("/v1/catalog/deregister", data=json.dumps(body))


@pytest.fixture
def cat(agent):
    yield agent
    for n in agent.get("/v1/catalog/nodes").json():
        if n["Node"] != agent.name:
            dereg(agent, {"Node": n["Node"]})


def test_dev_node_registered(agent):
    # Appendix B 1: the dev node, serfHealth passing, the consul service
    def ready():
        nodes = agent.get("/v1/catalog/nodes").json()
        return [n for n in nodes if n["Node"] == agent.name]
    nodes = wait_until(ready, what="the dev node in the catalog")
    n = nodes[0]
    assert list(n) == ["ID", "Node", "Address", "Datacenter",
                       "TaggedAddresses", "Meta", "CreateIndex",
                       "ModifyIndex"]
    assert len(n["ID"]) == 36
    assert n["Address"] == "127.0.0.1"
    assert n["Datacenter"] == "dc1"
    assert n["TaggedAddresses"]["lan"] == "127.0.0.1"
    assert n["TaggedAddresses"]["wan_ipv4"] == "127.0.0.1"
    assert n["Meta"] == {"consul-network-segment": ""}
    checks = agent.get(f"/v1/health/node/{agent.name}").json()
    serf = [c for c in checks if c["CheckID"] == "serfHealth"]
    assert serf and serf[0]["Status"] == "passing"
    assert serf[0]["Name"] == "Serf Health Status"
    assert serf[0]["Output"] == "Agent alive and reachable"
    services = agent.get("/v1/catalog/services").json()
    assert services["consul"] == []
    consul = agent.get("/v1/catalog/service/consul").json()
    assert consul[0]["ServicePort"] == agent.ports["server"]
    assert agent.get("/v1/catalog/datacenters").json() == ["dc1"]


def test_register_shapes(cat):
    body = {
        "Node": "ext1", "Address": "10.1.0.1",
        "TaggedAddresses": {"wan": "198.51.100.1"},
        "NodeMeta": {"env": "prod"},
        "Service": {"Service": "redis", "Port": 6379, "Tags": ["primary"],
                    "Meta": {"v": "7"},
                    "TaggedAddresses": {"lan": {"address": "10.1.0.1",
                                                "port": 6379}}},
        "Check": {"Name": "redis alive", "ServiceID": "redis",
                  "Status": "passing",
                  "Definition": {"TCP": "10.1.0.1:6379",
                                 "Interval": "10s"}},
    }
    r = reg(cat, body)
    assert r.status_code == 200, r.text
    assert r.json() is True  # pretty in -dev
    r = cat.get("/v1/catalog/service/redis")
    assert r.status_code == 200
    for h in ("X-Consul-Index", "X-Consul-KnownLeader",
              "X-Consul-LastContact"):
        assert h in r.headers
    s = r.json()[0]
    assert list(s) == [
        "ID", "Node", "Address", "Datacenter", "TaggedAddresses",
        "NodeMeta", "ServiceKind", "ServiceID", "ServiceName",
        "ServiceTags", "ServiceAddress", "ServiceTaggedAddresses",
        "ServiceWeights", "ServiceMeta", "ServicePort",
        "ServiceSocketPath", "ServiceEnableTagOverride", "ServiceProxy",
        "ServiceConnect", "CreateIndex", "ModifyIndex"]
    assert s["ServiceID"] == "redis"  # defaults to the name
    assert s["NodeMeta"] == {"env": "prod"}
    assert s["ServiceTaggedAddresses"] == {
        "lan": {"Address": "10.1.0.1", "Port": 6379}}
    assert s["ServiceWeights"] == {"Passing": 1, "Warning": 1}
    assert int(r.headers["X-Consul-Index"]) == s["ModifyIndex"]

    node = cat.get("/v1/catalog/node/ext1").json()
    assert list(node) == ["Node", "Services"]
    svc = node["Services"]["redis"]
    assert list(svc)[:4] == ["ID", "Service", "Tags", "Address"]
    assert svc["Tags"] == ["primary"]
    ns = cat.get("/v1/catalog/node-services/ext1").json()
    assert [x["ID"] for x in ns["Services"]] == ["redis"]

    chk = cat.get("/v1/health/checks/redis").json()[0]
    assert list(chk) == [
        "Node", "CheckID", "Name", "Status", "Notes", "Output",
        "ServiceID", "ServiceName", "ServiceTags", "Type", "Interval",
        "Timeout", "ExposedPort", "Definition", "CreateIndex",
        "ModifyIndex"]
    assert chk["CheckID"] == "redis alive"  # defaults to the name
    assert chk["ServiceName"] == "redis"
    assert chk["ServiceTags"] == ["primary"]
    assert chk["Definition"]["TCP"] == "10.1.0.1:6379"
    assert chk["Definition"]["Interval"] == "10s"

    # an unchanged re-registration keeps every index
    before = cat.get("/v1/catalog/service/redis")
    assert reg(cat, body).status_code == 200
    after = cat.get("/v1/catalog/service/redis")
    assert after.headers["X-Consul-Index"] == before.headers["X-Consul-Index"]
    assert after.json()[0]["ModifyIndex"] == before.json()[0]["ModifyIndex"]


def test_empty_lists_and_unknown(cat):
    r = cat.get("/v1/catalog/node/nosuchnode")
    assert r.status_code == 200
    assert r.text.strip() == "null"
    assert "X-Consul-Index" in r.headers
    assert cat.get("/v1/catalog/service/nosuch").json() == []
    assert cat.get("/v1/health/service/nosuch").json() == []
    assert cat.get("/v1/health/checks/nosuch").json() == []
    assert cat.get("/v1/health/node/nosuchnode").json() == []
    ns = cat.get("/v1/catalog/node-services/nosuchnode").json()
    assert ns == {"Node": None, "Services": []}
    assert reg(cat, {"Node": "bare", "Address": "10.9.9.9",
                     "Service": {"Service": "plain"}}).status_code == 200
    e = cat.get("/v1/health/service/plain").json()[0]
    assert e["Checks"] == []
    assert e["Service"]["Tags"] == []


def test_register_errors(cat):
    r = cat.put("/v1/catalog/register", data="{bad json")
    assert r.status_code == 400
    assert r.text.startswith("Request decode failed:")
    r = reg(cat, {"Address": "10.0.0.1"})
    assert (r.status_code, r.text) == (400, "Missing node name")
    r = reg(cat, {"Node": "x"})
    assert (r.status_code, r.text) == (400, "Missing node address")
    r = reg(cat, {"Node": "x", "Address": "10.0.0.1",
                  "Check": {"Name": "c", "Status": "fine"}})
    assert r.status_code == 400
    assert r.text.startswith("Invalid check status")
    r = reg(cat, {"Node": "x", "Address": "10.0.0.1",
                  "Check": {"Name": "c", "ServiceID": "nosuch"}})
    assert r.status_code == 500
    assert "Missing service registration" in r.text
    r = reg(cat, {"Node": "x", "Address": "10.0.0.1",
                  "Service": {"Service": "s", "Port": "eighty"}})
    assert r.status_code == 400
    assert r.text.startswith("Request decode failed:")
    r = dereg(cat, {"ServiceID": "s"})
    assert (r.status_code, r.text) == (400, "Missing node name")
    r = cat.get("/v1/health/state/bogus")
    assert (r.status_code, r.text) == (400, "Bad check state")
    r = cat.get("/v1/health/service/web?passing=maybe")
    assert r.status_code == 400
    # none of the refused writes left anything behind
    assert "x" not in [n["Node"] for n in cat.get("/v1/catalog/nodes").json()]


def test_passing_tag_and_node_checks(cat):
    # lowercase keys, as python-consul sends them
    assert reg(cat, {"node": "w1", "address": "10.2.0.1",
                     "service": {"service": "web", "tags": ["v1", "blue"]},
                     "checks": [{"name": "web ok", "serviceid": "web",
                                 "status": "passing"},
                                {"checkid": "nodeok", "name": "node ok",
                                 "status": "passing"}]}).status_code == 200
    assert reg(cat, {"node": "w2", "address": "10.2.0.2",
                     "service": {"service": "web", "tags": ["v2"]},
                     "checks": [{"name": "web ok", "serviceid": "web",
                                 "status": "passing"},
                                {"checkid": "nodeok", "name": "node ok",
                                 "status": "warning"}]}).status_code == 200
    all_ = cat.get("/v1/health/service/web").json()
    assert [e["Node"]["Node"] for e in all_] == ["w1", "w2"]
    assert list(all_[0]) == ["Node", "Service", "Checks"]
    # node-level checks first, then the instance's
    assert [c["CheckID"] for c in all_[0]["Checks"]] == ["nodeok", "web ok"]
    # a warning node-level check drops the instance from ?passing
    for q in ("passing", "passing=1", "passing=true"):
        p = cat.get(f"/v1/health/service/web?{q}").json()
        assert [e["Node"]["Node"] for e in p] == ["w1"]
    assert len(cat.get("/v1/health/service/web?passing=false").json()) == 2
    t = cat.get("/v1/catalog/service/web?tag=v1&tag=BLUE").json()
    assert [s["Node"] for s in t] == ["w1"]
    assert cat.get("/v1/catalog/service/web?tag=v1&tag=v2").json() == []
    assert cat.get("/v1/catalog/services").json()["web"] == ["blue", "v1",
                                                            "v2"]
    warn = cat.get("/v1/health/state/warning").json()
    assert [(c["Node"], c["CheckID"]) for c in warn] == [("w2", "nodeok")]
    assert len(cat.get("/v1/health/state/any").json()) >= 4
    nm = cat.get("/v1/catalog/nodes?node-meta=nosuch:x").json()
    assert nm == []

    # deregistering a service takes its checks; the node stays
    assert dereg(cat, {"Node": "w2", "ServiceID": "web"}).json() is True
    assert [c["CheckID"] for c in
            cat.get("/v1/health/node/w2").json()] == ["nodeok"]
    assert dereg(cat, {"Node": "w2", "CheckID": "nodeok"}).json() is True
    assert cat.get("/v1/health/node/w2").json() == []
    assert dereg(cat, {"Node": "w2"}).json() is True
    assert cat.get("/v1/catalog/node/w2").json() is None


def blocking_get(agent, path, index, wait, out):
    t0 = time.monotonic()
    r = agent.get(f"{path}{'&' if '?' in path else '?'}index={index}"
                  f"&wait={wait}", timeout=30)
    out.append((time.monotonic() - t0, r))


def test_blocking_health_service(cat):
    assert reg(cat, {"Node": "b1", "Address": "10.3.0.1",
                     "Service": {"Service": "bweb"},
                     "Check": {"Name": "bweb ok", "ServiceID": "bweb",
                               "Status": "passing"}}).status_code == 200
    r = cat.get("/v1/health/service/bweb")
    idx = int(r.headers["X-Consul-Index"])

    # a write to another service does not wake it
    out = []
    t = threading.Thread(target=blocking_get,
                         args=(cat, "/v1/health/service/bweb", idx, "2s",
                               out))
    t.start()
    time.sleep(0.3)
    assert reg(cat, {"Node": "b2", "Address": "10.3.0.2",
                     "Service": {"Service": "other"}}).status_code == 200
    t.join()
    took, resp = out[0]
    assert took >= 1.9
    assert int(resp.headers["X-Consul-Index"]) == idx

    # a status change of its check wakes it with a higher index
    out = []
    t = threading.Thread(target=blocking_get,
                         args=(cat, "/v1/health/service/bweb", idx, "20s",
                               out))
    t.start()
    time.sleep(0.3)
    assert reg(cat, {"Node": "b1", "Address": "10.3.0.1",
                     "Check": {"Name": "bweb ok", "ServiceID": "bweb",
                               "Status": "critical"}}).status_code == 200
    t.join()
    took, resp = out[0]
    assert took < 5
    assert int(resp.headers["X-Consul-Index"]) > idx
    assert resp.json()[0]["Checks"][0]["Status"] == "critical"


def test_blocking_nodes_list(cat):
    r = cat.get("/v1/catalog/nodes")
    idx = int(r.headers["X-Consul-Index"])
    out = []
    t = threading.Thread(target=blocking_get,
                         args=(cat, "/v1/catalog/nodes", idx, "20s", out))
    t.start()
    time.sleep(0.3)
    assert reg(cat, {"Node": "late", "Address": "10.4.0.1"}).status_code \
        == 200
    t.join()
    took, resp = out[0]
    assert took < 5
    assert "late" in [n["Node"] for n in resp.json()]


def test_self_registration_survives_restart_without_churn(node_factory):
    n = node_factory(name="selfreg").start_roles()

    def mine():
        r = n.get("/v1/catalog/node/selfreg")
        return r if r.json() else None
    first = wait_until(mine, what="the node registering itself")
    last_log = n.get("/v1/agent/self").json()["Stats"]["raft"][
        "last_log_index"]
    assert n.kill("raftd", signal.SIGTERM) == 0
    n.start_role("raftd")
    n.wait_ready()
    again = wait_until(mine, what="the node after a restart")
    assert again.json() == first.json()
    assert again.headers["X-Consul-Index"] == first.headers["X-Consul-Index"]
    # nothing was appended but the no-op of the restarted leader's new
    # Raft term: the stored registration was already right
    assert n.get("/v1/agent/self").json()["Stats"]["raft"][
        "last_log_index"] == str(int(last_log) + 1)
    node_id = open(os.path.join(n.data_dir, "node-id")).read().strip()
    assert again.json()["Node"]["ID"] == node_id
