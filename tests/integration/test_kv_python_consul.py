"""
The KV API through python-consul (Debian's python3-consul), as user code
calls it: get/put/delete, recurse, keys, cas, flags, blocking get by index.
"""
import threading
import time

import consul
import pytest


@pytest.fixture
def c(kv):
    return consul.Consul(host="127.0.0.1", port=kv.ports["http"])


def test_put_get_delete(c):
    assert c.kv.put("app/name", "cairn") is True
    index, data = c.kv.get("app/name")
    assert data["Value"] == b"cairn"
    assert int(index) == data["ModifyIndex"]
    assert c.kv.delete("app/name") is True
    index2, data = c.kv.get("app/name")
    assert data is None
    assert int(index2) >= int(index)


def test_missing_key_reads_index_header(c):
    # python-consul reads X-Consul-Index unconditionally, also on 404
    index, data = c.kv.get("no/such/key")
    assert data is None
    assert int(index) >= 1


def test_recurse_keys_separator(c):
    for k in ("svc/a", "svc/b", "svc/dir/c"):
        c.kv.put(k, k)
    index, items = c.kv.get("svc/", recurse=True)
    assert [i["Key"] for i in items] == ["svc/a", "svc/b", "svc/dir/c"]
    assert [i["Value"] for i in items] == [b"svc/a", b"svc/b", b"svc/dir/c"]
    index, keys = c.kv.get("svc/", keys=True)
    assert keys == ["svc/a", "svc/b", "svc/dir/c"]
    index, keys = c.kv.get("svc/", keys=True, separator="/")
    assert keys == ["svc/a", "svc/b", "svc/dir/"]
    assert c.kv.delete("svc/", recurse=True) is True
    index, items = c.kv.get("svc/", recurse=True)
    assert items is None


def test_cas_and_flags(c):
    assert c.kv.put("cas/k", "1", cas=0) is True
    assert c.kv.put("cas/k", "2", cas=0) is False
    index, data = c.kv.get("cas/k")
    assert c.kv.put("cas/k", "3", cas=data["ModifyIndex"]) is True
    assert c.kv.put("cas/k", "4", flags=0x2DDCCBC058A50C18) is True
    index, data = c.kv.get("cas/k")
    assert data["Flags"] == 0x2DDCCBC058A50C18
    assert c.kv.delete("cas/k", cas=data["ModifyIndex"]) is True


def test_consistency_modes(c, kv):
    c.kv.put("mode", "x")
    for mode in ("default", "consistent", "stale"):
        cc = consul.Consul(host="127.0.0.1", port=kv.ports["http"], consistency=mode)
        index, data = cc.kv.get("mode")
        assert data["Value"] == b"x"


def test_blocking_get_with_index(c):
    c.kv.put("watch/me", "v1")
    index, data = c.kv.get("watch/me")
    got = {}

    def watcher():
        t0 = time.monotonic()
        got["result"] = c.kv.get("watch/me", index=index, wait="20s")
        got["dt"] = time.monotonic() - t0

    th = threading.Thread(target=watcher)
    th.start()
    time.sleep(0.3)
    assert th.is_alive()
    c.kv.put("watch/me", "v2")
    th.join(10)
    assert not th.is_alive()
    new_index, data = got["result"]
    assert int(new_index) > int(index)
    assert data["Value"] == b"v2"
    assert got["dt"] < 5


def test_status(c, kv):
    assert c.status.leader().endswith(":%d" % kv.ports["server"])
    assert c.status.peers() == [c.status.leader()]
    assert c.agent.self()["Config"]["NodeName"] == kv.name
