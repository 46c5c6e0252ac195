"""
dnsd as a real process (issue 6): raftd, httpd and dnsd started as roles
of one dev node, driven through DNS (dnspython and dig) and the HTTP API.

Covers: SOA/NS of the domain, NXDOMAIN with the SOA, REFUSED outside the
domain without recursors; forwarding to a local resolver (answer relayed
with the client's ID and RA) and SERVFAIL when it is down; TCP with
pipelined queries answered in order; the 3-record UDP cap without EDNS
and more with EDNS; a burst of malformed packets leaves dnsd answering;
kill -9 of raftd while queries run: answers continue from the view; the
catalog path: register with a passing check -> A and SRV, critical ->
NXDOMAIN, passing -> back; node lookups; the dev node and the consul
service; SIGHUP re-reads dns_config.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from conftest import free_port, wait_until


def start_dns_node(node_factory, extra=None, config=None):
    n = node_factory()
    if config is not None:
        path = os.path.join(n.dir, "dns.json")
        with open(path, "w") as f:
            json.dump(config, f)
        n.extra += ["-config-file", path]
    n.extra += list(extra or [])
    n.start_roles(roles=("raftd", "httpd", "dnsd"))
    wait_until(lambda: query(n, "consul.", "SOA").rcode() == dns.rcode.NOERROR,
               timeout=10, what="dnsd to answer")
    # the view has the dev node (registered by the raftd leader)
    wait_until(lambda: a_records(query(n, "node1.node.consul.")),
               timeout=10, what="the dev node in DNS")
    return n


def query(node, name, rdtype="A", tcp=False, edns=0, timeout=2.0):
    q = dns.message.make_query(name, rdtype, use_edns=edns)
    if tcp:
        return dns.query.tcp(q, "127.0.0.1", port=node.ports["dns"],
                             timeout=timeout)
    return dns.query.udp(q, "127.0.0.1", port=node.ports["dns"],
                         timeout=timeout)


def register(node, name, addr, svc=None, status=None, port=80, sid=None):
    body = {"Node": name, "Address": addr}
    if svc is not None:
        body["Service"] = {"Service": svc, "ID": sid or svc, "Port": port,
                           "Tags": ["v1"]}
    if status is not None:
        body["Check"] = {"CheckID": f"chk-{sid or svc}", "Name": "chk",
                         "Status": status, "ServiceID": sid or svc}
    r = node.put("/v1/catalog/register", data=json.dumps(body))
    assert r.status_code == 200, r.text
    assert r.json() is True


def a_records(msg):
    return sorted(rd.address for rr in msg.answer
                  if rr.rdtype == dns.rdatatype.A for rd in rr)


# ---- a small resolver for the recursor tests ----

class Resolver(threading.Thread):
    """Answers every A query with 192.0.2.55 (dnspython), over UDP and
    TCP on the same port; records the transport of each query."""

    def __init__(self):
        super().__init__(daemon=True)
        for _ in range(50):
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
            self.tsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.tsock.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.sock.close()
                self.tsock.close()
        self.tsock.listen(8)
        self.tsock.settimeout(0.1)
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.seen = []  # (transport, id)

    def answer(self, data, transport):
        q = dns.message.from_wire(data)
        self.seen.append((transport, q.id))
        r = dns.message.make_response(q)
        r.answer.append(dns.rrset.from_text(
            q.question[0].name, 60, "IN", "A", "192.0.2.55"))
        return r.to_wire()

    def run(self):
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
                self.sock.sendto(self.answer(data, "udp"), peer)
            except socket.timeout:
                pass
            try:
                c, _ = self.tsock.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(2)
                (ln,) = struct.unpack("!H", recv_exact(c, 2))
                w = self.answer(recv_exact(c, ln), "tcp")
                c.sendall(struct.pack("!H", len(w)) + w)

    def close(self):
        self.stop.set()
        self.join()
        self.sock.close()
        self.tsock.close()


# ---- tests ----

def test_soa_ns_nxdomain_refused(node_factory):
    n = start_dns_node(node_factory)
    r = query(n, "consul.", "SOA")
    assert r.rcode() == dns.rcode.NOERROR
    assert r.flags & dns.flags.AA
    assert not r.flags & dns.flags.RA  # no recursors
    assert r.answer[0].rdtype == dns.rdatatype.SOA
    r = query(n, "consul.", "NS")
    assert r.rcode() == dns.rcode.NOERROR
    assert r.answer and r.answer[0].rdtype == dns.rdatatype.NS
    r = query(n, "nope.service.consul.", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority and r.authority[0].rdtype == dns.rdatatype.SOA
    r = query(n, "example.com.", "A")
    assert r.rcode() == dns.rcode.REFUSED
    # and with dig, the tool users reach for
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(n.ports["dns"]),
                          "consul", "SOA", "+short"], capture_output=True,
                         text=True, timeout=10).stdout
    assert out.startswith("ns.consul. hostmaster.consul. "), out


def test_recursor_forward_and_servfail(node_factory):
    res = Resolver()
    res.start()
    try:
        n = start_dns_node(node_factory,
                           extra=["-recursor", f"127.0.0.1:{res.port}"],
                           config={"dns_config": {"recursor_timeout": "300ms"}})
        q = dns.message.make_query("www.example.com.", "A")
        r = dns.query.udp(q, "127.0.0.1", port=n.ports["dns"], timeout=3)
        assert r.id == q.id
        assert r.rcode() == dns.rcode.NOERROR
        assert r.flags & dns.flags.RA
        assert a_records(r) == ["192.0.2.55"]
        assert [t for t, _ in res.seen] == ["udp"]
        # over TCP too: forwarded over TCP, as Consul does
        r = query(n, "www.example.org.", "A", tcp=True, timeout=3)
        assert a_records(r) == ["192.0.2.55"]
        assert r.flags & dns.flags.RA
        assert [t for t, _ in res.seen] == ["udp", "tcp"]
        # our own domain is still ours, with RA set now
        r = query(n, "consul.", "SOA")
        assert r.flags & dns.flags.RA and r.flags & dns.flags.AA
    finally:
        res.close()
    t0 = time.monotonic()
    r = query(n, "www.example.com.", "A", timeout=5)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert time.monotonic() - t0 < 2.0
    r = query(n, "www.example.com.", "A", tcp=True, timeout=5)
    assert r.rcode() == dns.rcode.SERVFAIL
    wait_until(lambda: "all resolvers failed" in n.log("dnsd"), timeout=5,
               what="the all-resolvers-failed log line")


def tcp_frame(msg):
    w = msg.to_wire()
    return struct.pack("!H", len(w)) + w


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def test_tcp_pipelining_and_framing(node_factory):
    n = start_dns_node(node_factory)
    qs = [dns.message.make_query(name, "A") for name in
          ("node1.node.consul.", "nope.node.consul.", "consul.service.consul.")]
    qs.append(dns.message.make_query("consul.", "SOA"))
    s = socket.create_connection(("127.0.0.1", n.ports["dns"]), timeout=5)
    try:
        # all at once, then byte by byte for the last one
        s.sendall(b"".join(tcp_frame(q) for q in qs[:3]))
        last = tcp_frame(qs[3])
        for b in last:
            s.sendall(bytes([b]))
        answers = []
        for _ in qs:
            (ln,) = struct.unpack("!H", recv_exact(s, 2))
            answers.append(dns.message.from_wire(recv_exact(s, ln)))
    finally:
        s.close()
    assert [a.id for a in answers] == [q.id for q in qs]  # in order
    assert a_records(answers[0]) == ["127.0.0.1"]
    assert answers[1].rcode() == dns.rcode.NXDOMAIN
    assert answers[2].rcode() == dns.rcode.NOERROR
    assert answers[3].answer[0].rdtype == dns.rdatatype.SOA
    # a peer that closes mid-frame does no harm
    s = socket.create_connection(("127.0.0.1", n.ports["dns"]), timeout=5)
    s.sendall(b"\x00\x40abc")
    s.close()
    assert query(n, "consul.", "SOA", tcp=True).rcode() == dns.rcode.NOERROR


def test_udp_answer_limit_and_edns(node_factory):
    n = start_dns_node(node_factory)
    for i in range(6):
        register(n, f"web-{i}", f"10.1.0.{i + 1}", svc="web",
                 status="passing")
    wait_until(lambda: len(a_records(query(n, "web.service.consul.", "A",
                                           edns=0))) == 6,
               timeout=10, what="six web instances in DNS")
    r = query(n, "web.service.consul.", "A", edns=-1)  # no EDNS
    assert len(a_records(r)) == 3
    r = query(n, "web.service.consul.", "A", edns=0)
    assert len(a_records(r)) == 6
    r = query(n, "web.service.consul.", "A", tcp=True, edns=-1)
    assert len(a_records(r)) == 6
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(n.ports["dns"]),
                          "web.service.consul", "+noedns", "+short"],
                         capture_output=True, text=True, timeout=10).stdout
    assert len(out.split()) == 3, out


def test_malformed_burst_keeps_answering(node_factory):
    n = start_dns_node(node_factory)
    port = n.ports["dns"]
    good = dns.message.make_query("consul.", "SOA").to_wire()
    bad = [b"", b"\x00", b"\xff" * 11, good[:12], good[:-3],
           bytes([good[0], good[1], good[2] | 0x80]) + good[3:],  # QR=1
           os.urandom(512), b"\x00" * 12 + b"\xc0\x0c" * 100,
           good[:2] + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\x3f" * 200]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(200):
        for b in bad:
            u.sendto(b, ("127.0.0.1", port))
    for _ in range(200):
        u.sendto(os.urandom(30 + _ % 300), ("127.0.0.1", port))
    u.close()
    # TCP garbage too
    for b in bad:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(struct.pack("!H", len(b)) + b)
        s.close()
    r = query(n, "consul.", "SOA")
    assert r.rcode() == dns.rcode.NOERROR
    assert query(n, "consul.", "SOA", tcp=True).rcode() == dns.rcode.NOERROR
    assert n.procs["dnsd"].poll() is None


def test_catalog_health_and_nodes(node_factory):
    n = start_dns_node(node_factory)
    register(n, "app1", "10.2.0.1", svc="web", status="passing", port=8080)
    wait_until(lambda: a_records(query(n, "web.service.consul.")) ==
               ["10.2.0.1"], timeout=10, what="web in DNS")
    r = query(n, "web.service.consul.", "SRV")
    srv = [rd for rr in r.answer if rr.rdtype == dns.rdatatype.SRV for rd in rr]
    assert len(srv) == 1 and srv[0].port == 8080
    assert str(srv[0].target) == "app1.node.dc1.consul."
    assert a_records(query(n, "v1.web.service.consul.")) == ["10.2.0.1"]
    # critical -> gone
    register(n, "app1", "10.2.0.1", svc="web", status="critical", port=8080)
    wait_until(lambda: query(n, "web.service.consul.").rcode() ==
               dns.rcode.NXDOMAIN, timeout=10, what="web to go away")
    # passing again -> back
    register(n, "app1", "10.2.0.1", svc="web", status="passing", port=8080)
    wait_until(lambda: a_records(query(n, "web.service.consul.")) ==
               ["10.2.0.1"], timeout=10, what="web to come back")
    # node lookups, and the dev node and consul service
    assert a_records(query(n, "app1.node.consul.")) == ["10.2.0.1"]
    assert a_records(query(n, "app1.node.dc1.consul.")) == ["10.2.0.1"]
    assert a_records(query(n, "node1.node.consul.")) == ["127.0.0.1"]
    assert a_records(query(n, "consul.service.consul.")) == ["127.0.0.1"]
    # deregistering the node removes it
    r = n.put("/v1/catalog/deregister", data=json.dumps({"Node": "app1"}))
    assert r.status_code == 200
    wait_until(lambda: query(n, "app1.node.consul.").rcode() ==
               dns.rcode.NXDOMAIN, timeout=10, what="app1 to go away")


def test_raftd_killed_answers_continue(node_factory):
    n = start_dns_node(node_factory)
    register(n, "app1", "10.3.0.1", svc="api", status="passing")
    wait_until(lambda: a_records(query(n, "api.service.consul.")) ==
               ["10.3.0.1"], timeout=10, what="api in DNS")
    results = []
    stop = threading.Event()

    def asker():
        while not stop.is_set():
            try:
                r = query(n, "api.service.consul.", timeout=1)
                results.append(a_records(r))
            except Exception as e:  # noqa: BLE001 - a timeout is a failure
                results.append(repr(e))
            time.sleep(0.01)

    t = threading.Thread(target=asker, daemon=True)
    t.start()
    time.sleep(0.3)
    n.kill("raftd")
    time.sleep(2.5)
    stop.set()
    t.join()
    assert len(results) > 20
    assert all(r == ["10.3.0.1"] for r in results), results[:5]
    wait_until(lambda: "answering from the last view" in n.log("dnsd"),
               timeout=5, what="the stale-view log line")
    # raftd back: a change made after is seen again
    n.start_role("raftd")
    n.wait_ready()
    register(n, "app2", "10.3.0.2", svc="api", status="passing")
    wait_until(lambda: a_records(query(n, "api.service.consul.")) ==
               ["10.3.0.1", "10.3.0.2"], timeout=20, what="api on app2")
    assert "catalog view current again" in n.log("dnsd")


def test_sighup_reloads_dns_config(node_factory):
    n = node_factory()
    path = os.path.join(n.dir, "dns.json")
    with open(path, "w") as f:
        json.dump({"dns_config": {"udp_answer_limit": 3}}, f)
    n.extra += ["-config-file", path]
    n.start_roles(roles=("raftd", "httpd", "dnsd"))
    wait_until(lambda: query(n, "consul.", "SOA").rcode() == dns.rcode.NOERROR,
               timeout=10, what="dnsd to answer")
    for i in range(5):
        register(n, f"w-{i}", f"10.4.0.{i + 1}", svc="web", status="passing")
    wait_until(lambda: len(a_records(query(n, "web.service.consul.",
                                           edns=0))) == 5,
               timeout=10, what="five web instances")
    assert len(a_records(query(n, "web.service.consul.", edns=-1))) == 3
    with open(path, "w") as f:
        json.dump({"dns_config": {"udp_answer_limit": 1}}, f)
    n.procs["dnsd"].send_signal(signal.SIGHUP)
    wait_until(lambda: len(a_records(query(n, "web.service.consul.",
                                           edns=-1))) == 1,
               timeout=10, what="the new udp_answer_limit")
    # an invalid file is refused, the running config kept
    with open(path, "w") as f:
        json.dump({"dns_config": {"recursor_strategy": "bogus"}}, f)
    n.procs["dnsd"].send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the running dns_config" in n.log("dnsd"),
               timeout=10, what="reload refusal")
    assert len(a_records(query(n, "web.service.consul.", edns=-1))) == 1


def test_check_only_flag(node_factory):
    n = node_factory()
    dnsd = os.path.join(os.environ.get("CAIRN_BUILD", os.path.join(
        os.path.dirname(__file__), "..", "..", "build")), "dnsd")
    r = subprocess.run([dnsd, "-n"] + n.flags(), capture_output=True,
                       timeout=10)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([dnsd, "-n", "-recursor", "not-an-ip"] + n.flags(),
                       capture_output=True, timeout=10)
    assert r.returncode == 2
    assert b"not-an-ip" in r.stderr


def test_tcp_faults(node_factory):
    """fault-testing.md §7.2, TCP rows: length prefix 0, 50 pipelined
    queries, a 65,535-byte frame plus trailing bytes, more idle
    connections than the cap, a partial frame left idle."""
    n = start_dns_node(node_factory)
    addr = ("127.0.0.1", n.ports["dns"])
    # a zero-length frame is skipped; the next query is answered
    s = socket.create_connection(addr, timeout=5)
    q = dns.message.make_query("consul.", "SOA")
    s.sendall(b"\x00\x00" + tcp_frame(q))
    (ln,) = struct.unpack("!H", recv_exact(s, 2))
    assert dns.message.from_wire(recv_exact(s, ln)).id == q.id
    # 50 pipelined, answered in order
    qs = [dns.message.make_query(f"q{i}.node.consul.", "A") for i in range(50)]
    s.sendall(b"".join(tcp_frame(x) for x in qs))
    ids = []
    for _ in qs:
        (ln,) = struct.unpack("!H", recv_exact(s, 2))
        ids.append(dns.message.from_wire(recv_exact(s, ln)).id)
    assert ids == [x.id for x in qs]
    s.close()
    # a maximal garbage frame and 10 bytes of the next: no crash
    s = socket.create_connection(addr, timeout=5)
    s.sendall(b"\xff\xff" + os.urandom(65535) + b"\x00\x08" + os.urandom(8))
    s.close()
    # more idle connections than the cap: a new client is still served
    idle = []
    for _ in range(300):
        idle.append(socket.create_connection(addr, timeout=5))
    try:
        assert query(n, "consul.", "SOA", tcp=True).rcode() == dns.rcode.NOERROR
    finally:
        for c in idle:
            c.close()
    # a partial frame left idle is closed by dnsd within the idle timeout
    s = socket.create_connection(addr, timeout=15)
    s.sendall(b"\x00\x40abc")
    t0 = time.monotonic()
    assert s.recv(10) == b""
    assert 5 < time.monotonic() - t0 < 13
    s.close()
    assert query(n, "consul.", "SOA").rcode() == dns.rcode.NOERROR


def test_agent_dev_serves_dns(agent):
    """`cairn agent -dev` starts dnsd: its node and the consul service."""
    wait_until(lambda: a_records(query(agent, "consul.service.consul.")) ==
               ["127.0.0.1"], timeout=15, what="consul.service via the agent")
    assert a_records(query(agent, f"{agent.name}.node.consul.")) == ["127.0.0.1"]
    r = query(agent, "consul.service.consul.", "SRV")
    assert r.answer[0][0].port == agent.ports["server"]


def test_dnsd_before_raftd(node_factory):
    """dnsd up first: SERVFAIL (not NXDOMAIN) until the first catalog
    read, then the real answers once raftd is there."""
    n = node_factory()
    n.start_role("dnsd")
    wait_until(lambda: query(n, "consul.", "SOA").rcode() == dns.rcode.NOERROR,
               timeout=10, what="dnsd to answer")
    assert query(n, "nope.service.consul.").rcode() == dns.rcode.SERVFAIL
    assert query(n, "example.com.").rcode() == dns.rcode.REFUSED
    n.start_roles(roles=("raftd", "httpd"))
    wait_until(lambda: a_records(query(n, "node1.node.consul.")) ==
               ["127.0.0.1"], timeout=15, what="the dev node in DNS")
    assert query(n, "nope.service.consul.").rcode() == dns.rcode.NXDOMAIN


def udp_burst(port, count, src="127.0.0.1", chunk=32):
    """Sends count SOA queries from src, waiting for the replies after
    every chunk of them (until 0.2 s pass without one: socket buffers
    stay below their size, so a lost reply is dnsd's choice); returns
    (answered, seconds from the first send to the last reply)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    ids = set()
    wires = []
    for i in range(count):
        q = dns.message.make_query("consul.", "SOA")
        q.id = i
        wires.append(q.to_wire())

    def drain(timeout):
        s.settimeout(timeout)
        try:
            while True:
                r = dns.message.from_wire(s.recv(65535))
                assert r.rcode() == dns.rcode.NOERROR
                ids.add(r.id)
                s.settimeout(timeout)
        except (socket.timeout, BlockingIOError):
            pass
        return time.monotonic()

    t0 = time.monotonic()
    last = t0
    for i, w in enumerate(wires):
        s.sendto(w, ("127.0.0.1", port))
        if i % chunk == chunk - 1:
            n = len(ids)
            t = drain(0.2)
            last = t if len(ids) > n else last
    n = len(ids)
    t = drain(1.0)
    if len(ids) > n:
        last = t - 1.0
    s.close()
    return len(ids), last - t0


def test_rate_limit_per_source(node_factory):
    """dns_config.x_cairn_rate_limit (cairn's own key): a UDP burst from
    one source network beyond the limit is dropped; another network and
    TCP from the limited one are answered; the source recovers."""
    n = start_dns_node(node_factory, config={
        "dns_config": {"x_cairn_rate_limit": 20, "x_cairn_rate_burst": 20}})
    port = n.ports["dns"]
    wait_until(lambda: "UDP rate limit 20 queries/s" in n.log("dnsd"),
               timeout=10, what="the rate limit in dnsd's log")
    time.sleep(1.1)  # start_dns_node's queries spent tokens: refill the bucket
    answered, secs = udp_burst(port, 200)
    assert answered >= 15, answered
    assert answered <= 20 + 20 * secs + 2, (answered, secs)
    # another /24 has its own bucket; TCP is not limited
    other, _ = udp_burst(port, 10, src="127.0.1.7")
    assert other == 10
    assert query(n, "consul.", "SOA", tcp=True).rcode() == dns.rcode.NOERROR
    # a rate, not a ban: the limited source is answered again
    wait_until(lambda: udp_burst(port, 1)[0] == 1, timeout=10,
               what="the limited source answered again")


def test_rate_limit_default_off_and_bad_value(node_factory):
    """Without the key nothing is limited (Consul has no DNS rate limit);
    a value that is not a count is refused by the configuration check."""
    n = start_dns_node(node_factory)
    answered, _ = udp_burst(n.ports["dns"], 300)
    assert answered == 300
    assert "rate limit" not in n.log("dnsd")
    bad = os.path.join(n.dir, "bad.json")
    with open(bad, "w") as f:
        json.dump({"dns_config": {"x_cairn_rate_limit": "fast"}}, f)
    dnsd = os.path.join(os.environ.get("CAIRN_BUILD", os.path.join(
        os.path.dirname(__file__), "..", "..", "build")), "dnsd")
    r = subprocess.run([dnsd, "-n", "-config-file", bad] + n.flags(),
                       capture_output=True, timeout=10)
    assert r.returncode == 2
    assert b"x_cairn_rate_limit" in r.stderr


def test_cached_answers_shuffle_and_follow_the_catalog(node_factory):
    """dnsd reuses complete service answers (dns_cache.c): repeated EDNS
    queries still come back in shuffled orders, with all instances and
    their SRV targets' addresses, and a health change shows at once in
    the answers that were cached before it."""
    n = start_dns_node(node_factory)
    for i in range(5):
        register(n, f"c-{i}", f"10.6.0.{i + 1}", svc="cweb", status="passing",
                 port=9000 + i)
    all5 = [f"10.6.0.{i + 1}" for i in range(5)]
    wait_until(lambda: a_records(query(n, "cweb.service.consul.")) == all5,
               timeout=10, what="five cweb instances")
    orders, firsts = set(), set()
    for _ in range(60):
        r = query(n, "cweb.service.consul.")
        got = [rd.address for rr in r.answer for rd in rr]
        assert sorted(got) == all5
        orders.add(tuple(got))
        s = query(n, "cweb.service.consul.", "SRV")
        ports = [rd.port for rr in s.answer for rd in rr]
        assert sorted(ports) == [9000 + i for i in range(5)]
        firsts.add(ports[0])
        assert sorted(rd.address for rr in s.additional
                      if rr.rdtype == dns.rdatatype.A for rd in rr) == all5
    assert len(orders) >= 10, orders
    assert len(firsts) == 5, firsts
    register(n, "c-2", "10.6.0.3", svc="cweb", status="critical", port=9002)
    want = [a for a in all5 if a != "10.6.0.3"]
    wait_until(lambda: a_records(query(n, "cweb.service.consul.")) == want,
               timeout=10, what="c-2 out of the answers")
    for _ in range(20):
        assert a_records(query(n, "cweb.service.consul.")) == want
        s = query(n, "cweb.service.consul.", "SRV")
        assert sorted(rd.port for rr in s.answer for rd in rr) == \
            [9000, 9001, 9003, 9004]
