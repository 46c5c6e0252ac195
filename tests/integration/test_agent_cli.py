"""
`cairn services register|deregister` and `cairn maint` against a node
with checkd: flags and JSON files (config-file form), Consul's messages,
maintenance listing, and the errors for bad flag combinations.
Reference: spec/consul-api.md §9.
"""
import json
import os
import subprocess

from conftest import BUILD, wait_until

ROLES = ("raftd", "httpd", "checkd")


def cairn(n, *args):
    env = dict(os.environ, CONSUL_HTTP_ADDR=f"127.0.0.1:{n.ports['http']}")
    return subprocess.run([os.path.join(BUILD, "cairn"), *args], env=env,
                          capture_output=True, text=True, timeout=30)


def test_services_and_maint_cli(node_factory, tmp_path):
    n = node_factory(name="ck-cli")
    n.start_roles(ROLES)
    wait_until(lambda: n.get("/v1/agent/services").status_code == 200,
               what="checkd reachable")
    r = cairn(n, "services", "register", "-name", "web", "-id", "web-1",
              "-tag", "a", "-tag=b", "-meta", "v=1", "-port", "8080")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Registered service: web\n"
    s = n.get("/v1/agent/services").json()["web-1"]
    assert (s["Tags"], s["Meta"], s["Port"]) == (["a", "b"], {"v": "1"}, 8080)

    f = tmp_path / "svc.json"
    f.write_text(json.dumps({"service": {"name": "db", "port": 5432,
                                         "check": {"ttl": "30s"}}}))
    r = cairn(n, "services", "register", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Registered service: db\n"
    assert "service:db" in n.get("/v1/agent/checks").json()

    assert cairn(n, "services", "register").returncode == 1
    r = cairn(n, "maint", "-enable", "-reason", "upgrade now")
    assert (r.returncode, r.stdout) == (0, "Node maintenance is now enabled\n")
    r = cairn(n, "maint", "-enable", "-service", "web-1")
    assert r.stdout == 'Service maintenance is now enabled for "web-1"\n'
    r = cairn(n, "maint")
    assert "Node:\n  Name:   ck-cli\n  Reason: upgrade now\n" in r.stdout
    assert "Service:\n  ID:     web-1\n" in r.stdout
    assert cairn(n, "maint", "-enable", "-disable").returncode == 1
    assert cairn(n, "maint", "-reason", "x").returncode == 1
    r = cairn(n, "maint", "-enable", "-service", "ghost")
    assert r.returncode == 1 and "404" in r.stderr
    assert cairn(n, "maint", "-disable").returncode == 0
    assert cairn(n, "maint", "-disable", "-service", "web-1").returncode == 0
    checks = n.get("/v1/agent/checks").json()
    assert not [k for k in checks if "maintenance" in k]

    r = cairn(n, "services", "deregister", "-id", "web-1")
    assert (r.returncode, r.stdout) == (0, "Deregistered service: web-1\n")
    r = cairn(n, "services", "deregister", str(f))
    assert (r.returncode, r.stdout) == (0, "Deregistered service: db\n")
    assert n.get("/v1/agent/services").json() == {}
    r = cairn(n, "services", "deregister", "-id", "web-1")
    assert r.returncode == 1 and "Unknown service ID" in r.stderr
