#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Issue 5 §3: drop throughput on veth at sg-flood's full rate, every
# defence side by side in one run.  A two-namespace lab (lab_pair_up:
# attacker att0 -- srv0 server, no switch); sg-flood sends SYNs to
# nginx's port 80 from 4096 sources of 198.19.0.0/20, one thread per CPU,
# for WINDOW seconds per row after a WARMUP of the same flood, ROUNDS
# rounds with the rows interleaved (median reported).  The server sends its SYN-ACKs into a sink (lab_sink).
#
# Where the time goes: XDP_TX frames land in srv0's ring, and srv0's NAPI
# runs in softirq on the CPU that sent them, right after each batch of 64.
# So the receiving side is the softirq time in /proc/stat (all CPUs; the
# generator itself is system time), and a row's rate is what generator and
# receiver together reach on this machine: the cheaper the receiver, the
# more the generator sends.
#
# Rows are functions (setup_ROW, teardown_ROW, dropped_ROW) named in ROWS:
# a new defence (synguard's XDP SYN cookies) is one more set and one word.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib.sh"
. "$TOP/tests/bench/lib.sh"
WINDOW=${WINDOW:-5}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
FLOOD=198.19.0.0/20 FLOOD_ROUTE=198.19.0.0/16
THREADS=$(nproc); [ "$THREADS" -gt 4 ] && THREADS=4
NFT_SRC_RATE=10 NFT_SRC_BURST=20	# nft meter / synguard src_rate: per source
NFT_RATE=1000				# nft plain limit: SYNs/s in all
ROWS=${ROWS:-"none cookies nft_meter nft_limit xdp_drop synguard_src synguard_attack synguard_cookies"}

declare -A TITLE=(
	[none]="no filter (tcp_syncookies=0)"
	[cookies]="kernel SYN cookies (tcp_syncookies=2)"
	[nft_meter]="nftables netdev ingress, per-source \`meter\` ($NFT_SRC_RATE/s burst $NFT_SRC_BURST)"
	[nft_limit]="nftables netdev ingress, plain \`limit\` ($NFT_RATE/s)"
	[xdp_drop]="trivial XDP_DROP"
	[synguard_src]="synguard, per-source limit (src_rate $NFT_SRC_RATE, src_burst $NFT_SRC_BURST)"
	[synguard_attack]="synguard, attack mode (attack_syn_rate 10000, unproven_rate 10)"
	[synguard_cookies]="synguard, XDP SYN cookies (cookies=always: every SYN answered with XDP_TX; \"dropped\": answered)"
)

nft_counter() {	# packets of the table's only counter
	nft_s -j list table netdev sgbench | jq '[.nftables[] | .rule? // empty | .expr[] |
		.counter? // empty | .packets] | add // 0'
}

setup_none() { sysctl_s net.ipv4.tcp_syncookies=0; }
teardown_none() { sysctl_s net.ipv4.tcp_syncookies=1; }
dropped_none() { echo -; }

setup_cookies() { sysctl_s net.ipv4.tcp_syncookies=2; }
teardown_cookies() { sysctl_s net.ipv4.tcp_syncookies=1; }
dropped_cookies() { echo -; }

setup_nft_meter() {
	nft_meter 65536 $NFT_SRC_RATE $NFT_SRC_BURST
}
teardown_nft_meter() { nft_chain_off; }
dropped_nft_meter() { nft_counter; }

setup_nft_limit() { nft_chain "tcp flags syn / syn,ack limit rate over $NFT_RATE/second counter drop"; }
teardown_nft_limit() { nft_chain_off; }
dropped_nft_limit() { nft_counter; }

setup_xdp_drop() { lab_xdp "$NS_S" $SRV_IF drop; }
teardown_xdp_drop() { lab_xdp_off "$NS_S" $SRV_IF; }
dropped_xdp_drop() {
	ip netns exec "$NS_S" ethtool -S $SRV_IF | awk -F': *' '/rx_queue_[0-9]+_xdp_drops/ { n += $2 } END { print n + 0 }'
}

