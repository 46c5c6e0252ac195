"""
The `cairn` command line against a real dev agent: `cairn version`,
`cairn kv get|put|delete|export|import` (output and exit codes as Consul's
CLI, spec §9), and `cairn agent` itself (configuration errors exit 2, a
role failing at start-up exits 1 naming it, a killed role is restarted,
SIGINT stops everything and removes the -dev temporary directory).
"""
import base64
import json
import os
import signal
import socket
import subprocess
import tempfile

import pytest
import requests

from conftest import BUILD, free_port, wait_until

CAIRN = os.path.join(BUILD, "cairn")


def cli(agent, *args, stdin=None, env=None):
    e = dict(os.environ)
    e.pop("CONSUL_HTTP_TOKEN", None)
    e["CONSUL_HTTP_ADDR"] = agent.base if agent else "http://127.0.0.1:1"
    e.update(env or {})
    return subprocess.run([CAIRN] + list(args), input=stdin,
                          capture_output=True, env=e, timeout=30)


def out(p):
    return p.stdout.decode()


def err(p):
    return p.stderr.decode()


def test_version():
    p = subprocess.run([CAIRN, "version"], capture_output=True, timeout=10)
    assert p.returncode == 0
    lines = out(p).splitlines()
    assert lines[0] == "Cairn v0.1.0"
    assert lines[1].startswith("Revision ")
    assert lines[2].startswith("Protocol 2 spoken by default")
    p = subprocess.run([CAIRN, "version", "-format=json"],
                       capture_output=True, timeout=10)
    assert json.loads(p.stdout)["Version"] == "0.1.0"


def test_unknown_command():
    p = subprocess.run([CAIRN, "frobnicate"], capture_output=True, timeout=10)
    assert p.returncode == 127
    assert "Usage: cairn" in err(p)


def test_put_get_delete(kv):
    p = cli(kv, "kv", "put", "app/name", "web")
    assert (p.returncode, out(p)) == (0, "Success! Data written to: app/name\n")
    p = cli(kv, "kv", "get", "app/name")
    assert (p.returncode, out(p)) == (0, "web\n")
    # the HTTP API sees the same value
    assert kv.get("/v1/kv/app/name?raw").text == "web"
    p = cli(kv, "kv", "get", "-base64", "app/name")
    assert out(p) == base64.b64encode(b"web").decode() + "\n"
    p = cli(kv, "kv", "get", "missing")
    assert p.returncode == 1
    assert err(p) == "Error! No key exists at: missing\n"
    p = cli(kv, "kv", "delete", "app/name")
    assert (p.returncode, out(p)) == (0, "Success! Deleted key: app/name\n")
    assert cli(kv, "kv", "get", "app/name").returncode == 1
    # a leading slash is dropped by get, as Consul's CLI does
    cli(kv, "kv", "put", "x", "1")
    assert out(cli(kv, "kv", "get", "/x")) == "1\n"


def test_detailed_layout(kv):
    cli(kv, "kv", "put", "-flags=42", "d", "val")
    idx = kv.get("/v1/kv/d").json()[0]["ModifyIndex"]
    p = cli(kv, "kv", "get", "-detailed", "d")
    assert p.returncode == 0
    assert out(p) == (
        f"CreateIndex      {idx}\n"
        "Flags            42\n"
        "Key              d\n"
        "LockIndex        0\n"
        f"ModifyIndex      {idx}\n"
        "Session          -\n"
        "Value            val\n")


def test_cas(kv):
    cli(kv, "kv", "put", "c", "one")
    idx = kv.get("/v1/kv/c").json()[0]["ModifyIndex"]
    p = cli(kv, "kv", "put", "-cas", f"-modify-index={idx + 1000}", "c", "two")
    assert p.returncode == 1
    assert err(p) == "Error! Did not write to c: CAS failed\n"
    p = cli(kv, "kv", "put", "-cas", f"-modify-index={idx}", "c", "two")
    assert (p.returncode, out(p)) == (0, "Success! Data written to: c\n")
    p = cli(kv, "kv", "put", "-cas", "c", "three")
    assert p.returncode == 1
    assert "Must specify -modify-index with -cas!" in err(p)
    idx = kv.get("/v1/kv/c").json()[0]["ModifyIndex"]
    p = cli(kv, "kv", "delete", "-cas", f"-modify-index={idx + 1000}", "c")
    assert p.returncode == 1
    assert err(p) == "Error! Did not delete key c: CAS failed\n"
    p = cli(kv, "kv", "delete", "-cas", f"-modify-index={idx}", "c")
    assert (p.returncode, out(p)) == (0, "Success! Deleted key: c\n")


