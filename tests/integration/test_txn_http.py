"""
/v1/txn over raw HTTP (Debian's python-consul has no txn API) (spec/consul-api.md §2.6): KV
verbs, atomic rollback with 409, read-only transactions, the limits.
"""
import base64
import json



def b64(s):
    return base64.b64encode(s.encode()).decode()


def txn(agent, ops, **kw):
    return agent.put("/v1/txn", data=json.dumps(ops), **kw)


def test_txn_success_and_results(kv):
    a = kv
    r = txn(a, [
        {"KV": {"Verb": "set", "Key": "t/a", "Value": b64("1"), "Flags": 7}},
        {"KV": {"Verb": "set", "Key": "t/b", "Value": b64("2")}},
        {"KV": {"Verb": "get", "Key": "t/a"}},
        {"KV": {"Verb": "cas", "Key": "t/c", "Value": b64("3"), "Index": 0}},
        {"KV": {"Verb": "check-not-exists", "Key": "t/zz"}},
        {"KV": {"Verb": "get-tree", "Key": "t/"}},
    ])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["Errors"] is None
    res = [x["KV"] for x in body["Results"]]
    # set, set, get, cas, get-tree(3): check-not-exists gives none
    assert len(res) == 3 + 1 + 3
    assert res[0]["Key"] == "t/a" and res[0]["Value"] is None
    assert res[0]["Flags"] == 7
    assert res[2]["Value"] == b64("1")
    idx = res[0]["ModifyIndex"]
    # one log entry: every write has the same index
    assert all(x["ModifyIndex"] == idx for x in res)
    assert [x["Key"] for x in res[4:]] == ["t/a", "t/b", "t/c"]
    assert [x["Value"] for x in res[4:]] == [b64("1"), b64("2"), b64("3")]
    kvp = a.get("/v1/kv/t/a").json()[0]
    assert kvp["Value"] == b64("1") and kvp["ModifyIndex"] == idx


def test_txn_rollback_409(kv):
    a = kv
    a.put("/v1/kv/r/x", data=b"old")
    before = a.get("/v1/kv/r/x").json()[0]
    r = txn(a, [
        {"KV": {"Verb": "set", "Key": "r/x", "Value": b64("new")}},
        {"KV": {"Verb": "set", "Key": "r/y", "Value": b64("y")}},
        {"KV": {"Verb": "delete", "Key": "r/x"}},
        {"KV": {"Verb": "get", "Key": "r/missing"}},
    ])
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["Results"] is None
    assert body["Errors"] == [{"OpIndex": 3,
                               "What": 'key "r/missing" doesn\'t exist'}]
    # nothing applied
    assert a.get("/v1/kv/r/x").json()[0] == before
    assert a.get("/v1/kv/r/y").status_code == 404
    # cas with a stale index
    r = txn(a, [{"KV": {"Verb": "cas", "Key": "r/x", "Value": b64("z"),
                        "Index": before["ModifyIndex"] + 1000}}])
    assert r.status_code == 409
    assert "index is stale" in r.json()["Errors"][0]["What"]
    # check-index and delete-cas in one transaction
    r = txn(a, [
        {"KV": {"Verb": "check-index", "Key": "r/x",
                "Index": before["ModifyIndex"]}},
        {"KV": {"Verb": "delete-cas", "Key": "r/x",
                "Index": before["ModifyIndex"]}},
    ])
    assert r.status_code == 200, r.text
    assert len(r.json()["Results"]) == 1
    assert a.get("/v1/kv/r/x").status_code == 404


def test_txn_locks_and_sessions(kv):
    a = kv
    sid = a.put("/v1/session/create", data='{"Checks":[]}').json()["ID"]
    r = txn(a, [
        {"KV": {"Verb": "lock", "Key": "l/k", "Value": b64("me"),
                "Session": sid}},
        {"KV": {"Verb": "check-session", "Key": "l/k", "Session": sid}},
    ])
    assert r.status_code == 200, r.text
    res = r.json()["Results"]
    assert res[0]["KV"]["LockIndex"] == 1 and res[0]["KV"]["Session"] == sid
    r = txn(a, [{"KV": {"Verb": "lock", "Key": "l/k2",
                        "Session": "00000000-0000-0000-0000-000000000000"}}])
    assert r.status_code == 409
    assert r.json()["Errors"][0]["What"].startswith("invalid session")
    r = txn(a, [{"KV": {"Verb": "unlock", "Key": "l/k", "Session": sid}}])
    assert r.status_code == 200
    assert "Session" not in a.get("/v1/kv/l/k").json()[0]
    a.put(f"/v1/session/destroy/{sid}")


def test_txn_read_only_and_limits(kv):
    a = kv
    a.put("/v1/kv/ro/a", data=b"A")
    r = txn(a, [{"KV": {"Verb": "get", "Key": "ro/a"}},
                {"KV": {"Verb": "get-or-empty", "Key": "ro/none"}}])
    assert r.status_code == 200, r.text
    assert "X-Consul-Index" in r.headers
    assert r.headers.get("X-Consul-KnownLeader") == "true"
    res = r.json()["Results"]
    assert res[0]["KV"]["Value"] == b64("A")
    assert res[1]["KV"]["Key"] == "ro/none"
    # 129 ops: 413
    ops = [{"KV": {"Verb": "set", "Key": f"lim/{i}", "Value": b64("x")}}
           for i in range(129)]
    r = txn(a, ops)
    assert r.status_code == 413
    assert r.text == "Transaction contains too many operations (129 > 128)"
    assert a.get("/v1/kv/lim/0").status_code == 404
    # 128 ops are fine, in one index
    r = txn(a, ops[:128])
    assert r.status_code == 200, r.text
    assert len({x["KV"]["ModifyIndex"] for x in r.json()["Results"]}) == 1
    # a body over txn_max_req_len (512 KiB)
    big = [{"KV": {"Verb": "set", "Key": "big",
                   "Value": b64("x" * (600 * 1024))}}]
    r = txn(a, big)
    assert r.status_code == 413
    # malformed bodies
    r = a.put("/v1/txn", data="{not json")
    assert r.status_code == 400 and r.text.startswith("Failed to parse body")
    r = txn(a, [{"KV": {"Verb": "set", "Key": "k", "Value": "!!!"}}])
    assert r.status_code == 400
    r = txn(a, [{"KV": {"Verb": "frobnicate", "Key": "k"}}])
    assert r.status_code == 409 and r.json()["Errors"][0]["OpIndex"] == 0

