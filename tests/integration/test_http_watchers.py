"""
httpd under many blocking watchers (issue 5's 10,000-watcher target):

- above SERVER_CLOSE_WATERMARK (512) open connections, the answer to a
  blocking query (?index=) says "Connection: close" and closes, so a woken
  watcher does not keep a connection whose whole 32 KiB libmicrohttpd pool
  was zeroed (httpd/server.c); below it, and for ordinary requests at any
  load, keep-alive stays;
- request lines of ~30 KB (a long KV key, which Consul accepts) still work,
  also on a kept-alive connection;
- watchers woken by the same change with different ?index, ?filter, ?tag
  and ?pretty each get their own correct answer and X-Consul-Index, though
  httpd renders one answer per distinct request (httpd/share.c).
"""
import json
import os
import resource
import socket
import threading

import pytest

from conftest import Node, wait_until

WATERMARK = 512


@pytest.fixture(scope="module")
def node():
    n = Node(name="watch1")
    conf = os.path.join(n.dir, "limits.json")
    with open(conf, "w") as f:
        json.dump({"limits": {"http_max_conns_per_client": 100000}}, f)
    n.extra += ["-config-file", conf]
    try:
        n.start_agent()
        yield n
    finally:
        n.stop()
        n.cleanup()


class Raw:
    """One raw HTTP/1.1 connection (the tests look at its headers)."""

    def __init__(self, node):
        self.s = socket.create_connection(("127.0.0.1", node.ports["http"]),
                                          timeout=30)
        self.buf = b""

    def send(self, method, path, body=b""):
        self.s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("closed")
        self.buf += d

    def recv(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", 0))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(lines[0].split()[1]), hdrs, body

    def call(self, method, path, body=b""):
        self.send(method, path, body)
        return self.recv()

    def closed_by_peer(self):
        """True when the server has closed (EOF), waiting up to 10 s."""
        self.s.settimeout(10)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def register(node, name, svc, status="passing", tags=("v1",)):
    body = {"Node": name, "Address": "10.9.0.1",
            "Service": {"Service": svc, "Port": 80, "Tags": list(tags)},
            "Check": {"CheckID": f"{svc}-chk", "Name": "c", "Status": status,
                      "ServiceID": svc}}
    assert node.put("/v1/catalog/register", data=json.dumps(body)).json()


def index_of(node, path):
    return int(node.get(path).headers["X-Consul-Index"])


def test_long_request_line_keepalive(node):
    key = "long/" + "k" * 30000
    c = Raw(node)
    st, h, body = c.call("PUT", f"/v1/kv/{key}", b"v")
    assert (st, body.strip()) == (200, b"true")
    for _ in range(2):  # twice: after a keep-alive pool reset too
        st, h, body = c.call("GET", f"/v1/kv/{key}?raw")
        assert (st, body) == (200, b"v")
        assert h.get("connection", "").lower() != "close"
    c.close()
    assert node.delete(f"/v1/kv/{key}").json() is True


def open_idle(node, n):
    """n connections that httpd has accepted (each answered one 404)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 512), hard))
    conns = [Raw(node) for _ in range(n)]
    for c in conns:
        c.send("GET", "/nope")
    for c in conns:
        assert c.recv()[0] == 404
    return conns


def test_close_only_above_watermark(node):
    register(node, "wm-0", "wm")
    path = "/v1/health/service/wm"
    idx = index_of(node, path)
    # Below the watermark: a blocking answer keeps the connection.
    c = Raw(node)
    st, h, _ = c.call("GET", f"{path}?index={idx - 1}&wait=5s")
    assert st == 200 and h.get("connection", "").lower() != "close"
    st, h, _ = c.call("GET", path)
    assert st == 200
    c.close()

    idle = open_idle(node, WATERMARK + 50)
    try:
        # Above: an ordinary request keeps alive ...
        c = Raw(node)
        for _ in range(2):
            st, h, _ = c.call("GET", path)
            assert st == 200 and h.get("connection", "").lower() != "close"
        # ... an immediate blocking answer closes ...
        st, h, _ = c.call("GET", f"{path}?index={idx - 1}&wait=5s")
        assert st == 200 and h["connection"].lower() == "close"
        assert c.closed_by_peer()
        c.close()
        # ... and so does a woken one.
        c = Raw(node)
        c.send("GET", f"{path}?index={idx}&wait=30s")
        register(node, "wm-1", "wm")
        st, h, body = c.recv()
        assert st == 200 and h["connection"].lower() == "close"
        assert int(h["x-consul-index"]) > idx
        assert {e["Node"]["Node"] for e in json.loads(body)} == {"wm-0",
                                                                  "wm-1"}
        assert c.closed_by_peer()
        c.close()
    finally:
        for x in idle:
            x.close()
    # Back below the watermark: blocking answers keep alive again.
    idx = index_of(node, path)

    def below():
        c = Raw(node)
        try:
            st, h, _ = c.call("GET", f"{path}?index={idx - 1}")
            return st == 200 and h.get("connection", "").lower() != "close"
        finally:
            c.close()
    wait_until(below, timeout=30, what="keep-alive below the watermark")


def test_woken_watchers_each_get_their_answer(node):
    svc = "shared"
    register(node, "sh-0", svc, tags=("v1",))
    register(node, "sh-1", svc, tags=("v2",))
    path = f"/v1/health/service/{svc}"
    sidx = index_of(node, path)
    register(node, "other-0", "other")  # raises the raft index, not svc's
    hi = index_of(node, "/v1/health/service/other")
    assert hi > sidx
    flt = "filter=" + "Node.Node%20%3D%3D%20%22sh-0%22"
    variants = ["", "passing", "tag=v1", flt, "pretty", "passing&tag=v2"]
    watchers = []
    for v in variants:
        for idx, wait in ((sidx, "30s"), (hi, "40s"), (sidx, "50s")):
            q = f"{path}?index={idx}&wait={wait}" + (f"&{v}" if v else "")
            c = Raw(node)
            c.send("GET", q)
            watchers.append((v, c))
    got = {}

    def recv(i, c):
        got[i] = c.recv()
    # Every watcher is blocked (none answered) before the change.
    for _, c in watchers:
        c.s.settimeout(0.3)
        with pytest.raises(socket.timeout):
            c.s.recv(1, socket.MSG_PEEK)
        c.s.settimeout(30)
    threads = [threading.Thread(target=recv, args=(i, c))
               for i, (_, c) in enumerate(watchers)]
    for t in threads:
        t.start()
    register(node, "sh-0", svc, status="critical", tags=("v1",))
    for t in threads:
        t.join(60)
    assert len(got) == len(watchers)
    for i, (v, c) in enumerate(watchers):
        st, h, body = got[i]
        c.close()
        ref = node.get(path + (f"?{v}" if v else ""))
        assert st == 200, (v, body)
        assert int(h["x-consul-index"]) > sidx
        assert h["x-consul-index"] == ref.headers["X-Consul-Index"], v
        assert body == ref.content, v
    names = {v: sorted(e["Node"]["Node"] for e in json.loads(got[i][2]))
             for i, (v, _) in enumerate(watchers)}
    assert names[""] == ["sh-0", "sh-1"]
    assert names["passing"] == ["sh-1"]
    assert names["tag=v1"] == ["sh-0"]
    assert names[flt] == ["sh-0"]
    assert names["passing&tag=v2"] == ["sh-1"]
    assert got[variants.index("pretty") * 3][2].startswith(b"[\n")


def test_woken_kv_watchers_each_get_their_answer(node):
    # KV renderers depend on handler state (?raw, ?keys, ?recurse): part
    # of the shared answer's key.
    assert node.put("/v1/kv/sw/a", data=b"one").json() is True
    idx = int(node.get("/v1/kv/sw/a").headers["X-Consul-Index"])
    variants = ["sw/a", "sw/a?raw", "sw/a?pretty", "sw/?recurse",
                "sw/?keys", "sw/?keys&separator=/", "sw/a?raw&pretty"]
    watchers = []
    for v in variants:
        for wait in ("30s", "45s"):
            sep = "&" if "?" in v else "?"
            c = Raw(node)
            c.send("GET", f"/v1/kv/{v}{sep}index={idx}&wait={wait}")
            watchers.append((v, c))
    got = {}

    def recv(i, c):
        got[i] = c.recv()
    threads = [threading.Thread(target=recv, args=(i, c))
               for i, (_, c) in enumerate(watchers)]
    for t in threads:
        t.start()
    assert node.put("/v1/kv/sw/a", data=b"two").json() is True
    for t in threads:
        t.join(60)
    assert len(got) == len(watchers)
    for i, (v, c) in enumerate(watchers):
        st, h, body = got[i]
        c.close()
        ref = node.get(f"/v1/kv/{v}")
        assert st == 200, (v, body)
        assert int(h["x-consul-index"]) > idx, v
        assert h["x-consul-index"] == ref.headers["X-Consul-Index"], v
        assert h["content-type"] == ref.headers["Content-Type"], v
        assert body == ref.content, v
    assert got[variants.index("sw/a?raw") * 2][2] == b"two"
