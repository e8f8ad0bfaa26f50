#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The attachment's and the SYN cookie path's lifecycle, each part against
# the kernel's view (nft list tables, bpftool, ip link) and a real client:
#   1. interface names with every odd character Linux allows: the cookie
#      path's nftables rule is whole and a client gets in through synproxy;
#   2. a netns deleted and made again under the same name: the old
#      attachment is stale, not the new netns's, and prune removes its pins
#      and nothing of the new attachment on the same ifindex;
#   3. config set cookies=never removes the cookie path (the table, and
#      with it conntrack, and the tcx ingress link), cookies=always brings
#      it back;
#   4. attach killed (SIGKILL) at each of its steps: status says
#      `incomplete`, and an attach without --force, or prune, repairs it.
# PARTS=23 runs parts 2 and 3 only.
set -u
. "$(dirname "$0")/../lib.sh"
part() { [ -z "${PARTS:-}" ] || [ "${PARTS#*"$1"}" != "$PARTS" ]; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in nginx curl jq nft bpftool; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

lab_up || { not_ok "lab_up"; tap_done; }
NS_R=$(lab_ns r)	# part 2's, deleted and made again
down() {
	local rc=$?
	"$SYNGUARD" --netns "$NS_R" detach q0 >/dev/null 2>&1
	"$SYNGUARD" --netns "$NS_R.d" detach d.0 >/dev/null 2>&1
	ip netns del "$NS_R" 2>/dev/null
	ip netns del "$NS_R.d" 2>/dev/null
	rm -rf "/sys/fs/bpf/synguard/netns/$NS_R" "/sys/fs/bpf/synguard/netns/$NS_R::d"
	(exit $rc)
	lab_down
}
trap down EXIT
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }

stats() { sg stats "$1" --json 2>/dev/null; }
# tables NS: the synguard tables in netns NS, one per line
tables() { ip netns exec "$1" nft list tables 2>/dev/null | awk '$3 ~ /^synguard/ { print $3 }'; }
# fetch: one page from the server, prints the HTTP code
fetch() {
	ip netns exec "$NS_C" curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://$SRV_IP/"
}

# ==============================================================================
# 1. Odd interface names.  Linux allows any character in a name but '/', ':'
#    and white space ('%' only as a template; bpffs refuses a pin
#    directory with a '.', written "::"); nft's quoted strings cannot hold '"', and '#',
#    ';', '{', '}' end a token or a statement.  "1" is lo's index: a rule
#    that said `iif 1` would match lo.
# ==============================================================================
if part 1; then
IF=$SRV_IF
rename_srv() {	# rename_srv NEW: the server's interface renamed
	ip -n "$NS_S" link set dev "$IF" down &&
		ip -n "$NS_S" link set dev "$IF" name "$1" &&
		ip -n "$NS_S" link set dev "$1" up && IF=$1
}
# shellcheck disable=SC2016
for name in 'v"#' 'v;x' 'v{x}' "v'x" 'v\x' 'v$x' '1' \
	    'p!"#$&'"'"'()*+,-' 'q<=>?@[\]^_' 'r`{|}~;"#x'; do
	if ! rename_srv "$name"; then not_ok "rename the server's veth to '$name'"; continue; fi
	if ! sg attach "$name" --mode generic --cookies always >"$LAB_TMP/out" 2>&1; then
		not_ok "'$name': attach --cookies always"; sed 's/^/#   /' "$LAB_TMP/out"; continue
	fi
	T=$(tables "$NS_S")
	RULES=$(ip netns exec "$NS_S" nft list table inet "${T:-none}" 2>/dev/null |
		grep -c 'meta mark 0x53474b31 meta nfproto ipv[46] .*synproxy mss')
	CODE=$(fetch)
	VALID=$(stats "$name" | jq -r .cookies.valid)
	sg detach "$name" >/dev/null 2>&1
	LEFT=$(tables "$NS_S" | wc -l)
	if [ "$RULES" = 2 ] && [ "$CODE" = 200 ] && [ "${VALID:-0}" -ge 1 ] && [ "$LEFT" = 0 ]; then
		ok "'$name': 2 synproxy rules, a client through a cookie ($CODE, valid $VALID), detach removes the table"
	else
		not_ok "'$name': synproxy rules $RULES (want 2), client $CODE (want 200)," \
			"cookies valid ${VALID:-?} (want >= 1), tables left after detach $LEFT (want 0)"
		ip netns exec "$NS_S" nft list ruleset | head -20 | sed 's/^/#   /'
	fi
done
# A '.': a VLAN's usual name (eth0.100).  bpffs refuses a '.' in a pin's
# name: the directory is "srv0::100" (pin_name()), everything else says
# srv0.100; a netns with a '.' likewise.
NS_D="$NS_R.d"
if rename_srv "$SRV_IF.100"; then
	check "'$IF': attach" sg attach "$IF" --mode generic
	expect_eq "'$IF': status lists it, active" \
		"$(sg status --json | jq -r --arg i "$IF" '.attachments[] | select(.interface == $i) | .state')" active
	check "'$IF': its pins are under $SRV_IF::100" test -d "/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF::100"
	expect_eq "'$IF': stats" "$(stats "$IF" | jq -r .interface)" "$IF"
	check "'$IF': detach" sg detach "$IF"
	check "'$IF': its pins are gone" test ! -e "/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF::100"
