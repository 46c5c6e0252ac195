"""
The catalog and health API through python-consul (Debian's
python3-consul), as user code calls it: catalog register/deregister,
nodes, services, service, node; health service (passing), state, node,
checks; and a blocking health.service by index.
"""
import threading
import time

import consul
import pytest


@pytest.fixture
def c(agent):
    cl = consul.Consul(host="127.0.0.1", port=agent.ports["http"])
    yield cl
    _, nodes = cl.catalog.nodes()
    for n in nodes:
        if n["Node"] != agent.name:
            cl.catalog.deregister(n["Node"])


def test_catalog_roundtrip(c, agent):
    assert c.catalog.register(
        "pyn1", "10.5.0.1",
        service={"Service": "pyweb", "ID": "pyweb1", "Port": 8080,
                 "Tags": ["a"]},
        check={"Name": "pyweb ok", "ServiceID": "pyweb1",
               "Status": "passing"}) is True
    index, nodes = c.catalog.nodes()
    assert int(index) >= 1
    assert {agent.name, "pyn1"} <= {n["Node"] for n in nodes}
    _, services = c.catalog.services()
    assert services["pyweb"] == ["a"]
    assert "consul" in services
    _, inst = c.catalog.service("pyweb")
    assert [(s["ServiceID"], s["ServicePort"]) for s in inst] == [
        ("pyweb1", 8080)]
    _, inst = c.catalog.service("pyweb", tag="b")
    assert inst == []
    _, node = c.catalog.node("pyn1")
    assert node["Node"]["Address"] == "10.5.0.1"
    assert list(node["Services"]) == ["pyweb1"]
    _, node = c.catalog.node("nosuch")
    assert node is None

    assert c.catalog.deregister("pyn1", service_id="pyweb1") is True
    _, inst = c.catalog.service("pyweb")
    assert inst == []
    _, checks = c.health.node("pyn1")
    assert checks == []


def test_health_calls(c, agent):
    c.catalog.register("pyh1", "10.6.0.1",
                       service={"Service": "pyapi"},
                       check={"Name": "api", "ServiceID": "pyapi",
                              "Status": "passing"})
    c.catalog.register("pyh2", "10.6.0.2",
                       service={"Service": "pyapi"},
                       check={"Name": "api", "ServiceID": "pyapi",
                              "Status": "critical"})
    _, entries = c.health.service("pyapi")
    assert [e["Node"]["Node"] for e in entries] == ["pyh1", "pyh2"]
    _, entries = c.health.service("pyapi", passing=True)
    assert [e["Node"]["Node"] for e in entries] == ["pyh1"]
    _, crit = c.health.state("critical")
    assert ("pyh2", "api") in [(x["Node"], x["CheckID"]) for x in crit]
    _, passing = c.health.state("passing")
    assert ("pyh1", "api") in [(x["Node"], x["CheckID"]) for x in passing]
    assert agent.name in [x["Node"] for x in passing]  # serfHealth
    _, checks = c.health.checks("pyapi")
    assert sorted(x["Node"] for x in checks) == ["pyh1", "pyh2"]
    _, checks = c.health.node("pyh1")
    assert [x["CheckID"] for x in checks] == ["api"]


def test_blocking_service(c):
    c.catalog.register("pyb1", "10.7.0.1", service={"Service": "pyblk"},
                       check={"Name": "blk", "ServiceID": "pyblk",
                              "Status": "passing"})
    index, _ = c.health.service("pyblk")
    got = []

    def block():
        t0 = time.monotonic()
        got.append((c.health.service("pyblk", index=index, wait="20s"),
                    time.monotonic() - t0))
    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    c.catalog.register("pyb1", "10.7.0.1",
                       check={"Name": "blk", "ServiceID": "pyblk",
                              "Status": "warning"})
    t.join()
    (new_index, entries), took = got[0]
    assert took < 5
    assert int(new_index) > int(index)
    assert entries[0]["Checks"][0]["Status"] == "warning"
