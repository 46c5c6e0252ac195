# Benchmarks (not part of `make check`): see bench/README.md.
