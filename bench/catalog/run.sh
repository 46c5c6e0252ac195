#!/bin/sh
# bench/catalog: issue 5's catalog and health figures against a dev agent
# (all five roles, RocksDB with fsync on):
#  - registration throughput (/v1/catalog/register and, through checkd,
#    /v1/agent/service/register) from 16 keep-alive clients;
#  - GET /v1/health/service/web?passing with 1,000 instances (wrk, 16
#    connections);
#  - 10,000 concurrent blocking watchers woken by one check change: time
#    until all have answered, httpd RSS while holding them;
#  - 5,000 HTTP checks at a 10 s interval: checkd CPU and RSS.
# usage: bench/catalog/run.sh [seconds for the wrk point]   (default 5)
# Environment: WATCHERS, CHECKS, REG_N override the counts; ONLY=watchers
# (or register, checks: catalog.py's parts) runs just those parts, without
# the 1,000-instance wrk point.
# Not part of `make check`. Prints lines to paste into bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/../.."
DUR=${1:-5}
[ -x build/cairn ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk missing: make deps" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
T=$(mktemp -d /tmp/cairn-bench-catalog.XXXXXX)
PORT=18510
echo '{"limits": {"http_max_conns_per_client": 100000}}' >"$T/bench.json"
build/cairn agent -dev -node bench -data-dir "$T/data" -http-port $PORT \
	-config-file "$T/bench.json" \
	-dns-port 18610 -server-port 18310 -serf-lan-port 18311 \
	-serf-wan-port 18312 -log-level warn >"$T/agent.log" 2>&1 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null; rm -rf "$T"' EXIT INT TERM
URL=http://127.0.0.1:$PORT
i=0
until curl -sf $URL/v1/status/leader | grep -q :; do
	i=$((i + 1)); [ $i -lt 200 ] || { cat "$T/agent.log"; exit 1; }
	sleep 0.05
done
if [ -n "${ONLY:-}" ]; then
	AGENT_PID=$AGENT /usr/bin/python3 bench/catalog/catalog.py $URL $ONLY
	echo "== load average $(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi
echo "== 1,000 instances of web"
/usr/bin/python3 - $URL <<'PY'
import json, sys, urllib.request
for i in range(1000):
    body = json.dumps({"Node": f"web-{i}", "Address": f"10.2.{i // 250}.{i % 250 + 1}",
                       "Service": {"Service": "web", "Port": 80, "Tags": ["v1"]},
                       "Check": {"CheckID": "web-chk", "Name": "web", "ServiceID": "web",
                                 "Status": "critical" if i % 10 == 0 else "passing"}}).encode()
    req = urllib.request.Request(sys.argv[1] + "/v1/catalog/register", data=body, method="PUT")
    assert urllib.request.urlopen(req).read().strip() == b"true"
PY
n=$(curl -sf "$URL/v1/health/service/web?passing" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "passing instances: $n of 1000"
cat >"$T/get.lua" <<'LUA'
done = function(summary, latency, requests)
	io.write(string.format("RESULT req/s=%.0f p50_us=%d p99_us=%d errors=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99),
		summary.errors.connect + summary.errors.read + summary.errors.write +
		summary.errors.status + summary.errors.timeout))
end
LUA
out=$(wrk -t2 -c16 -d${DUR}s -s "$T/get.lua" "$URL/v1/health/service/web?passing")
echo "health    GET /v1/health/service/web?passing (900 of 1,000 instances), 16 connections: $(echo "$out" | grep '^RESULT' | cut -d' ' -f2-)"
AGENT_PID=$AGENT /usr/bin/python3 bench/catalog/catalog.py $URL
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r)"
