#!/bin/sh
# Installs the Debian packages cairn builds and tests with (DESIGN.md §9).
# Idempotent: packages already present are not fetched again.
set -e
PKGS="build-essential pkg-config libnng-dev nng-utils libmsgpack-dev
libmicrohttpd-dev libldns-dev librocksdb-dev libjansson-dev
libcurl4-openssl-dev libcmocka-dev python3-pytest
python3-consul python3-dnspython python3-requests dnsutils wrk
mandoc systemd systemd-container python3-h2 nftables"
# benchmark peers and load generators, only for `make bench-deps`
[ -n "${BENCH:-}" ] && PKGS="$PKGS dnsperf nsd etcd-server etcd-client"
# Go and etcd's client library (with its Go dependencies) for
# bench/kv_cluster's gRPC load generator, built in GOPATH mode offline
[ -n "${BENCH:-}" ] && PKGS="$PKGS golang-go golang-etcd-server-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