else
	not_ok "rename the server's veth to '$SRV_IF.100'"
fi
if ip netns add "$NS_D" && ip -n "$NS_D" link add d.0 type veth peer name d.1 &&
	ip -n "$NS_D" link set d.0 up && ip -n "$NS_D" link set d.1 up; then
	check "netns '$NS_D', interface d.0: attach" "$SYNGUARD" -n "$NS_D" attach d.0 --mode generic
	expect_eq "netns '$NS_D': status lists d.0 there, active" \
		"$("$SYNGUARD" status --json | jq -r --arg ns "$NS_D" \
			'.attachments[] | select(.netns == $ns) | "\(.interface) \(.state)"')" "d.0 active"
	check "netns '$NS_D': detach d.0, its pins gone" \
		sh -c '"$1" -n "$2" detach d.0 && test ! -e "/sys/fs/bpf/synguard/netns/$3"' _ \
		"$SYNGUARD" "$NS_D" "${NS_D//./::}"
else
	not_ok "netns '$NS_D' with a veth pair d.0 -- d.1"
fi
ip netns del "$NS_D" 2>/dev/null
rename_srv $SRV_IF || not_ok "the server's veth back to $SRV_IF"
fi

# ==============================================================================
# 2. A netns made again under the same name.  Its first veth pair has the
#    same ifindexes again: by ifindex alone both attachments' tables were
#    synguard_3, and pruning the old attachment removed the new one's.
# ==============================================================================
if part 2; then
state_of() {	# state_of NETNS IFACE: its state in `status --json`
	"$SYNGUARD" status --json | jq -r --arg ns "$1" --arg i "$2" \
		'.attachments[] | select(.netns == $ns and .interface == $i) | .state'
}
veth_in() {	# veth_in NETNS NAME: a veth pair NAME -- NAME-peer, both up
	ip -n "$1" link add "$2" type veth peer name "${2}p" &&
		ip -n "$1" link set "$2" up && ip -n "$1" link set "${2}p" up
}
ip netns add "$NS_R" && veth_in "$NS_R" p0
check "attach p0 --cookies always in $NS_R" \
	"$SYNGUARD" -n "$NS_R" attach p0 --mode generic --cookies always
T_OLD=$(tables "$NS_R")
ip netns del "$NS_R"
ip netns add "$NS_R" && veth_in "$NS_R" q0
check "the netns made again, attach q0 --cookies always" \
	"$SYNGUARD" -n "$NS_R" attach q0 --mode generic --cookies always
T_NEW=$(tables "$NS_R")
diag "old table $T_OLD, new table $T_NEW, both on ifindex $(ip -n "$NS_R" -o link show q0 | cut -d: -f1)"
if [ -n "$T_NEW" ] && [ "$T_NEW" != "$T_OLD" ]; then ok "the new attachment's table has a name of its own"
else not_ok "the new attachment's table has a name of its own ($T_OLD, $T_NEW)"; fi
expect_eq "status: the old attachment is stale" "$(state_of "$NS_R" p0)" stale
expect_eq "status --netns lists only the new netns's attachment" \
	"$("$SYNGUARD" -n "$NS_R" status --json | jq -r '[.attachments[].interface] | join(" ")')" q0
"$SYNGUARD" -n "$NS_R" prune >"$LAB_TMP/out" 2>&1
expect_eq "prune exits 0 and prunes the old one" \
	"$?:$(grep -c "pruned stale attachment of p0" "$LAB_TMP/out")" "0:1"
expect_eq "... the new one's table is still there" "$(tables "$NS_R")" "$T_NEW"
expect_eq "... with its 2 synproxy rules" \
	"$(ip netns exec "$NS_R" nft list table inet "${T_NEW:-none}" 2>/dev/null | grep -c 'synproxy mss')" 2
expect_eq "... and its ingress link" \
	"$(bpftool -j link show pinned "/sys/fs/bpf/synguard/netns/$NS_R/q0/link_ingress" 2>/dev/null |
	   jq -r '.prog_id > 0')" true
expect_eq "... q0 active, p0 gone from status" \
	"$(state_of "$NS_R" q0) $(state_of "$NS_R" p0)" "active "
check "... p0's pins are gone" test ! -e "/sys/fs/bpf/synguard/netns/$NS_R/p0"
check "detach q0" "$SYNGUARD" -n "$NS_R" detach q0
expect_eq "... no table left in $NS_R" "$(tables "$NS_R" | wc -l)" 0
fi

