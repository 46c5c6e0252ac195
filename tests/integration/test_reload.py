"""
SIGHUP reloads every role (spec §8.1): the configuration is re-read from
the same files, the log level applied; an invalid file is refused and the
running configuration kept. The role keeps serving throughout.
"""
import json
import os
import signal

from conftest import wait_until


def test_sighup_reload_and_refusal(node_factory, tmp_path):
    cfg = tmp_path / "agent.json"
    cfg.write_text(json.dumps({"log_level": "info"}))
    n = node_factory(name="hup1", extra=["-config-file", str(cfg)])
    n.start_roles()
    assert n.put("/v1/kv/k", data=b"v").json() is True
    cfg.write_text(json.dumps({"log_level": "debug"}))
    for role in ("raftd", "httpd"):
        n.procs[role].send_signal(signal.SIGHUP)
    for role in ("raftd", "httpd"):
        wait_until(lambda: "reload: log level debug" in n.log(role), timeout=5,
                   what=f"{role} to apply the new log level")
    cfg.write_text('{"log_level": ')  # broken JSON
    for role in ("raftd", "httpd"):
        n.procs[role].send_signal(signal.SIGHUP)
    for role in ("raftd", "httpd"):
        wait_until(lambda: "keeping the running configuration" in n.log(role), timeout=5,
                   what=f"{role} to refuse the broken file")
        assert n.procs[role].poll() is None, f"{role} exited on SIGHUP"
    assert n.get("/v1/kv/k").status_code == 200
    assert n.put("/v1/kv/k2", data=b"v").json() is True
