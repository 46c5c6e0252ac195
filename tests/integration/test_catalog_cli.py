"""
`cairn catalog datacenters|nodes|services` and `cairn members -filter`
against a dev agent holding a few nodes and services registered through
/v1/catalog/register: the exact stdout of each form (columnize tables,
tabwriter tags column), ?filter/?node-meta/?near passed through, Consul's
error lines and exit codes (spec §9, §1.8; Consul command/catalog/*).
"""
import json
import os
import subprocess
import tempfile

import pytest

from conftest import BUILD, free_port

CAIRN = os.path.join(BUILD, "cairn")

WEB_ID = "3f1a2b3c-1111-2222-3333-444455556666"
DB_ID = "aa00bb11-1111-2222-3333-444455556666"


def cli(base, *args, stdin=None):
    e = dict(os.environ)
    e.pop("CONSUL_HTTP_TOKEN", None)
    e["CONSUL_HTTP_ADDR"] = base
    p = subprocess.run([CAIRN] + list(args), input=stdin,
                       capture_output=True, env=e, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.fixture(scope="module")
def cat(agent):
    regs = [
        {"Node": "web-1", "ID": WEB_ID, "Address": "10.0.0.1",
         "NodeMeta": {"rack": "r1", "env": "prod"},
         "TaggedAddresses": {"lan": "10.0.0.1", "wan": "198.51.100.1"},
         "Service": {"Service": "web", "ID": "web1",
                     "Tags": ["v2", "primary"], "Port": 80}},
        {"Node": "web-1", "Address": "10.0.0.1", "SkipNodeUpdate": True,
         "Service": {"Service": "web", "ID": "web2", "Tags": ["v1"],
                     "Port": 81}},
        {"Node": "db-1", "ID": DB_ID, "Address": "10.0.0.2",
         "NodeMeta": {"rack": "r2"},
         "Service": {"Service": "redis", "Tags": ["cache"], "Port": 6379}},
    ]
    for b in regs:
        r = agent.put("/v1/catalog/register", data=json.dumps(b))
        assert r.status_code == 200 and r.json() is True, r.text
    return agent


def test_datacenters(cat):
    assert cli(cat.base, "catalog", "datacenters") == (0, "dc1\n", "")
    rc, _, err = cli(cat.base, "catalog", "datacenters", "extra")
    assert (rc, err) == (1, "Too many arguments (expected 0, got 1)\n")


def test_nodes_table(cat):
    dev = cat.get("/v1/catalog/node/dev1").json()["Node"]
    short = dev["ID"].split("-")[0]
    assert len(short) == 8
    assert cli(cat.base, "catalog", "nodes") == (0, (
        "Node   ID        Address    DC\n"
        "db-1   aa00bb11  10.0.0.2   dc1\n"
        f"dev1   {short}  127.0.0.1  dc1\n"
        "web-1  3f1a2b3c  10.0.0.1   dc1\n"), "")
    # -near passes through (the agent orders by RTT; same three nodes)
    rc, out, _ = cli(cat.base, "catalog", "nodes", "-near=_agent")
    assert rc == 0 and sorted(out.splitlines()[1:]) == sorted(
        cli(cat.base, "catalog", "nodes")[1].splitlines()[1:])


def test_nodes_detailed_and_meta(cat):
    assert cli(cat.base, "catalog", "nodes", "-detailed", "-node-meta",
               "rack=r1") == (0, (
        "Node   ID                                    Address   DC   "
        "TaggedAddresses                 Meta\n"
        f"web-1  {WEB_ID}  10.0.0.1  dc1  lan=10.0.0.1, wan=198.51.100.1  "
        "env=prod, rack=r1\n"), "")
    # repeated -node-meta: all must hold
    rc, out, _ = cli(cat.base, "catalog", "nodes", "-node-meta=rack=r1",
                     "-node-meta", "env=dev")
    assert (rc, out) == (0, "")
    rc, out, err = cli(cat.base, "catalog", "nodes", "-node-meta", "rack")
    assert rc == 1 and out == ""
    assert err.startswith('invalid value "rack" for flag -node-meta: '
                          'Missing "=" value in argument: rack\n')


def test_nodes_service(cat):
    # one row per instance, as Consul's CLI
    assert cli(cat.base, "catalog", "nodes", "-service=web") == (0, (
        "Node   ID        Address   DC\n"
        "web-1  3f1a2b3c  10.0.0.1  dc1\n"
        "web-1  3f1a2b3c  10.0.0.1  dc1\n"), "")
    assert cli(cat.base, "catalog", "nodes", "-service", "web",
               "-filter", "ServiceID == web2")[1].count("web-1") == 1
    assert cli(cat.base, "catalog", "nodes", "-service=nope") == (
        0, "", "No nodes match the given query - try expanding your "
        "search.\n")


def test_nodes_filter(cat):
    want = (0, "Node  ID        Address   DC\n"
               "db-1  aa00bb11  10.0.0.2  dc1\n", "")
    assert cli(cat.base, "catalog", "nodes", "-filter",
               "Meta.rack == r2") == want
    with tempfile.NamedTemporaryFile("w", suffix=".bexpr") as f:
        f.write('Node == "db-1"\n')
        f.flush()
        assert cli(cat.base, "catalog", "nodes", f"-filter=@{f.name}") == want
    assert cli(cat.base, "catalog", "nodes", "-filter=-",
               stdin=b'Address == "10.0.0.2"') == want
    rc, out, err = cli(cat.base, "catalog", "nodes", "-filter=@/nonexistent")
    assert (rc, out) == (1, "")
    assert err == ("Could not process filter argument: Failed to read file: "
                   "open /nonexistent: No such file or directory\n")
    assert cli(cat.base, "catalog", "nodes", "-filter", "Node == nobody") == (
        0, "", "No nodes match the given query - try expanding your "
        "search.\n")


def test_bad_filter(cat):
    expr = "Meta.rack ==="
    r = cat.get("/v1/catalog/nodes", params={"filter": expr})
    assert r.status_code == 400
    rc, out, err = cli(cat.base, "catalog", "nodes", "-filter", expr)
    assert (rc, out) == (1, "")
    assert err == ("Error listing nodes: Unexpected response code: 400 "
                   f"({r.text.strip()})\n")
    assert "Failed to create boolean expression evaluator" in err
    r = cat.get("/v1/catalog/services", params={"filter": expr})
    rc, out, err = cli(cat.base, "catalog", "services", "-filter", expr)
    assert (rc, out) == (1, "")
    assert err == ("Error listing services: Unexpected response code: 400 "
                   f"({r.text.strip()})\n")


def test_services(cat):
    assert cli(cat.base, "catalog", "services") == (
        0, "consul\nredis\nweb\n", "")
    # tabwriter: widest name + 6, tags sorted and comma-joined
    assert cli(cat.base, "catalog", "services", "-tags") == (0, (
        "consul      \n"
        "redis       cache\n"
        "web         primary,v1,v2\n"), "")
    # -node merges the tags of the node's instances
    assert cli(cat.base, "catalog", "services", "-node=web-1", "-tags") == (
        0, "web      primary,v1,v2\n", "")
    assert cli(cat.base, "catalog", "services", "-node", "db-1") == (
        0, "redis\n", "")
    assert cli(cat.base, "catalog", "services", "-node-meta", "rack=r2") == (
        0, "redis\n", "")
    assert cli(cat.base, "catalog", "services", "-filter",
               "ServiceName == web") == (0, "web\n", "")
    assert cli(cat.base, "catalog", "services", "-node=web-1", "-filter",
               "ID == web2", "-tags") == (0, "web      v1\n", "")
    none = "No services match the given query - try expanding your search.\n"
    assert cli(cat.base, "catalog", "services", "-node=nope") == (0, "", none)
    assert cli(cat.base, "catalog", "services", "-node-meta=rack=zz") == (
        0, "", none)


def test_usage(cat):
    rc, _, err = cli(cat.base, "catalog")
    assert rc == 1 and err.startswith("Usage: cairn catalog <subcommand>")
    rc, _, err = cli(cat.base, "catalog", "frob")
    assert rc == 1 and err.startswith("Unknown subcommand: frob\n")
    rc, _, err = cli(cat.base, "catalog", "nodes", "-bogus")
    assert rc == 1 and err.startswith("flag provided but not defined: -bogus")
    rc, out, _ = cli(cat.base, "catalog", "nodes", "-h")
    assert rc == 0


def test_unreachable():
    base = f"http://127.0.0.1:{free_port()}"
    host = base[len("http://"):]
    for args, what, path in [
        (("datacenters",), "Error listing datacenters",
         "/v1/catalog/datacenters"),
        (("nodes",), "Error listing nodes", "/v1/catalog/nodes"),
        (("nodes", "-service=web"), "Error listing nodes for service",
         "/v1/catalog/service/web"),
        (("services",), "Error listing services", "/v1/catalog/services"),
        (("services", "-node=n1"), "Error listing services for node",
         "/v1/catalog/node/n1"),
    ]:
        assert cli(base, "catalog", *args) == (1, "", (
            f'{what}: Get "{base}{path}": dial tcp {host}: connect: '
            "connection refused\n"))


def test_members_filter(cat):
    rc, out, err = cli(cat.base, "members", "-filter", 'Name == "dev1"')
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["Node", "Address", "Status"]
    assert [ln.split()[0] for ln in lines[1:]] == ["dev1"]
    assert cli(cat.base, "members", "-filter", 'Name == "nobody"') == (
        2, "", "")
    expr = "Name =="
    r = cat.get("/v1/agent/members", params={"filter": expr})
    assert r.status_code == 400
    assert cli(cat.base, "members", "-filter", expr) == (1, "", (
        "Error retrieving members: Unexpected response code: 400 "
        f"({r.text.strip()})\n"))
