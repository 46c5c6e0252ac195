#!/bin/sh
# bench/kv_single/cpu.sh: CPU time and context switches per KV GET in
# httpd and raftd, against a dev agent, driven by wrk. Throughput swings by
# 2x on a shared machine; CPU per request and thread switches per request
# barely move, so A/B runs of an optimisation compare these.
#
# usage: bench/kv_single/cpu.sh [conns] [seconds] [runs]  (default 16 5 3)
# Environment: B=<dir> runs the binaries in <dir> (default build); OP=PUT
# measures PUTs of new keys (bench/kv_single/put.lua) instead of GETs, and
# then also prints wrk's p50 latency.
# Not part of `make check`.
set -eu
cd "$(dirname "$0")/../.."
CONNS=${1:-16}
DUR=${2:-5}
RUNS=${3:-3}
B=${B:-build}
OP=${OP:-GET}
[ -x $B/cairn ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: make deps" >&2; exit 1; }
T=$(mktemp -d /tmp/cairn-bench.XXXXXX)
PORT=18520
echo '{"limits": {"http_max_conns_per_client": 1024}}' >"$T/bench.json"
$B/cairn agent -dev -node bench -data-dir "$T/data" -http-port $PORT \
	-config-file "$T/bench.json" \
	-dns-port 18620 -server-port 18320 -serf-lan-port 18321 \
	-serf-wan-port 18322 -log-level warn >"$T/agent.log" 2>&1 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rm -rf "$T"' EXIT INT TERM
URL=http://127.0.0.1:$PORT
i=0
until curl -sf -X PUT --data-binary value-0123456789 $URL/v1/kv/bench/get \
    >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/agent.log"; exit 1; }
	sleep 0.1
done
H= R=
for pid in $(ps -o pid= --ppid $AGENT); do
	case $(cat /proc/$pid/comm) in
	httpd) H=$pid ;;
	raftd) R=$pid ;;
	esac
done
[ -n "$H" ] && [ -n "$R" ] || { echo "httpd/raftd not found" >&2; exit 1; }
# utime+stime in clock ticks; voluntary+involuntary switches of all threads
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
csw() { cat /proc/$1/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }
HZ=$(getconf CLK_TCK)
SCRIPT=
if [ "$OP" = PUT ]; then
	SCRIPT="-s $T/put.lua"
	cat bench/kv_single/put.lua bench/kv_single/done.lua >"$T/put.lua"
	URLP=$URL
else
	URLP=$URL/v1/kv/bench/get
fi
printf '%-4s %-5s %9s %12s %12s %12s %12s %8s\n' op conns req/s \
	httpd_us/req httpd_csw/req raftd_us/req raftd_csw/req p50_us
r=0
while [ $r -lt $RUNS ]; do
	r=$((r + 1))
	h0=$(cpu $H); r0=$(cpu $R); hc0=$(csw $H); rc0=$(csw $R)
	t=2; [ "$CONNS" -eq 1 ] && t=1
	out=$(wrk -t$t -c$CONNS -d${DUR}s $SCRIPT $URLP)
	h1=$(cpu $H); r1=$(cpu $R); hc1=$(csw $H); rc1=$(csw $R)
	echo "$out" | awk -v hz=$HZ -v op=$OP -v c=$CONNS -v h=$((h1 - h0)) \
	    -v rt=$((r1 - r0)) -v hc=$((hc1 - hc0)) -v rc=$((rc1 - rc0)) '
		/requests in/ { n = $1 }
		/Non-2xx/ { bad = $NF }
		/Requests\/sec/ { rps = $2 }
		/^RESULT/ { split($3, a, "="); p50 = a[2] }
		END {
			if (n == 0 || bad > 0) { print "wrk: no or failed requests"; exit 1 }
			printf "%-4s %-5s %9.0f %12.1f %12.2f %12.1f %12.2f %8s\n", op,
			    c, rps, h * 1e6 / hz / n, hc / n, rt * 1e6 / hz / n, rc / n,
			    p50 == "" ? "-" : p50
		}'
done
