#!/bin/sh
# bench/dns/run.sh — dnsd against NSD, side by side in one run, with
# dnsperf: web.service.consul A and SRV with 10 instances (10 nodes,
# passing checks, registered through /v1/catalog/register), and an NSD
# zone with the same records on another port (rrl-ratelimit: 0, one
# server process, non-daemon, its own config in a temp dir).
#
# For each server and query type: a throughput run (dnsperf, EDNS0 so both
# return all 10 records, unlimited rate with 100 queries in flight),
# giving qps, dnsperf's average latency and the server's CPU time per
# 100k queries (utime+stime from /proc); then a latency run at a fixed
# rate (LAT_QPS) with per-query latencies (dnsperf -v) for p50/p99.
# dnsd and NSD alternate for each query type, so both see the same load.
#
# Then, per query type, a throughput run against dnsd during which raftd
# is killed (-9) a third of the way in and started again half a second
# later (same flags and data): qps over the whole run, its lowest
# one-second qps (dnsperf -S 1) and the share of NOERROR answers, next to
# the steady run's qps, dnsd's CPU per 100k queries over the run and the
# restarted raftd's CPU (it competes for the same cores). dnsd answers
# from its view and never waits on raftd, so the run should look like the
# steady one.
#
# Needs: dnsperf, nsd (apt-get install dnsperf nsd), dig, curl.
# Not part of `make check`. Usage: bench/dns/run.sh [seconds]
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-10}
LAT_SECS=${LAT_SECS:-5}
LAT_QPS=${LAT_QPS:-20000}
BUILD=${CAIRN_BUILD:-$ROOT/build}
T=$(mktemp -d /tmp/cairn-dnsbench.XXXXXX)
PIDS=""

RAFTD_PID=""
cleanup() {
	for p in $RAFTD_PID $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $RAFTD_PID $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

for tool in dnsperf nsd dig curl; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
		echo "run.sh: $tool is missing (apt-get install dnsperf nsd dnsutils curl)" >&2
		exit 1
	}
done
NSD=$(command -v nsd || echo /usr/sbin/nsd)

if ! (cd "$ROOT" && make -s build/raftd build/httpd build/dnsd >"$T/make.log" 2>&1); then
	for b in raftd httpd dnsd; do
		[ -x "$BUILD/$b" ] || { cat "$T/make.log" >&2; exit 1; }
	done
	echo "run.sh: build failed, using the binaries already in $BUILD" >&2
fi

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP=$(port); DNS=$(port); NSDPORT=$(port); SRV=$(port); LAN=$(port); WAN=$(port)
FLAGS="-dev -node bench1 -data-dir $T/data -http-port $HTTP -dns-port $DNS \
 -server-port $SRV -serf-lan-port $LAN -serf-wan-port $WAN -log-level warn"

"$BUILD/raftd" $FLAGS >"$T/raftd.log" 2>&1 & RAFTD_PID=$!
"$BUILD/httpd" $FLAGS >"$T/httpd.log" 2>&1 & PIDS="$PIDS $!"
"$BUILD/dnsd" $FLAGS >"$T/dnsd.log" 2>&1 & DNSD_PID=$!; PIDS="$PIDS $!"

i=0
until curl -sf "http://127.0.0.1:$HTTP/v1/status/leader" | grep -q ':'; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "no leader" >&2; exit 1; }
	sleep 0.05
done

# 10 instances of web on 10 nodes, each with a passing check
ZONE_A="" ZONE_SRV="" ZONE_GLUE=""
for n in 1 2 3 4 5 6 7 8 9 10; do
	curl -sf -X PUT "http://127.0.0.1:$HTTP/v1/catalog/register" -d "{
	  \"Node\": \"web-$n\", \"Address\": \"10.9.0.$n\",
	  \"Service\": {\"Service\": \"web\", \"ID\": \"web\", \"Port\": 80},
	  \"Check\": {\"CheckID\": \"web-ok\", \"Name\": \"ok\",
	              \"Status\": \"passing\", \"ServiceID\": \"web\"}}" >/dev/null
	ZONE_A="$ZONE_A
