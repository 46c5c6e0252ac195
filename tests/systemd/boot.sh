#!/bin/sh
# tests/systemd/boot.sh T SRC — run by run.sh inside a private mount
# namespace: builds the throwaway root (tmpfs on T, overlay of / under
# T/root), adds the test unit, boots it with systemd-nspawn and prints the
# result inside.sh left. Exits 0 when every check passed.
set -eu
t=$1
src=$2
mount -t tmpfs -o size=2g,mode=0700 cairn-check-systemd "$t"
mkdir "$t/upper" "$t/work" "$t/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/upper,workdir=$t/work" \
	"$t/root"
r=$t/root
mkdir -p "$r/etc/systemd/system"
cat > "$r/etc/systemd/system/cairn-check.target" <<UNIT
[Unit]
Description=cairn check-systemd: basic system plus the test
Requires=basic.target
Wants=cairn-check.service
After=basic.target
AllowIsolate=yes
UNIT
cat > "$r/etc/systemd/system/cairn-check.service" <<UNIT
[Unit]
Description=cairn check-systemd test (tests/systemd/inside.sh)
After=basic.target
[Service]
Type=oneshot
ExecStart=/bin/sh $src/tests/systemd/inside.sh $src
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=400
UNIT
# the container's systemd boots cairn-check.target, not the host's default;
# the tree is bound in read-only because nspawn mounts a fresh tmpfs on the
# container's /tmp (a checkout under /tmp, as CI's may be, would be hidden)
rc=0
timeout 480 systemd-nspawn -D "$r" --register=no --keep-unit \
	--link-journal=no --private-network --bind-ro="$src" \
	--console=pipe --boot systemd.unit=cairn-check.target \
	</dev/null >"$t/console.log" 2>&1 || rc=$?
if [ -f "$r/var/tmp/cairn-check.result" ]; then
	cat "$r/var/tmp/cairn-check.result"
else
	echo "check-systemd: no result (nspawn exit $rc); console:"
	tail -60 "$t/console.log"
	exit 1
fi
grep -q '^RESULT PASS' "$r/var/tmp/cairn-check.result"
