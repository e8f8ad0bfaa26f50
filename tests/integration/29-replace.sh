#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# attach --force on a live attachment replaces its programs in place:
#   1. under a full-rate SYN flood from a deny-listed source, ten replaces
#      in a row, alternating with build/layout2/synguard (a build whose
#      sg_attack value has one more field): not one frame of the denied
#      source reaches the stack (an nftables counter at prerouting, behind
#      XDP), a client fetching all along never fails, and after every swap
#      the policy, the deny list and its hits, the proven sources, the
#      gauges (against ss) and every counter are as before or grown;
#   2. the replace killed (SIGKILL) at 20 of its steps: the interface always
#      has a synguard XDP program, status shows the attachment whole or a
#      replace to finish, and prune (or the next attach) leaves one whole
#      attachment that still drops the denied source and serves a client.
# PARTS=2 runs part 2 only.
set -u
. "$(dirname "$0")/../lib.sh"
part() { [ -z "${PARTS:-}" ] || [ "${PARTS#*"$1"}" != "$PARTS" ]; }
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in nginx curl jq nft bpftool hping3 perl; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
L2=${SYNGUARD_L2:-$TOP/build/layout2/synguard}
[ -x "$L2" ] || { echo "1..0 # SKIP $L2 is not built (make all)"; exit 0; }

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }
PINS=/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF
SRV_MAC=$(lab_mac "$NS_S" $SRV_IF)
# sg-flood sends with XDP_TX: the switch's veth ends take such frames in
# only with an XDP program of their own.
lab_xdp_pass "$NS_W" sws && lab_xdp_pass "$NS_W" swa ||
	{ not_ok "XDP_PASS on the switch's ports"; tap_done; }

