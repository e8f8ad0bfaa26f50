#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Issue 18: SYN cookie answers on veth at sg-flood's full rate, the
# answering programs side by side in one run.  The pair lab (att0 --
# srv0); sg-flood SYNs to port 80 from the 65536 sources of 198.19.0.0/16
# (a handful of SYNs per source a second: no per-source limit fires).
#
# The fair lab for replies: the flood's sources are not in the lab, so
# whatever the server answers (XDP_TX from srv0, or the stack's SYN-ACK
# routed back to att0) is taken and discarded by att0's XDP_DROP, as the
# internet would: no namespace's stack spends time on it.  att0's
# xdp_drops counter is the answers received.
#
# Cost: /proc/stat softirq (all CPUs) per frame srv0 handled.  That is the
# server's receive, its program and its transmit, plus att0's reception
# of the answer, which is the same in every row: one frame into a veth
# ring and XDP_DROP, what the "trivial XDP_DROP on srv0" row costs a
# frame.  "server ns/frame" takes that away: softirq - drop row x answers
# per frame.  "prog ns": the XDP program's own run time (bpf_stats).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib.sh"
. "$TOP/tests/bench/lib.sh"
OUT=${OUT:-$TOP/build}
WINDOW=${WINDOW:-5}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
FLOOD=198.19.0.0/16
THREADS=$(nproc); [ "$THREADS" -gt 4 ] && THREADS=4
REFLECT_OBJ=$OUT/tools/sg_reflect.bpf.o
SYNPROXY_DIR=$OUT/synproxy
ROWS=${ROWS:-"xdp_drop reflect synproxy synguard_cookies synguard_bare synguard_default kcookies"}

declare -A TITLE=(
	[xdp_drop]="trivial XDP_DROP on srv0 (no answer: the cost of taking a frame in, att0's share of each answer)"
	[reflect]="trivial XDP reflector (swap, SYN-ACK flags, XDP_TX; no cookie)"
	[synproxy]="kernel selftest XDP synproxy (xdp_synproxy_kern.c)"
	[synguard_cookies]="synguard cookies=always"
	[synguard_bare]="synguard cookies=always, src_rate and attack detection off (the cookie path alone)"
	[synguard_default]="synguard default policy (attack mode; cookies=attack)"
	[kcookies]="kernel SYN cookies (tcp_syncookies=2, no XDP)"
)

xdp_id() { ip -n "$NS_S" -d link show $SRV_IF | awk '/prog\/xdp id/ { for (i = 1; i < NF; i++) if ($i == "id") { print $(i + 1); exit } }'; }

setup_xdp_drop() { lab_xdp "$NS_S" $SRV_IF drop; }
teardown_xdp_drop() { lab_xdp_off "$NS_S" $SRV_IF; }

setup_reflect() { ip -n "$NS_S" link set dev $SRV_IF xdpdrv object "$REFLECT_OBJ" program sg_reflect; }
teardown_reflect() { lab_xdp_off "$NS_S" $SRV_IF; }

