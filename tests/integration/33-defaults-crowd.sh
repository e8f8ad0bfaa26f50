#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Guard by default, no false positives (issue 11), nothing set:
#  1. A flash crowd: 2,000 distinct client addresses, 5 connections each,
#     10,000 in 2 s (tests/tools/sg-crowd): every one gets its 200 (nginx's
#     log: 5 from each address), synguard drops nothing, attack mode never
#     starts, no SYN is retransmitted.
#  2. A slow rise: in a minute, real clients from 100 to 1,000 connections
#     a second, and clients whose SYN-ACKs never reach them (as any server
#     has) from 150 to 1,500 unanswered SYNs a second: attack mode never
#     starts though the end is above the floor (1,000), the learned
#     threshold follows (logged every 10 s), every real connection gets its
#     200.
#  3. The controls, on a fresh attachment: the rise's end rate of
#     unanswered SYNs at once does start attack mode; so does the flash
#     crowd against attack_syn_rate=100.
#  4. After synguard's cookies (the controls'), the kernel's own: clients
#     whose SYN the kernel answered with its cookie (its SYN queue full)
#     get their 200 (their ACKs are not synproxy's).
# About 2.5 minutes, one of them the rise.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in nginx jq; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
SG_CROWD=${SG_CROWD:-$TOP/build/sg-crowd}
[ -x "$SG_CROWD" ] || { echo "1..0 # SKIP $SG_CROWD is not built (make all)"; exit 0; }

CROWD=198.18.32.0 CROWD_NET=198.18.32.0/21 NCROWD=2000 PER=5	# the flash crowd
RISE=198.18.40.0 RISE_NET=198.18.40.0/24 NRISE=200		# the rise's real clients
DARK=198.18.48.0 DARK_NET=198.18.48.0/24 NDARK=256	# clients nobody answers

# The crowd arrives faster than one nginx worker serves it on this machine:
# a queue of 4096 (somaxconn's), and connections enough that nginx does not
# close waiting ones to make room (at 4096 it closed 15-40% of the crowd's
# unanswered, synguard or not): the kernel's and nginx's limits are not
# what is tested.
NGINX_BACKLOG=4096 NGINX_CONNECTIONS=16384
lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }
# Cookie SYN-ACKs leave srv0 by XDP_TX: its switch port needs an XDP program.
lab_xdp_pass "$NS_W" sws || { not_ok "an XDP program on sws (XDP_TX on veth)"; tap_done; }
ip -n "$NS_C" -b - <<EOF
$(for i in $(seq 0 $((NCROWD - 1))); do echo "addr add 198.18.$((32 + i / 256)).$((i % 256))/32 dev cli0"; done)
$(for i in $(seq 0 $((NRISE - 1))); do echo "addr add 198.18.40.$i/32 dev cli0"; done)
$(for i in $(seq 0 $((NDARK - 1))); do echo "addr add 198.18.48.$i/32 dev cli0"; done)
EOF
ip -n "$NS_S" route add $CROWD_NET via $CLI_IP
ip -n "$NS_S" route add $RISE_NET via $CLI_IP
lab_sink "$NS_S" $DARK_NET || { not_ok "a sink for $DARK_NET"; tap_done; }

stats() { sg stats $SRV_IF --json; }
d() { echo $(( $(jq -r ".$1" <<<"$S1") - $(jq -r ".$1" <<<"$S0") )); }
j() { jq -r ".$1" <<<"$OUT"; }
# wait_calm: until attack mode is off (attack_hold calm windows), 15 s at
# most.  The program judges a window when a SYN opens it: one connection
# from the client between polls.
wait_calm() {
	local i
	for i in $(seq 150); do
		[ "$(stats | jq -r .attack.active)" = false ] && return
		ip netns exec "$NS_C" bash -c "exec 3<>/dev/tcp/$SRV_IP/80" 2>/dev/null
		sleep 0.1
	done
}
# crowd ARGS...: sg-crowd from the client to nginx; its JSON summary in OUT.
crowd() { OUT=$(timeout -k 5 120 ip netns exec "$NS_C" "$SG_CROWD" --dst $SRV_IP "$@" | tail -1); }

check "attach $SRV_IF with no options" sg attach $SRV_IF
diag "$(lab_thresholds)"