web.service.consul. 0 IN A 10.9.0.$n"
	ZONE_SRV="$ZONE_SRV
web.service.consul. 0 IN SRV 1 1 80 web-$n.node.dc1.consul."
	ZONE_GLUE="$ZONE_GLUE
web-$n.node.dc1.consul. 0 IN A 10.9.0.$n"
done
i=0
until [ "$(dig @127.0.0.1 -p "$DNS" web.service.consul A +short | wc -l)" -eq 10 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "dnsd: web not at 10" >&2; exit 1; }
	sleep 0.05
done

# NSD with the same records
mkdir -p "$T/nsd"
cat >"$T/nsd/consul.zone" <<ZONE
\$ORIGIN consul.
\$TTL 0
@ IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0
@ IN NS ns.consul.
ns IN A 127.0.0.1
$ZONE_A
$ZONE_SRV
$ZONE_GLUE
ZONE
cat >"$T/nsd/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1
	port: $NSDPORT
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$T/nsd"
	database: ""
	zonelistfile: "$T/nsd/zone.list"
	xfrdfile: "$T/nsd/xfrd.state"
	xfrdir: "$T/nsd"
	pidfile: "$T/nsd/nsd.pid"
	logfile: "$T/nsd/nsd.log"
	rrl-ratelimit: 0
	refuse-any: no
	verbosity: 0
remote-control:
	control-enable: no
zone:
	name: consul.
	zonefile: consul.zone
CONF
"$NSD" -d -c "$T/nsd/nsd.conf" >"$T/nsd/out.log" 2>&1 & NSD_PID=$!; PIDS="$PIDS $!"
i=0
until [ "$(dig @127.0.0.1 -p "$NSDPORT" web.service.consul A +short 2>/dev/null | wc -l)" -eq 10 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "nsd did not start:" >&2; cat "$T/nsd/out.log" "$T/nsd/nsd.log" >&2; exit 1; }
	sleep 0.05
done
# nsd -d is xfrd, which forks main, which forks the server: count them all
desc() { for c in $(pgrep -P "$1"); do echo "$c"; desc "$c"; done; }
NSD_PIDS() { echo "$NSD_PID $(desc "$NSD_PID" | tr '\n' ' ')"; }

