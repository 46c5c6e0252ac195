#!/usr/bin/python3
"""
bench/kv_cluster/cpu.py: where a replicated PUT goes. Starts the 3-server
cairn cluster of bench.py, runs wrk PUT with N clients on the leader and
prints, per request: CPU time and context switches of the leader's raftd
and httpd and of both followers' raftd, the switches per thread (nng,
writer, loop) of the leader and one follower, and with PSTAT=1 the
fdatasync/sendmsg/write/epoll_wait calls per request (perf stat), from
which the entries per group commit follow. PERF=L.raftd,F.raftd also
records perf profiles into /tmp/kvc_prof/<name>.data. STATS=1 prints the
leader's raft stats. Throughput swings with the machine's load; per-request
CPU, switches and syscalls barely move, so compare those.

usage: /usr/bin/python3 bench/kv_cluster/cpu.py [clients]   (64)
Environment: DUR=<s> (8), B=<dir> for the binaries (build),
SNAP_THRESHOLD=<n> sets raft_snapshot_threshold.
Not part of `make check`.
"""
import os, sys, time, subprocess, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DUR", "8")
import bench
conns = int(sys.argv[1]) if len(sys.argv) > 1 else 64
perf = os.environ.get("PERF")
tmp = tempfile.mkdtemp(prefix="kvcprof-")
OUT = "/tmp/kvc_prof"
os.makedirs(OUT, exist_ok=True)
c = bench.Cairn(tmp)
if os.environ.get("SNAP_THRESHOLD"):
    # raft_snapshot_threshold for the run (the default is 16384)
    import json
    with open(os.path.join(tmp, "cairn.json")) as f:
        conf = json.load(f)
    conf["raft_snapshot_threshold"] = int(os.environ["SNAP_THRESHOLD"])
    with open(os.path.join(tmp, "cairn.json"), "w") as f:
        json.dump(conf, f)
def ticks(pid):
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0
def csw(pid, per=None):
    t = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        for l in open("/proc/%d/task/%s/status" % (pid, tid)):
            if "ctxt_switches" in l:
                t += int(l.split()[1])
                if per is not None:
                    nm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
                    per[nm + "/" + l.split(":")[0]] = per.get(nm + "/" + l.split(":")[0], 0) + int(l.split()[1])
    return t
try:
    c.start()
    lead = bench.stable_leader(c)
    bench.wait_until(lambda: c.seed_get() is None, 30, "seed")
    fol = (lead + 1) % 3
    procs = {"L.raftd": c.nodes[lead]["procs"]["raftd"].pid,
             "L.httpd": c.nodes[lead]["procs"]["httpd"].pid,
             "F.raftd": c.nodes[fol]["procs"]["raftd"].pid,
             "F2.raftd": c.nodes[(lead + 2) % 3]["procs"]["raftd"].pid}
    url, script, env = c.wrk_put(lead)
    # warm
    t0 = {k: ticks(p) for k, p in procs.items()}
    s0 = {k: csw(p) for k, p in procs.items()}
    pl0 = {}; csw(procs["L.raftd"], pl0); pf0 = {}; csw(procs["F.raftd"], pf0)
    pp = []
    if perf:
        for k in perf.split(","):
            pp.append(subprocess.Popen(["perf", "record", "-g", "-o", OUT + "/%s.data" % k,
                "-p", str(procs[k]), "--", "sleep", str(int(os.environ["DUR"]) - 1)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    ps = []
    if os.environ.get("PSTAT"):
        for k in ("L.raftd", "F.raftd"):
            ps.append(subprocess.Popen(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvmsg,syscalls:sys_enter_write,syscalls:sys_enter_epoll_wait",
                "-o", OUT + "/%s.stat" % k, "-p", str(procs[k]), "--", "sleep", str(int(os.environ["DUR"]))],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    r = bench.wrk(url, script, conns, env, tmp)
    for p in ps: p.wait()
    for p in pp: p.wait()
    t1 = {k: ticks(p) for k, p in procs.items()}
    s1 = {k: csw(p) for k, p in procs.items()}
    pl1 = {}; csw(procs["L.raftd"], pl1); pf1 = {}; csw(procs["F.raftd"], pf1)
    n = float(r["rps"]) * int(os.environ["DUR"])
    print("PUT c=%d rps=%s p50=%s p99=%s err=%s load=%s" % (conns, r["rps"], r["p50_us"], r["p99_us"], r["errors"], open("/proc/loadavg").read().split()[:3]))
    for k in procs:
        print("  %-9s cpu_us/req=%.1f  csw/req=%.2f" % (k, (t1[k]-t0[k]) * 10000.0 / n, (s1[k]-s0[k]) / n))
    for nm in sorted(pl1): print("   L %-40s %.2f" % (nm, (pl1[nm]-pl0.get(nm,0))/n))
    for nm in sorted(pf1): print("   F %-40s %.2f" % (nm, (pf1[nm]-pf0.get(nm,0))/n))
    if ps:
        for k in ("L.raftd", "F.raftd"):
            for l in open(OUT + "/%s.stat" % k):
                if "," in l and not l.startswith("#"):
                    f = l.split(","); 
                    try: print("   %s %-40s %.3f/req" % (k, f[2], int(f[0]) / n))
                    except ValueError: pass
    if os.environ.get("STATS"):
        import requests
        print(requests.get(c.url(lead) + "/v1/agent/self").json()["Stats"]["raft"])
finally:
    bench.stop_all()
    import shutil; shutil.rmtree(tmp, ignore_errors=True)
