#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The systemd units, installed by `make install` into a temporary prefix
# (configs in a temporary /etc): `systemd-analyze verify` finds nothing,
# and their Exec lines do their job when run as systemd runs them: %i is
# the instance, $VARS come from Environment= and EnvironmentFile=, the
# process has the unit's CapabilityBoundingSet and no_new_privs.  systemd
# is not PID 1 on the test machines, so this script runs the lines itself,
# on the lab's srv0 (with --netns after the binary: systemd would run them
# in the host's netns, on a host interface).  Start attaches with the
# file's policy and lists, reload applies an edited file live (and a bad
# one not at all), the exporter serves /metrics, stop detaches, also
# after the interface went away.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }

lab_pair_up || { not_ok "lab_pair_up"; tap_done; }
T=$LAB_TMP
make -s -C "$TOP" install PREFIX="$T/usr" SYSCONFDIR="$T/etc" >/dev/null 2>"$T/err"
expect_eq "make install PREFIX=\$tmp/usr SYSCONFDIR=\$tmp/etc" "$?:$(cat "$T/err")" "0:"
U=$T/usr/lib/systemd/system
UNIT=$U/synguard@.service EXPORT=$U/synguard-export@.service
CONF=$T/etc/synguard/$SRV_IF.conf

# --- systemd-analyze verify --------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
	# The instances, as `systemctl start synguard@srv0` would load them;
	# MANPATH lets it check Documentation=man:synguard(8) against the
	# installed page.
	MANPATH=$T/usr/share/man systemd-analyze verify "$U/synguard@$SRV_IF.service" \
		"$U/synguard-export@$SRV_IF.service" "$U/synguard-events@$SRV_IF.service" \
		>"$T/out" 2>&1
	rc=$?
	expect_eq "systemd-analyze verify: exit 0, not a word" "$rc:$(cat "$T/out")" "0:"
else
	skip "systemd-analyze verify" "no systemd-analyze (Debian package systemd)"
fi