# ==============================================================================
# 1. A flash crowd: 2,000 addresses x 5 connections in 2 s.
# ==============================================================================
: >"$LAB_TMP/access.log"
S0=$(stats)
crowd --src $CROWD --sources $NCROWD --count $((NCROWD * PER)) --duration 2 --timeout 10
S1=$(stats)
diag "sg-crowd: $OUT"
diag "SYNs $(d counters.syn), completed $(d counters.hs_completed), dropped $(d verdicts.drop): $(jq -c '.drops | with_entries(select(.value > 0))' <<<"$S1")"
diag "$(lab_thresholds)"
expect_eq "flash crowd: $((NCROWD * PER)) connections started" "$(j started)" $((NCROWD * PER))
# The schedule ends at 2 s; on a busy machine the loop starts what fell due
# a little late (measured: the last at 2.009-2.139 s).
if le "$(j last_start_s)" 2.25; then ok "... within 2 s (the last at $(j last_start_s) s)"
else not_ok "... within 2 s (the last at $(j last_start_s) s, > 2.25)"; fi
expect_eq "flash crowd: 100% got their 200" "$(j good)" $((NCROWD * PER))
# nginx's own log: every request, from every address.
expect_eq "nginx served $((NCROWD * PER)) requests" "$(grep -c '"GET / HTTP/1.1" 200' "$LAB_TMP/access.log")" \
	$((NCROWD * PER))
expect_eq "... from $NCROWD distinct addresses, $PER each" \
	"$(awk '{ n[$1]++ } END { for (a in n) if (n[a] == '$PER') k++; print k + 0 }' "$LAB_TMP/access.log")" $NCROWD
expect_eq "flash crowd: 0 frames dropped by synguard" "$(d verdicts.drop)" 0
expect_eq "flash crowd: attack mode never entered" "$(d attack.entered)" 0
# No SYN lost anywhere: the kernel's own count of each connection's retransmissions.
expect_eq "flash crowd: no SYN retransmitted" "$(j syn_retrans)" 0

# ==============================================================================
# 2. A slow rise over a minute: real clients that complete, and clients
#    whose SYN-ACKs never reach them, both tenfold.
# ==============================================================================
# dark FILE FROM TO SECS: clients from DARK_NET, whose SYN-ACKs the server
# sends into a sink, FROM connections a second rising to TO over SECS; each
# gives up after 0.9 s, before its first retransmission: one unanswered SYN
# each.  In the background; DARK_PID.
dark() {
	timeout -k 5 $(($4 + 20)) ip netns exec "$NS_C" "$SG_CROWD" --dst $SRV_IP --src $DARK \
		--sources $NDARK --rate-from $2 --rate-to $3 --duration $4 --timeout 0.9 >"$1" 2>&1 &
	DARK_PID=$!
	LAB_PIDS="${LAB_PIDS:-} $DARK_PID"
}
# The server's SYN-ACKs to them fill nginx's SYN queue: the kernel's own cookies.
kcookies() { in_srv nstat -asz TcpExtTCPReqQFullDoCookies | awk '/^TcpExt/ { print $2 }'; }
diag "before the rise: $(lab_thresholds)"
# The rise: 60 s, both kinds of traffic tenfold; the thresholds every 10 s.
S0=$(stats) KC0=$(kcookies)
T0=$(date +%s)
timeout -k 5 100 ip netns exec "$NS_C" "$SG_CROWD" --dst $SRV_IP --src $RISE --sources $NRISE \
	--rate-from 100 --rate-to 1000 --duration 60 --timeout 10 >"$LAB_TMP/rise" 2>&1 &
RPID=$!
LAB_PIDS="${LAB_PIDS:-} $RPID"
dark "$LAB_TMP/dark" 150 1500 60
for t in 10 20 30 40 50 60; do
	w=$((T0 + t - $(date +%s))); [ $w -gt 0 ] && sleep $w
	diag "  $t s: $(lab_thresholds)"
	[ $t = 60 ] && { LAST=$(stats | jq -r .attack.unanswered); LEARNED=$(stats | jq -r .attack.thresholds.syn_rate); }