# The build that made the live attachment: the other one refuses to read it
# (exit 3) rather than read its maps with the wrong structs.
cur() { if sg stats $SRV_IF >/dev/null 2>&1; then echo "$SYNGUARD"; else echo "$L2"; fi; }
other() { if [ "$(cur)" = "$SYNGUARD" ]; then echo "$L2"; else echo "$SYNGUARD"; fi; }
sgc() { "$(cur)" --netns "$NS_S" "$@"; }
deny_hits() { sgc deny $SRV_IF list --json | jq '[.deny[].hits] | add // 0'; }
# Every counter, drop, handshake and close count, one per line, in order.
counters() { sgc stats $SRV_IF --json | jq '.counters, .drops, .handshakes, .closes | .[]'; }
proven() { bpftool -j map dump pinned "$PINS/sg_proven" 2>/dev/null | jq length; }
xdp_prog_name() {
	local id
	id=$(ip -n "$NS_S" -j link show $SRV_IF | jq '.[0].xdp.prog.id // 0')
	[ "$id" != 0 ] && bpftool -j prog show id "$id" | jq -r .name
}
# The frames from the attacker's address the server's stack saw.
count_up() {
	in_srv nft -f - <<-EOF
	table ip sgtest_count {
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			ip saddr $ATT_IP counter
		}
	}
	EOF
}
seen_att() { in_srv nft -j list table ip sgtest_count | jq '[.. | .packets? // empty] | add // 0'; }
# Idle connections to a listener that never closes them (nginx would).
hold_up() {
	# Not through in_srv: a function run in the background is a subshell,
	# and the TERM lab_down sends to $! would not reach perl.
	ip netns exec "$NS_S" perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "'$SRV_IP':81", Listen => 64,
			ReuseAddr => 1) or die "listen: $!\n";
		my @c; while (my $c = $s->accept) { push @c, $c } ' </dev/null >/dev/null 2>&1 &
	LAB_PIDS="${LAB_PIDS:-} $!"
	until_ok 50 sh -c "ip netns exec $NS_S ss -Htln 'sport = :81' | grep -q ."
	for _ in 1 2 3 4 5; do
		ip netns exec "$NS_C" perl -MIO::Socket::INET -e '
			my $c = IO::Socket::INET->new(PeerAddr => "'$SRV_IP':81") or die;
			sleep 300' </dev/null >/dev/null 2>&1 &
		LAB_PIDS="$LAB_PIDS $!"
	done
	until_ok 50 sh -c "[ \$(ip netns exec $NS_S ss -Htn state established 'sport = :81' | wc -l) = 5 ]"
}
ss_count() { in_srv ss -Htn state "$1" | wc -l; }
gauge() { sgc stats $SRV_IF --json | jq ".flows.$1"; }
within() { local d=$(($1 - $2)); [ ${d#-} -le "$3" ]; }

sg attach $SRV_IF --src-rate 150 --block-time 30 >/dev/null &&
	sg deny $SRV_IF add $ATT_IP/32 >/dev/null
check "attach with a policy and a deny-listed attacker" test -d "$PINS"
POLICY=$(sg config $SRV_IF show)
count_up || not_ok "a counting table in the server namespace"

# ==============================================================================
# 1. Ten replaces under a flood from the denied source
# ==============================================================================
if part 1; then
hold_up
expect_eq "five idle connections held" "$(ss_count established)" 5
expect_eq "a client fetches 20 pages first" "$(lab_fetch 20)" 20
PROVEN=$(proven)
expect_ge "the client's address is proven" "$PROVEN" 1

# timeout's own pid (not a subshell's), so the INT after the swaps reaches
# the generator and the flood ends with them.
timeout -s INT -k 5 310 ip netns exec "$NS_A" "$SG_FLOOD" --dev att0 --dst-mac "$SRV_MAC" \
	--dst $SRV_IP --src $ATT_IP/32 --count 2000000000 --duration 300 \
	>"$LAB_TMP/flood.out" 2>&1 &
FLOOD=$!
LAB_PIDS="$LAB_PIDS $FLOOD"
check "the flood reaches the server" until_ok 50 sh -c \
	"[ \$($SYNGUARD --netns $NS_S deny $SRV_IF list --json | jq '.deny[0].hits') -gt 1000 ]"
(
	while [ ! -e "$LAB_TMP/stop" ]; do
		ip netns exec "$NS_C" curl -s -o /dev/null --max-time 5 -w '%{http_code}\n' \
			"http://$SRV_IP/"
		sleep 0.05
	done
) >"$LAB_TMP/fetches" 2>&1 &
FETCH=$!
LAB_PIDS="$LAB_PIDS $FETCH"

prev_hits=$(deny_hits) prev_counters=$(counters)
swap_s= bad_swap=0 bad_policy=0 bad_hits=0 bad_counters=0 bad_proven=0 bad_gauge=0 bad_prog=0
for i in $(seq 10); do
	bin=$(other)
	t0=$(date +%s.%N)
	"$bin" --netns "$NS_S" attach $SRV_IF --force >"$LAB_TMP/swap" 2>&1 ||
		{ bad_swap=$((bad_swap + 1)); diag "swap $i: $(cat "$LAB_TMP/swap")"; }
	swap_s="$swap_s $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
	[ "$(cur)" = "$bin" ] || bad_swap=$((bad_swap + 1))
	[ "$(xdp_prog_name)" = synguard_xdp ] || bad_prog=$((bad_prog + 1))
	[ "$(sgc config $SRV_IF show)" = "$POLICY" ] || bad_policy=$((bad_policy + 1))
	hits=$(deny_hits)
	[ "$hits" -gt "$prev_hits" ] || { bad_hits=$((bad_hits + 1)); diag "swap $i: hits $prev_hits -> $hits"; }
	now=$(counters)
	if ! paste <(echo "$prev_counters") <(echo "$now") | awk '$2 < $1 { bad = 1 } END { exit bad }'; then
		bad_counters=$((bad_counters + 1)); diag "swap $i: a counter went down"
	fi
	[ "$(proven)" -ge "$PROVEN" ] || bad_proven=$((bad_proven + 1))
	# The client's own connection may be between ss and the gauge: 2.
	within "$(gauge established)" "$(ss_count established)" 2 || {
		bad_gauge=$((bad_gauge + 1)); diag "swap $i: established $(gauge established), ss $(ss_count established)"; }
	prev_hits=$hits prev_counters=$now
done
touch "$LAB_TMP/stop"
wait $FETCH
kill -INT $FLOOD 2>/dev/null; wait $FLOOD
diag "$(grep -h 'sent' "$LAB_TMP/flood.out")" "seconds per replace:$swap_s"
expect_eq "ten replaces, each by the other build, each exit 0" "$bad_swap" 0
expect_eq "a synguard XDP program on the interface after every swap" "$bad_prog" 0
expect_eq "the policy as before after every swap" "$bad_policy" 0
expect_eq "the deny entry's hits grew across every swap" "$bad_hits" 0
expect_eq "no counter went down across a swap" "$bad_counters" 0
expect_eq "the proven sources kept" "$bad_proven" 0
expect_eq "established within 2 of ss after every swap" "$bad_gauge" 0
expect_eq "0 frames of the denied source reached the stack" "$(seen_att)" 0
expect_ge "the denied source sent over a million SYNs meanwhile" "$(deny_hits)" 1000000
total=$(wc -l <"$LAB_TMP/fetches")
good=$(grep -c '^200$' "$LAB_TMP/fetches")
diag "client fetches during the swaps: $good of $total"
expect_ge "the client fetched all along" "$total" 20
expect_eq "every fetch during the swaps succeeded" "$good" "$total"
# Quiet now: the gauges equal the kernel's count exactly.
sleep 0.5
expect_eq "established equals ss after the swaps" "$(gauge established)" "$(ss_count established)"
expect_eq "half_open equals ss syn-recv after the swaps" "$(gauge half_open)" "$(ss_count syn-recv)"
fi

# ==============================================================================
# 2. The replace killed at 20 steps.  The first ten keep the state (each by
#    the other build, so sg_attack is converted and journaled); the last ten
#    are --reset replaces, which journal every map.
# ==============================================================================
if part 2; then
KEEP="replace-loaded journal-sg_attack journal-progs journal swap-xdp swap-egress
	swap-ingress publish-sg_attack publish-prog_ingress publish-walk"
RESET="journal-sg_stats journal-sg_half journal-sg_policy_cur publish-sg_stats
	publish-sg_config publish-sg_meta publish-sg_deny4 publish-sg_flows
	publish-sg_lists publish-sg_policy_cur"
KEEP=$(echo $KEEP) RESET=$(echo $RESET)	# one space between steps
bad_kill=0 bad_prot=0 bad_state=0 bad_prune=0 bad_after=0 n=0
for step in $KEEP $RESET; do
	n=$((n + 1))
	args="--force"
	case " $RESET " in *" $step "*) args="--force --reset" ;; esac
	SYNGUARD_TEST_KILL_AT=$step "$(other)" --netns "$NS_S" attach $SRV_IF $args \
		>"$LAB_TMP/kill.out" 2>&1
	[ $? = 137 ] || { bad_kill=$((bad_kill + 1)); diag "$step: not killed: $(cat "$LAB_TMP/kill.out")"; }
	[ "$(xdp_prog_name)" = synguard_xdp ] ||
		{ bad_prot=$((bad_prot + 1)); diag "$step: no synguard XDP program"; }
	states=$(sgc status --json | jq -r '[.attachments[] | .state] | sort | join(",")')
	case $states in
	active|active,replacing|other-build|other-build,replacing) ;;
	*) bad_state=$((bad_state + 1)); diag "$step: status says '$states'" ;;
	esac
	sg prune >/dev/null 2>&1
	states=$(sgc status --json | jq -r '[.attachments[] | .state] | join(",")')
	[ "$states" = active ] || { bad_prune=$((bad_prune + 1)); diag "$step: after prune '$states'"; }
	# Whole: it serves a client, and drops the denied source (its entry
	# survives unless the replace was a --reset that went through).
	sgc deny $SRV_IF add $ATT_IP/32 >/dev/null 2>&1
	h0=$(deny_hits)
	lab_hping -S -p 80 -c 3 $SRV_IP
	h1=$(deny_hits)
	if [ "$(lab_fetch 1)" != 1 ] || [ $((h1 - h0)) -lt 3 ]; then
		bad_after=$((bad_after + 1)); diag "$step: fetch or deny failed (hits $h0 -> $h1)"
	fi
