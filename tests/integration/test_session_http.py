"""
Sessions and KV locks over raw HTTP (spec/consul-api.md §2.4, §2.5, §16
items 4-6) and Appendix B scenario 5 in full.
"""
import time

import pytest


def create(agent, body=None):
    r = agent.put("/v1/session/create", data=body)
    assert r.status_code == 200, r.text
    sid = r.json()["ID"]
    assert len(sid) == 36
    return sid


def acquire(agent, key, sid, data=b"v"):
    r = agent.put(f"/v1/kv/{key}?acquire={sid}", data=data)
    assert r.status_code == 200, r.text
    return r.json()


def test_scenario5(kv):
    a = kv
    s1 = create(a, '{"ttl":"10s","lockdelay":"1s","behavior":"delete","checks":[]}')
    s2 = create(a, '{"ttl":"10s","lockdelay":"1s","behavior":"delete","checks":[]}')
    info = a.get(f"/v1/session/info/{s1}").json()
    assert len(info) == 1
    e = info[0]
    assert e["ID"] == s1 and e["TTL"] == "10s" and e["Behavior"] == "delete"
    assert e["LockDelay"] == 1000000000
    assert e["NodeChecks"] is None and e["ServiceChecks"] is None
    assert e["Node"] == a.name

    assert acquire(a, "s5/leader", s1) is True
    kvp = a.get("/v1/kv/s5/leader").json()[0]
    assert kvp["Session"] == s1 and kvp["LockIndex"] == 1
    assert acquire(a, "s5/leader", s2) is False
    # destroy the holder: behavior delete removes the key
    r = a.put(f"/v1/session/destroy/{s1}")
    assert r.status_code == 200 and r.json() is True
    assert a.get("/v1/kv/s5/leader").status_code == 404
    # lock-delay: about 1 s of false, then true
    t0 = time.monotonic()
    assert acquire(a, "s5/leader", s2) is False
    while not acquire(a, "s5/leader", s2):
        assert time.monotonic() - t0 < 3, "lock-delay did not end"
        time.sleep(0.05)
    waited = time.monotonic() - t0
    assert 0.5 < waited < 2.5, waited
    # destroy is idempotent
    assert a.put(f"/v1/session/destroy/{s1}").json() is True
    assert a.get(f"/v1/session/info/{s1}").json() == []

    # renew of an unknown session
    r = a.put(f"/v1/session/renew/{s1}")
    assert r.status_code == 404
    assert r.text == f"Session id '{s1}' not found"
    # TTL out of range
    r = a.put("/v1/session/create", data='{"ttl":"5s"}')
    assert r.status_code == 500
    assert r.text.startswith("Invalid Session TTL")
    assert r.text == "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
    # bogus session
    r = a.put("/v1/kv/s5/other?acquire=00000000-0000-0000-0000-000000000000",
              data=b"x")
    assert r.status_code == 500
    assert r.text.startswith("invalid session")
    a.put(f"/v1/session/destroy/{s2}")


def test_ttl_expiry_between_1x_and_2x(kv):
    a = kv
    sid = create(a, '{"TTL":"10s","Checks":[],"LockDelay":"0s"}')
    t0 = time.monotonic()
    assert acquire(a, "ttl/k", sid) is True
    # renew returns the entry
    r = a.put(f"/v1/session/renew/{sid}")
    assert r.status_code == 200 and r.json()[0]["ID"] == sid
    t0 = time.monotonic()
    while a.get(f"/v1/session/info/{sid}").json():
        assert time.monotonic() - t0 < 25, "session never expired"
        time.sleep(0.25)
    took = time.monotonic() - t0
    assert 10 <= took <= 21, took
    # released (behavior release): key kept, Session gone, LockIndex kept
    kvp = a.get("/v1/kv/ttl/k").json()[0]
    assert "Session" not in kvp and kvp["LockIndex"] == 1


