"""
/v1/txn over raw HTTP (Debian's python-consul has no txn API) (spec/consul-api.md §2.6): KV
verbs, atomic rollback with 409, read-only transactions, the limits; Node,
Service and Check verbs mixed with KV ones.
"""
import base64
import json

from conftest import wait_until



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
    assert r.status_code == 409 and r.json()["Errors"] == [
        {"OpIndex": 0, "What": 'unknown KV verb "frobnicate"'}]



def test_txn_catalog_verbs_with_kv(kv):
    """Node, Service and Check verbs with a KV op: one index, Consul's
    result shapes, the catalog reads and a blocked watcher see it."""
    import threading
    a = kv
    idx = int(a.get("/v1/catalog/services").headers["X-Consul-Index"])
    woke = {}

    def watch():
        r = a.get(f"/v1/catalog/services?index={idx}&wait=20s")
        woke["index"] = int(r.headers["X-Consul-Index"])
        woke["body"] = r.json()

    th = threading.Thread(target=watch)
    th.start()
    r = txn(a, [
        {"Node": {"Verb": "set", "Node": {"Node": "tn1",
                                           "Address": "10.1.2.3",
                                           "Meta": {"rack": "r1"}}}},
        {"Service": {"Verb": "set", "Node": "tn1",
                     "Service": {"ID": "tweb1", "Service": "tweb",
                                 "Tags": ["v1"], "Port": 8080}}},
        {"Check": {"Verb": "set", "Check": {"Node": "tn1", "CheckID": "tc1",
                                            "Name": "tc1",
                                            "Status": "passing",
                                            "ServiceID": "tweb1"}}},
        {"KV": {"Verb": "set", "Key": "cat/k", "Value": b64("v")}},
        {"Node": {"Verb": "get", "Node": {"Node": "tn1"}}},
    ])
    assert r.status_code == 200, r.text
    res = r.json()["Results"]
    assert [list(x) for x in res] == [["Node"], ["Service"], ["Check"],
                                      ["KV"], ["Node"]]
    node, svc, chk = res[0]["Node"], res[1]["Service"], res[2]["Check"]
    at = node["ModifyIndex"]
    assert node["Node"] == "tn1" and node["Address"] == "10.1.2.3"
    assert node["Meta"] == {"rack": "r1"} and node["CreateIndex"] == at
    assert svc["ID"] == "tweb1" and svc["Port"] == 8080
    assert svc["Tags"] == ["v1"] and svc["ModifyIndex"] == at
    assert chk["ServiceName"] == "tweb" and chk["Status"] == "passing"
    assert res[3]["KV"]["ModifyIndex"] == at
    assert res[4]["Node"] == node
    th.join(25)
    assert woke["index"] == at and "tweb" in woke["body"]
    cs = a.get("/v1/catalog/service/tweb")
    assert int(cs.headers["X-Consul-Index"]) == at
    assert [(x["Node"], x["ServiceID"]) for x in cs.json()] == [
        ("tn1", "tweb1")]
    hc = a.get("/v1/health/checks/tweb").json()
    assert [x["CheckID"] for x in hc] == ["tc1"]

    # a failing op rolls back the catalog and KV ops before it
    r = txn(a, [
        {"Node": {"Verb": "set", "Node": {"Node": "tn2",
                                           "Address": "10.1.2.4"}}},
        {"KV": {"Verb": "set", "Key": "cat/k2", "Value": b64("x")}},
        {"Service": {"Verb": "set", "Node": "nosuch",
                     "Service": {"ID": "s", "Service": "s"}}},
        {"Node": {"Verb": "cas", "Node": {"Node": "tn1",
                                           "Address": "10.9.9.9",
                                           "ModifyIndex": at + 1000}}},
    ])
    assert r.status_code == 409, r.text
    assert r.json() == {"Results": None, "Errors": [
        {"OpIndex": 2, "What": "Missing node registration"},
        {"OpIndex": 3, "What": 'failed to set node "tn1", index is stale'}]}
    assert a.get("/v1/catalog/node/tn2").json() is None
    assert a.get("/v1/kv/cat/k2").status_code == 404
    assert a.get("/v1/catalog/node/tn1").json()["Node"]["Address"] == \
        "10.1.2.3"

    # cas with the right index, then delete-cas stale and delete
    r = txn(a, [{"Service": {"Verb": "cas", "Node": "tn1",
                             "Service": {"ID": "tweb1", "Service": "tweb",
                                         "Port": 9090,
                                         "ModifyIndex": at}}}])
    assert r.status_code == 200, r.text
    at2 = r.json()["Results"][0]["Service"]["ModifyIndex"]
    assert at2 > at
    r = txn(a, [{"Check": {"Verb": "delete-cas",
                           "Check": {"Node": "tn1", "CheckID": "tc1",
                                     "ModifyIndex": at + 1000}}}])
    assert r.status_code == 409
    assert r.json()["Errors"][0]["What"] == \
        'failed to delete check "tc1" on node "tn1", index is stale'
    # read-only catalog get: served as a read
    r = txn(a, [{"Check": {"Verb": "get",
                           "Check": {"Node": "tn1", "CheckID": "tc1"}}}])
    assert r.status_code == 200 and "X-Consul-Index" in r.headers
    assert r.json()["Results"][0]["Check"]["CheckID"] == "tc1"
    r = txn(a, [{"Node": {"Verb": "delete", "Node": {"Node": "tn1"}}},
                {"Service": {"Verb": "get", "Node": "tn1",
                             "Service": {"ID": "tweb1"}}}])
    assert r.status_code == 409
    assert r.json()["Errors"][0]["What"] == \
        'service "tweb1" on node "tn1" doesn\'t exist'
    # a session on tn1 goes with the node, as after a deregister
    sid = a.put("/v1/session/create",
                data='{"Node":"tn1","Checks":[]}').json()["ID"]
    r = txn(a, [{"Node": {"Verb": "delete", "Node": {"Node": "tn1"}}}])
    assert r.status_code == 200 and r.json()["Results"] == []
    wait_until(lambda: a.get(f"/v1/session/info/{sid}").json() == [],
               timeout=10, what="tn1's session invalidated")
    assert a.get("/v1/catalog/node/tn1").json() is None
    assert a.get("/v1/catalog/service/tweb").json() == []
    # an op with none of KV/Node/Service/Check is skipped, as Consul's
    # convertOps does: OpIndex counts the ops kept
    r = txn(a, [{}, {"KV": {"Verb": "get", "Key": "cat/none"}}])
    assert r.status_code == 409
    assert r.json()["Errors"] == [
        {"OpIndex": 0, "What": 'key "cat/none" doesn\'t exist'}]
    assert txn(a, [5]).status_code == 400
    r = txn(a, [{"Node": {"Verb": "frob", "Node": {"Node": "x"}}}])
    assert r.status_code == 409
    assert r.json()["Errors"][0]["What"] == 'unknown Node verb "frob"'
