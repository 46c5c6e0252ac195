"""
`cairn lock` (consul lock): two contenders on one agent run their
children one after the other with CONSUL_LOCK_HELD=true, the lock key
carries the lock flags, and a child is sent SIGTERM when its session is
destroyed behind its back.
"""
import os
import subprocess
import time

from conftest import BUILD, wait_until

CAIRN = os.path.join(BUILD, "cairn")
LOCK_FLAGS = 0x2ddccbc058a50c18


def lock(agent, *args):
    e = dict(os.environ)
    e["CONSUL_HTTP_ADDR"] = agent.base
    return subprocess.Popen([CAIRN, "lock"] + list(args), env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_contenders_serialize(kv, tmp_path):
    log = tmp_path / "log"
    child = (f'echo "start $CONSUL_LOCK_HELD" >> {log}; sleep 1.5; '
             f'echo end >> {log}')
    a = lock(kv, "locks/job", child)
    # the key exists with the lock flags once the first holds it
    wait_until(lambda: kv.get("/v1/kv/locks/job/.lock").status_code == 200,
               timeout=10, what="lock key")
    kvp = kv.get("/v1/kv/locks/job/.lock").json()[0]
    assert kvp["Flags"] == LOCK_FLAGS and kvp["Session"]
    b = lock(kv, "locks/job", child)
    assert a.wait(20) == 0, a.stderr.read()
    assert b.wait(20) == 0, b.stderr.read()
    lines = log.read_text().split()
    # never interleaved: start end start end
    assert log.read_text().splitlines() == ["start true", "end",
                                            "start true", "end"]
    assert len(lines) == 6
    # released and sessions destroyed
    kvp = kv.get("/v1/kv/locks/job/.lock").json()[0]
    assert "Session" not in kvp
    assert [s for s in kv.get("/v1/session/list").json()
            if s["Name"] == "Consul API Lock"] == []


def test_lock_lost_kills_child(kv, tmp_path):
    log = tmp_path / "log"
    child = f"trap 'echo term >> {log}; exit 0' TERM; echo up >> {log}; while true; do sleep 0.1; done"
    p = lock(kv, "-name", "loser", "locks/lost", child)
    wait_until(lambda: log.exists() and "up" in log.read_text(), timeout=10,
               what="child started")
    sid = kv.get("/v1/kv/locks/lost/.lock").json()[0]["Session"]
    assert kv.put(f"/v1/session/destroy/{sid}").json() is True
    p.wait(15)
    assert "Lock lost, killing child" in p.stderr.read().decode()
    assert "term" in log.read_text()


def test_timeout_and_usage(kv):
    # hold the lock with a session, then a contender times out
    sid = kv.put("/v1/session/create", data='{"Checks":[]}').json()["ID"]
    r = kv.put(f"/v1/kv/locks/busy/.lock?acquire={sid}&flags={LOCK_FLAGS}")
    assert r.json() is True
    t0 = time.monotonic()
    p = lock(kv, "-timeout", "1s", "locks/busy", "true")
    assert p.wait(15) == 1
    assert time.monotonic() - t0 < 8
    assert b"timeout during lock acquisition" in p.stderr.read()
    kv.put(f"/v1/session/destroy/{sid}")
    p = lock(kv, "onlyprefix")
    assert p.wait(5) == 1
    assert b"Key prefix and child command must be specified" in p.stderr.read()
    # a key with other flags is a conflict
    kv.put("/v1/kv/locks/other/.lock?flags=7", data=b"x")
    p = lock(kv, "locks/other", "true")
    assert p.wait(15) == 1
    assert b"does not match lock use" in p.stderr.read()
