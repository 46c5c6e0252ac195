"""
?filter= (go-bexpr, spec §1.8) on every list endpoint of a `cairn agent
-dev`, over raw HTTP and python-consul where it takes a filter: two
external nodes with services, tags, meta and checks registered through the
catalog, two agent services with a TTL check; each endpoint is filtered on
its own element type (Node, ServiceNode, NodeService, HealthCheck,
ServiceEntry, AgentService, Member) with exact results; /v1/catalog/services
filters instances before folding tags; X-Consul-Index is the unfiltered
one; a blocked watcher with a filter wakes and gets the filtered list; bad
expressions and unknown selectors are 400 with Consul's text.
"""
import json
import threading

import pytest

from conftest import wait_until

PREFIX = "Failed to create boolean expression evaluator: "


def reg(agent, body):
    r = agent.put("/v1/catalog/register", data=json.dumps(body))
    assert r.status_code == 200, r.text
    return r


def flt(agent, path, expr, **params):
    params["filter"] = expr
    r = agent.get(path, params=params)
    assert r.status_code == 200, (path, expr, r.status_code, r.text)
    return r.json()


@pytest.fixture(scope="module")
def world(agent):
    reg(agent, {"Node": "fa", "Address": "10.1.0.1",
                "NodeMeta": {"env": "prod", "rack": "r1"},
                "Service": {"ID": "web1", "Service": "web",
                            "Tags": ["v1", "primary"], "Port": 8080,
                            "Meta": {"version": "1"}},
                "Check": {"CheckID": "web1-alive", "Name": "web1 alive",
                          "ServiceID": "web1", "Status": "critical"}})
    reg(agent, {"Node": "fa", "Address": "10.1.0.1",
                "NodeMeta": {"env": "prod", "rack": "r1"},
                "Service": {"ID": "db1", "Service": "db",
                            "Tags": ["primary"], "Port": 5432}})
    reg(agent, {"Node": "fa", "Address": "10.1.0.1",
                "NodeMeta": {"env": "prod", "rack": "r1"},
                "Check": {"CheckID": "fa-ok", "Name": "fa ok",
                          "Status": "passing"}})
    reg(agent, {"Node": "fb", "Address": "10.1.0.2",
                "NodeMeta": {"env": "staging"},
                "Service": {"ID": "web2", "Service": "web", "Tags": ["v2"],
                            "Port": 8081, "Meta": {"version": "2"}},
                "Check": {"CheckID": "web2-alive", "Name": "web2 alive",
                          "ServiceID": "web2", "Status": "passing"}})
    for body in ({"ID": "api", "Name": "api", "Tags": ["blue"],
                  "Meta": {"team": "a"}, "Port": 9000,
                  "Check": {"CheckID": "api-ttl", "TTL": "300s"}},
                 {"ID": "worker", "Name": "worker", "Tags": ["green"],
                  "Port": 9001}):
        r = agent.put("/v1/agent/service/register", data=json.dumps(body))
        assert r.status_code == 200, r.text
    wait_until(lambda: "api" in agent.get("/v1/catalog/services").json(),
               what="agent services in the catalog")
    return agent


def test_catalog_nodes(world):
    assert [n["Node"] for n in flt(world, "/v1/catalog/nodes",
                                   "Meta.env == prod")] == ["fa"]
    assert [n["Node"] for n in flt(world, "/v1/catalog/nodes",
                                   'Node matches "^f[ab]$"')] == ["fa", "fb"]
    # a missing meta key is "not equal" (go-bexpr): the dev node too
    names = [n["Node"] for n in flt(world, "/v1/catalog/nodes",
                                    "Meta.env != prod")]
    assert "fa" not in names and "fb" in names and world.name in names
    assert [n["Node"] for n in flt(world, "/v1/catalog/nodes",
                                   'rack in Meta and Address == "10.1.0.1"')] \
        == ["fa"]
    assert flt(world, "/v1/catalog/nodes", "Node == nosuch") == []
    # a filter keeping everything leaves the (indented, -dev) bytes as is
    full = world.get("/v1/catalog/nodes")
    same = world.get("/v1/catalog/nodes",
                     params={"filter": "Node is not empty"})
    assert same.content == full.content
    assert world.get("/v1/catalog/nodes", params={"filter": "Node == fb"}
                     ).text == '[\n' + '\n'.join(
        "    " + line for line in json.dumps(
            [n for n in full.json() if n["Node"] == "fb"][0],
            indent=4).split("\n")) + '\n]\n'