def test_defaults_and_errors(kv):
    a = kv
    sid = create(a)  # no body: serfHealth, 15s lock delay, release
    e = a.get(f"/v1/session/info/{sid}").json()[0]
    assert e["NodeChecks"] == ["serfHealth"]
    assert "Checks" not in e
    assert e["LockDelay"] == 15 * 10**9 and e["Behavior"] == "release"
    assert e["TTL"] == ""
    assert sid in [s["ID"] for s in a.get("/v1/session/list").json()]
    assert sid in [s["ID"] for s in a.get(f"/v1/session/node/{a.name}").json()]
    assert a.get("/v1/session/node/nosuchnode").json() == []
    # LockDelay as a number below 1000 means seconds; capped at 60 s
    s2 = create(a, '{"LockDelay": 5, "Checks": []}')
    assert a.get(f"/v1/session/info/{s2}").json()[0]["LockDelay"] == 5 * 10**9
    s3 = create(a, '{"LockDelay": "90s", "Checks": []}')
    assert a.get(f"/v1/session/info/{s3}").json()[0]["LockDelay"] == 60 * 10**9
    r = a.put("/v1/session/create", data='{"Behavior":"explode"}')
    assert r.status_code == 500 and r.text == "Invalid Behavior setting"
    r = a.put("/v1/session/create", data='{"Node":"ghost"}')
    assert r.status_code == 500 and r.text == "Missing node registration"
    r = a.put("/v1/session/create", data='{"Checks":["nope"]}')
    assert r.status_code == 500 and "nope" in r.text
    r = a.put("/v1/session/create", data='{"TTL":"25h"}')
    assert r.status_code == 500 and r.text.startswith("Invalid Session TTL")
    r = a.put("/v1/session/create", data='{bad')
    assert r.status_code == 400 and r.text.startswith("Request decode failed")
    for s in (sid, s2, s3):
        a.put(f"/v1/session/destroy/{s}")


def test_lock_rules(kv):
    a = kv
    s1 = create(a, '{"Checks":[],"LockDelay":"50ms"}')
    s2 = create(a, '{"Checks":[],"LockDelay":"50ms"}')
    assert acquire(a, "lk/a", s1, b"one") is True
    assert acquire(a, "lk/a", s1, b"again") is True  # re-acquire
    kvp = a.get("/v1/kv/lk/a").json()[0]
    assert kvp["LockIndex"] == 1 and kvp["Session"] == s1
    # advisory: a plain PUT succeeds and keeps the holder
    assert a.put("/v1/kv/lk/a", data=b"plain").json() is True
    kvp = a.get("/v1/kv/lk/a").json()[0]
    assert kvp["Session"] == s1
    # release by a non-holder is false
    assert a.put(f"/v1/kv/lk/a?release={s2}", data=b"x").json() is False
    r = a.put(f"/v1/kv/lk/a?release={s1}", data=b"rel")
    assert r.json() is True
    kvp = a.get("/v1/kv/lk/a").json()[0]
    assert "Session" not in kvp and kvp["LockIndex"] == 1
    # release starts no lock-delay: s2 acquires at once, LockIndex 2
    assert acquire(a, "lk/a", s2, b"two") is True
    kvp = a.get("/v1/kv/lk/a").json()[0]
    assert kvp["LockIndex"] == 2 and kvp["Session"] == s2
    # destroy s2 (release behavior): key kept, session cleared
    before = kvp["ModifyIndex"]
    a.put(f"/v1/session/destroy/{s2}")
    kvp = a.get("/v1/kv/lk/a").json()[0]
    assert "Session" not in kvp and kvp["LockIndex"] == 2
    assert kvp["ModifyIndex"] > before
    a.put(f"/v1/session/destroy/{s1}")