done
expect_eq "killed at each of $n steps of a replace" "$bad_kill" 0
expect_eq "a synguard XDP program on the interface after every kill" "$bad_prot" 0
expect_eq "status shows a whole attachment (and a replace to finish) after every kill" \
	"$bad_state" 0
expect_eq "prune leaves one whole attachment after every kill" "$bad_prune" 0
expect_eq "it serves a client and drops the denied source after every kill" "$bad_after" 0
expect_eq "no journal left behind" "$(ls -d "$PINS":* 2>/dev/null | wc -l)" 0
expect_eq "0 frames of the denied source reached the stack" "$(seen_att)" 0
fi

# Sizes given with --force: the flow tables are made anew, entries copied.
id0=$(ip -n "$NS_S" -j link show $SRV_IF | jq '.[0].xdp.prog.id')
sgc attach $SRV_IF --force --mode generic >/dev/null 2>&1
expect_eq "a replace that changes the XDP mode is refused (exit 2)" "$?" 2
sgc attach $SRV_IF --reset >/dev/null 2>&1
expect_eq "--reset without --force is refused (exit 2)" "$?" 2
expect_eq "neither changed the program" \
	"$(ip -n "$NS_S" -j link show $SRV_IF | jq '.[0].xdp.prog.id')" "$id0"
sgc attach $SRV_IF --force --half-open-max 1024 >/dev/null 2>&1
expect_eq "--half-open-max with --force resizes sg_half in place" \
	"$(sgc stats $SRV_IF --json | jq .flows.half_open_max)" 1024
tap_done