cputicks() { # sum of utime+stime of the given pids, in clock ticks
	t=0
	for p in "$@"; do
		# fields 14, 15 of stat; comm may hold spaces ("nsd: server 1")
		s=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f12,13)
		[ -n "$s" ] || s="0 0"
		t=$((t + ${s% *} + ${s#* }))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)

echo "web.service.consul A" >"$T/q.A"
echo "web.service.consul SRV" >"$T/q.SRV"

printf "%-6s %-4s %10s %12s %10s %10s %14s\n" server type qps "avg lat ms" "p50 ms" "p99 ms" "CPU ms/100k q"
for qt in A SRV; do
	for srv in dnsd nsd; do
		if [ $srv = dnsd ]; then p=$DNS; pids=$DNSD_PID; else p=$NSDPORT; pids=$(NSD_PIDS); fi
		c0=$(cputicks $pids)
		dnsperf -s 127.0.0.1 -p "$p" -d "$T/q.$qt" -e -l "$SECS" -q 100 -c 4 >"$T/perf.$srv.$qt" 2>&1
		c1=$(cputicks $pids)
		qps=$(awk '/Queries per second/ {print $4}' "$T/perf.$srv.$qt")
		done_q=$(awk '/Queries completed/ {print $3}' "$T/perf.$srv.$qt")
		avg=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000}' "$T/perf.$srv.$qt")
		lost=$(awk '/Queries lost/ {print $3}' "$T/perf.$srv.$qt")
		cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v q="$done_q" \
		    'BEGIN { if (q > 0) printf "%.1f", t * 1000 / hz / q * 100000; else print "-" }')
		# latency at a fixed rate, one line per query (-v)
		dnsperf -s 127.0.0.1 -p "$p" -d "$T/q.$qt" -e -l "$LAT_SECS" -Q "$LAT_QPS" -v 2>/dev/null |
		    awk '$1 == ">" && $2 == "NOERROR" { print $NF * 1000 }' | sort -n >"$T/lat.$srv.$qt"
		n=$(wc -l <"$T/lat.$srv.$qt")
		p50=$(awk -v n="$n" 'NR == int(n * 0.50) + 1 { printf "%.3f", $1 }' "$T/lat.$srv.$qt")
		p99=$(awk -v n="$n" 'NR == int(n * 0.99) + 1 { printf "%.3f", $1 }' "$T/lat.$srv.$qt")
		printf "%-6s %-4s %10s %12s %10s %10s %14s   (lost %s)\n" $srv "$qt" "$qps" "$avg" "${p50:--}" "${p99:--}" "$cpu" "$lost"
		eval "QPS_${srv}_$qt=\$qps"
	done
done
echo "(throughput: ${SECS}s, 4 clients, 100 in flight, EDNS0; latency: ${LAT_SECS}s at $LAT_QPS qps; $(nproc) cores)"

# dnsd while raftd is killed and restarted
RSECS=$((SECS > 9 ? SECS : 9))
echo
printf "%-4s %12s %12s %16s %10s %8s %14s %14s   %s\n" type "steady qps" "restart qps" "lowest 1 s qps" NOERROR lost "CPU ms/100k q" "raftd CPU ms" "qps per second"
for qt in A SRV; do
	c0=$(cputicks "$DNSD_PID")
	dnsperf -s 127.0.0.1 -p "$DNS" -d "$T/q.$qt" -e -l "$RSECS" -q 100 -c 4 -S 1 \
	    >"$T/restart.$qt" 2>&1 & PERF=$!
	sleep $((RSECS / 3))
	kill -9 "$RAFTD_PID"
	wait "$RAFTD_PID" 2>/dev/null || true
	sleep 0.5
	"$BUILD/raftd" $FLAGS >>"$T/raftd.log" 2>&1 & RAFTD_PID=$!
	wait "$PERF" || true
	c1=$(cputicks "$DNSD_PID")
	rcpu=$(($(cputicks "$RAFTD_PID") * 1000 / HZ))
	i=0
	until curl -sf "http://127.0.0.1:$HTTP/v1/status/leader" | grep -q ':'; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "raftd did not come back" >&2; exit 1; }
		sleep 0.05
	done
	f="$T/restart.$qt"
	qps=$(awk '/Queries per second/ {printf "%.0f", $4}' "$f")
	lost=$(awk '/Queries lost/ {print $3}' "$f")
	noerr=$(awk '/Response codes/ { for (i = 1; i <= NF; i++) if ($i == "NOERROR") { v = $(i + 2); gsub(/[(),]/, "", v); print v } }' "$f")
	# dnsperf's first -S line covers its start-up (sometimes ~0 qps):
	# skip it; raftd is killed well after it
	series=$(awk '/^[0-9.]+: [0-9.]+$/ { if (seen++) printf "%.0f ", $2 }' "$f")
	low=$(echo "$series" | tr ' ' '\n' | grep . | sort -n | head -1)
	eval "steady=\$QPS_dnsd_$qt"
	done_q=$(awk '/Queries completed/ {print $3}' "$f")
	cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v q="$done_q" \
	    'BEGIN { if (q > 0) printf "%.1f", t * 1000 / hz / q * 100000; else print "-" }')
	printf "%-4s %12.0f %12s %16s %10s %8s %14s %14s   %s\n" "$qt" "$steady" "$qps" "${low:--}" "${noerr:--}" "$lost" "$cpu" "$rcpu" "$series"
	[ "$(dig @127.0.0.1 -p "$DNS" web.service.consul "$qt" +short | wc -l)" -eq 10 ] ||
	    echo "dnsd: web no longer has 10 $qt records after the restart" >&2
done
echo "(raftd killed -9 at $((RSECS / 3)) s of ${RSECS} s and restarted 0.5 s later)"
kill "$RAFTD_PID" 2>/dev/null || true
wait "$RAFTD_PID" 2>/dev/null || true
RAFTD_PID=""
