"""
Sessions and locks through python-consul (Debian's python3-consul), as
user code calls them: session.create/info/list/node/renew/destroy and
kv.put(acquire=, release=).
"""
import time

import consul
import pytest


@pytest.fixture
def c(kv):
    return consul.Consul(host="127.0.0.1", port=kv.ports["http"])


def test_session_lifecycle(c, kv):
    sid = c.session.create(name="py", behavior="delete", ttl=10,
                           lock_delay=0, checks=[])
    index, s = c.session.info(sid)
    assert s["ID"] == sid and s["Name"] == "py" and s["TTL"] == "10s"
    assert s["Behavior"] == "delete" and s["LockDelay"] == 0
    index, ss = c.session.list()
    assert sid in [x["ID"] for x in ss]
    index, ss = c.session.node(kv.name)
    assert sid in [x["ID"] for x in ss]
    assert c.session.renew(sid)["ID"] == sid

    assert c.kv.put("py/lock", "held", acquire=sid) is True
    _, d = c.kv.get("py/lock")
    assert d["Session"] == sid and d["LockIndex"] == 1
    assert c.session.destroy(sid) is True
    # behavior delete, lock delay 0: the key is gone
    _, d = c.kv.get("py/lock")
    assert d is None
    with pytest.raises(consul.NotFound):
        c.session.renew(sid)
    index, s = c.session.info(sid)
    assert s is None


def test_default_session_and_release(c, kv):
    sid = c.session.create()  # no body: serfHealth, release
    _, s = c.session.info(sid)
    assert s["NodeChecks"] == ["serfHealth"] and s["Behavior"] == "release"
    assert c.kv.put("py/r", "v1", acquire=sid) is True
    assert c.kv.put("py/r", "v2", release=sid) is True
    _, d = c.kv.get("py/r")
    assert d["Value"] == b"v2" and "Session" not in d
    with pytest.raises(consul.ConsulException):
        c.kv.put("py/r", "x", acquire="not-a-session")
    c.session.destroy(sid)


def test_blocking_info(c, kv):
    sid = c.session.create(checks=[])
    index, _ = c.session.info(sid)
    t0 = time.monotonic()
    index2, s = c.session.info(sid, index=index, wait="300ms")
    assert time.monotonic() - t0 >= 0.25 and s["ID"] == sid
    c.session.destroy(sid)
