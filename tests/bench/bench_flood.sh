#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Issue 5 §4: flood survival.  The lab of tests/lib.sh (client, attacker and
# server through a switch namespace; nginx on the server).  For each
# defence: the client makes WARM connections first (that makes it a proven
# source for synguard; every row does the same), then sg-flood floods port
# 80 at full rate from the 65536 sources of 198.19.0.0/16 while the client
# makes CONNS new connections, CONN_RATE a second (lab_clients: one curl,
# Connection: close).  Reported: the share that got their 200, and the
# connect times' p50/p99/max; the baseline is the same client with no
# flood and no defence.  The server sends its SYN-ACKs to the flood's
# prefix into a sink (lab_sink).  Rows are functions, as in bench_drop.sh:
# a "synguard cookies" row is one more setup_/teardown_ pair and a word in ROWS.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib.sh"
. "$TOP/tests/bench/lib.sh"
CONNS=${CONNS:-1000}
CONN_RATE=${CONN_RATE:-100}
WARM=50
FLOOD=198.19.0.0/16
# One sending thread: the receive path of what it sends (switch, server)
# runs in softirq on its CPU, so on a 2-CPU machine the other CPU is left
# to nginx and the client.  THREADS=2 floods harder and starves them both.
THREADS=${THREADS:-1}
METER_RATE=200 METER_BURST=200	# per source: above the client's own CONN_RATE
ROWS=${ROWS:-"none cookies nft_meter synguard synguard_cookies"}

declare -A TITLE=(
	[none]="no protection (tcp_syncookies=0)"
	[cookies]="kernel SYN cookies (tcp_syncookies=2)"
	[nft_meter]="nftables per-source \`meter\` ($METER_RATE/s burst $METER_BURST; tcp_syncookies=0)"
	[synguard]="synguard attack mode, no cookies (attack_syn_rate 5000, unproven_rate 100; tcp_syncookies=1)"
	[synguard_cookies]="synguard XDP SYN cookies, always (every SYN, the client's too, answered from XDP; synproxy)"
)

setup_none() { sysctl_s net.ipv4.tcp_syncookies=0; }
teardown_none() { sysctl_s net.ipv4.tcp_syncookies=1; }

setup_cookies() { sysctl_s net.ipv4.tcp_syncookies=2; }
teardown_cookies() { sysctl_s net.ipv4.tcp_syncookies=1; }

setup_nft_meter() {
	sysctl_s net.ipv4.tcp_syncookies=0
	nft_meter 131072 $METER_RATE $METER_BURST
}
teardown_nft_meter() {
	nft_chain_off
	sysctl_s net.ipv4.tcp_syncookies=1
}

# Attack mode (synguard.8, THE POLICY): proven sources (the client, from
# its warm-up) pass, unproven SYNs are admitted at unproven_rate; the
# kernel's default SYN cookies (1) take care of the admitted ones that
# overflow the queue.
setup_synguard() {
	sysctl_s net.ipv4.tcp_syncookies=1
	sg attach $SRV_IF --attack-syn-rate 5000 --unproven-rate 100 --unproven-burst 100 \
		--cookies never >/dev/null
}
teardown_synguard() { sg detach $SRV_IF >/dev/null; }

# XDP SYN cookies for every SYN, the client's included: each of its
# connections goes SYN-ACK from XDP, ACK through nftables' synproxy.  The
# server's SYN-ACKs leave by XDP_TX into sws, which must run an XDP
# program for them to arrive (or GRO on); without, they vanish unseen.
setup_synguard_cookies() {
	lab_xdp_pass "$NS_W" sws && sg attach $SRV_IF --cookies always >/dev/null
}
teardown_synguard_cookies() {
	sg detach $SRV_IF >/dev/null
	lab_xdp_off "$NS_W" sws
}

flood_pps() {	# the switch port to the server: what the flood delivered, per second
	awk -v a="$1" -v b="$2" -v s="$3" 'BEGIN { printf "%.0f", (b - a) / s }'
}
tx_packets() { ip netns exec "$NS_W" cat /sys/class/net/sws/statistics/tx_packets; }

