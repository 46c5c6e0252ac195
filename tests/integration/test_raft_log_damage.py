"""
A damaged Raft log is refused, never served (issue 4, item 2; the
fault-testing matrix's bit-flip row): raftd keeps its log in
<data-dir>/raft/raftlog/<seq>.seg (raftd/raftlog.h gives the record
format). With raftd stopped, one byte flipped inside an early record, with
acknowledged records after it, makes raftd exit at start with a message
naming the segment file, and httpd answers with a 5xx rather than stale
or partial data; with the byte restored raftd starts and every
acknowledged key reads back. A damaged server of a 3-server cluster stays
down while the other two keep taking writes.
"""
import glob
import os
import signal
import struct

from conftest import start_servers, stop_nodes, one_leader, wait_until

SEG_HDR = 32
REC_HDR = 25


def segments(node):
    return sorted(glob.glob(os.path.join(node.data_dir, "raft", "raftlog", "*.seg")))


def record_offsets(path):
    """(offset, index) of every record of a segment, from the format."""
    with open(path, "rb") as f:
        buf = f.read()
    out, p = [], SEG_HDR
    while p + REC_HDR <= len(buf) and buf[p:p + REC_HDR] != bytes(REC_HDR):
        length, _crc, index = struct.unpack_from("<IIQ", buf, p)
        out.append((p, index))
        p += REC_HDR + length
    return out


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0xFF]))


def put_keys(node, prefix, n):
    for i in range(n):
        r = node.put(f"/v1/kv/{prefix}/{i}", data=f"v{i}")
        assert r.status_code == 200 and r.json() is True, r.text


def test_flipped_byte_refused_then_restored(node_factory):
    n = node_factory(name="dmg1").start_roles()
    put_keys(n, "d", 200)
    n.kill("raftd", signal.SIGTERM)
    segs = segments(n)
    assert segs, "no raftlog segment"
    recs = record_offsets(segs[-1])
    assert len(recs) > 150, recs[-3:]
    off = recs[len(recs) // 2][0] + REC_HDR  # the first byte of the data
    flip(segs[-1], off)

    p = n.start_role("raftd")
    assert p.wait(timeout=30) != 0
    log = n.log("raftd")
    assert "refused" in log and os.path.basename(segs[-1]) in log, log[-2000:]
    assert "damaged record" in log, log[-2000:]
    # nothing is served from a refused store
    r = n.get("/v1/kv/d/0", timeout=10)
    assert r.status_code >= 500, (r.status_code, r.text)

    flip(segs[-1], off)  # restored: the same log opens whole
    n.start_role("raftd")
    n.wait_ready(timeout=30)
    r = n.get("/v1/kv/d/?recurse")
    assert r.status_code == 200
    assert len(r.json()) == 200
    assert n.get("/v1/kv/d/199?raw").text == "v199"


def test_damaged_server_stays_out_cluster_goes_on(node_factory):
    nodes = start_servers(node_factory, 3, "dmgc")
    try:
        addr = wait_until(lambda: one_leader(nodes), timeout=40,
                          interval=0.2, what="one leader")
        lead = next(x for x in nodes
                    if addr == "127.0.0.1:%d" % x.ports["server"])
        put_keys(lead, "c", 50)
        victim = next(x for x in nodes if x is not lead)
        wait_until(lambda: victim.get("/v1/kv/c/49?stale&raw", timeout=3).text == "v49",
                   timeout=15, what="replicated to the victim")
        victim.stop()
        seg = segments(victim)[-1]
        recs = record_offsets(seg)
        assert len(recs) > 20
        flip(seg, recs[5][0] + 8)  # the index field of an early record
        victim.procs.clear()
        victim.logs.clear()
        victim.http = type(victim.http)()
        victim.start_agent(wait=False)
        # the agent restarts raftd, which refuses the store every time
        wait_until(lambda: "damaged record" in victim.log("agent"), timeout=30,
                   what="raftd refusing the damaged log")
        put_keys(lead, "after", 20)
        r = lead.get("/v1/kv/after/19?consistent&raw")
        assert r.status_code == 200 and r.text == "v19"
    finally:
        stop_nodes(nodes)
