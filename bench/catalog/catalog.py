#!/usr/bin/python3
"""
bench/catalog/catalog.py URL — the catalog and health figures of issue 5
against a running agent (bench/catalog/run.sh starts one):

  register   N services through /v1/catalog/register and through
             /v1/agent/service/register (checkd, written to the catalog
             before the reply) from C concurrent keep-alive clients;
  watchers   W concurrent blocking watchers on /v1/health/service/watched
             (?index=, wait 5m), woken by one check change: time from
             the change until every watcher has its whole answer, and
             httpd's RSS while it holds them; then every watcher
             re-blocks as Consul clients do (on its kept-alive
             connection, or a new one when the answer said
             "Connection: close") and a second change wakes them: RSS
             after the re-block and the second wake time;
  checks     K HTTP checks at a 10 s interval on the agent against a
             local responder: checkd's CPU (% of one core) and RSS over
             a 30 s window.

Prints one line per figure. Raw sockets (asyncio), so the client is not
the bottleneck at 10,000 connections; stops what it starts.
"""
import asyncio
import json
import os
import sys
import time
import urllib.parse

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:18500"
HOST = urllib.parse.urlparse(URL).hostname
PORT = urllib.parse.urlparse(URL).port
CLK = os.sysconf("SC_CLK_TCK")


