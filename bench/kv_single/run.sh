#!/bin/sh
# bench/kv_single: PUT and GET throughput and p50/p99 latency against a
# dev agent (one server, RocksDB with fsync on) at 1, 16, 64 and 256
# concurrent keep-alive clients, driven by wrk; plus idle RSS of each role
# and the cost of one fdatasync on this disk for scale.
#
# usage: bench/kv_single/run.sh [seconds-per-point]   (default 5)
# Environment: B=<dir> runs the binaries in <dir> (default build; for A/B
# runs against a saved copy), OPS="GET PUT" and CONNS="1 16 64 256" pick
# the points.
# Not part of `make check`. Prints a table; paste it into bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/../.."
DUR=${1:-5}
B=${B:-build}
OPS=${OPS:-GET PUT}
CONNS=${CONNS:-1 16 64 256}
[ -x $B/cairn ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: make deps" >&2; exit 1; }
T=$(mktemp -d /tmp/cairn-bench.XXXXXX)
PORT=18500
# Consul's default of 200 connections per client IP would refuse the
# 256-client point (every wrk connection comes from 127.0.0.1)
echo '{"limits": {"http_max_conns_per_client": 1024}}' >"$T/bench.json"
$B/cairn agent -dev -node bench -data-dir "$T/data" -http-port $PORT \
	-config-file "$T/bench.json" \
	-dns-port 18600 -server-port 18300 -serf-lan-port 18301 \
	-serf-wan-port 18302 -log-level warn >"$T/agent.log" 2>&1 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rm -rf "$T"' EXIT INT TERM
URL=http://127.0.0.1:$PORT
i=0
until curl -sf $URL/v1/status/leader | grep -q :; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/agent.log"; exit 1; }
	sleep 0.05
done
curl -sf -X PUT --data-binary value-0123456789 $URL/v1/kv/bench/get >/dev/null

rss() { awk '/VmRSS/ {print $2}' /proc/$1/status; }
echo "== idle RSS (KiB)"
for pid in $(ps -o pid= --ppid $AGENT); do
	printf '%-8s %s\n' "$(cat /proc/$pid/comm)" "$(rss $pid)"
done

echo "== fdatasync on this disk (for scale)"
/usr/bin/python3 - "$T/data" <<'PY'
import os, sys, time
# overwrite: the classic probe; append: a growing file, as a write-ahead
# log does (the size change makes ext4 commit its journal too), so it is
# what one synced PUT costs at least. Interleaved, so both see one load.
po = os.path.join(sys.argv[1], "fsync.probe")
pa = os.path.join(sys.argv[1], "fsync.append")
fo = os.open(po, os.O_WRONLY | os.O_CREAT, 0o600)
fa = os.open(pa, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
to, ta = [], []
for i in range(300):
    os.pwrite(fo, b"x" * 64, (i % 16) * 64)
    t0 = time.perf_counter_ns(); os.fdatasync(fo); to.append(time.perf_counter_ns() - t0)
    os.pwrite(fa, b"x" * 200, i * 200)
    t0 = time.perf_counter_ns(); os.fdatasync(fa); ta.append(time.perf_counter_ns() - t0)
for name, ts in (("fdatasync", to), ("fdatasync append", ta)):
    ts.sort()
    print(f"{name} p50 {ts[len(ts)//2]/1000:.0f} us, p99 {ts[int(len(ts)*0.99)]/1000:.0f} us")
os.unlink(pa)
PY

cat bench/kv_single/put.lua bench/kv_single/done.lua >"$T/put.lua"
cp bench/kv_single/done.lua "$T/get.lua"
echo "== wrk ${DUR}s per point"
printf '%-4s %-5s %10s %9s %9s %7s\n' op conns req/s p50_us p99_us errors
for op in $OPS; do
	for c in $CONNS; do
		t=2; [ $c -eq 1 ] && t=1
		if [ $op = GET ]; then
			out=$(wrk -t$t -c$c -d${DUR}s -s "$T/get.lua" $URL/v1/kv/bench/get)
		else
			out=$(wrk -t$t -c$c -d${DUR}s -s "$T/put.lua" $URL)
		fi
		echo "$out" | awk -v op=$op -v c=$c '/^RESULT/ {
			split($2,a,"="); split($3,b,"="); split($4,d,"="); split($5,e,"=");
			printf "%-4s %-5s %10s %9s %9s %7s\n", op, c, a[2], b[2], d[2], e[2] }'
	done
done
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r)"
