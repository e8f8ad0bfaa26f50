#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# make demo: synguard in a netns lab, as a person would use it.
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces, XDP)" >&2; exit 4; }

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Building the lab: client, attacker and server namespaces on a bridge"
lab_up || { echo "demo: cannot build the lab" >&2; exit 1; }
lab_nginx || { echo "demo: nginx did not start" >&2; exit 1; }
echo "server $SRV_IP / $SRV_IP6 (nginx), client $CLI_IP, attacker $ATT_IP"

say "Attaching synguard to the server's interface ($SRV_IF in netns $NS_S)"
echo "(XDP on ingress, tcx on egress; each source may send 50 SYNs at once, then 100/s)"
run "$SYNGUARD" --netns "$NS_S" attach $SRV_IF --src-rate 100 --src-burst 50 || exit 1
run "$SYNGUARD" status

say "A real client fetches a page 20 times over IPv4 and 20 times over IPv6"
echo "IPv4: $(lab_fetch 20)/20 fetched, IPv6: $(lab_fetch 20 "http://[$SRV_IP6]/")/20 fetched"

say "The attacker sends malformed TCP with hping3 (50 of each, bounded)"
for c in "SYN+FIN:-S -F" "NULL scan:" "XMAS scan:-F -P -U" "FIN scan:-F" \
	 "data offset 4:-O 4 -S" "land:-a $SRV_IP -s 80 -k -S"; do
	printf '  %-16s hping3 %s -c 50 -p 80 %s\n' "${c%%:*}" "${c#*:}" "$SRV_IP"
	lab_hping ${c#*:} -c 50 -p 80 $SRV_IP
done
say "...and a burst of 500 SYNs from a spoofed lab address, as fast as it can"
timeout 10 ip netns exec "$NS_A" hping3 -q -S -p 80 -a 198.18.0.77 -c 500 -i u100 $SRV_IP >/dev/null 2>&1
echo "Meanwhile the client still gets in: $(lab_fetch 20)/20 fetched"

say "Policy changes live, without reattaching"
run "$SYNGUARD" --netns "$NS_S" config $SRV_IF set block_time=30 ports=80,443
run "$SYNGUARD" --netns "$NS_S" deny $SRV_IF add 198.18.0.66/32
run "$SYNGUARD" --netns "$NS_S" deny $SRV_IF list

say "What synguard saw"
run "$SYNGUARD" --netns "$NS_S" stats $SRV_IF
say "The same as JSON (one object per report)"
"$SYNGUARD" --netns "$NS_S" stats $SRV_IF --json | jq -c '{verdicts,
	drops: (.drops | with_entries(select(.value > 0))),
	flows: {half_open: .flows.half_open, syn_seen: .flows.syn_seen,
		time_wait_remote: .flows.time_wait_remote},
	handshakes: {started: .handshakes.started, completed: .handshakes.completed}}'

say "SYN cookies: a spoofed flood from a whole lab /16, answered from XDP"
echo "(cookies=always: every SYN gets a SYN cookie SYN-ACK by XDP_TX; valid ACKs go on to"
echo " the kernel's synproxy through synguard's own nftables table; 10 s at most, 3M SYNs at most)"
lab_xdp_pass "$NS_W" sws && lab_xdp_pass "$NS_W" swa || { echo "demo: no XDP on the switch ports" >&2; exit 1; }
run "$SYNGUARD" --netns "$NS_S" config $SRV_IF set cookies=always
# Its table: synguard_IFINDEX_ID (ID: the attachment's random id).
ip netns exec "$NS_S" nft list tables | awk '$3 ~ /^synguard_/ { print $3 }' |
	while read -r table; do ip netns exec "$NS_S" nft list table inet "$table"; done
ip -n "$NS_C" addr add 198.18.64.1/32 dev cli0
ip -n "$NS_S" route add 198.18.64.0/24 via $CLI_IP
lab_flood "$NS_A" att0 "$(lab_mac "$NS_S" $SRV_IF)" $SRV_IP 198.19.0.0/16 3000000 10 --random \
	>"$LAB_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
LAB_PIDS="${LAB_PIDS:-} $FLOOD_PID"
sleep 2
good=0
for i in $(seq 20); do
	ip netns exec "$NS_C" curl -s --interface 198.18.64.1 --max-time 3 -o /dev/null \
		http://$SRV_IP/ && good=$((good + 1))
done
echo "During the flood a client from an address the server never saw fetched $good/20 pages"
pkill -INT -P $FLOOD_PID 2>/dev/null; wait $FLOOD_PID 2>/dev/null
echo "generator: $(tail -1 "$LAB_TMP/flood.out")"
"$SYNGUARD" --netns "$NS_S" stats $SRV_IF --json | jq -c '{verdicts, cookies}'
echo "the server's SYN-RECV queue: $(ip netns exec "$NS_S" ss -Htn state syn-recv | wc -l) sockets"

say "Detaching and tearing the lab down"
run "$SYNGUARD" --netns "$NS_S" detach $SRV_IF
run "$SYNGUARD" status
echo "nftables in the server netns after detach: $(ip netns exec "$NS_S" nft list ruleset | wc -l) lines"
