#!/bin/sh
# bench/gossip/run.sh — gossip figures for bench/RESULTS.md:
#  1. the seeded simulation (build/sim_swim, optimised build) with
#     memberlist's LAN defaults, n = 100, 1,000, 2,000 at 0 / 10 % loss:
#     detection p50/p99 against the suspicion-timeout bound, false
#     positives, bytes per second per member, heap per member;
#  2. real processes: convergence of 10 agents and detection of a
#     kill -9, with gossipd's RSS (bench/gossip/converge.py).
# usage: bench/gossip/run.sh [N agents, default 10]
set -eu
cd "$(dirname "$0")/../.."
make -s build/sim_swim build/gossipd build/httpd
echo "== simulation (build/sim_swim --bench)"
build/sim_swim --bench
echo "== real processes"
/usr/bin/python3 bench/gossip/converge.py "${1:-10}"
