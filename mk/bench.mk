# Benchmarks (not part of `make check`): bench/kv_single/run.sh,
# bench/dns/run.sh, bench/gossip/run.sh; results in bench/RESULTS.md.
# `make bench-deps` installs the peers they measure against (NSD, etcd) and the load generators.
# It also builds bench/kv_cluster's etcd gRPC load generator into build/bench/.
bench-deps:
	BENCH=1 sh mk/deps.sh
	sh bench/kv_cluster/build.sh

.PHONY: bench-deps