def pid_of(comm):
    agent = int(os.environ["AGENT_PID"])
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if name == comm and ppid == agent:
            return int(p)
    raise SystemExit(f"no {comm} under the agent")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    v = st[st.rindex(")") + 2:].split()
    return (int(v[11]) + int(v[12])) / CLK


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    async def open(self):
        self.r, self.w = await asyncio.open_connection(HOST, PORT)
        return self

    async def send(self, method, path, body=b""):
        self.w.write(f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        await self.w.drain()

    async def recv(self):
        head = await self.r.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        body = await self.r.readexactly(int(hdrs.get("content-length", 0)))
        return status, hdrs, body

    async def call(self, method, path, body=b""):
        await self.send(method, path, body)
        return await self.recv()

    def close(self):
        self.w.close()


async def run_clients(n_clients, reqs):
    """Runs the (method, path, body) list over n_clients connections;
    returns (seconds, errors)."""
    it = iter(reqs)
    errors = 0

    async def client():
        nonlocal errors
        c = await Conn().open()
        for m, p, b in it:
            st, _, body = await c.call(m, p, b)
            if st != 200 or body.strip() not in (b"true", b""):
                errors += 1
        c.close()
    t0 = time.monotonic()
    await asyncio.gather(*(client() for _ in range(n_clients)))
    return time.monotonic() - t0, errors


def catalog_reg(node, svc, status="passing", addr="10.1.0.1"):
    return json.dumps({
        "Node": node, "Address": addr,
        "Service": {"Service": svc, "Port": 8080, "Tags": ["v1"]},
        "Check": {"CheckID": f"{svc}-chk", "Name": f"{svc} check",
                  "Status": status, "ServiceID": svc}}).encode()


async def bench_register(n, conns):
    reqs = [("PUT", "/v1/catalog/register", catalog_reg(f"reg-{i}", "reg"))
            for i in range(n)]
    dt, err = await run_clients(conns, reqs)
    print(f"register  /v1/catalog/register: {n} services, {conns} clients: "
          f"{n / dt:.0f}/s ({err} errors)")
    reqs = [("PUT", "/v1/agent/service/register", json.dumps(
        {"Name": "agentreg", "ID": f"agentreg-{i}", "Port": 9000 + i % 1000,
         "Check": {"TTL": "10m", "Status": "passing"}}).encode())
        for i in range(n)]
    dt, err = await run_clients(conns, reqs)
    print(f"register  /v1/agent/service/register: {n} services, {conns} "
          f"clients: {n / dt:.0f}/s ({err} errors)")


async def bench_watchers(w):
    c = await Conn().open()
    for i in range(3):
        st, _, _ = await c.call("PUT", "/v1/catalog/register",
                                catalog_reg(f"watched-{i}", "watched"))
        assert st == 200
    st, h, _ = await c.call("GET", "/v1/health/service/watched")
    idx = h["x-consul-index"]
    httpd = pid_of("httpd")
    rss0 = rss_mb(httpd)
    conns = []
    for i in range(0, w, 500):
        conns += await asyncio.gather(*(Conn().open()
                                        for _ in range(min(500, w - i))))
    path = f"/v1/health/service/watched?index={idx}&wait=5m"
    await asyncio.gather(*(x.send("GET", path) for x in conns))
    await asyncio.sleep(3)  # let httpd take every request in
    rss1 = rss_mb(httpd)
    recvs = [asyncio.ensure_future(x.recv()) for x in conns]
    await asyncio.sleep(0.5)
    early = sum(1 for f in recvs if f.done())
    cpu0, me0 = cpu_s(httpd), time.process_time()
    t0 = time.monotonic()
    st, _, _ = await c.call("PUT", "/v1/catalog/register",
                            catalog_reg("watched-0", "watched", "critical"))
    assert st == 200
    t_ack = time.monotonic() - t0
    done = await asyncio.gather(*recvs)
    dt = time.monotonic() - t0
    cpu1, me1 = cpu_s(httpd) - cpu0, time.process_time() - me0
    ok = sum(1 for s, hh, _ in done if s == 200 and hh["x-consul-index"] != idx)
    # MHD zeroes a keep-alive connection's whole pool after each answer:
    # woken connections kept alive hold every pool page; above 512
    # connections httpd closes them instead (httpd/server.c).
    rss2 = rss_mb(httpd)
    print(f"watchers  {w} blocking /v1/health/service/watched: all answered "
          f"{dt * 1000:.0f} ms after the change (write acked in "
          f"{t_ack * 1000:.0f} ms, httpd CPU {cpu1 * 1000:.0f} ms, this "
          f"client's CPU {me1 * 1000:.0f} ms); "
          f"{ok} woken with a new index, {early} "
          f"answered before the change; httpd RSS {rss0:.1f} MB idle, "
          f"{rss1:.1f} MB holding them, {rss2:.1f} MB after the wake "
          f"(connections still open)")
    # Re-block as clients do: same connection unless told to close.
    reopen = [hh.get("connection", "").lower() == "close"
              for _, hh, _ in done]
    for i, x in enumerate(conns):
        if reopen[i]:
            x.close()
    t_re = time.monotonic()
    fresh = iter(await asyncio.gather(*(Conn().open() for r in reopen if r)))
    conns = [next(fresh) if r else x for x, r in zip(conns, reopen)]
    t_re = time.monotonic() - t_re
    def query(hh):
        return (f"/v1/health/service/watched?index={hh['x-consul-index']}"
                "&wait=5m")
    await asyncio.gather(*(x.send("GET", query(hh))
                           for x, (_, hh, _) in zip(conns, done)))
    await asyncio.sleep(3)
    rss3 = rss_mb(httpd)
    idled = 0

    async def rewait(i, hh):
        nonlocal idled
        try:
            return await conns[i].recv()
        except (asyncio.IncompleteReadError, ConnectionError):
            # kept alive but idle past httpd's 30 s timeout before the
            # re-block (only when the first wake took ~30 s): once more
            idled += 1
            conns[i].close()
            conns[i] = await Conn().open()
            return await conns[i].call("GET", query(hh))
    recvs = [asyncio.ensure_future(rewait(i, hh))
             for i, (_, hh, _) in enumerate(done)]
    await asyncio.sleep(0.5)
    early = sum(1 for f in recvs if f.done())
    c.close()  # idle for a while: httpd may have timed it out (30 s)
    c = await Conn().open()
    cpu0 = cpu_s(httpd)
    t0 = time.monotonic()
    st, _, _ = await c.call("PUT", "/v1/catalog/register",
                            catalog_reg("watched-0", "watched", "passing"))
    assert st == 200
    done2 = await asyncio.gather(*recvs)
    dt2 = time.monotonic() - t0
    cpu2 = cpu_s(httpd) - cpu0
    ok2 = sum(1 for (s, hh, _), (_, h1, _) in zip(done2, done)
              if s == 200 and hh["x-consul-index"] != h1["x-consul-index"])
    rss4 = rss_mb(httpd)
    print(f"watchers  re-blocked ({sum(reopen)} on a new connection, "
          f"reconnected in {t_re * 1000:.0f} ms): httpd RSS {rss3:.1f} MB "
          f"holding them again; second change: all answered "
          f"{dt2 * 1000:.0f} ms after it (httpd CPU {cpu2 * 1000:.0f} ms), "
          f"{ok2} woken with a new index, "
          f"{early} early, {idled} re-sent after httpd's idle timeout; "
          f"httpd RSS {rss4:.1f} MB after it")
    for x in conns:
        x.close()
    c.close()


async def responder(counter):
    async def serve(r, w):
        try:
            while True:
                await r.readuntil(b"\r\n\r\n")
                counter[0] += 1
                w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()
    return await asyncio.start_server(serve, "127.0.0.1", 0, backlog=4096)


async def bench_checks(k, conns):
    counter = [0]
    srv = await responder(counter)
    port = srv.sockets[0].getsockname()[1]
    reqs = [("PUT", "/v1/agent/service/register", json.dumps(
        {"Name": "checked", "ID": f"checked-{i}", "Port": port,
         "Check": {"HTTP": f"http://127.0.0.1:{port}/health/{i}",
                   "Interval": "10s", "Timeout": "5s"}}).encode())
        for i in range(k)]
    dt, err = await run_clients(16, reqs)
    print(f"checks    registered {k} HTTP checks (10 s interval) in "
          f"{dt:.1f} s ({err} errors)")
    checkd = pid_of("checkd")
    await asyncio.sleep(12)  # every check has run once
    c0, n0, t0 = cpu_s(checkd), counter[0], time.monotonic()
    await asyncio.sleep(30)
    c1, n1, t1 = cpu_s(checkd), counter[0], time.monotonic()
    print(f"checks    {k} HTTP checks at 10 s: checkd CPU "
          f"{100 * (c1 - c0) / (t1 - t0):.1f} % of one core, RSS "
          f"{rss_mb(checkd):.1f} MB; {(n1 - n0) / (t1 - t0):.0f} checks/s "
          f"served (expected {k / 10:.0f}/s)")
    srv.close()


async def main():
    what = sys.argv[2:] or ["register", "watchers", "checks"]
    if "register" in what:
        await bench_register(int(os.environ.get("REG_N", 5000)),
                             int(os.environ.get("REG_C", 16)))
    if "watchers" in what:
        await bench_watchers(int(os.environ.get("WATCHERS", 10000)))
    if "checks" in what:
        await bench_checks(int(os.environ.get("CHECKS", 5000)), 16)


asyncio.run(main())
