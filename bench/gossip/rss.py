#!/usr/bin/python3
"""
bench/gossip/rss.py [N] — gossipd's RSS in a cluster of N real members:
N gossipd processes on 127.0.0.1 (one server, N-1 clients; httpd only on
the first, to read the member list) join by -retry-join to the first;
once the first sees N alive and a minute has passed for the join storm to
drain, prints the RSS of every gossipd (min, median, max). Needs about
5 MB of memory per member. Stops what it starts by PID.
Environment: GOSSIPD=<path> runs that gossipd binary instead of
build/gossipd (for before/after runs of copies; the file must be named
gossipd); SMAPS=1 also prints the median member's mappings by RSS.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from converge import BUILD, rss_kb, statuses  # noqa: E402
import converge  # noqa: E402

_used = set()
GOSSIPD = os.environ.get("GOSSIPD", os.path.join(BUILD, "gossipd"))


def free_port():
    """converge.free_port, never the same port twice in one run."""
    while True:
        p = converge.free_port()
        if p not in _used:
            _used.add(p)
            return p


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    settle = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    top = tempfile.mkdtemp(prefix="cairn-gossip-rss-")
    procs = []
    try:
        seed = free_port()
        http = free_port()
        t0 = time.monotonic()
        for i in range(n):
            d = os.path.join(top, f"m{i}")
            os.makedirs(d)
            lan = seed if i == 0 else free_port()
            flags = ["-node", f"m{i}", "-data-dir", d,
                     "-bind", "127.0.0.1", "-advertise", "127.0.0.1",
                     "-retry-interval", "1s",
                     "-retry-join", f"127.0.0.1:{seed}",
                     "-http-port", str(http if i == 0 else free_port()),
                     "-dns-port", "-1", "-server-port", str(free_port()),
                     "-serf-lan-port", str(lan), "-serf-wan-port", "-1",
                     "-log-level", "warn"]
            log = open(os.path.join(d, "log"), "ab")
            procs.append(subprocess.Popen(
                [GOSSIPD] + flags,
                stdout=log, stderr=log))
            if i == 0:
                procs.append(subprocess.Popen(
                    [os.path.join(BUILD, "httpd")] + flags,
                    stdout=log, stderr=log))
        while list(statuses(http).values()).count(1) < n:
            if time.monotonic() - t0 > 600:
                raise SystemExit("only %d of %d alive after 600 s" % (
                    list(statuses(http).values()).count(1), n))
            time.sleep(1)
        conv = time.monotonic() - t0
        time.sleep(settle)
        alive = list(statuses(http).values()).count(1)
        rss = sorted(rss_kb(p.pid) for p in procs
                     if os.path.basename(p.args[0]) == "gossipd")
        anon = []
        for p in procs:
            if os.path.basename(p.args[0]) != "gossipd":
                continue
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        anon.append(int(line.split()[1]))
        anon.sort()
        if os.environ.get("SMAPS"):
            mid = [p for p in procs
                   if os.path.basename(p.args[0]) == "gossipd"][n // 2]
            subprocess.run(["sh", "-c", "awk '/^[0-9a-f]+-/{name=$6} "
                            "/^Rss:/{r[name]+=$2} END{for(k in r) "
                            "if (r[k]>50) print r[k], k}' "
                            f"/proc/{mid.pid}/smaps | sort -rn | head -12; "
                            f"grep Threads /proc/{mid.pid}/status"])
        print(f"n={n}: all alive at the first member {conv:.0f} s after "
              f"the first start; {settle:.0f} s later {alive} alive; "
              f"gossipd RSS min {rss[0] / 1024:.2f} MB, median "
              f"{rss[len(rss) // 2] / 1024:.2f} MB, max "
              f"{rss[-1] / 1024:.2f} MB (private: median "
              f"{anon[len(anon) // 2] / 1024:.2f} MB)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
