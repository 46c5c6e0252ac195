#!/bin/sh
# bench/kv_cluster: 3 cairn servers (fsync on) against a 3-member etcd
# cluster (Debian's etcd-server) on this machine in the same run: etcd
# through its v3 JSON gateway under the same load generator as cairn (wrk)
# and over gRPC with build/bench/etcdload (the shape of etcd's own
# benchmark tool, which Debian does not ship; `make bench-deps` builds it).
# PUT throughput and p50/p99 at 1, 16, 64, 256 clients; GET throughput
# (cairn default, ?stale, ?consistent; etcd serializable, linearizable);
# ratios cairn/etcd-grpc and cairn/etcd-gw; time from kill -9 of the
# leader to the first acknowledged write over 20 kills (p50, max).
# The driver is bench.py (its header says how each figure is taken).
#
# usage: bench/kv_cluster/run.sh
# Environment: DUR=<s> per point (5), CONNS="1 16 64 256",
# GET_CONNS="64", KILLS=20, ONLY="cairn etcd", PHASES="put get failover",
# ETCD_LOAD="gateway grpc" (which etcd load generators), GRPC_CONNS=<M>
# gRPC connections for the etcdload clients (ceil(clients/10)),
# ETCDLOAD=<path> (build/bench/etcdload),
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
case " ${ONLY:-etcd} :: ${ETCD_LOAD:-grpc} " in
*etcd*::*grpc*)
	[ -x build/bench/etcdload ] || [ -n "${ETCDLOAD:-}" ] ||
		{ echo "build/bench/etcdload missing: make bench-deps" >&2; exit 1; } ;;
esac
echo "== $(etcd --version | head -1), cairn $(git rev-parse --short HEAD) (binaries in $B)"
echo "== $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r)"
B=$B exec /usr/bin/python3 bench/kv_cluster/bench.py