def test_blocking_list(kv):
    a = kv
    r = a.get("/v1/session/list")
    idx = int(r.headers["X-Consul-Index"])
    t0 = time.monotonic()
    r = a.get(f"/v1/session/list?index={idx}&wait=300ms")
    assert time.monotonic() - t0 >= 0.25
    import threading
    out = {}

    def block():
        out["r"] = a.get(f"/v1/session/list?index={idx}&wait=10s")
    t = threading.Thread(target=block)
    t.start()
    time.sleep(0.3)
    sid = create(a, '{"Checks":[]}')
    t.join(10)
    assert int(out["r"].headers["X-Consul-Index"]) > idx
    assert sid in [s["ID"] for s in out["r"].json()]
    a.put(f"/v1/session/destroy/{sid}")


def test_invalidated_by_check_and_node(kv):
    a = kv
    # an agent TTL check, passing: a session bound to it
    r = a.put("/v1/agent/check/register",
              data='{"Name":"sess-ttl","CheckID":"sess-ttl","TTL":"60s"}')
    assert r.status_code == 200, r.text
    assert a.put("/v1/agent/check/pass/sess-ttl").status_code == 200

    def catalog_status():
        for c in a.get(f"/v1/health/node/{a.name}").json():
            if c["CheckID"] == "sess-ttl":
                return c["Status"]
        return None
    t0 = time.monotonic()
    while catalog_status() != "passing":
        assert time.monotonic() - t0 < 10
        time.sleep(0.1)
    sid = create(a, '{"Checks":["serfHealth","sess-ttl"],"LockDelay":"0s"}')
    e = a.get(f"/v1/session/info/{sid}").json()[0]
    assert e["NodeChecks"] == ["serfHealth", "sess-ttl"]
    assert e["Checks"] == ["serfHealth", "sess-ttl"]
    assert acquire(a, "inv/k", sid) is True
    # the check goes critical: the leader destroys the session
    assert a.put("/v1/agent/check/fail/sess-ttl").status_code == 200
    t0 = time.monotonic()
    while a.get(f"/v1/session/info/{sid}").json():
        assert time.monotonic() - t0 < 10, "session survived a critical check"
        time.sleep(0.1)
    assert "Session" not in a.get("/v1/kv/inv/k").json()[0]
    # creating against a critical check fails
    r = a.put("/v1/session/create", data='{"Checks":["sess-ttl"]}')
    assert r.status_code == 500
    assert r.text == "Check 'sess-ttl' is in critical state"
    a.put("/v1/agent/check/deregister/sess-ttl")

    # a node deregistered from the catalog takes its sessions along
    r = a.put("/v1/catalog/register",
              data='{"Node":"ext1","Address":"10.0.0.9"}')
    assert r.status_code == 200, r.text
    sid = create(a, '{"Node":"ext1","Checks":[]}')
    assert [s["ID"] for s in a.get("/v1/session/node/ext1").json()] == [sid]
    r = a.put("/v1/catalog/deregister", data='{"Node":"ext1"}')
    assert r.status_code == 200
    t0 = time.monotonic()
    while a.get(f"/v1/session/info/{sid}").json():
        assert time.monotonic() - t0 < 10, "session survived its node"
        time.sleep(0.1)


def test_patroni_body(kv):
    # Patroni's create body: lowercase keys, fractional durations
    a = kv
    body = ('{"name":"pg-node1","checks":[],"lockdelay":"0.001s",'
            '"behavior":"delete","ttl":"15.0s"}')
    sid = create(a, body)
    e = a.get(f"/v1/session/info/{sid}").json()[0]
    assert e["Name"] == "pg-node1" and e["TTL"] == "15.0s"
    assert e["LockDelay"] == 1000000 and e["Behavior"] == "delete"
    assert e["NodeChecks"] is None
    # Patroni reads SessionTTLMin from agent/self after a TTL error
    r = a.put("/v1/session/create", data='{"ttl":"4.5s"}')
    assert r.status_code == 500
    assert r.text == ("Invalid Session TTL '4500000000', must be between "
                      "[10s=24h0m0s]")
    a.put(f"/v1/session/destroy/{sid}")
