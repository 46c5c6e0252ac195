#!/bin/sh
# tests/systemd/inside.sh SRC — runs as root inside the container booted by
# boot.sh (a throwaway root, real systemd as PID 1). Does what README's
# "Run it on a node with systemd" says, then checks the units' behaviour.
# Writes one line per check and a final "RESULT PASS|FAIL" line to
# /var/tmp/cairn-check.result.
set -u
src=$1
roles=""
out=/var/tmp/cairn-check.result
: > "$out"
pass=0
fail=0
say() { echo "$*" >> "$out"; echo "$*" > /dev/console 2>/dev/null || true; }
ok() { pass=$((pass + 1)); say "ok   $*"; }
bad() { fail=$((fail + 1)); say "FAIL $*"; }
check() { # check "what" command...
	what=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		ok "$what"
	else
		bad "$what"
		sed 's/^/     | /' /tmp/check.out | tail -5 >> "$out"
	fi
}
must() { # a check the rest depends on
	before=$fail
	check "$@"
	[ "$fail" -eq "$before" ] || finish
}
has() { case " $roles " in *" $1 "*) return 0 ;; esac; return 1; }
mainpid() { systemctl show -p MainPID --value "cairn-$1"; }
wait_active() { # role, seconds
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		[ "$(systemctl is-active "cairn-$1")" = active ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
http_ok() { curl -fsS -m 2 -o /dev/null "http://127.0.0.1:8500$1"; }
wait_http() {
	i=0
	while [ $i -lt 100 ]; do
		http_ok "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
finish() {
	say "summary: $pass passed, $fail failed"
	if [ "$fail" -eq 0 ]; then say "RESULT PASS"; else say "RESULT FAIL"; fi
	for r in $roles; do
		journalctl -b -u "cairn-$r" --no-pager -n 40 >> "$out" 2>&1
	done
	exit 0
}

# --- the README's three commands -------------------------------------
mkdir -p /etc/cairn
cat > /etc/cairn/node.json <<JSON
{"node_name": "n1", "server": true, "bootstrap_expect": 1,
 "bind_addr": "127.0.0.1", "client_addr": "127.0.0.1",
 "ports": {"dns": 53}}
JSON
must "make install" make -s -C "$src" -f mk/systemd.mk install
must "cairn systemd" /usr/local/bin/cairn systemd -config-dir /etc/cairn \
	-out /etc/systemd/system -sysusers-dir /etc/sysusers.d
must "systemd-sysusers creates the user" sh -c \
	'systemd-sysusers && id cairn'
systemctl daemon-reload
must "enable cairn.target (Also= enables the roles)" \
	systemctl enable cairn.target
for r in raftd gossipd checkd httpd dnsd; do
	if [ -x "/usr/local/bin/$r" ]; then
		roles="$roles $r"
	else
		say "note $r is not built: cairn-$r disabled"
		systemctl disable "cairn-$r" >/dev/null 2>&1
	fi
done
check "roles enabled under cairn.target" test -n "$roles"
check "systemd-analyze verify is clean" sh -c \
	'out=$(systemd-analyze verify /etc/systemd/system/cairn.target \
	    /etc/systemd/system/cairn-*.service 2>&1); echo "$out"; [ -z "$out" ]'
t0=$(date +%s)
systemctl start cairn.target

# --- readiness: Type=notify ------------------------------------------
for r in $roles; do
	check "cairn-$r active (READY=1 received)" wait_active "$r" 100
done
has httpd && check "httpd answers /v1/status/leader" wait_http \
	/v1/status/leader
check "runtime dir /run/cairn/n1 owned by cairn, 0700" sh -c \
	'[ "$(stat -c %U:%a /run/cairn/n1)" = cairn:700 ]'
check "state dir /var/lib/cairn/n1 owned by cairn" sh -c \
	'[ "$(stat -c %U /var/lib/cairn/n1)" = cairn ]'
check "raftd socket in /run/cairn/n1" test -S /run/cairn/n1/raftd.rpc
has dnsd && check "dnsd bound port 53 (CAP_NET_BIND_SERVICE)" sh -c \
	'ss -Hlun | grep -q "127.0.0.1:53 "'

# --- restarting one role leaves the others running -------------------
if has raftd && has httpd; then
	h=$(mainpid httpd)
	f=$(mainpid raftd)
	systemctl restart cairn-raftd
	check "raftd restarted (new MainPID)" sh -c \
		"[ \"\$(systemctl show -p MainPID --value cairn-raftd)\" != $f ]"
	check "httpd kept running across raftd restart" sh -c \
		"[ \"\$(systemctl show -p MainPID --value cairn-httpd)\" = $h ]"
	check "httpd serves again after raftd restart" wait_http \
		/v1/status/leader
	systemctl stop cairn-raftd
	check "runtime dir kept when raftd stops (Preserve)" \
		test -d /run/cairn/n1
	check "httpd still active while raftd is stopped" sh -c \
		'[ "$(systemctl is-active cairn-httpd)" = active ]'
	systemctl start cairn-raftd
	check "raftd back" wait_active raftd 30
	check "reload httpd (SIGHUP) keeps its MainPID" sh -c \
		"systemctl reload cairn-httpd && sleep 1 && [ \"\$(systemctl show -p MainPID --value cairn-httpd)\" = $h ]"
fi

# --- restarting dnsd leaves the other four roles' PIDs as they were ---
if has dnsd; then
	before=""
	for r in $roles; do [ $r = dnsd ] || before="$before $r=$(mainpid $r)"; done
	d=$(mainpid dnsd)
	systemctl restart cairn-dnsd
	check "dnsd restarted (new MainPID)" sh -c \
		"[ \"\$(systemctl show -p MainPID --value cairn-dnsd)\" != $d ]"
	after=""
	for r in $roles; do [ $r = dnsd ] || after="$after $r=$(mainpid $r)"; done
	check "restart cairn-dnsd leaves the other roles' PIDs:$before" \
		test "$before" = "$after"
fi

# --- journald: priorities from the "<N>" prefixes ---------------------
if has httpd; then
	echo '{"log_level": 7}' > /etc/cairn/zz-badtype.json
	systemctl reload cairn-httpd
	sleep 1
	rm /etc/cairn/zz-badtype.json
	check "journal: httpd's info lines at priority 6" sh -c \
		'journalctl -b _SYSTEMD_UNIT=cairn-httpd.service PRIORITY=6 -o cat | grep -q "listening on"'
	check "journal: a refused reload is a warning (priority 4)" sh -c \
		'journalctl -b _SYSTEMD_UNIT=cairn-httpd.service PRIORITY=4 -o cat | grep -q "keeping the running configuration"'
	check "journal: no raw <N> prefixes in messages" sh -c \
		'! journalctl -b _SYSTEMD_UNIT=cairn-httpd.service -o cat | grep -q "^<[0-7]>"'
	check "httpd still serves after the refused reload" wait_http \
		/v1/status/leader
fi

# --- a broken configuration is refused by ExecStartPre -n -------------
echo '{"no_such_key": 1}' > /etc/cairn/zz-broken.json
first=$(echo $roles | cut -d' ' -f1)
check "restart with a broken config fails" sh -c \
	"! systemctl restart cairn-$first"
check "... in ExecStartPre, with exit status 2" sh -c \
	"systemctl status cairn-$first | grep -q 'ExecStartPre=.*status=2'"
# RestartPreventExitStatus=2 covers the main process only: a failing
# ExecStartPre is retried by Restart=on-failure until the start limit
check "... and left failed (start limit), not running" \
	sh -c "sleep 5; [ \"\$(systemctl is-failed cairn-$first)\" = failed ]"
rm /etc/cairn/zz-broken.json
systemctl reset-failed "cairn-$first"
systemctl start "cairn-$first"
check "fixed config: cairn-$first active again" wait_active "$first" 30

# --- the watchdog does not fire on a healthy role ---------------------
now=$(date +%s)
left=$((t0 + 40 - now))
[ $left -gt 0 ] && sleep $left
for r in $roles; do
	check "cairn-$r not restarted by the watchdog (40 s > WatchdogSec)" \
		sh -c "[ \"\$(systemctl show -p NRestarts --value cairn-$r)\" = 0 ] && [ \"\$(systemctl is-active cairn-$r)\" = active ]"
done
for r in $roles; do
	say "note $(systemd-analyze security "cairn-$r" 2>/dev/null | tail -1)"
done
# --- a hung role (SIGSTOP) trips the watchdog and is restarted -------
if has dnsd; then
	d=$(mainpid dnsd)
	kill -STOP "$d"
	check "SIGSTOPped dnsd restarted by the watchdog (WatchdogSec=30s)" \
		sh -c "for i in \$(seq 300); do p=\$(systemctl show -p MainPID --value cairn-dnsd); [ \"\$p\" != $d ] && [ \"\$p\" != 0 ] && [ \"\$(systemctl is-active cairn-dnsd)\" = active ] && exit 0; sleep 0.2; done; exit 1"
	check "... the journal says watchdog timeout" sh -c \
		'journalctl -b -u cairn-dnsd -o cat | grep -qi "watchdog timeout"'
fi

# the target's own stop job finishes first (it is ordered after the roles,
# so it stops before them): wait for the roles' stop jobs
systemctl stop cairn.target
for r in $roles; do
	check "stop cairn.target stops cairn-$r (PartOf)" sh -c \
		"for i in \$(seq 100); do systemctl is-active -q cairn-$r || exit 0; sleep 0.2; done; exit 1"
done

# --- several nodes on one host: the %i templates ----------------------
for i in 2 3; do
	mkdir -p "/etc/cairn/n$i"
	cat > "/etc/cairn/n$i/node.json" <<JSON
{"server": true, "bootstrap_expect": 1, "bind_addr": "127.0.0.1",
 "ports": {"http": 85$i$i, "dns": 86$i$i, "server": 83$i$i,
           "serf_lan": 84$i$i, "serf_wan": 87$i$i}}
JSON
done
must "cairn systemd -instances" /usr/local/bin/cairn systemd -instances \
	-config-dir '/etc/cairn/%i' -node n2 -out /etc/systemd/system \
	-sysusers-dir /etc/sysusers.d
systemctl daemon-reload
must "enable cairn@n2.target cairn@n3.target" systemctl enable \
	cairn@n2.target cairn@n3.target
for r in raftd gossipd checkd httpd dnsd; do
	has "$r" || systemctl disable "cairn-$r@n2" "cairn-$r@n3" >/dev/null 2>&1
done
systemctl start cairn@n2.target cairn@n3.target
for n in n2 n3; do
	for r in $roles; do
		check "cairn-$r@$n active" wait_active "$r@$n" 60
	done
	check "/run/cairn/$n holds $n's raftd socket" test -S "/run/cairn/$n/raftd.rpc"
done
if has raftd && has httpd; then
	check "n2's httpd answers on 8522" sh -c \
		'curl -fsS -m 2 http://127.0.0.1:8522/v1/status/leader'
	check "n3's httpd answers on 8533" sh -c \
		'curl -fsS -m 2 http://127.0.0.1:8533/v1/status/leader'
	h2=$(mainpid httpd@n2)
	f3=$(mainpid raftd@n3)
	systemctl restart cairn-raftd@n2
	check "restarting n2's raftd leaves n2's httpd and n3's raftd" sh -c \
		"[ \"\$(systemctl show -p MainPID --value cairn-httpd@n2)\" = $h2 ] && [ \"\$(systemctl show -p MainPID --value cairn-raftd@n3)\" = $f3 ]"
	systemctl stop cairn@n2.target
	check "stopping cairn@n2.target leaves n3 running" sh -c \
		"[ \"\$(systemctl is-active cairn-httpd@n2)\" != active ] && [ \"\$(systemctl is-active cairn-httpd@n3)\" = active ]"
fi
systemctl stop cairn@n3.target
finish