# As the selftest's user program runs it (prog_tests/xdp_synproxy.c):
# tcp_syncookies=2, the same port, MSS and window scale; its iptables
# SYNPROXY rules only matter for the ACKs, which this flood never sends.
SYNPROXY=
synproxy_pick() {	# the first build the verifier loads, or why none does
	local d log
	for d in "$SYNPROXY_DIR"/6.12-clang-* "$SYNPROXY_DIR"/6.1-clang-*; do
		[ -x "$d/xdp_synproxy" ] || continue
		log=$LAB_TMP/synproxy-${d##*/}.log
		if (cd "$d" && timeout 120 ip netns exec "$NS_S" ./xdp_synproxy --iface $SRV_IF \
			--ports 80 --single --mss4 1460 --mss6 1440 --wscale 7 --ttl 64) >"$log" 2>&1; then
			SYNPROXY=$d
			lab_xdp_off "$NS_S" $SRV_IF
			return 0
		fi
		SYNPROXY_WHY="${SYNPROXY_WHY:+$SYNPROXY_WHY; }${d##*/}: $(grep -o 'processed [0-9]* insns (limit [0-9]*)' "$log" | head -1 || tail -1 "$log")"
	done
	return 1
}
setup_synproxy() {
	sysctl_s net.ipv4.tcp_syncookies=2
	(cd "$SYNPROXY" && ip netns exec "$NS_S" ./xdp_synproxy --iface $SRV_IF --ports 80 \
		--single --mss4 1460 --mss6 1440 --wscale 7 --ttl 64) >/dev/null
}
teardown_synproxy() { lab_xdp_off "$NS_S" $SRV_IF; sysctl_s net.ipv4.tcp_syncookies=1; }

setup_synguard_cookies() { sg attach $SRV_IF --cookies always >/dev/null; }
teardown_synguard_cookies() { sg detach $SRV_IF >/dev/null; }

# The same without the per-source table (sg_src, 65536 entries: the
# flood's 65536 sources keep its LRU evicting) and attack detection.
setup_synguard_bare() {
	sg attach $SRV_IF --cookies always --src-rate off --attack-syn-rate off \
		--attack-half-open off >/dev/null
}
teardown_synguard_bare() { sg detach $SRV_IF >/dev/null; }

# `synguard attach` with nothing set: the flood puts it in attack mode,
# whose unproven SYNs get cookies.
setup_synguard_default() { sg attach $SRV_IF >/dev/null; }
teardown_synguard_default() { sg detach $SRV_IF >/dev/null; }

setup_kcookies() { sysctl_s net.ipv4.tcp_syncookies=2; }
teardown_kcookies() { sysctl_s net.ipv4.tcp_syncookies=1; }

cpu_ticks() { awk '$1 == "cpu" { print $8 }' /proc/stat; }
HZ=$(getconf CLK_TCK)
att_drops() {
	ip netns exec "$NS_A" ethtool -S att0 | awk -F': *' '/rx_queue_[0-9]+_xdp_drops/ { n += $2 } END { print n + 0 }'
}
prog_stats() {	# "run_time_ns run_cnt" of srv0's XDP program, or "0 0"
	local id; id=$(xdp_id)
	[ -n "$id" ] || { echo 0 0; return; }
	bpftool prog show id "$id" -j | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# measure ROW: appends "handled_pps answered_pps softirq_ns_per_frame prog_ns sent_pps"
measure() {
	local row=$1 rx0 rx1 a0 a1 si0 si1 p0 p1 json
	"setup_$row" || { echo "bench_cookie: setup of $row failed" >&2; return 1; }
	lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FLOOD 1000000000000 $WARMUP \
		--dport 80 --threads $THREADS >/dev/null 2>&1
	rx0=$(lab_veth_rx "$NS_S" $SRV_IF) a0=$(att_drops) p0=$(prog_stats) si0=$(cpu_ticks)
	json=$(lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FLOOD 1000000000000 $WINDOW \
		--dport 80 --threads $THREADS --json 2>&1)
	si1=$(cpu_ticks) rx1=$(lab_veth_rx "$NS_S" $SRV_IF) a1=$(att_drops) p1=$(prog_stats)
	"teardown_$row"
	jq -e .seconds <<<"$json" >/dev/null 2>&1 || { echo "bench_cookie: sg-flood failed: $json" >&2; return 1; }
	awk -v rx=$((rx1 - rx0)) -v a=$((a1 - a0)) -v si=$((si1 - si0)) -v hz="$HZ" \
		-v p0="$p0" -v p1="$p1" -v s="$(jq .seconds <<<"$json")" -v sent="$(jq .sent <<<"$json")" 'BEGIN {
		split(p0, x, " "); split(p1, y, " ")
		n = y[2] - x[2]
		printf "%.0f %.0f %.0f %s %.0f\n", rx / s, a / s, (rx > 0 ? si * 1e9 / hz / rx : 0),
			(n > 0 ? sprintf("%.0f", (y[1] - x[1]) / n) : "-"), sent / s }' >>"$LAB_TMP/$row"
}
median() {
	awk -v f="$2" '{ print $f }' "$LAB_TMP/$1" | sort -g | awk '{ v[NR] = $1 } END {
		if (v[1] == "-") { print "-"; exit } print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
fmt() { awk -v x="$1" 'BEGIN { if (x == "-" || x == "") print "-"; else printf "%\047.0f", x }'; }

lab_pair_up || { echo "bench_cookie: cannot build the lab" >&2; exit 1; }
SRV_MAC=$(lab_mac "$NS_S" $SRV_IF) ATT_MAC=$(lab_mac "$NS_A" att0)
ip netns exec "$NS_S" ethtool -K $SRV_IF gro on >/dev/null
lab_nginx || { echo "bench_cookie: nginx does not start" >&2; exit 1; }
# Answers to the flood's sources go back to att0, whose XDP drops them all
# (ARP too: the neighbours are permanent).
ip -n "$NS_A" neigh replace $SRV_IP lladdr "$SRV_MAC" dev att0 nud permanent
ip -n "$NS_S" neigh replace $ATT_IP lladdr "$ATT_MAC" dev $SRV_IF nud permanent
ip -n "$NS_S" route replace $FLOOD via $ATT_IP dev $SRV_IF
lab_xdp "$NS_A" att0 drop || { echo "bench_cookie: no XDP_DROP on att0" >&2; exit 1; }
bpf_stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
trap 'sysctl -qw kernel.bpf_stats_enabled=$bpf_stats_was; lab_down' EXIT

SYNPROXY_WHY=
if ! synproxy_pick; then
	ROWS=${ROWS/synproxy/}
	[ -n "$SYNPROXY_WHY" ] || SYNPROXY_WHY="not built (make synproxy)"
else
	# Which release and compiler loaded; and those that did not, why.
	TITLE[synproxy]="kernel selftest XDP synproxy (linux-source-${SYNPROXY##*/} build of xdp_synproxy_kern.c${SYNPROXY_WHY:+; $SYNPROXY_WHY})"
fi

for round in $(seq "$ROUNDS"); do
	for row in $ROWS; do measure "$row" || exit 1; done
done

drop_ns=$(median xdp_drop 3)
echo "## Part 6: SYN cookie path (bench_cookie.sh)"
echo
echo "sg-flood --threads $THREADS at full rate: SYNs (Linux options: MSS, SACK, timestamps, window scale) to port 80 from the 65536 sources of $FLOOD into a veth pair, $WINDOW s a row after $WARMUP s of the same flood, $ROUNDS rounds with the rows interleaved, median.  Every answer goes back to att0, whose XDP_DROP takes and counts it (\"answered\").  \"softirq ns/frame\": /proc/stat softirq of all CPUs per frame srv0 handled; \"server ns/frame\": that minus att0's share (the XDP_DROP row's ns per frame, times answers per frame); \"prog ns\": the XDP program's own run time per run (bpf_stats)."
echo
echo "| answering program | handled pps | answered pps | softirq ns/frame | server ns/frame | prog ns | sent pps |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for row in xdp_drop reflect synproxy synguard_cookies synguard_bare synguard_default kcookies; do
	if [ "$row" = synproxy ] && [ -z "$SYNPROXY" ]; then
		printf '| %s | does not load: %s | | | | | |\n' "${TITLE[$row]}" "$SYNPROXY_WHY"
		continue
	fi
	[ -e "$LAB_TMP/$row" ] || continue
	h=$(median $row 1) a=$(median $row 2) si=$(median $row 3)
	srv=$(awk -v si="$si" -v d="$drop_ns" -v a="$a" -v h="$h" 'BEGIN { print (h > 0 ? si - d * a / h : 0) }')
	[ "$row" = xdp_drop ] && srv=$si
	echo "$row $a" >>"$LAB_TMP/answered"
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${TITLE[$row]}" "$(fmt "$h")" "$(fmt "$a")" \
		"$(fmt "$si")" "$(fmt "$srv")" "$(fmt "$(median $row 4)")" "$(fmt "$(median $row 5)")"
done
echo
ans() { awk -v r="$1" '$1 == r { print $2 }' "$LAB_TMP/answered"; }
sgc=$(ans synguard_cookies) sgd=$(ans synguard_default) sgb=$(ans synguard_bare)
awk -v sg="$sgc" -v sd="$sgd" -v sb="$sgb" -v rf="$(ans reflect)" -v sp="$(ans synproxy)" -v kc="$(ans kcookies)" '
function r(a, b) { return (a > 0 && b > 0) ? sprintf("%.2fx", a / b) : "-" }
# The target holds for both policies, cookies=always and the default.
function v(x, ref) {
	if (!(ref > 0) || !(sg > 0) || !(sd > 0)) return "not measured"
	return (sg >= x * ref && sd >= x * ref) ? "met" : "**missed**"
}
BEGIN {
	print "| target (issue 18), on answers per second | cookies=always | default policy | cookie path alone | |"
	print "|---|---:|---:|---:|---|"
	printf "| >= 0.7x the trivial reflector | %s | %s | %s | %s |\n", r(sg, rf), r(sd, rf), r(sb, rf), v(0.7, rf)
	if (sp > 0)
		printf "| >= 1.0x the selftest XDP synproxy | %s | %s | %s | %s |\n", r(sg, sp), r(sd, sp), r(sb, sp), v(1.0, sp)
	else
		print "| >= 1.0x the selftest XDP synproxy | - | - | - | not measured: it does not load |"
	printf "| >= 5x the kernel SYN cookies | %s | %s | %s | %s |\n", r(sg, kc), r(sd, kc), r(sb, kc), v(5, kc)
}'
echo