setup_synguard_src() { sg attach $SRV_IF --src-rate $NFT_SRC_RATE --src-burst $NFT_SRC_BURST >/dev/null; }
teardown_synguard_src() { sg detach $SRV_IF >/dev/null; }
dropped_synguard_src() { sg stats $SRV_IF --json | jq .verdicts.drop; }

setup_synguard_attack() {
	sg attach $SRV_IF --attack-syn-rate 10000 --unproven-rate 10 --unproven-burst 10 \
		--attack-hold 5 --cookies never >/dev/null
}
teardown_synguard_attack() { sg detach $SRV_IF >/dev/null; }
dropped_synguard_attack() { sg stats $SRV_IF --json | jq .verdicts.drop; }

# Every SYN answered from XDP: the SYN-ACKs go back out of srv0 into att0,
# whose XDP program takes them in (then the attacker's stack drops them:
# not its addresses).  Counted: the SYNs answered.
setup_synguard_cookies() {
	lab_xdp_pass "$NS_A" att0 && sg attach $SRV_IF --cookies always >/dev/null
}
teardown_synguard_cookies() {
	sg detach $SRV_IF >/dev/null
	lab_xdp_off "$NS_A" att0
}
dropped_synguard_cookies() { sg stats $SRV_IF --json | jq .verdicts.tx; }

# /proc/stat, all CPUs: "SOFTIRQ SYSTEM" in USER_HZ ticks.
cpu_ticks() { awk '$1 == "cpu" { print $8, $4 }' /proc/stat; }
HZ=$(getconf CLK_TCK)

