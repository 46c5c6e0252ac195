"""
`cairn lock` (consul lock): two contenders on one agent run their
children one after the other with CONSUL_LOCK_HELD=true, the lock key
carries the lock flags, and a child is sent SIGTERM when its session is
destroyed behind its back; -timeout and -monitor-retry; semaphores
(-n N, api.Semaphore's keys and .lock record): at most N children at
once, limit conflicts, a lost slot, a full semaphore timing out.
"""
import os
import signal
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


SEM_FLAGS = 0xe0f69a2baa414de0


def test_semaphore_two_of_three(kv, tmp_path):
    """Three `cairn lock -n 2` contenders: at most two children run at
    once (each child logs its own start and end times), all three run,
    the .lock key is api.Semaphore's, and everything is cleaned up."""
    import base64
    import json
    procs = []
    for i in range(3):
        log = tmp_path / f"c{i}"
        child = (f'echo "start $(date +%s.%N) $CONSUL_LOCK_HELD" >> {log}; '
                 f'sleep 1.5; echo "end $(date +%s.%N)" >> {log}')
        procs.append(lock(kv, "-n", "2", "sems/job", child))
    # while children run the semaphore record is Consul's
    def holders():
        r = kv.get("/v1/kv/sems/job/.lock")
        if r.status_code != 200:
            return None
        kvp = r.json()[0]
        assert kvp["Flags"] == SEM_FLAGS
        return json.loads(base64.b64decode(kvp["Value"]))
    wait_until(lambda: (holders() or {}).get("Holders"), timeout=10,
               what="a semaphore holder")
    h = holders()
    assert h["Limit"] == 2 and 1 <= len(h["Holders"]) <= 2
    assert set(h["Holders"].values()) == {True}
    # each holder's contender key is held by its session
    for sid in h["Holders"]:
        kvp = kv.get(f"/v1/kv/sems/job/{sid}").json()[0]
        assert kvp["Session"] == sid and kvp["Flags"] == SEM_FLAGS
    for p in procs:
        assert p.wait(30) == 0, p.stderr.read()
    spans = []
    for i in range(3):
        lines = (tmp_path / f"c{i}").read_text().split("\n")
        start, held = lines[0].split()[1:]
        end = lines[1].split()[1]
        assert held == "true"
        spans.append((float(start), float(end)))
    # at any child's start, at most 2 children (itself included) run
    for s, _ in spans:
        assert sum(1 for a, b in spans if a <= s < b) <= 2, spans
    # two ran together (the limit is 2, not 1)
    first = sorted(spans)
    assert first[1][0] < first[0][1], spans
    # the third waited for a slot
    assert first[2][0] >= min(first[0][1], first[1][1]) - 0.05, spans
    # released: no holders, contender keys gone, sessions destroyed
    assert holders()["Holders"] == {}
    keys = kv.get("/v1/kv/sems/job/?keys").json()
    assert keys == ["sems/job/.lock"]
    assert [s for s in kv.get("/v1/session/list").json()
            if s["Name"] == "Consul API Semaphore"] == []


def test_semaphore_limit_conflict_and_loss(kv, tmp_path):
    # a semaphore made with -n 2 refuses a contender with -n 3
    log = tmp_path / "log"
    child = (f"trap 'echo term >> {log}; exit 0' TERM; echo up >> {log}; "
             "while true; do sleep 0.1; done")
    p = lock(kv, "-n", "2", "sems/lost", child)
    wait_until(lambda: log.exists() and "up" in log.read_text(), timeout=10,
               what="child started")
    q = lock(kv, "-n", "3", "sems/lost", "true")
    assert q.wait(15) == 1
    assert b"semaphore limit conflict (lock: 2, local: 3)" in \
        q.stderr.read()
    # the holder's session destroyed: its slot is lost, child killed
    # the refused contender left no key behind
    keys = kv.get("/v1/kv/sems/lost/?keys").json()
    assert len(keys) == 2, keys
    sid = [k.rsplit("/", 1)[1] for k in keys if not k.endswith(".lock")][0]
    assert kv.put(f"/v1/session/destroy/{sid}").json() is True
    assert p.wait(15) == 0
    assert "Lock lost, killing child" in p.stderr.read().decode()
    assert "term" in log.read_text()


def test_semaphore_full_times_out(kv):
    """Two slots taken (by api.Semaphore's protocol, over raw HTTP): a
    third contender with -timeout gives up, leaving no key behind."""
    import json
    sids = []
    for _ in range(2):
        sid = kv.put("/v1/session/create", data='{"Checks":[]}').json()["ID"]
        assert kv.put(f"/v1/kv/sems/full/{sid}?acquire={sid}"
                      f"&flags={SEM_FLAGS}").json() is True
        sids.append(sid)
    body = json.dumps({"Limit": 2, "Holders": {s: True for s in sids}})
    assert kv.put(f"/v1/kv/sems/full/.lock?cas=0&flags={SEM_FLAGS}",
                  data=body).json() is True
    t0 = time.monotonic()
    p = lock(kv, "-n", "2", "-timeout", "1s", "sems/full", "true")
    assert p.wait(15) == 1
    assert time.monotonic() - t0 < 8
    assert b"timeout during lock acquisition" in p.stderr.read()
    assert sorted(kv.get("/v1/kv/sems/full/?keys").json()) == sorted(
        ["sems/full/.lock"] + [f"sems/full/{s}" for s in sids])
    # a dead holder (its session gone) frees its slot for a newcomer
    kv.put(f"/v1/session/destroy/{sids[0]}")
    p = lock(kv, "-n", "2", "-timeout", "10s", "sems/full", "true")
    assert p.wait(15) == 0, p.stderr.read()
    for s in sids:
        kv.put(f"/v1/session/destroy/{s}")


def test_monitor_retry(node_factory, tmp_path):
    """-monitor-retry: with 0 an unreachable agent while the lock is held
    kills the child at once; with 3 (the default, 1 s apart) an httpd
    back within a second keeps it running."""
    n = node_factory(name="mretry").start_roles()
    log = tmp_path / "log"
    child = (f"trap 'echo term >> {log}; exit 0' TERM; echo up >> {log}; "
             "while true; do sleep 0.1; done")
    p = lock(n, "-monitor-retry", "3", "locks/mr", child)
    wait_until(lambda: log.exists() and "up" in log.read_text(), timeout=10,
               what="child started")
    n.kill("httpd")
    time.sleep(0.5)
    n.start_role("httpd")
    n.wait_ready()
    time.sleep(3)
    assert p.poll() is None, p.stderr.read()
    assert "term" not in log.read_text()
    p.send_signal(signal.SIGTERM)
    p.wait(15)
    log.unlink()
    p = lock(n, "-monitor-retry", "0", "locks/mr", child)
    wait_until(lambda: log.exists() and "up" in log.read_text(), timeout=20,
               what="second child started")
    n.kill("httpd")
    assert p.wait(15) == 0
    assert "Lock lost, killing child" in p.stderr.read().decode()
    assert "term" in log.read_text()
