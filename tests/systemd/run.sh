#!/bin/sh
# tests/systemd/run.sh — boots a real systemd in a throwaway root and runs
# tests/systemd/inside.sh there: the README's three commands (make install,
# cairn systemd, sysusers + enable --now), then role-level checks under
# the generated units (notify readiness, restarting one role leaves the
# others running, shared runtime directory kept, reload, a broken
# configuration refused by ExecStartPre, the watchdog). `make
# check-systemd`; not part of `make check`.
#
# Key decision: the root is an overlay of / whose upper layer is a tmpfs,
# mounted in a private mount namespace (unshare -m), and booted with
# systemd-nspawn --private-network: nothing is written to the host's own
# /etc, /tmp or /run, and the container's ports are its own. Needs root,
# systemd-nspawn (Debian: systemd-container) and a built tree.
# Exit 0 pass, 1 fail, 77 skipped (missing prerequisite).
set -eu
cd "$(dirname "$0")/../.."
src=$(pwd)
if [ "$(id -u)" != 0 ]; then
	echo "check-systemd: skipped: needs root"
	exit 77
fi
if ! command -v systemd-nspawn >/dev/null; then
	echo "check-systemd: skipped: needs systemd-nspawn (apt-get install systemd-container)"
	exit 77
fi
if [ ! -x build/cairn ]; then
	echo "check-systemd: skipped: build/cairn is not built"
	exit 77
fi
t=$(mktemp -d /tmp/cairn-check-systemd-XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM
unshare --mount --propagation private sh "$src/tests/systemd/boot.sh" "$t" "$src"