def test_data_sources_and_escaping(kv, tmp_path):
    f = tmp_path / "v.txt"
    f.write_bytes(b"line1\nline2")
    assert cli(kv, "kv", "put", "file", "@" + str(f)).returncode == 0
    assert kv.get("/v1/kv/file?raw").content == b"line1\nline2"
    assert cli(kv, "kv", "put", "stdin", "-", stdin=b"from stdin").returncode == 0
    assert kv.get("/v1/kv/stdin?raw").content == b"from stdin"
    # "-x" (not a lone dash) is the data itself
    assert cli(kv, "kv", "put", "dash", "-x").returncode == 0
    assert kv.get("/v1/kv/dash?raw").content == b"-x"
    assert cli(kv, "kv", "put", "-base64", "b", "aGVsbG8=").returncode == 0
    assert kv.get("/v1/kv/b?raw").content == b"hello"
    p = cli(kv, "kv", "put", "-base64", "b", "!!")
    assert p.returncode == 1 and "Cannot base 64 decode data" in err(p)
    # URL-special characters in keys are escaped, "/" kept
    key = "we ird/k?e#y%&="
    assert cli(kv, "kv", "put", key, "v").returncode == 0
    keys = kv.get("/v1/kv/?keys").json()
    assert key in keys
    assert out(cli(kv, "kv", "get", key)) == "v\n"
    # no value: an empty one
    assert cli(kv, "kv", "put", "empty").returncode == 0
    assert kv.get("/v1/kv/empty?raw").content == b""


def test_recurse_keys(kv):
    for k, v in [("dir/", ""), ("dir/a", "1"), ("dir/sub/b", "2"), ("other", "3")]:
        assert cli(kv, "kv", "put", k, v).returncode == 0
    p = cli(kv, "kv", "get", "-recurse", "dir")
    assert out(p) == "dir/:\ndir/a:1\ndir/sub/b:2\n"
    p = cli(kv, "kv", "get", "-keys", "dir/")
    assert out(p).splitlines() == ["dir/", "dir/a", "dir/sub/"]
    p = cli(kv, "kv", "get", "-keys")
    assert out(p).splitlines() == ["dir/", "other"]
    p = cli(kv, "kv", "get", "-keys", "-separator=", "dir")
    assert out(p).splitlines() == ["dir/", "dir/a", "dir/sub/b"]
    p = cli(kv, "kv", "get", "-recurse", "nothing-here")
    assert (p.returncode, out(p)) == (0, "")
    p = cli(kv, "kv", "delete", "-recurse", "dir")
    assert out(p) == "Success! Deleted keys with prefix: dir\n"
    assert kv.get("/v1/kv/?keys").json() == ["other"]


def test_export_import(kv):
    cli(kv, "kv", "put", "-flags=7", "e/a<b", "x")
    cli(kv, "kv", "put", "e/c", "yy")
    p = cli(kv, "kv", "export", "e/")
    assert p.returncode == 0
    assert out(p) == (
        "[\n\t{\n\t\t\"key\": \"e/a\\u003cb\",\n\t\t\"flags\": 7,\n"
        "\t\t\"value\": \"eA==\"\n\t},\n"
        "\t{\n\t\t\"key\": \"e/c\",\n\t\t\"flags\": 0,\n"
        "\t\t\"value\": \"eXk=\"\n\t}\n]\n")
    exported = out(p)
    p = cli(kv, "kv", "import", "-prefix=copy", "-", stdin=exported.encode())
    assert p.returncode == 0
    assert out(p) == "Imported: copy/e/a<b\nImported: copy/e/c\n"
    got = kv.get("/v1/kv/copy/?recurse").json()
    assert [(g["Key"], g["Flags"], base64.b64decode(g["Value"])) for g in got] == [
        ("copy/e/a<b", 7, b"x"), ("copy/e/c", 0, b"yy")]
    assert out(cli(kv, "kv", "export", "none/")) == "[]\n"
    p = cli(kv, "kv", "import", "not json")
    assert p.returncode == 1 and err(p).startswith("Cannot unmarshal data: ")
    p = cli(kv, "kv", "import")
    assert p.returncode == 1 and err(p) == "Error! Missing DATA argument\n"


def test_usage_errors(kv):
    p = cli(kv, "kv", "get", "-nope", "k")
    assert p.returncode == 1
    assert err(p).startswith("flag provided but not defined: -nope\n")
    p = cli(kv, "kv", "get", "a", "b")
    assert (p.returncode, err(p)) == (1, "Too many arguments (expected 1, got 2)\n")
    p = cli(kv, "kv", "get")
    assert (p.returncode, err(p)) == (1, "Error! Missing KEY argument\n")
    p = cli(kv, "kv", "put")
    assert (p.returncode, err(p)) == (1, "Error! Missing KEY argument\n")
    p = cli(kv, "kv", "delete", "-cas", "-recurse", "-modify-index=3", "k")
    assert (p.returncode, err(p)) == (1, "Cannot specify both -cas and -recurse!\n")
    p = cli(kv, "kv", "put", "-flags=abc", "k", "v")
    assert p.returncode == 1
    assert "invalid value \"abc\" for flag -flags" in err(p)