# unit_exec UNIT KEY: the unit's KEY= line (ExecStart, ExecReload, ExecStop),
# run as systemd runs it, on the lab's server netns.
unit_exec() {
	local unit=$1 key=$2 line caps envf
	line=$(sed -n "s/^$key=//p" "$unit")
	line=${line//%i/$SRV_IF}
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z,' | sed 's/cap_/+/g')
	envf=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$unit")
	envf=${envf//%i/$SRV_IF}
	(
		# KEY=VALUE lines, the value up to the end of the line (spaces
		# and all); '#' and ';' start comments in an EnvironmentFile.
		while IFS= read -r e; do
			case $e in '' | '#'* | ';'*) continue ;; esac
			export "$e"
		done < <(sed -n 's/^Environment=//p' "$unit"
			 [ -z "$envf" ] || [ ! -f "$envf" ] || cat "$envf")
		# systemd splits the line into words and expands unbraced $VAR
		# into several; the lines here have no quotes for eval to mind.
		eval "set -- $line"
		bin=$1
		shift
		# synguard runs as this PID (exec, exec): for a stop to signal.
		[ -z "${UNIT_PIDFILE:-}" ] || echo $BASHPID >"$UNIT_PIDFILE"
		exec setpriv --no-new-privs --bounding-set=-all,"$caps" -- \
			"$bin" --netns "$NS_S" "$@"
	)
}
grep -q '^CapabilityBoundingSet=CAP_' "$UNIT" && ok "the unit limits capabilities" ||
	not_ok "the unit limits capabilities"

# Does the server's stack answer the attacker?  A connect to a closed port
# is refused (RST) at once when it does, times out when synguard drops it.
reach() {
	timeout 2 ip netns exec "$NS_A" bash -c "exec 3<>/dev/tcp/$SRV_IP/9" 2>/dev/null
	[ $? = 124 ] && echo denied || echo answered
}
xdp_id() { ip -n "$NS_S" -o link show $SRV_IF | grep -o 'prog/xdp id [0-9]*' | awk '{ print $3 }'; }
show() { sg config $SRV_IF show; }

# The example config (attack mode at 20000 SYN/s: cookies, so nft runs
# too), the attacker denied.
{ cat "$TOP/docs/example.conf"; echo "deny=$ATT_IP"; } >"$CONF"
expect_eq "the attacker is answered before start" "$(reach)" answered

# --- start -------------------------------------------------------------------------
unit_exec "$UNIT" ExecStart >"$T/out" 2>&1
expect_eq "ExecStart (attach %i --config /etc/synguard/%i.conf) exits 0" "$?" 0
sed 's/^/#   /' "$T/out"
expect_eq "status: $SRV_IF active" \
	"$(sg status --json | jq -r --arg i $SRV_IF '.attachments[] | select(.interface == $i) | .state')" active
PROG=$(xdp_id)
[ -n "$PROG" ] && ok "an XDP program (id $PROG) is on $SRV_IF" || not_ok "an XDP program is on $SRV_IF"
expect_eq "the policy is the file's" \
	"$(show | grep -E '^(src_rate|src_burst|block_time|ports|attack_syn_rate|allow|deny)=' | tr '\n' ' ')" \
	"src_rate=100 src_burst=20 block_time=10 ports=80,443 attack_syn_rate=20000 allow=198.18.0.0/24 deny=$ATT_IP/32 "
expect_eq "the attacker is denied" "$(reach)" denied
nft_table=$(ip netns exec "$NS_S" nft list tables 2>/dev/null | grep -c synguard)
expect_ge "cookies=attack with attack_syn_rate: the nftables table is there (nft ran)" "$nft_table" 1

# --- reload ------------------------------------------------------------------------
sed -i -e 's/^src_rate=100$/src_rate=250/' -e '/^deny=/d' -e 's/^#allow=2001:2::\/64$/allow=2001:2::\/64/' "$CONF"
unit_exec "$UNIT" ExecReload >"$T/out" 2>&1
expect_eq "ExecReload (config %i load /etc/synguard/%i.conf) exits 0" "$?" 0
expect_eq "config show reflects the edited file" \
	"$(show | grep -E '^(src_rate|allow|deny)=' | tr '\n' ' ')" \
	"src_rate=250 allow=198.18.0.0/24 allow=2001:2::/64 "
expect_eq "the same program: reload does not reattach" "$(xdp_id)" "$PROG"
expect_eq "the attacker, no longer denied, is answered" "$(reach)" answered

BEFORE=$(show)
echo "src_burst=0" >>"$CONF"
unit_exec "$UNIT" ExecReload >"$T/out" 2>&1
rc=$?
expect_eq "ExecReload of a file with a bad last line exits 2" "$rc" 2
grep -qF "$CONF:$(wc -l <"$CONF"):" "$T/out" && ok "...naming FILE:LINE: $(cat "$T/out")" ||
	not_ok "...naming FILE:LINE: $(cat "$T/out")"
expect_eq "...and changes nothing" "$(show)" "$BEFORE"
sed -i '$d' "$CONF"

# --- the exporter ----------------------------------------------------------------------
PORT=$((20000 + RANDOM % 20000))
echo "SYNGUARD_EXPORT_ARGS=--listen 127.0.0.1:$PORT" >"$T/etc/synguard/$SRV_IF.export"
UNIT_PIDFILE=$T/export.pid unit_exec "$EXPORT" ExecStart >"$T/export.out" 2>&1 &
JOB=$!
for i in $(seq 50); do [ -s "$T/export.pid" ] && break; sleep 0.1; done
EXP_PID=$(cat "$T/export.pid")
LAB_PIDS="$EXP_PID $JOB"
for i in $(seq 50); do
	ip netns exec "$NS_S" curl -sf "http://127.0.0.1:$PORT/metrics" >"$T/metrics" 2>/dev/null && break
	sleep 0.2
done
grep -q "^synguard_info{interface=\"$SRV_IF\"" "$T/metrics" &&
	ok "synguard-export@: /metrics on the port its EnvironmentFile gave, without CAP_NET_ADMIN" ||
	{ not_ok "synguard-export@ serves /metrics"; sed 's/^/#   /' "$T/export.out" | head -5; }
# systemctl stop: SIGTERM to the main process.
kill -TERM $EXP_PID
for i in $(seq 50); do kill -0 $EXP_PID 2>/dev/null || break; sleep 0.1; done
wait $JOB
expect_eq "it stops on SIGTERM (systemctl stop), exit 0" "$?" 0
LAB_PIDS=

# --- stop --------------------------------------------------------------------------------
unit_exec "$UNIT" ExecStop >"$T/out" 2>&1
expect_eq "ExecStop (detach %i) exits 0" "$?" 0
expect_eq "status: $SRV_IF no longer listed" \
	"$(sg status --json | jq -r --arg i $SRV_IF '[.attachments[] | select(.interface == $i)] | length')" 0
expect_eq "no XDP program on $SRV_IF" "$(xdp_id)" ""
[ ! -e "/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF" ] && ok "its pins are gone" || not_ok "its pins are gone"
expect_eq "no nftables table of synguard left" \
	"$(ip netns exec "$NS_S" nft list tables 2>/dev/null | grep -c synguard)" 0

# BindsTo= the device: when the interface goes away, systemd stops the
# unit, and ExecStop must still clean up.
unit_exec "$UNIT" ExecStart >/dev/null 2>&1
expect_eq "started again" "$(sg status --json | jq -r --arg i $SRV_IF '.attachments[] | select(.interface == $i) | .state')" active
ip -n "$NS_S" link del $SRV_IF
unit_exec "$UNIT" ExecStop >"$T/out" 2>&1
expect_eq "ExecStop after the interface went away exits 0" "$?" 0
[ ! -e "/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF" ] && ok "...and removes the pins" ||
	not_ok "...and removes the pins"

tap_done
