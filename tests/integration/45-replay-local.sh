#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard replay FILE --local CIDR` against the live attachment: a capture
# of both directions on the switch port towards the server, replayed with
# the server's addresses as local (what they send through the egress
# program, the rest through XDP), gives the same handshakes, closes, flow
# gauges and latency sample counts as the live counters, and the same TCP
# counters.  Without --local, every packet is taken as arriving: the
# handshakes never complete.  Traffic: curl to nginx (IPv4 and IPv6), a
# connection held open, a refused port, and SYNs from the attacker's own
# address that its kernel resets; all bounded.
set -u
. "$(dirname "$0")/../lib.sh"
lab_need tcpdump hping3 nginx curl jq

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }
T=$LAB_TMP

# The counters only TCP makes: the lab's own IPv6 and ARP chatter (some of
# it from ::, which no --local can name) and the frames before the fresh
# attach are in the capture but not in the live counters.  Nor `express`:
# which lane judges an established flow's ACK depends on the CPU that saw it
# (sg_ack's slots are per CPU), and a replay runs on one.
TCP_COUNTERS='.counters | with_entries(select(.key | test("^(frames|ipv4|ipv6|other_l3|vlan|non_tcp|egress|pass|express|chain_empty)$") | not))'
snap() { sg stats $SRV_IF --json >"$1"; }

check "attach $SRV_IF" sg attach $SRV_IF
# sws is the bridge port towards the server: what it sends out is what XDP
# on srv0 receives, what it receives is what srv0's egress sent.  Both
# directions (no -Q), in the order they crossed it.
ip netns exec "$NS_W" tcpdump -i sws -U --immediate-mode -w "$T/cap.pcap" \
	2>"$T/tcpdump.err" &
TCPDUMP=$!
LAB_PIDS="${LAB_PIDS:-} $TCPDUMP"
for _ in $(seq 50); do grep -q listening "$T/tcpdump.err" && break; sleep 0.1; done
grep -q listening "$T/tcpdump.err" || diag "tcpdump did not say it listens"
check "attach --force --reset: counters from 0 with the capture running" sg attach $SRV_IF --force --reset

expect_eq "50 IPv4 fetches" "$(lab_fetch 50)" 50
expect_eq "10 IPv6 fetches" "$(lab_fetch 10 "http://[$SRV_IP6]/")" 10
# A connection that stays established past the snapshot.
timeout 15 ip netns exec "$NS_C" bash -c "exec 3<>/dev/tcp/$SRV_IP/80; sleep 4" &
HOLD=$!
LAB_PIDS="$LAB_PIDS $HOLD"
expect_eq "a refused port: no fetch succeeds" "$(lab_fetch 3 "http://$SRV_IP:81/")" 0
# Real SYNs from the attacker's own address: the server answers, the
# attacker's kernel (no socket) resets.
lab_hping $SRV_IP -p 80 -S -c 5
sleep 1
snap "$T/live"
kill -INT $TCPDUMP
wait $TCPDUMP
kill $HOLD 2>/dev/null
wait $HOLD 2>/dev/null
LAB_PIDS=

"$SYNGUARD" replay "$T/cap.pcap" --local $SRV_IP/32 --local $SRV_IP6 --json \
	>"$T/replay" 2>"$T/replay.err"
rc=$?
expect_eq "replay --local $SRV_IP/32 --local $SRV_IP6 exits 0" "$rc" 0
[ $rc = 0 ] || { sed 's/^/#   /' "$T/replay.err"; echo '{}' >"$T/replay"; }
L() { jq -c "$1" "$T/live"; }
R() { jq -c "$1" "$T/replay"; }

expect_eq "every record replayed" "$(R '.replay.records - .replay.replayed')" 0
expect_eq "replay.local lists both" "$(R .replay.local)" "[\"$SRV_IP/32\",\"$SRV_IP6/128\"]"
# What tcpdump itself says the server sent: IP from its addresses, its ARP.
want=$(tcpdump -nr "$T/cap.pcap" "src host $SRV_IP or src host $SRV_IP6 or \
	(arp and arp[14:4] = 0x$(printf '%02x' ${SRV_IP//./ }))" 2>/dev/null | wc -l)
expect_eq "replayed_egress == what tcpdump says the server sent" \
	"$(R .replay.replayed_egress)" "$want"
expect_eq "counters.egress == replayed_egress" "$(R .counters.egress)" "$want"

expect_ge "live: handshakes.completed >= 61 (50 + 10 + the held one)" \
	"$(L .handshakes.completed)" 61
expect_eq "handshakes.completed == live" "$(R .handshakes.completed)" "$(L .handshakes.completed)"
expect_eq "flows.time_wait_remote == live" "$(R .flows.time_wait_remote)" "$(L .flows.time_wait_remote)"
expect_ge "live: time_wait_remote >= 60" "$(L .flows.time_wait_remote)" 60
expect_eq "live: the held connection is established" "$(L .flows.established)" 1
expect_ge "live: handshakes.reset >= 8 (3 refused, 5 hping3)" "$(L .handshakes.reset)" 8
expect_eq "every flow gauge and table use == live" "$(R .flows)" "$(L .flows)"
expect_eq "every handshake counter == live" "$(R .handshakes)" "$(L .handshakes)"
expect_eq "every close counter == live" "$(R .closes)" "$(L .closes)"
expect_eq "latency sample counts == live" \
	"$(R '.latency | map_values(.samples)')" "$(L '.latency | map_values(.samples)')"
expect_eq "every TCP counter == live" "$(R "$TCP_COUNTERS")" "$(L "$TCP_COUNTERS")"
expect_eq "drops == live (none)" "$(R .drops)" "$(L .drops)"

"$SYNGUARD" replay "$T/cap.pcap" --local "$SRV_IP,$SRV_IP6/128" --json >"$T/replay2" 2>&1
# (The latency buckets are the replay's own timing: only their counts agree.)
SAME='del(.time) | .latency |= map_values(.samples)'
expect_eq "--local as one comma list: the same report" \
	"$(jq -c "$SAME" "$T/replay2")" "$(jq -c "$SAME" "$T/replay")"
"$SYNGUARD" replay "$T/cap.pcap" --local $SRV_IP --local $SRV_IP6 >"$T/replay.txt" 2>&1
check "the text report has the flows, handshakes and the local addresses" \
	bash -c 'grep -q "^  flows now" "$1" && grep -q "^  handshakes: " "$1" &&
		 grep -q "^  local: '"$SRV_IP/32 $SRV_IP6/128"' (" "$1"' _ "$T/replay.txt"

# Without --local: every packet through XDP, as arriving.
"$SYNGUARD" replay "$T/cap.pcap" --json >"$T/replay-in" 2>&1
expect_eq "without --local: nothing through egress" \
	"$(jq -c '[.replay.replayed_egress, .counters.egress]' "$T/replay-in")" "[0,0]"
expect_eq "without --local: no handshake completes" \
	"$(jq -c .handshakes.completed "$T/replay-in")" 0
expect_eq "without --local: the server's SYN-ACKs are unexpected" \
	"$(jq -c .handshakes.unexpected_synack "$T/replay-in")" \
	"$(L '.handshakes.synack_retrans + .counters.hs_synacked')"

tap_done
