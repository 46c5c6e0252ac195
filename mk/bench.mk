# Benchmarks (not part of `make check`): bench/kv_single/run.sh,
# bench/dns/run.sh, bench/gossip/run.sh; results in bench/RESULTS.md.
# `make bench-deps` installs the peers they measure against (NSD, etcd) and the load generators.
bench-deps:
	BENCH=1 sh mk/deps.sh

.PHONY: bench-deps
