"""
The KV API against a dev agent, with raw HTTP: every behaviour of spec
§2.4 and §16 items 1-9, 16-18, and Appendix B scenarios 3 and 4.
"""
import base64
import http.client
import json
import os
import re
import threading
import time

import requests

from conftest import wait_until

LOCK_FLAG = 0x2DDCCBC058A50C18
U64_MAX = 2**64 - 1


def raw(node, method, path, body=None):
    """An HTTP request whose path is sent exactly as given."""
    c = http.client.HTTPConnection("127.0.0.1", node.ports["http"], timeout=15)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def idx(r):
    return int(r.headers["X-Consul-Index"])


def test_put_get_base64_and_headers(kv):
    r = kv.put("/v1/kv/web/config", data=b"hello")
    assert r.status_code == 200
    assert r.json() is True
    r = kv.get("/v1/kv/web/config")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and len(body) == 1
    e = body[0]
    assert e["Key"] == "web/config"
    assert base64.b64decode(e["Value"]) == b"hello"
    assert e["Flags"] == 0 and e["LockIndex"] == 0
    assert "Session" not in e
    assert e["CreateIndex"] == e["ModifyIndex"] > 0
    assert idx(r) == e["ModifyIndex"]
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert r.headers["X-Consul-LastContact"] == "0"
    assert r.headers.get("X-Consul-Default-ACL-Policy") == "allow"


def test_dev_mode_is_pretty(kv):
    kv.put("/v1/kv/p", data=b"x")
    r = kv.get("/v1/kv/p")
    # Go's MarshalIndent with 4 spaces, plus a trailing newline
    assert r.text.startswith("[\n    {\n        \"")
    assert r.text.endswith("\n")


def test_empty_value_is_null_and_update_keeps_create_index(kv):
    assert kv.put("/v1/kv/empty").json() is True
    e = kv.get("/v1/kv/empty").json()[0]
    assert e["Value"] is None
    assert kv.put("/v1/kv/empty", data=b"v2").json() is True
    e2 = kv.get("/v1/kv/empty").json()[0]
    assert e2["CreateIndex"] == e["CreateIndex"]
    assert e2["ModifyIndex"] > e["ModifyIndex"]


def test_flags_full_uint64(kv):
    for flags in (1, LOCK_FLAG, U64_MAX):
        assert kv.put(f"/v1/kv/f?flags={flags}", data=b"x").json() is True
        r = kv.get("/v1/kv/f")
        # parse exactly: no float rounding of large integers
        assert json.loads(r.text)[0]["Flags"] == flags
    # a set without flags resets them to 0
    kv.put("/v1/kv/f", data=b"y")
    assert kv.get("/v1/kv/f").json()[0]["Flags"] == 0


def test_bad_flags_and_cas(kv):
    for q in ("flags=-1", f"flags={2**64}", "flags=x", "cas=x", "cas=-1"):
        r = kv.put(f"/v1/kv/bad?{q}", data=b"x")
        assert r.status_code == 400, q
    assert kv.get("/v1/kv/bad").status_code == 404


def test_missing_key_404_with_index_headers(kv):
    kv.put("/v1/kv/somewhere", data=b"1")
    r = kv.get("/v1/kv/does/not/exist")
    assert r.status_code == 404
    assert r.text == ""
    assert idx(r) >= 1
    assert r.headers["X-Consul-KnownLeader"] == "true"
    assert "X-Consul-LastContact" in r.headers


def test_index_never_zero_on_empty_store(node_factory):
    n = node_factory(name="fresh").start_agent()
    r = n.get("/v1/kv/nothing")
    assert r.status_code == 404
    assert idx(r) >= 1
    r = n.get("/v1/kv/?keys")
    assert r.status_code == 200 and r.json() == []
    assert idx(r) >= 1


def test_cas(kv):
    assert kv.put("/v1/kv/c?cas=0", data=b"a").json() is True
    assert kv.put("/v1/kv/c?cas=0", data=b"b").json() is False
    e = kv.get("/v1/kv/c").json()[0]
    assert base64.b64decode(e["Value"]) == b"a"
    assert kv.put(f"/v1/kv/c?cas={e['ModifyIndex'] + 1000}", data=b"c").json() is False
    assert kv.put(f"/v1/kv/c?cas={e['ModifyIndex']}", data=b"d").json() is True
    assert base64.b64decode(kv.get("/v1/kv/c").json()[0]["Value"]) == b"d"


