#!/bin/sh
# Builds bench/kv_cluster's etcd gRPC load generator (etcdload.go; its
# header says why it is ours and not etcd's tools/benchmark) into
# build/bench/etcdload, offline, in GOPATH mode from Debian's Go packages
# (golang-go, golang-etcd-server-dev: sources under /usr/share/gocode).
# Run by `make bench-deps` after the packages are installed; the Go build
# cache lives in build/bench/go-cache, so a rebuild takes seconds.
set -eu
cd "$(dirname "$0")/../.."
command -v go >/dev/null || { echo "go missing: make bench-deps" >&2; exit 1; }
[ -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3 ] ||
	{ echo "etcd's Go sources missing: make bench-deps" >&2; exit 1; }
mkdir -p build/bench
GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH=/usr/share/gocode \
	GOCACHE="$PWD/build/bench/go-cache" \
	go build -o build/bench/etcdload bench/kv_cluster/etcdload.go
echo "built build/bench/etcdload ($(go version | cut -d' ' -f3))"