def test_http_flags(kv):
    # -http-addr wins over the environment; host:port works
    addr = kv.base.replace("http://", "")
    p = cli(None, "kv", "put", f"-http-addr={addr}", "h", "1")
    assert p.returncode == 0
    # CAIRN_HTTP_ADDR is an alias when CONSUL_HTTP_ADDR is unset
    e = dict(os.environ)
    e.pop("CONSUL_HTTP_ADDR", None)
    e["CAIRN_HTTP_ADDR"] = kv.base
    p = subprocess.run([CAIRN, "kv", "get", "h"], capture_output=True, env=e,
                       timeout=30)
    assert out(p) == "1\n"
    p = cli(kv, "kv", "get", "-stale", "-datacenter=dc1", "h")
    assert out(p) == "1\n"
    # nothing listening: exit 1 and Consul's prefix
    p = cli(None, "kv", "get", "h")
    assert p.returncode == 1
    assert err(p).startswith("Error querying Consul agent: Get \"http://127.0.0.1:1/v1/kv/h\": ")


# ---- cairn agent ----

def agent_flags(http):
    return ["-http-port", str(http), "-dns-port", str(free_port()),
            "-server-port", str(free_port()), "-serf-lan-port", str(free_port()),
            "-serf-wan-port", str(free_port())]


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def test_agent_config_error_exits_2(tmp_path):
    p = subprocess.run([CAIRN, "agent", "-dev", "-http-port=abc"],
                       capture_output=True, timeout=10)
    assert p.returncode == 2
    assert err(p) == 'config: flag -http-port: invalid value "abc"\n'
    bad = tmp_path / "a.json"
    bad.write_text('{"ports": {"htp": 1}}')
    p = subprocess.run([CAIRN, "agent", "-dev", "-config-file", str(bad)],
                       capture_output=True, timeout=10)
    assert p.returncode == 2
    assert err(p) == f'config: {bad}: key "ports.htp": unknown key\n'
    p = subprocess.run([CAIRN, "agent"], capture_output=True, timeout=10)
    assert p.returncode == 2 and "-data-dir" in err(p)


def test_agent_dev_lifecycle():
    """-dev without -data-dir: a temporary directory, gone after SIGINT;
    a killed role comes back; SIGINT stops all roles and exits 0."""
    tmp = tempfile.mkdtemp(prefix="cairn-cli-test-")
    http = free_port()
    env = dict(os.environ, TMPDIR=tmp)
    # files, not pipes: a -dev agent logs at debug and would fill a pipe
    logs = tempfile.mkdtemp(prefix="cairn-cli-logs-")
    fout = open(os.path.join(logs, "out"), "w+b")
    ferr = open(os.path.join(logs, "err"), "w+b")
    p = subprocess.Popen([CAIRN, "agent", "-dev"] + agent_flags(http),
                         stdout=fout, stderr=ferr, env=env)
    try:
        base = f"http://127.0.0.1:{http}"
        wait_until(lambda: requests.get(base + "/v1/status/leader", timeout=2).json() != "",
                   timeout=15, what="dev agent leader")
        # start-up is over once the banner says so; a role killed
        # before that stops the agent (test_agent_startup_failure_names_role)
        wait_until(lambda: b"==> Cairn agent running!" in open(fout.name, "rb").read(),
                   timeout=15, what="the agent's running banner")
        dirs = os.listdir(tmp)
        assert len(dirs) == 1 and dirs[0].startswith("cairn-dev-")
        assert requests.put(base + "/v1/kv/life", data="1", timeout=5).json() is True
        roles = {comm(c): c for c in children(p.pid)}
        assert "raftd" in roles and "httpd" in roles
        os.kill(roles["httpd"], signal.SIGKILL)
        wait_until(lambda: requests.get(base + "/v1/kv/life?raw", timeout=2).text == "1",
                   timeout=15, what="httpd restarted by the agent")
        new = {comm(c): c for c in children(p.pid)}
        assert new["httpd"] != roles["httpd"]
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=30)
        fout.seek(0)
        ferr.seek(0)
        stdout = fout.read().decode()
        stderr = ferr.read().decode()
        assert rc == 0, stderr
        assert "==> Starting Cairn agent..." in stdout
        assert "==> Cairn agent running!" in stdout
        assert "httpd was killed by signal 9" in stderr
        assert os.listdir(tmp) == []
        for c in new.values():
            assert not os.path.exists(f"/proc/{c}") or comm(c) == "<defunct>"
    except BaseException:
        ferr.seek(0)
        print(ferr.read().decode()[-3000:])
        raise
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        fout.close()
        ferr.close()
        subprocess.run(["rm", "-rf", tmp, logs])


def test_agent_startup_failure_names_role():
    http = free_port()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", http))
    s.listen()
    try:
        p = subprocess.run([CAIRN, "agent", "-dev"] + agent_flags(http),
                           capture_output=True, timeout=60)
    finally:
        s.close()
    assert p.returncode == 1
    assert "cairn: httpd exited with status" in err(p)
    assert "during start-up" in err(p)