# measure ROW: one window of the flood against ROW; appends a line to
# $LAB_TMP/ROW: handled_pps dropped_pps softirq_ns_per_pkt sent_pps refused_pps
measure() {
	local row=$1 rx0 rx1 d0 d1 si0 sy0 si1 sy1 e0 e1 json secs sent
	"setup_$row" || { echo "bench_drop: setup of $row failed" >&2; return 1; }
	# A warm-up of the same flood first: the window measures the steady
	# state (attack mode entered, meters and buckets full of sources,
	# nginx's queue full), not the first second of it.
	lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FLOOD 1000000000000 $WARMUP \
		--dport 80 --threads $THREADS >/dev/null 2>&1
	rx0=$(lab_veth_rx "$NS_S" $SRV_IF) d0=$("dropped_$row") e0=$(xmit_errors)
	read -r si0 sy0 < <(cpu_ticks)
	json=$(lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FLOOD 1000000000000 $WINDOW \
		--dport 80 --threads $THREADS --json 2>&1)
	read -r si1 sy1 < <(cpu_ticks)
	rx1=$(lab_veth_rx "$NS_S" $SRV_IF) d1=$("dropped_$row") e1=$(xmit_errors)
	"teardown_$row"
	secs=$(jq -r .seconds <<<"$json" 2>/dev/null) sent=$(jq -r .sent <<<"$json" 2>/dev/null)
	case $secs in ''|null) echo "bench_drop: sg-flood failed: $json" >&2; return 1 ;; esac
	awk -v rx=$((rx1 - rx0)) -v d0="$d0" -v d1="$d1" -v si=$((si1 - si0)) -v hz="$HZ" \
		-v s="$secs" -v sent="$sent" -v ref=$((e1 - e0)) 'BEGIN {
		printf "%.0f %s %.0f %.0f %.0f\n", rx / s,
			(d0 == "-" ? "-" : sprintf("%.0f", (d1 - d0) / s)),
			(rx > 0 ? si * 1e9 / hz / rx : 0), sent / s, ref / s }' >>"$LAB_TMP/$row"
}
xmit_errors() {
	ip netns exec "$NS_A" ethtool -S att0 | awk -F': *' '/xdp_xmit_errors/ { n += $2 } END { print n + 0 }'
}
# median ROW FIELD: the median of a field over the rounds.
median() {
	awk -v f="$2" '{ print $f }' "$LAB_TMP/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (v[1] == "-") { print "-"; exit } print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
fmt() { awk -v x="$1" 'BEGIN { if (x == "-") print "-"; else printf "%\047.0f", x }'; }

lab_pair_up || { echo "bench_drop: cannot build the lab" >&2; exit 1; }
SRV_MAC=$(lab_mac "$NS_S" $SRV_IF)
# XDP_TX into srv0 needs NAPI on it: GRO on (an XDP program also gives it).
ip netns exec "$NS_S" ethtool -K $SRV_IF gro on >/dev/null
lab_nginx || { echo "bench_drop: nginx does not start" >&2; exit 1; }
lab_sink "$NS_S" $FLOOD_ROUTE || { echo "bench_drop: no sink" >&2; exit 1; }
ip netns exec "$NS_A" ip neigh replace $SRV_IP lladdr "$SRV_MAC" dev att0

for round in $(seq "$ROUNDS"); do
	for row in $ROWS; do measure "$row" || exit 1; done
done

echo "## Part 3: drop throughput on veth (bench_drop.sh)"
echo
echo "sg-flood --threads $THREADS at full rate: SYNs to nginx's port 80 from the 4096 sources of $FLOOD, into a veth pair (no switch), $WINDOW s a row after $WARMUP s of the same flood, $ROUNDS rounds with the rows interleaved, median.  \"handled\": frames srv0 took from its ring (ethtool -S / rx_packets); \"dropped\": by the defence (its own counter); \"softirq ns/frame\": the receiving side's CPU time (/proc/stat softirq, all CPUs) per frame handled; \"sent\": what sg-flood put on the wire, \"refused\": frames the veth ring had no room for."
echo
echo "| defence | handled pps | dropped pps | softirq ns/frame | sent pps | refused pps |"
echo "|---|---:|---:|---:|---:|---:|"
for row in $ROWS; do
	printf '| %s | %s | %s | %s | %s | %s |\n' "${TITLE[$row]}" "$(fmt "$(median $row 1)")" \
		"$(fmt "$(median $row 2)")" "$(fmt "$(median $row 3)")" "$(fmt "$(median $row 4)")" \
		"$(fmt "$(median $row 5)")"
done
echo
# The targets: synguard's drops against trivial XDP_DROP's and the best nftables row's.
best_sg=0 best_sg_row=
for row in $ROWS; do
	case $row in synguard_*) d=$(median $row 2); [ "$d" != - ] && awk -v a="$d" -v b="$best_sg" 'BEGIN { exit !(a > b) }' && best_sg=$d best_sg_row=$row ;; esac
done
best_nft=0
for row in $ROWS; do
	case $row in nft_*) d=$(median $row 2); awk -v a="$d" -v b="$best_nft" 'BEGIN { exit !(a > b) }' && best_nft=$d ;; esac
done
trivial=$(median xdp_drop 2 2>/dev/null || echo 0)
if [ -n "$best_sg_row" ]; then
	awk -v s="$best_sg" -v t="$trivial" -v n="$best_nft" -v name="${TITLE[$best_sg_row]}" 'BEGIN {
		r1 = (t > 0 ? s / t : 0); r2 = (n > 0 ? s / n : 0)
		print "| target (issue 5) | measured | |"
		print "|---|---|---|"
		printf "| synguard drops >= 80%% of trivial XDP_DROP'\''s pps | %.0f%% (%s) | %s |\n", 100 * r1, name, (r1 >= 0.8 ? "met" : "**missed**")
		printf "| synguard drops >= 3x the best nftables rule'\''s pps | %.1fx | %s |\n", r2, (r2 >= 3 ? "met" : "**missed**")
	}'
	echo
fi