def test_recurse_keys_separator(kv):
    for k in ("web/foo", "web/bar", "web/subdir/a", "web/subdir/b", "webby", "other"):
        assert kv.put(f"/v1/kv/{k}", data=k.encode()).json() is True
    r = kv.get("/v1/kv/web?recurse")
    assert [e["Key"] for e in r.json()] == sorted(
        ["web/bar", "web/foo", "web/subdir/a", "web/subdir/b", "webby"])
    # presence-based flag: recurse=false still recurses
    assert len(kv.get("/v1/kv/web/?recurse=false").json()) == 4
    assert kv.get("/v1/kv/web/?keys").json() == [
        "web/bar", "web/foo", "web/subdir/a", "web/subdir/b"]
    assert kv.get("/v1/kv/web/?keys&separator=/").json() == [
        "web/bar", "web/foo", "web/subdir/"]
    assert kv.get("/v1/kv/web/?keys&seperator=/").json() == [
        "web/bar", "web/foo", "web/subdir/"]
    assert kv.get("/v1/kv/?keys&separator=/").json() == ["other", "web/", "webby"]
    # no match: recurse 404, keys with a non-empty prefix 404
    assert kv.get("/v1/kv/nope?recurse").status_code == 404
    assert kv.get("/v1/kv/nope?keys").status_code == 404
    # the recurse index is the max ModifyIndex under the prefix
    r = kv.get("/v1/kv/web/?recurse")
    assert idx(r) == max(e["ModifyIndex"] for e in r.json())


def test_keys_empty_prefix_empty_store_is_empty_list(kv):
    r = kv.get("/v1/kv/?keys")
    assert r.status_code == 200
    assert r.json() == []


def test_delete(kv):
    kv.put("/v1/kv/d/1", data=b"1")
    kv.put("/v1/kv/d/2", data=b"2")
    kv.put("/v1/kv/d/3", data=b"3")
    assert kv.delete("/v1/kv/d/1").json() is True
    assert kv.get("/v1/kv/d/1").status_code == 404
    assert kv.delete("/v1/kv/d/never").json() is True
    e = kv.get("/v1/kv/d/2").json()[0]
    assert kv.delete("/v1/kv/d/2?cas=0").json() is False
    assert kv.delete(f"/v1/kv/d/2?cas={e['ModifyIndex'] + 1}").json() is False
    assert kv.delete(f"/v1/kv/d/2?cas={e['ModifyIndex']}").json() is True
    assert kv.get("/v1/kv/d/2").status_code == 404
    r = kv.delete("/v1/kv/d/?recurse&cas=1")
    assert r.status_code == 400
    assert kv.delete("/v1/kv/d/?recurse").json() is True
    assert kv.get("/v1/kv/d/?recurse").status_code == 404


def test_delete_moves_prefix_index(kv):
    kv.put("/v1/kv/t/a", data=b"1")
    kv.put("/v1/kv/t/b", data=b"2")
    before = idx(kv.get("/v1/kv/t/?recurse"))
    kv.delete("/v1/kv/t/b")
    after = idx(kv.get("/v1/kv/t/?recurse"))
    assert after > before


def test_delete_everything(kv):
    kv.put("/v1/kv/x", data=b"1")
    kv.put("/v1/kv/y/z", data=b"1")
    assert kv.delete("/v1/kv/?recurse").json() is True
    assert kv.get("/v1/kv/?keys").json() == []


def test_raw(kv):
    blob = bytes(range(256))
    kv.put("/v1/kv/blob", data=blob)
    r = kv.get("/v1/kv/blob?raw")
    assert r.status_code == 200
    assert r.content == blob
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    assert idx(r) >= 1


def test_value_size_limit(kv):
    limit = 512 * 1024
    assert kv.put("/v1/kv/big", data=b"a" * limit).json() is True
    assert len(kv.get("/v1/kv/big?raw").content) == limit
    r = kv.put("/v1/kv/big", data=b"b" * (limit + 1))
    assert r.status_code == 413
    assert "too large" in r.text
    # nothing was written
    assert kv.get("/v1/kv/big?raw").content == b"a" * limit