# run ROW: warm-up, then the client during the flood; prints a table row.
run() {
	local row=$1 out=$LAB_TMP/$1.txt secs t0 t1 p0 p1 json
	"setup_$row" || { echo "bench_flood: setup of $row failed" >&2; return 1; }
	lab_clients "$LAB_TMP/warm.txt" $WARM $CONN_RATE
	secs=$(( CONNS / CONN_RATE + 4 ))
	p0=$(tx_packets) t0=$(date +%s.%N)
	lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FLOOD 1000000000000 $secs --dport 80 \
		--threads $THREADS --json >"$LAB_TMP/$row.flood" 2>&1 &
	local fpid=$!
	LAB_PIDS="${LAB_PIDS:-} $fpid"
	sleep 1.5
	lab_clients "$out" $CONNS $CONN_RATE
	wait $fpid
	LAB_PIDS=${LAB_PIDS/ $fpid/}
	p1=$(tx_packets) t1=$(date +%s.%N)
	"teardown_$row"
	json=$(cat "$LAB_TMP/$row.flood")
	jq -e .sent <<<"$json" >/dev/null 2>&1 || { echo "bench_flood: sg-flood failed: $json" >&2; return 1; }
	row_line "${TITLE[$row]}" "$out" \
		"$(jq -r '.pps | floor' <<<"$json")" "$(flood_pps "$p0" "$p1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")"
}

# row_line TITLE FILE SENT_PPS ARRIVED_PPS
row_line() {
	local n good
	n=$(wc -l <"$2") good=$(good_conns "$2")
	printf '| %s | %s / %s | %.1f%% | %s | %s | %s | %s | %s | %s |\n' "$1" "$good" "$n" \
		"$(awk -v g="$good" -v n="$CONNS" 'BEGIN { print 100 * g / n }')" \
		"$(quantile "$2" 0.5)" "$(quantile "$2" 0.99)" "$(quantile "$2" 1)" "$3" "$4" \
		"$(awk -v f="$(quantile "$2" 0.99)" -v b="$BASE99" 'BEGIN { printf "%.1fx", f / b }')"
}

lab_up || { echo "bench_flood: cannot build the lab" >&2; exit 1; }
SRV_MAC=$(lab_mac "$NS_S" $SRV_IF)
lab_xdp_pass "$NS_W" swa || { echo "bench_flood: no XDP program on swa" >&2; exit 1; }
lab_nginx || { echo "bench_flood: nginx does not start" >&2; exit 1; }
lab_sink "$NS_S" $FLOOD || { echo "bench_flood: no sink" >&2; exit 1; }

# The baseline: no flood, no defence (the kernel's default tcp_syncookies=1).
lab_clients "$LAB_TMP/warm.txt" $WARM $CONN_RATE
lab_clients "$LAB_TMP/base.txt" $CONNS $CONN_RATE
BASE99=$(quantile "$LAB_TMP/base.txt" 0.99)

echo "## Part 4: flood survival (bench_flood.sh)"
echo
echo "The lab of tests/lib.sh (client, attacker, server through a switch namespace), nginx on the server.  sg-flood --threads $THREADS at full rate, SYNs to port 80 from the 65536 sources of $FLOOD, from 1.5 s before the client starts to after it ends; the client (one address, proven to synguard by $WARM connections before) makes $CONNS new connections, $CONN_RATE a second, curl with a 5 s limit.  Connect times in ms; \"flood sent\": sg-flood's own rate; \"flood arrived\": frames the switch sent to the server's port, per second."
echo
echo "| defence | 200s / connections | success | p50 ms | p99 ms | max ms | flood sent pps | flood arrived pps | p99 / no-flood p99 |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
row_line "no flood, no defence (baseline)" "$LAB_TMP/base.txt" - -
for row in $ROWS; do run "$row" || exit 1; done
echo
echo "Target (issue 5): under the full-rate flood, success >= 99.9% and p99 within 2x of the no-flood p99."
echo