# ==============================================================================
# 3. The cookie path follows the policy.
# ==============================================================================
if part 3; then
PIN=/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF
ct_count() { ip netns exec "$NS_S" cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0; }
path_state() {	# "TABLES LINK": synguard tables in the server netns, ingress link pinned
	echo "$(tables "$NS_S" | wc -l) $(test -e "$PIN/link_ingress" && echo link || echo nolink)"
}
check "attach --cookies always" sg attach $SRV_IF --mode generic --cookies always
expect_eq "... the cookie path is there" "$(path_state)" "1 link"
check "config set cookies=never" sg config $SRV_IF set cookies=never
expect_eq "... no table, no ingress link" "$(path_state)" "0 nolink"
CT0=$(ct_count)
expect_eq "... a client still gets in" "$(fetch)" 200
CT1=$(ct_count)
if [ "$CT1" -le "$CT0" ]; then ok "... and conntrack does not track it ($CT0 -> $CT1 entries)"
else not_ok "... and conntrack does not track it ($CT0 -> $CT1 entries)"; fi
check "config set cookies=attack with no attack threshold" \
	sg config $SRV_IF set cookies=attack attack_syn_rate=off attack_half_open=off
expect_eq "... cannot send a cookie: no path" "$(path_state)" "0 nolink"
check "config set cookies=always" sg config $SRV_IF set cookies=always
expect_eq "... the path is back" "$(path_state)" "1 link"
V0=$(stats $SRV_IF | jq -r .cookies.valid)
expect_eq "... a client gets in through a cookie" "$(fetch) $(($(stats $SRV_IF | jq -r .cookies.valid) - V0))" "200 1"
check "detach" sg detach $SRV_IF
expect_eq "... no table left" "$(tables "$NS_S" | wc -l)" 0
fi

# ==============================================================================
# 4. kill -9 during attach (SYNGUARD_TEST_KILL_AT, a test-only hook: the
#    process kills itself with SIGKILL at the named step).  Steps: among
#    the map pins (after sg_src), the ingress link pinned, the nftables
#    table added, the XDP link pinned, everything done but the last step.
# ==============================================================================
if part 4; then
PIN=/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF
status_srv() {	# the server's attachments in status --json, "IFACE:STATE ..."
	"$SYNGUARD" status --json | jq -r --arg ns "$NS_S" \
		'[.attachments[] | select(.netns == $ns) | "\(.interface):\(.state)"] | join(" ")'
}
xdp_on() { ip -n "$NS_S" link show $SRV_IF | grep -c 'prog/xdp'; }
killed_attach() {	# killed_attach STEP: attach killed there; "ok" or why not
	SYNGUARD_TEST_KILL_AT=$1 sg attach $SRV_IF --mode generic --cookies always >/dev/null 2>&1
	local rc=$? st
	st=$(status_srv)
	if [ $rc = 137 ] && [ "$st" = "$SRV_IF:incomplete" ]; then echo ok
	else echo "exit $rc (want 137), status '$st' (want '$SRV_IF:incomplete')"; fi
}
for step in sg_src ingress nft xdp publish; do
	expect_eq "killed at $step: status says incomplete" "$(killed_attach $step)" ok
	sg attach $SRV_IF --mode generic --cookies always >"$LAB_TMP/out" 2>&1
	RC=$?
	V0=$(stats $SRV_IF | jq -r .cookies.valid)
	GOT="exit $RC, $(status_srv), tables $(tables "$NS_S" | wc -l), client $(fetch)"
	GOT+=" cookies $(($(stats $SRV_IF | jq -r .cookies.valid) - ${V0:-0}))"
	expect_eq "... attach without --force repairs it, cookies work" "$GOT" \
		"exit 0, $SRV_IF:active, tables 1, client 200 cookies 1"
	[ $RC = 0 ] || sed 's/^/#   /' "$LAB_TMP/out"
	sg detach $SRV_IF >/dev/null 2>&1
	expect_eq "killed at $step again: status says incomplete" "$(killed_attach $step)" ok
	"$SYNGUARD" prune >"$LAB_TMP/out" 2>&1
	RC=$?
	GOT="exit $RC, status '$(status_srv)', tables $(tables "$NS_S" | wc -l), xdp $(xdp_on)"
	GOT+=", pins $(test -e "$PIN" && echo yes || echo no)"
	expect_eq "... prune removes all of it" "$GOT" "exit 0, status '', tables 0, xdp 0, pins no"
	# Whatever is left, for the next step.
	sg detach $SRV_IF >/dev/null 2>&1
	ip netns exec "$NS_S" nft list tables | awk '$3 ~ /^synguard/ { print "delete table inet " $3 }' |
		ip netns exec "$NS_S" nft -f - 2>/dev/null
	rm -rf "/sys/fs/bpf/synguard/netns/$NS_S"
	ip -n "$NS_S" link set dev $SRV_IF xdp off 2>/dev/null
done
expect_eq "killed at xdp once more" "$(killed_attach xdp)" ok
sg detach $SRV_IF >"$LAB_TMP/out" 2>&1
RC=$?
GOT="exit $RC, status '$(status_srv)', tables $(tables "$NS_S" | wc -l), xdp $(xdp_on)"
GOT+=", pins $(test -e "$PIN:new" && echo yes || echo no)"
expect_eq "... detach IFACE removes it" "$GOT" "exit 0, status '', tables 0, xdp 0, pins no"
fi

tap_done