def test_missing_key_name(kv):
    r = kv.get("/v1/kv/")
    assert r.status_code == 400
    assert r.text.strip() == "Missing key name"
    r = kv.put("/v1/kv/", data=b"x")
    assert r.status_code == 400


def test_key_characters(kv):
    # commas, colons, spaces, encoded slashes and UTF-8 are ordinary keys
    for key, path in (("config/app,dev/data", "config/app,dev/data"),
                      ("host:ctr:80", "host:ctr:80"),
                      ("a b", "a%20b"),
                      ("enc/slash", "enc%2Fslash"),
                      ("ключ", "%D0%BA%D0%BB%D1%8E%D1%87")):
        assert kv.put(f"/v1/kv/{path}", data=b"v").json() is True, key
        r = kv.get(f"/v1/kv/{path}")
        assert r.status_code == 200, key
        assert r.json()[0]["Key"] == key
    # rejected: NUL, control characters, a leading slash, "//"
    for path in ("a%00b", "a%01b", "a%7Fb", "/lead", "a//b", "a%2F%2Fb"):
        status, _, _ = raw(kv, "PUT", f"/v1/kv/{path}", b"v")
        assert status == 400, path
    assert kv.get("/v1/kv/a?keys").status_code in (200, 404)
    assert all("\x00" not in k and "//" not in k
               for k in kv.get("/v1/kv/?keys").json())


def test_dot_dot_is_a_literal_key(kv):
    # KV keys are opaque strings, never paths
    # http.client sends the path verbatim (requests would remove dot segments)
    status, _, _ = raw(kv, "PUT", "/v1/kv/public/../secret", b"v")
    assert status == 200
    keys = kv.get("/v1/kv/?keys").json()
    assert "public/../secret" in keys
    assert kv.get("/v1/kv/secret").status_code == 404


def test_methods_and_routes(kv):
    r = kv.request("OPTIONS", "/v1/kv/x")
    assert r.status_code == 200
    allow = r.headers["Allow"]
    assert set(allow.split(",")) == {"OPTIONS", "GET", "PUT", "DELETE"}
    r = kv.request("POST", "/v1/kv/x", data=b"1")
    assert r.status_code == 405
    assert r.text.strip() == "method POST not allowed"
    assert "GET" in r.headers["Allow"]
    r = kv.request("PUT", "/v1/status/leader")
    assert r.status_code == 405
    r = kv.get("/v1/no/such/route")
    assert r.status_code == 404
    assert r.text.strip() == "404 page not found"


def test_query_parameter_errors(kv):
    r = kv.get("/v1/kv/a?index=abc")
    assert r.status_code == 400 and r.text.strip() == "Invalid index"
    r = kv.get("/v1/kv/a?index=1&wait=abc")
    assert r.status_code == 400 and r.text.strip() == "Invalid wait time"
    r = kv.get("/v1/kv/a?stale&consistent")
    assert r.status_code == 400
    assert r.text.strip() == "Cannot specify ?stale with ?consistent, conflicting semantics."
    r = kv.put("/v1/kv/a?cas=1&acquire=abc", data=b"x")
    assert r.status_code == 400
    assert r.text.startswith("Conflicting flags")


def test_consistency_modes_headers(kv):
    kv.put("/v1/kv/m", data=b"1")
    for q, eff in (("", "leader"), ("?stale", "stale"), ("?consistent", "consistent")):
        r = kv.get(f"/v1/kv/m{q}")
        assert r.status_code == 200
        assert r.headers.get("X-Consul-Effective-Consistency") == eff


def test_acquire_with_unknown_session_is_500(kv):
    r = kv.put("/v1/kv/lock?acquire=6b3b9b9c-0000-0000-0000-000000000000", data=b"x")
    assert r.status_code == 500
    assert r.text.startswith("invalid session")


def test_blocking_get_times_out_without_write(kv):
    kv.put("/v1/kv/blk", data=b"1")
    i = idx(kv.get("/v1/kv/blk"))
    t0 = time.monotonic()
    r = kv.get(f"/v1/kv/blk?index={i}&wait=1s")
    dt = time.monotonic() - t0
    assert r.status_code == 200
    assert idx(r) == i
    assert 0.9 <= dt <= 1.0 + 1.0 / 16 + 0.5, dt


