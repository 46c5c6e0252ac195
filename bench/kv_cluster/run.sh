#!/bin/sh
# bench/kv_cluster: 3 cairn servers (fsync on) against a 3-member etcd
# cluster (Debian's etcd-server, v3 JSON gateway) on this machine in the
# same run, under the same load generator (wrk): PUT throughput and
# p50/p99 at 1, 16, 64, 256 clients; GET throughput (cairn default,
# ?stale, ?consistent; etcd serializable, linearizable); time from kill -9
# of the leader to the first acknowledged write over 20 kills (p50, max).
# The driver is bench.py (its header says how each figure is taken).
#
# usage: bench/kv_cluster/run.sh
# Environment: DUR=<s> per wrk point (5), CONNS="1 16 64 256",
# GET_CONNS="64", KILLS=20, ONLY="cairn etcd", PHASES="put get failover",
# B=<dir> for the cairn binaries (build), KEEP=1 keeps the data and logs,
# LOG_LEVEL=info for the cairn roles (warn).
# Not part of `make check`. Paste the output into bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/../.."
B=${B:-build}
for b in raftd gossipd httpd; do
	[ -x "$B/$b" ] || { echo "build first: make" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk missing: make deps" >&2; exit 1; }
command -v etcd >/dev/null || { echo "etcd missing: make bench-deps" >&2; exit 1; }
echo "== $(etcd --version | head -1), cairn $(git rev-parse --short HEAD)"
echo "== $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r)"
B=$B exec /usr/bin/python3 bench/kv_cluster/bench.py
