#!/bin/sh
# bench/lock: issue 7's lock figures (bench/lock/lock.py says how):
#  - lock acquire/release round trips per second from 1 and 16
#    contenders on one dev agent and on 3 servers;
#  - time from kill -9 of a lock holder's agent to the next holder
#    acquiring, with serfHealth and TTL sessions, LockDelay 15s and 0s.
# usage: bench/lock/run.sh [seconds per round-trip point]   (default 5)
# Not part of `make check`. Prints lines to paste into bench/RESULTS.md.
set -eu
cd "$(dirname "$0")/../.."
[ -x build/cairn ] || { echo "build first: make" >&2; exit 1; }
/usr/bin/python3 bench/lock/lock.py "${1:-5}"
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo $PRETTY_NAME), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