def test_blocking_get_wakes_on_write(kv):
    kv.put("/v1/kv/blk2", data=b"1")
    i = idx(kv.get("/v1/kv/blk2"))
    result = {}

    def watch():
        t0 = time.monotonic()
        r = requests.get(kv.url(f"/v1/kv/blk2?index={i}&wait=30s"), timeout=40)
        result["dt"] = time.monotonic() - t0
        result["r"] = r

    th = threading.Thread(target=watch)
    th.start()
    time.sleep(0.3)
    kv.put("/v1/kv/unrelated-key", data=b"x")  # must not wake a present key
    time.sleep(0.3)
    assert th.is_alive()
    kv.put("/v1/kv/blk2", data=b"2")
    th.join(10)
    assert not th.is_alive()
    r = result["r"]
    assert r.status_code == 200
    assert idx(r) > i
    assert base64.b64decode(r.json()[0]["Value"]) == b"2"
    assert result["dt"] < 5


def test_blocking_prefix_wakes_on_delete(kv):
    kv.put("/v1/kv/bp/a", data=b"1")
    kv.put("/v1/kv/bp/b", data=b"1")
    i = idx(kv.get("/v1/kv/bp/?recurse"))
    out = {}
    th = threading.Thread(target=lambda: out.setdefault(
        "r", requests.get(kv.url(f"/v1/kv/bp/?recurse&index={i}&wait=30s"), timeout=40)))
    th.start()
    time.sleep(0.3)
    kv.delete("/v1/kv/bp/b")
    th.join(10)
    assert not th.is_alive()
    assert idx(out["r"]) > i
    assert [e["Key"] for e in out["r"].json()] == ["bp/a"]


def test_blocking_missing_key_wakes_on_creation(kv):
    r = kv.get("/v1/kv/later")
    assert r.status_code == 404
    i = idx(r)
    out = {}
    th = threading.Thread(target=lambda: out.setdefault(
        "r", requests.get(kv.url(f"/v1/kv/later?index={i}&wait=30s"), timeout=40)))
    th.start()
    time.sleep(0.3)
    kv.put("/v1/kv/later", data=b"now")
    th.join(10)
    assert not th.is_alive()
    assert out["r"].status_code == 200
    assert idx(out["r"]) > i


def test_fractional_wait_accepted(kv):
    kv.put("/v1/kv/fw", data=b"1")
    i = idx(kv.get("/v1/kv/fw"))
    r = kv.get(f"/v1/kv/fw?index={i}&wait=0.3s")
    assert r.status_code == 200
    r = kv.get(f"/v1/kv/fw?index={i + 10**6}&wait=9.98ms")
    assert r.status_code == 200


def test_status_and_agent_self(kv):
    r = kv.get("/v1/status/leader")
    assert r.status_code == 200
    leader = r.json()
    assert isinstance(leader, str) and leader.endswith(":" + str(kv.ports["server"]))
    peers = kv.get("/v1/status/peers").json()
    assert peers == [leader]
    s = kv.get("/v1/agent/self").json()
    assert s["Config"]["NodeName"] == kv.name
    assert s["Config"]["Datacenter"] == "dc1"
    assert s["Config"]["Server"] is True
    assert s["Member"]["Name"] == kv.name
    for section in ("agent", "build", "consul", "raft", "runtime"):
        assert section in s["Stats"], section
        for k, v in s["Stats"][section].items():
            assert isinstance(v, str), (section, k, v)
    assert s["Stats"]["raft"]["state"] == "Leader"
    # the node id is a UUID persisted in <data_dir>/node-id
    node_id = s["Config"]["NodeID"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", node_id)
    with open(os.path.join(kv.data_dir, "node-id")) as f:
        assert f.read().strip() == node_id
    assert s["Member"]["Tags"]["id"] == node_id
    v = kv.get("/v1/agent/version").json()
    assert "HumanVersion" in v


def test_concurrent_writers_all_acknowledged_present(kv):
    errors = []

    def writer(w):
        s = requests.Session()
        for i in range(50):
            r = s.put(kv.url(f"/v1/kv/cw/{w}/{i}"), data=f"{w}-{i}".encode(), timeout=10)
            if r.status_code != 200 or r.json() is not True:
                errors.append((w, i, r.status_code))

    ths = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert not errors
    keys = kv.get("/v1/kv/cw/?keys").json()
    assert len(keys) == 8 * 50