def test_catalog_service(world):
    got = flt(world, "/v1/catalog/service/web", 'ServiceMeta.version == "2"')
    assert [s["ServiceID"] for s in got] == ["web2"]
    got = flt(world, "/v1/catalog/service/web", "v1 in ServiceTags")
    assert [s["ServiceID"] for s in got] == ["web1"]
    got = flt(world, "/v1/catalog/service/web",
              "NodeMeta.env == staging or ServicePort == 8080")
    assert sorted(s["ServiceID"] for s in got) == ["web1", "web2"]
    got = flt(world, "/v1/catalog/service/web", "not ServicePort == 8080")
    assert [s["ServiceID"] for s in got] == ["web2"]
    # the kept element is the unfiltered one, byte for byte
    full = world.get("/v1/catalog/service/web").json()
    assert got == [s for s in full if s["ServiceID"] == "web2"]


def test_catalog_services_filters_instances(world):
    assert flt(world, "/v1/catalog/services", "ServiceName == web") == \
        {"web": ["primary", "v1", "v2"]}
    # the tags of the instances kept, not of every instance
    assert flt(world, "/v1/catalog/services", "ServiceTags contains v2") == \
        {"web": ["v2"]}
    assert flt(world, "/v1/catalog/services", "NodeMeta.env == prod") == \
        {"db": ["primary"], "web": ["primary", "v1"]}
    assert flt(world, "/v1/catalog/services", "ServicePort == 1") == {}


def test_catalog_node_and_node_services(world):
    got = flt(world, "/v1/catalog/node/fa", "Service == db")
    assert got["Node"]["Node"] == "fa"
    assert list(got["Services"]) == ["db1"]
    got = flt(world, "/v1/catalog/node/fa", "Port == 1")
    assert got["Services"] == {}
    got = flt(world, "/v1/catalog/node-services/fa", "Port == 8080")
    assert [s["ID"] for s in got["Services"]] == ["web1"]
    got = flt(world, "/v1/catalog/node-services/fa", "primary in Tags")
    assert sorted(s["ID"] for s in got["Services"]) == ["db1", "web1"]
    # an unknown node stays null
    assert flt(world, "/v1/catalog/node/nosuch", "Port == 1") is None


def test_health_checks_lists(world):
    got = flt(world, "/v1/health/node/fa", "Status == critical")
    assert [c["CheckID"] for c in got] == ["web1-alive"]
    got = flt(world, "/v1/health/node/fa", "ServiceID is empty")
    assert [c["CheckID"] for c in got] == ["fa-ok"]
    got = flt(world, "/v1/health/checks/web", "ServiceID == web2")
    assert [c["CheckID"] for c in got] == ["web2-alive"]
    got = flt(world, "/v1/health/state/any", "Node == fb")
    assert [c["CheckID"] for c in got] == ["web2-alive"]
    got = flt(world, "/v1/health/state/critical", "ServiceName == web")
    assert [c["CheckID"] for c in got] == ["web1-alive"]
    got = flt(world, "/v1/health/state/passing", 'CheckID matches "^web"')
    assert [c["CheckID"] for c in got] == ["web2-alive"]


def test_health_service(world):
    # any check of the entry (node checks included) matching
    got = flt(world, "/v1/health/service/web", "Checks.Status == critical")
    assert [e["Service"]["ID"] for e in got] == ["web1"]
    got = flt(world, "/v1/health/service/web", "Service.Port == 8081")
    assert [e["Service"]["ID"] for e in got] == ["web2"]
    got = flt(world, "/v1/health/service/web",
              "Node.Meta.env == prod and Service.Tags contains primary")
    assert [e["Service"]["ID"] for e in got] == ["web1"]
    got = flt(world, "/v1/health/service/web", "Checks.CheckID == \"fa-ok\"")
    assert [e["Service"]["ID"] for e in got] == ["web1"]
    # with ?passing: raftd drops web1, the filter sees what is left
    got = flt(world, "/v1/health/service/web", "Service.ID matches web",
              passing="1")
    assert [e["Service"]["ID"] for e in got] == ["web2"]


def test_agent_services_and_checks(world):
    got = flt(world, "/v1/agent/services", "Service == api")
    assert list(got) == ["api"] and got["api"]["Meta"] == {"team": "a"}
    got = flt(world, "/v1/agent/services", '"green" in Tags')
    assert list(got) == ["worker"]
    got = flt(world, "/v1/agent/services", "Meta.team is empty")
    assert "worker" in got and "api" not in got
    got = flt(world, "/v1/agent/checks", "ServiceID == api")
    assert list(got) == ["api-ttl"]
    assert flt(world, "/v1/agent/checks", "ServiceID == nosuch") == {}