done
wait $RPID $DARK_PID
S1=$(stats)
OUT=$(tail -1 "$LAB_TMP/rise")
diag "the rise: $(( $(date +%s) - T0 )) s; real clients: $OUT"
diag "the rise's unanswered clients: $(tail -1 "$LAB_TMP/dark")"
diag "SYNs $(d counters.syn), completed $(d counters.hs_completed), dropped $(d verdicts.drop): $(jq -c '.drops | with_entries(select(.value > 0))' <<<"$S1")"
diag "after the rise: $(lab_thresholds)"
diag "the kernel answered $(( $(kcookies) - KC0 )) SYNs with its own cookies (its SYN queue full)"
expect_eq "slow rise: attack mode never entered" "$(d attack.entered)" 0
expect_ge "... though its unanswered SYNs at 60 s ($LAST a second) were above the floor (1000)" "$LAST" 1001
expect_ge "... as the threshold it learned rose (> 1000: $LEARNED)" "$LEARNED" 1001
expect_eq "slow rise: 0 frames dropped by synguard" "$(d verdicts.drop)" 0
expect_ge "slow rise: its real clients made >= 30000 connections" "$(j started)" 30000
expect_eq "... every one got its 200" "$(j good)" "$(j started)"


# ==============================================================================
# 3. The controls, on a fresh attachment (nothing learned): the rise's end
#    rate at once, and the flash crowd against a set attack_syn_rate=100.
# ==============================================================================
sg detach $SRV_IF >/dev/null && check "attach again" sg attach $SRV_IF
# The control: calm, then 1,500 unanswered SYNs a second at once, 4 s.
S0=$(stats)
dark "$LAB_TMP/jump" 1500 1500 4
sleep 2; diag "the jump, 2 s in: $(lab_thresholds)"
wait $DARK_PID
S1=$(stats)
diag "the jump: $(tail -1 "$LAB_TMP/jump")"
expect_ge "control: 1500 unanswered SYNs/s at once enter attack mode" "$(d attack.entered)" 1
wait_calm
expect_eq "attack mode left after the jump" "$(stats | jq -r .attack.active)" false


# The control: a fixed threshold counts the crowd's SYNs, answered or not.
sg config $SRV_IF set attack_syn_rate=100 >/dev/null
# (A set threshold is judged at the next window; one connection opens it.)
S0=$(stats)
crowd --src $CROWD --sources $NCROWD --count $((NCROWD * PER)) --duration 2 --timeout 10
S1=$(stats)
diag "control, attack_syn_rate=100: attack mode entered $(d attack.entered) times; $(j good) of $(j started) good"
expect_ge "control: the same crowd with attack_syn_rate=100 enters attack mode" "$(d attack.entered)" 1
sg config $SRV_IF set attack_syn_rate=auto >/dev/null
# Attack mode off again before the next part: attack_hold calm seconds.
wait_calm
expect_eq "attack mode left after the control" "$(stats | jq -r .attack.active)" false


# ==============================================================================
# 4. Within the 3 minutes after synguard's last cookie, the kernel answers
#    with its own (its SYN queue full of unanswered requests; no attack
#    mode at 600/s): real clients at 300/s, 10 s, all get their 200.  XDP
#    cannot tell the kernel's cookie from its own; handed to synproxy,
#    such a connection was reset (1313 and 1690 of 3000 good).
# ==============================================================================
S0=$(stats)
dark "$LAB_TMP/dark2" 600 600 10
timeout -k 5 60 ip netns exec "$NS_C" "$SG_CROWD" --dst $SRV_IP --src $RISE --sources $NRISE \
	--rate-from 300 --rate-to 300 --duration 10 --timeout 10 >"$LAB_TMP/after" 2>&1
wait $DARK_PID
S1=$(stats)
OUT=$(tail -1 "$LAB_TMP/after")
diag "after cookies: real clients $OUT; attack mode entered $(d attack.entered); dropped $(jq -c '.drops | with_entries(select(.value > 0))' <<<"$S1")"
# The connector paces its starts: a loaded machine may start a few fewer.
expect_ge "after synguard's cookies, the kernel's own: the clients started" "$(j started)" 2900
expect_eq "... and every one of them gets its 200" "$(j good)" "$(j started)"
expect_eq "... and no ACK dropped as cookie_invalid" "$(d drops.cookie_invalid)" 0

check "detach" sg detach $SRV_IF
tap_done
