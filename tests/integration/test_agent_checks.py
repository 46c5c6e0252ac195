"""
The agent's local services and health checks (checkd) through the HTTP
API and python-consul: registration semantics (generated check IDs,
status kept on re-registration, ?replace-existing-checks), HTTP checks
against a local server switched between 200/429/500, TTL checks and their
expiry, script checks (incl. the timeout killing the process group),
Consul's exact error texts, maintenance mode, the agent health endpoints,
config-file services, persistence across kill -9 of checkd, and the
anti-entropy into /v1/health (incl. a blocked ?index= watcher waking up).
Reference: spec/consul-api.md §2.1, §3, §4, §16 items 11, 13, 15.
"""
import http.server
import json
import os
import threading
import time

import consul
import pytest
import requests

from conftest import wait_until

ROLES = ("raftd", "httpd", "checkd")


class Target:
    """A local HTTP server whose answer code the test switches."""

    def __init__(self):
        self.code = 200
        self.hits = 0
        target = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                target.hits += 1
                target.ua = self.headers.get("User-Agent")
                target.method = self.command
                target.hdr = self.headers.get_all("X-Probe")
                n = int(self.headers.get("Content-Length") or 0)
                target.body = self.rfile.read(n).decode() if n else ""
                if self.path == "/redir":
                    self.send_response(302)
                    self.send_header("Location", "/health")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = f"status {target.code}".encode()
                self.send_response(target.code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_PUT = do_GET  # noqa: N815

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/health"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def target():
    t = Target()
    yield t
    t.close()


def start(node_factory, name, extra=None):
    n = node_factory(name=name, extra=extra)
    n.start_roles(ROLES)
    wait_until(lambda: n.get("/v1/agent/services").status_code == 200,
               what="checkd reachable")
    return n


def checks(n):
    r = n.get("/v1/agent/checks")
    assert r.status_code == 200
    return r.json()


def status_of(n, cid):
    return checks(n).get(cid, {}).get("Status")


def test_http_check_follows_target(node_factory, target):
    n = start(node_factory, "ck-http")
    c = consul.Consul(port=n.ports["http"])
    assert c.agent.service.register(
        "web", port=80, check=consul.Check.http(target.url, interval="1s"))
    svc = n.get("/v1/agent/services").json()["web"]
    assert svc["Tags"] == [] and svc["Weights"] == {"Passing": 1, "Warning": 1}
    wait_until(lambda: status_of(n, "service:web") == "passing", timeout=5,
               what="http check passing")
    chk = checks(n)["service:web"]
    assert chk["Name"] == "Service 'web' check"
    assert chk["Type"] == "http" and chk["Interval"] == "1s"
    assert chk["Output"].startswith(f"HTTP GET {target.url}: 200 OK Output: status 200")
    assert target.ua == "Consul Health Check"
    # in the catalog: /v1/health/service/web?passing lists it
    wait_until(lambda: len(n.get("/v1/health/service/web?passing").json()) == 1,
               timeout=5, what="catalog passing")

    target.code = 500
    t0 = time.monotonic()
    wait_until(lambda: status_of(n, "service:web") == "critical", timeout=12,
               interval=0.05, what="http check critical")
    assert time.monotonic() - t0 < 1 + 10
    wait_until(lambda: n.get("/v1/health/service/web?passing").json() == [],
               timeout=5, what="dropped from ?passing")
    target.code = 429
    wait_until(lambda: status_of(n, "service:web") == "warning", timeout=5,
               what="429 is warning")
    target.code = 200
    wait_until(lambda: status_of(n, "service:web") == "passing", timeout=5,
               what="passing again")


def test_blocked_health_watcher_wakes(node_factory, target):
    n = start(node_factory, "ck-watch")
    c = consul.Consul(port=n.ports["http"])
    c.agent.service.register("api", port=81,
                             check=consul.Check.http(target.url, interval="1s"))
    wait_until(lambda: len(n.get("/v1/health/service/api?passing").json()) == 1,
               timeout=6, what="passing in the catalog")
    r = n.get("/v1/health/service/api")
    idx = int(r.headers["X-Consul-Index"])
    out = {}

    def watch():
        t0 = time.monotonic()
        w = requests.get(n.url(f"/v1/health/service/api?index={idx}&wait=30s"),
                         timeout=40)
        out["dt"] = time.monotonic() - t0
        out["r"] = w

    th = threading.Thread(target=watch)
    th.start()
    time.sleep(0.5)
    target.code = 503
    th.join(timeout=35)
    assert "r" in out, "watcher did not return"
    assert out["dt"] < 15
    assert int(out["r"].headers["X-Consul-Index"]) > idx
    st = [k["Status"] for k in out["r"].json()[0]["Checks"]
          if k["CheckID"] == "service:api"]
    assert st == ["critical"]


def test_ttl_check_pass_and_expiry(node_factory):
    n = start(node_factory, "ck-ttl")
    c = consul.Consul(port=n.ports["http"])
    assert c.agent.check.register("t1", consul.Check.ttl("2s"))
    assert status_of(n, "t1") == "critical"  # the default initial status
    # python-consul 0.7.1's ttl_pass/warn/fail send GET, which Consul >= 1.0
    # refuses with 405 (spec §1.1, §16 item 17): so do we; PUT works.
    r = n.request("GET", "/v1/agent/check/pass/t1")
    assert r.status_code == 405 and "PUT" in r.headers["Allow"]
    assert n.put("/v1/agent/check/pass/t1?note=all good").status_code == 200
    ck = checks(n)["t1"]
    assert ck["Status"] == "passing" and ck["Output"] == "all good"
    assert ck["Type"] == "ttl"
    assert n.put("/v1/agent/check/warn/t1").status_code == 200
    assert status_of(n, "t1") == "warning"
    wait_until(lambda: status_of(n, "t1") == "critical", timeout=5,
               interval=0.05, what="TTL expiry")
    assert checks(n)["t1"]["Output"] == "TTL expired"
    # update: output capped at 4 KiB with Consul's suffix
    r = n.put("/v1/agent/check/update/t1",
              data=json.dumps({"Status": "passing", "Output": "x" * 5000}))
    assert r.status_code == 200 and r.text == ""
    assert "Content-Type" not in r.headers
    ck = checks(n)["t1"]
    assert ck["Status"] == "passing"
    assert ck["Output"] == "x" * 4096 + " ... (captured 4096 of 5000 bytes)"
    r = n.put("/v1/agent/check/update/t1", data='{"Status":"bogus"}')
    assert r.status_code == 400
    assert r.text == "Invalid check status: 'bogus'"


def test_error_texts(node_factory, target):
    n = start(node_factory, "ck-err")
    r = n.put("/v1/agent/check/pass/service:nope")
    assert r.status_code == 404
    assert r.text == ('Unknown check ID "service:nope". Ensure that the check '
                      'ID is passed, not the check name.')
    n.put("/v1/agent/check/register",
          data=json.dumps({"Name": "h", "HTTP": target.url, "Interval": "5s"}))
    r = n.put("/v1/agent/check/pass/h")
    assert r.status_code == 500
    assert r.text == 'CheckID "h" does not have associated TTL'
    r = n.put("/v1/agent/service/register", data=json.dumps({"Port": 1}))
    assert (r.status_code, r.text) == (400, "Missing service name")
    r = n.put("/v1/agent/check/register", data=json.dumps({"TTL": "5s"}))
    assert (r.status_code, r.text) == (400, "Missing check name")
    r = n.put("/v1/agent/check/register", data=json.dumps({"Name": "x"}))
    assert r.status_code == 400
    assert r.text == ("Must provide TTL or Script/DockerContainerID/HTTP/TCP/"
                      "UDP/H2PING/GRPC/AliasService and Interval")
    r = n.put("/v1/agent/check/register",
              data=json.dumps({"Name": "x", "TTL": "5s", "ServiceID": "ghost"}))
    assert (r.status_code, r.text) == (500, 'ServiceID "ghost" does not exist')
    r = n.put("/v1/agent/service/deregister/ghost")
    assert r.status_code == 404
    assert r.text.startswith('Unknown service ID "ghost"')
    r = n.put("/v1/agent/check/deregister/ghost")
    assert r.status_code == 404
    r = n.put("/v1/agent/service/register", data="{not json")
    assert r.status_code == 400 and r.text.startswith("Request decode failed")
    # script checks are refused without enable_script_checks
    r = n.put("/v1/agent/check/register",
              data=json.dumps({"Name": "s", "Args": ["true"], "Interval": "1s"}))
    assert r.status_code == 500 and "enable_script_checks" in r.text
    assert n.get("/v1/agent/service/ghost").status_code == 404
    r = n.get("/v1/agent/services")
    assert r.json() == {}


def test_generated_ids_and_reregistration(node_factory):
    n = start(node_factory, "ck-ids")
    body = {"name": "app", "id": "app1", "tags": ["a"],
            "check": {"ttl": "30s"},
            "checks": [{"ttl": "30s"}, {"ttl": "30s", "name": "custom"}]}
    assert n.put("/v1/agent/service/register", data=json.dumps(body)).status_code == 200
    ck = checks(n)
    assert set(ck) == {"service:app1:1", "service:app1:2", "service:app1:3"}
    assert ck["service:app1:1"]["Name"] == "Service 'app' check"
    assert ck["service:app1:3"]["Name"] == "custom"
    assert ck["service:app1:1"]["ServiceTags"] == ["a"]
    assert all(v["Status"] == "critical" for v in ck.values())
    # Spring-style heartbeat, then re-registration keeps the status
    assert n.put("/v1/agent/check/pass/service:app1:1?note=hb").status_code == 200
    assert n.put("/v1/agent/service/register", data=json.dumps(body)).status_code == 200
    ck = checks(n)["service:app1:1"]
    assert ck["Status"] == "passing" and ck["Output"] == "hb"
    # without ?replace-existing-checks the old checks stay
    one = {"Name": "app", "ID": "app1", "Check": {"TTL": "30s"}}
    n.put("/v1/agent/service/register", data=json.dumps(one))
    assert "service:app1:2" in checks(n)
    n.put("/v1/agent/service/register?replace-existing-checks", data=json.dumps(one))
    assert set(checks(n)) == {"service:app1"}
    # snake_case aliases and integer-nanosecond durations
    snake = {"name": "db", "enable_tag_override": True,
             "check": {"check_id": "dbttl", "ttl": 30000000000,
                       "status": "passing"}}
    assert n.put("/v1/agent/service/register", data=json.dumps(snake)).status_code == 200
    assert n.get("/v1/agent/services").json()["db"]["EnableTagOverride"] is True
    assert checks(n)["dbttl"]["Status"] == "passing"
    # Spring: pass on service:<id>
    spring = {"Name": "boot", "ID": "boot-1", "Check": {"TTL": "30s"}}
    n.put("/v1/agent/service/register", data=json.dumps(spring))
    assert n.put("/v1/agent/check/pass/service:boot-1").status_code == 200
    assert status_of(n, "service:boot-1") == "passing"
    # deregister removes the service, its checks, and the catalog entry
    assert n.put("/v1/agent/service/deregister/app1").status_code == 200
    assert "service:app1" not in checks(n)
    wait_until(lambda: "app" not in n.get("/v1/catalog/services").json(),
               timeout=5, what="app gone from the catalog")


def test_maintenance(node_factory):
    n = start(node_factory, "ck-maint")
    n.put("/v1/agent/service/register",
          data=json.dumps({"Name": "web", "Check": {"TTL": "30s", "Status": "passing"}}))
    r = n.get("/v1/agent/health/service/id/web?format=text")
    assert (r.status_code, r.text) == (200, "passing")
    assert n.put("/v1/agent/maintenance").status_code == 400
    assert n.put("/v1/agent/maintenance?enable=maybe").status_code == 400
    r = n.put("/v1/agent/maintenance?enable=true")
    assert r.status_code == 200 and r.text == ""
    m = checks(n)["_node_maintenance"]
    assert m["Name"] == "Node Maintenance Mode" and m["Status"] == "critical"
    assert m["Notes"] == ("Maintenance mode is enabled for this node, but no "
                          "reason was provided. This is a default message.")
    r = n.get("/v1/agent/health/service/id/web")
    assert r.status_code == 503 and r.json()["AggregatedStatus"] == "maintenance"
    wait_until(lambda: n.get("/v1/health/service/web?passing").json() == [],
               timeout=5, what="node maintenance in the catalog")
    assert n.put("/v1/agent/maintenance?enable=false").status_code == 200
    assert "_node_maintenance" not in checks(n)
    r = n.put("/v1/agent/service/maintenance/web?enable=true&reason=deploy")
    assert r.status_code == 200
    m = checks(n)["_service_maintenance:web"]
    assert (m["Name"], m["Notes"], m["ServiceID"]) == (
        "Service Maintenance Mode", "deploy", "web")
    r = n.put("/v1/agent/service/maintenance/nope?enable=true")
    assert r.status_code == 404
    assert n.put("/v1/agent/service/maintenance/web?enable=false").status_code == 200
    assert "_service_maintenance:web" not in checks(n)
    # health endpoints
    r = n.get("/v1/agent/health/service/name/web")
    assert r.status_code == 200 and r.json()[0]["AggregatedStatus"] == "passing"
    n.put("/v1/agent/check/warn/service:web")
    assert n.get("/v1/agent/health/service/id/web").status_code == 429
    n.put("/v1/agent/check/fail/service:web")
    r = n.get("/v1/agent/health/service/name/web?format=text")
    assert (r.status_code, r.text) == (503, "critical")
    assert n.get("/v1/agent/health/service/id/none").status_code == 404
    assert n.get("/v1/agent/health/service/name/none").status_code == 404


def test_script_checks(node_factory, tmp_path):
    n = start(node_factory, "ck-script", extra=["-enable-script-checks"])
    for name, code, want in (("ok", 0, "passing"), ("warn", 1, "warning"),
                             ("bad", 2, "critical")):
        r = n.put("/v1/agent/check/register", data=json.dumps({
            "Name": name, "Status": "passing" if code else "critical",
            "Args": ["/bin/sh", "-c", f"echo out-{name}; echo err >&2; exit {code}"],
            "Interval": "1s"}))
        assert r.status_code == 200, r.text
    for name, want in (("ok", "passing"), ("warn", "warning"), ("bad", "critical")):
        wait_until(lambda: status_of(n, name) == want, timeout=5,
                   what=f"script {name} {want}")
        assert checks(n)[name]["Output"] == f"out-{name}\nerr\n"
    # a timed-out script: the whole process group is killed
    pidfile = tmp_path / "child.pid"
    r = n.put("/v1/agent/check/register", data=json.dumps({
        "Name": "slow", "Status": "passing", "Interval": "30s", "Timeout": "1s",
        "Args": ["/bin/sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]}))
    assert r.status_code == 200
    wait_until(lambda: status_of(n, "slow") == "critical", timeout=35,
               what="script timeout")
    assert checks(n)["slow"]["Output"] == "Timed out (1s) running check"
    pid = int(pidfile.read_text())

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with open(f"/proc/{pid}/stat") as f:  # a zombie is dead too
            return f.read().split(")")[1].split()[0] == "Z"

    wait_until(gone, timeout=5, what="background child killed")


def test_config_file_services_and_restart(node_factory, tmp_path):
    cfgdir = tmp_path / "conf"
    cfgdir.mkdir()
    (cfgdir / "svc.json").write_text(json.dumps({
        "service": {"name": "filesvc", "port": 8080, "tags": ["cfg"],
                    "check": {"ttl": "60s", "deregister_critical_service_after": "90m"}},
        "checks": [{"id": "node-ttl", "name": "node ttl", "ttl": "60s"}]}))
    n = start(node_factory, "ck-cfg", extra=["-config-dir", str(cfgdir)])
    svcs = n.get("/v1/agent/services").json()
    assert svcs["filesvc"]["Port"] == 8080 and svcs["filesvc"]["Tags"] == ["cfg"]
    assert "node-ttl" in checks(n)
    # an API registration with state, a TTL deadline and maintenance
    n.put("/v1/agent/service/register",
          data=json.dumps({"Name": "apisvc", "Check": {"TTL": "60s"}}))
    n.put("/v1/agent/check/pass/service:apisvc?note=alive")
    n.put("/v1/agent/check/pass/service:filesvc")
    n.put("/v1/agent/service/maintenance/apisvc?enable=true&reason=r1")
    wait_until(lambda: "apisvc" in n.get("/v1/catalog/services").json(),
               timeout=5, what="apisvc in the catalog")
    n.kill("checkd")
    assert n.get("/v1/agent/services").status_code == 503
    n.start_role("checkd")
    wait_until(lambda: n.get("/v1/agent/services").status_code == 200,
               what="checkd back")
    svcs = n.get("/v1/agent/services").json()
    assert set(svcs) == {"filesvc", "apisvc"}
    ck = checks(n)
    assert ck["service:apisvc"]["Status"] == "passing"
    assert ck["service:apisvc"]["Output"] == "alive"
    assert ck["_service_maintenance:apisvc"]["Notes"] == "r1"
    # file-defined services are not persisted: status starts over
    assert ck["service:filesvc"]["Status"] == "critical"
    # the catalog converges after the restart
    wait_until(lambda: {c["CheckID"] for c in
                        n.get("/v1/health/node/ck-cfg").json()} >=
               {"service:apisvc", "_service_maintenance:apisvc", "node-ttl",
                "service:filesvc"}, timeout=10, what="catalog converged")


def test_tcp_udp_alias_checks(node_factory, target):
    import socket
    n = start(node_factory, "ck-sock")
    port = int(target.url.split(":")[2].split("/")[0])
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        regs = [
            {"Name": "tcp-up", "TCP": f"127.0.0.1:{port}", "Interval": "1s"},
            {"Name": "tcp-down", "TCP": f"127.0.0.1:{closed_port}",
             "Interval": "1s", "Status": "passing"},
            {"Name": "udp-silent", "UDP": f"127.0.0.1:{silent.getsockname()[1]}",
             "Interval": "1s", "Timeout": "500ms"},
            {"Name": "udp-down", "UDP": f"127.0.0.1:{closed_port}",
             "Interval": "1s", "Status": "passing"},
        ]
        for b in regs:
            r = n.put("/v1/agent/check/register", data=json.dumps(b))
            assert r.status_code == 200, r.text
        want = {"tcp-up": "passing", "tcp-down": "critical",
                "udp-silent": "passing", "udp-down": "critical"}
        wait_until(lambda: all(status_of(n, k) == v for k, v in want.items()),
                   timeout=8, what="socket checks")
        ck = checks(n)
        assert ck["tcp-up"]["Output"] == f"TCP connect 127.0.0.1:{port}: Success"
        assert "connection refused" in ck["tcp-down"]["Output"]
        assert silent.recv(100)  # the datagram arrived
        # alias: mirrors the local service's checks (node checks included)
        for k in want:
            n.put(f"/v1/agent/check/deregister/{k}")
        n.put("/v1/agent/service/register", data=json.dumps(
            {"Name": "api", "Check": {"TTL": "30s", "Status": "passing"}}))
        n.put("/v1/agent/check/register", data=json.dumps(
            {"Name": "api-alias", "AliasService": "api"}))
        wait_until(lambda: status_of(n, "api-alias") == "passing", timeout=3,
                   what="alias passing")
        n.put("/v1/agent/check/fail/service:api")
        wait_until(lambda: status_of(n, "api-alias") == "critical", timeout=3,
                   what="alias follows")
        assert checks(n)["api-alias"]["Type"] == "alias"
    finally:
        silent.close()


def test_reload_rereads_config_services(node_factory, tmp_path):
    import signal
    cfgdir = tmp_path / "conf"
    cfgdir.mkdir()
    f = cfgdir / "s.json"
    f.write_text(json.dumps({"services": [
        {"name": "one", "check": {"ttl": "30s"}},
        {"name": "two"}]}))
    n = start(node_factory, "ck-reload", extra=["-config-dir", str(cfgdir)])
    assert set(n.get("/v1/agent/services").json()) == {"one", "two"}
    n.put("/v1/agent/check/pass/service:one")
    n.put("/v1/agent/service/register", data=json.dumps({"Name": "api"}))
    f.write_text(json.dumps({"services": [
        {"name": "one", "tags": ["new"], "check": {"ttl": "30s"}},
        {"name": "three"}]}))
    n.procs["checkd"].send_signal(signal.SIGHUP)
    wait_until(lambda: set(n.get("/v1/agent/services").json()) ==
               {"one", "three", "api"}, timeout=5, what="reloaded")
    svcs = n.get("/v1/agent/services").json()
    assert svcs["one"]["Tags"] == ["new"]
    assert status_of(n, "service:one") == "passing"  # kept across reload
    wait_until(lambda: "two" not in n.get("/v1/catalog/services").json(),
               timeout=5, what="two gone from the catalog")
    # an invalid file keeps the running definitions
    f.write_text('{"services": [{"port": 1}]}')
    n.procs["checkd"].send_signal(signal.SIGHUP)
    time.sleep(1)
    assert set(n.get("/v1/agent/services").json()) == {"one", "three", "api"}


def test_registration_while_raftd_down_syncs_later(node_factory):
    n = start(node_factory, "ck-down")
    n.kill("raftd")
    t0 = time.monotonic()
    r = n.put("/v1/agent/service/register", data=json.dumps(
        {"Name": "late", "Check": {"TTL": "30s", "Status": "passing"}}))
    assert r.status_code == 200  # best effort: the agent keeps it
    assert time.monotonic() - t0 < 5
    assert "late" in n.get("/v1/agent/services").json()
    n.start_role("raftd")
    wait_until(lambda: len(n.get("/v1/health/service/late?passing").json()) == 1,
               timeout=30, what="synced once raftd is back")
    # a catalog entry for this node the agent does not know is removed by
    # the periodic full sync; the leader-owned consul service stays
    n.put("/v1/catalog/register", data=json.dumps(
        {"Node": "ck-down", "Address": "127.0.0.1",
         "Service": {"Service": "stray"}}))
    assert "stray" in n.get("/v1/catalog/services").json()
    n.kill("checkd")
    n.start_role("checkd")  # a restart runs a full sync at once
    wait_until(lambda: "stray" not in n.get("/v1/catalog/services").json(),
               timeout=15, what="stray removed by anti-entropy")
    svcs = n.get("/v1/catalog/services").json()
    assert "late" in svcs and "consul" in svcs


def test_http_check_options(node_factory, target):
    n = start(node_factory, "ck-hopt")
    base = target.url.rsplit("/", 1)[0]
    r = n.put("/v1/agent/check/register", data=json.dumps({
        "Name": "post", "HTTP": target.url, "Method": "POST",
        "Header": {"X-Probe": ["a", "b"]}, "Body": "ping", "Interval": "1s"}))
    assert r.status_code == 200
    wait_until(lambda: status_of(n, "post") == "passing", timeout=5,
               what="POST check")
    assert (target.method, target.hdr, target.body) == ("POST", ["a", "b"], "ping")
    assert checks(n)["post"]["Output"].startswith(f"HTTP POST {target.url}: 200 OK")
    n.put("/v1/agent/check/deregister/post")
    # redirects are followed unless DisableRedirects
    n.put("/v1/agent/check/register", data=json.dumps({
        "Name": "follow", "HTTP": base + "/redir", "Interval": "1s"}))
    n.put("/v1/agent/check/register", data=json.dumps({
        "Name": "nofollow", "HTTP": base + "/redir", "Interval": "1s",
        "DisableRedirects": True, "Status": "passing"}))
    wait_until(lambda: status_of(n, "follow") == "passing" and
               status_of(n, "nofollow") == "critical", timeout=5,
               what="redirect handling")
    assert ": 302 Found" in checks(n)["nofollow"]["Output"]
    # a refused connection is critical with the reason
    n.put("/v1/agent/check/register", data=json.dumps({
        "Name": "gone", "HTTP": "http://127.0.0.1:1/", "Interval": "1s",
        "Status": "passing"}))
    wait_until(lambda: status_of(n, "gone") == "critical", timeout=5,
               what="refused is critical")


class GrpcHealth:
    """A cleartext HTTP/2 gRPC health server (python h2) whose
    HealthCheckResponse.status the test switches (1 SERVING)."""

    def __init__(self):
        import socket
        self.status = 1
        self.services = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.stop:
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    def serve(self, s):
        import h2.config
        import h2.connection
        import h2.events
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        s.sendall(conn.data_to_send())
        bodies = {}
        try:
            while True:
                data = s.recv(65535)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.DataReceived):
                        bodies[ev.stream_id] = bodies.get(ev.stream_id, b"") + ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length,
                                                       ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        req = bodies.pop(ev.stream_id, b"")
                        self.services.append(req[7:].decode() if len(req) > 7 else "")
                        msg = bytes([0x08, self.status])
                        conn.send_headers(ev.stream_id, [
                            (":status", "200"), ("content-type", "application/grpc")])
                        conn.send_data(ev.stream_id,
                                       b"\x00" + len(msg).to_bytes(4, "big") + msg)
                        conn.send_headers(ev.stream_id, [("grpc-status", "0")],
                                          end_stream=True)
                s.sendall(conn.data_to_send())
        except OSError:
            return
        finally:
            s.close()

    def close(self):
        self.stop = True
        self.sock.close()


def test_grpc_check(node_factory):
    g = GrpcHealth()
    try:
        n = start(node_factory, "ck-grpc")
        r = n.put("/v1/agent/service/register", data=json.dumps({
            "Name": "rpc", "Check": {"GRPC": f"127.0.0.1:{g.port}/my.Svc",
                                     "Interval": "1s"}}))
        assert r.status_code == 200, r.text
        wait_until(lambda: status_of(n, "service:rpc") == "passing", timeout=5,
                   what="grpc SERVING")
        ck = checks(n)["service:rpc"]
        assert ck["Type"] == "grpc"
        assert ck["Output"] == f"gRPC check 127.0.0.1:{g.port}/my.Svc: success"
        assert "my.Svc" in g.services
        g.status = 2
        wait_until(lambda: status_of(n, "service:rpc") == "critical", timeout=5,
                   what="grpc NOT_SERVING")
        assert checks(n)["service:rpc"]["Output"].endswith(
            "serving status: NOT_SERVING")
    finally:
        g.close()


def catalog_output(n, cid):
    for c in n.get(f"/v1/health/node/{n.name}").json():
        if c["CheckID"] == cid:
            return c["Output"]
    return None


@pytest.mark.parametrize("interval", ["0s", "5m"])
def test_output_only_changes_and_check_update_interval(node_factory, tmp_path,
                                                        interval):
    cfgdir = tmp_path / "conf"
    cfgdir.mkdir()
    (cfgdir / "a.json").write_text(json.dumps(
        {"check_update_interval": interval}))
    n = start(node_factory, "ck-cui" + interval[0],
              extra=["-config-dir", str(cfgdir)])
    n.put("/v1/agent/check/register", data=json.dumps({"Name": "t", "TTL": "60s"}))
    n.put("/v1/agent/check/pass/t?note=first")  # a status change: pushed
    wait_until(lambda: catalog_output(n, "t") == "first", timeout=5,
               what="status change pushed")
    n.put("/v1/agent/check/pass/t?note=second")  # output only
    assert checks(n)["t"]["Output"] == "second"
    if interval == "0s":
        wait_until(lambda: catalog_output(n, "t") == "second", timeout=5,
                   what="output pushed at once")
    else:
        time.sleep(2)
        assert catalog_output(n, "t") == "first"  # deferred
        n.put("/v1/agent/check/warn/t?note=third")  # a status change
        wait_until(lambda: catalog_output(n, "t") == "third", timeout=5,
                   what="status change carries the output")


@pytest.mark.skipif(not os.environ.get("CAIRN_SLOW_TESTS"),
                    reason="about 95 s: set CAIRN_SLOW_TESTS=1")
def test_deregister_critical_service_after(node_factory):
    n = start(node_factory, "ck-reap")
    n.put("/v1/agent/service/register", data=json.dumps(
        {"Name": "dr", "Check": {"TTL": "5s",
                                 "DeregisterCriticalServiceAfter": "1s"}}))
    # raised to Consul's minimum of one minute
    ck = checks(n)["service:dr"]
    assert ck["Definition"]["DeregisterCriticalServiceAfter"] == "1m0s"
    t0 = time.monotonic()
    time.sleep(60)
    assert "dr" in n.get("/v1/agent/services").json()  # not before 1m
    wait_until(lambda: "dr" not in n.get("/v1/agent/services").json(),
               timeout=45, interval=1, what="reaped (30 s reaper)")
    assert time.monotonic() - t0 < 5 + 60 + 30 + 5
    wait_until(lambda: "dr" not in n.get("/v1/catalog/services").json(),
               timeout=10, what="gone from the catalog")


def test_check_flag_validates_config(tmp_path):
    import subprocess
    from conftest import BUILD
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "ok.json").write_text(json.dumps(
        {"service": {"name": "web", "check": {"ttl": "10s"}}}))
    argv = [os.path.join(BUILD, "checkd"), "-n", "-data-dir", str(tmp_path),
            "-config-dir", str(conf)]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    (conf / "bad.json").write_text(json.dumps(
        {"services": [{"name": "db", "check": {"http": "http://x/"}}]}))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "Must provide TTL or Script" in r.stderr


def test_catalog_checks_carry_service_tags(node_factory):
    n = start(node_factory, "ck-tags")
    n.put("/v1/agent/service/register", data=json.dumps(
        {"Name": "web", "Tags": ["v1", "blue"], "Check": {"TTL": "30s"}}))
    def tags():
        for c in n.get("/v1/health/checks/web").json():
            if c["CheckID"] == "service:web":
                return c["ServiceTags"]
    wait_until(lambda: tags() == ["v1", "blue"], timeout=5,
               what="ServiceTags in the catalog")


def test_checkd_sd_notify(node_factory, tmp_path):
    import signal
    import socket
    from test_sd_notify import collect
    n = node_factory(name="ck-sd")
    n.start_roles(("raftd", "httpd"))
    path = str(tmp_path / "checkd.notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    try:
        n.start_role("checkd", env={"NOTIFY_SOCKET": path,
                                    "WATCHDOG_USEC": "400000"})
        joined = "\n".join(collect(s, 1.5))
        assert "READY=1" in joined and joined.count("WATCHDOG=1") >= 4
        n.procs["checkd"].send_signal(signal.SIGHUP)
        assert "RELOADING=1" in "\n".join(collect(s, 0.5))
        assert n.get("/v1/agent/services").status_code == 200
        n.procs["checkd"].send_signal(signal.SIGTERM)
        assert n.procs["checkd"].wait(10) == 0
        assert "STOPPING=1" in "\n".join(collect(s, 0.3))
    finally:
        s.close()


def test_concurrent_registrations_survive_kill(node_factory):
    # registrations answered together share their fsyncs (store.c): a
    # re-registration and a deregistration in the same burst must leave
    # the files as answered, across kill -9 of checkd
    n = start(node_factory, "ck-burst")

    def reg(i, port):
        r = n.put("/v1/agent/service/register", data=json.dumps(
            {"ID": f"b{i}", "Name": "burst", "Port": port,
             "Check": {"TTL": "60s"}}))
        assert r.status_code == 200

    def dereg(i):
        assert n.put(f"/v1/agent/service/deregister/b{i}").status_code == 200

    def burst(fn, args):
        ts = [threading.Thread(target=fn, args=a) for a in args]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    burst(reg, [(i, 1000 + i) for i in range(24)])
    # re-register half with a new port while deregistering the others
    ts = [threading.Thread(target=reg, args=(i, 2000 + i))
          for i in range(0, 24, 2)]
    ts += [threading.Thread(target=dereg, args=(i,)) for i in range(1, 24, 2)]
    # and race a re-registration against the deregistration of the same
    # ID: whichever is answered last must be what a restart finds
    ts += [threading.Thread(target=reg, args=(i, 3000 + i))
           for i in range(1, 24, 4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    before = n.get("/v1/agent/services").json()
    n.kill("checkd")
    n.start_role("checkd")
    wait_until(lambda: n.get("/v1/agent/services").status_code == 200,
               what="checkd back")
    svcs = n.get("/v1/agent/services").json()
    assert {k: v["Port"] for k, v in svcs.items()} == \
        {k: v["Port"] for k, v in before.items()}
    assert {f"b{i}" for i in range(0, 24, 2)} <= set(svcs)
    assert all(svcs[f"b{i}"]["Port"] == 2000 + i for i in range(0, 24, 2))
    assert set(checks(n)) == {f"service:{k}" for k in svcs}