def test_agent_members(world):
    got = flt(world, "/v1/agent/members", f"Name == {world.name}")
    assert [m["Name"] for m in got] == [world.name]
    assert flt(world, "/v1/agent/members", "Name == nosuch") == []
    # `consul members -filter` documents this form
    dc = world.get("/v1/agent/members").json()[0]["Tags"]["dc"]
    got = flt(world, "/v1/agent/members", f'Tags["dc"] == {dc}')
    assert [m["Name"] for m in got] == [world.name]
    assert flt(world, "/v1/agent/members", 'Tags["dc"] == nodc') == []
    assert flt(world, "/v1/agent/members", "Status == 1")[0]["Status"] == 1


def test_python_consul_filters(world):
    # python-consul 0.7 has no filter argument; its own transport and
    # callbacks carry one (as a client library adding it would)
    consul = pytest.importorskip("consul")
    from consul.base import CB
    c = consul.Consul(host="127.0.0.1", port=world.ports["http"])
    index, entries = c.http.get(
        CB.json(index=True), "/v1/health/service/web",
        params=[("filter", 'Node.Node == "fb"')])
    assert [e["Service"]["ID"] for e in entries] == ["web2"]
    assert index == c.health.service("web")[0]
    services = c.http.get(CB.json(), "/v1/agent/services",
                          params=[("filter", 'Tags contains "blue"')])
    assert list(services) == ["api"]
    with pytest.raises(consul.ConsulException) as e:
        c.http.get(CB.json(), "/v1/catalog/nodes",
                   params=[("filter", "Nope == 1")])
    assert "is not valid" in str(e.value)


def test_index_unchanged_and_blocking(world):
    full = world.get("/v1/health/service/web")
    part = world.get("/v1/health/service/web",
                     params={"filter": "Service.ID == web2"})
    assert part.headers["X-Consul-Index"] == full.headers["X-Consul-Index"]
    index = full.headers["X-Consul-Index"]
    out = {}

    def watch():
        r = world.get("/v1/health/service/web",
                      params={"filter": "Checks.Status == warning",
                              "index": index, "wait": "30s"}, timeout=40)
        out["r"] = r

    t = threading.Thread(target=watch)
    t.start()
    reg(world, {"Node": "fb", "Address": "10.1.0.2",
                "NodeMeta": {"env": "staging"},
                "Check": {"CheckID": "web2-alive", "Name": "web2 alive",
                          "ServiceID": "web2", "Status": "warning"}})
    t.join(40)
    assert not t.is_alive()
    r = out["r"]
    assert r.status_code == 200
    assert int(r.headers["X-Consul-Index"]) > int(index)
    assert [e["Service"]["ID"] for e in r.json()] == ["web2"]
    reg(world, {"Node": "fb", "Address": "10.1.0.2",
                "NodeMeta": {"env": "staging"},
                "Check": {"CheckID": "web2-alive", "Name": "web2 alive",
                          "ServiceID": "web2", "Status": "passing"}})


ENDPOINTS = [
    "/v1/catalog/nodes", "/v1/catalog/services", "/v1/catalog/service/web",
    "/v1/catalog/node/fa", "/v1/catalog/node-services/fa",
    "/v1/health/node/fa", "/v1/health/checks/web",
    "/v1/health/service/web", "/v1/health/state/any",
    "/v1/agent/services", "/v1/agent/checks", "/v1/agent/members",
]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_errors(world, path):
    r = world.get(path, params={"filter": "Nope == 1"})
    assert r.status_code == 400
    assert r.text == PREFIX + 'Selector "Nope" is not valid'
    r = world.get(path, params={"filter": "Nope =="})
    assert r.status_code == 400
    assert r.text.startswith(PREFIX + "1:8 (7): ")
    # an empty filter is no filter
    assert world.get(path, params={"filter": ""}).status_code == 200


def test_error_details(world):
    r = world.get("/v1/health/service/web",
                  params={"filter": "Service.Nope == x"})
    assert r.text == PREFIX + 'Selector "Service.Nope" is not valid'
    r = world.get("/v1/catalog/service/web",
                  params={"filter": "ServicePort == abc"})
    assert r.status_code == 400 and "Failed to coerce value" in r.text
    r = world.get("/v1/catalog/nodes",
                  params={"filter": 'Node matches "a("'})
    assert r.status_code == 400
    assert r.text.startswith(PREFIX + 'Failed to compile regular expression')
    r = world.get("/v1/catalog/nodes", params={"filter": "(Node == x"})
    assert r.status_code == 400 and "Unmatched parentheses" in r.text
    # a blocking query with a bad filter answers at once
    r = world.get("/v1/catalog/nodes",
                  params={"filter": "Nope == 1", "index": "999999",
                          "wait": "30s"}, timeout=5)
    assert r.status_code == 400
