#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The issue's scripted sequence, read back as one list of events: a single
# source over its limit and released (with its SYN count), a deny-list
# hit, a many-source flood entering attack mode and leaving it (with its
# rate and threshold), a flow table filled to eviction and drained (with
# the evictions, which must be what went missing from the table) yield
# exactly those events, in that order.  Then a flood of 1,048,576
# distinct IPv6 sources (2001:2:0:1::/108, deny-listed: each one's first
# hit is a per-source event) yields a bounded number of events, and
# written + suppressed is every one of them.
set -u
. "$(dirname "$0")/../lib.sh"
lab_need hping3 jq ethtool

SRC_RATE=1 SRC_BURST=1		# a second SYN within a second is over
ATTACK_RATE=1000		# interface SYNs/s that start attack mode
HOLD=2				# s calm before attack mode ends
HALF_MAX=8192			# sg_half: the table the eviction step fills
HALF_TIMEOUT=2			# s: the walk of a stats read empties it after
SINGLE=198.18.1.9		# the single-source flood
DENIED=198.18.2.7 DENY_NET=198.18.2.0/24
CALM=198.18.3			# .1 .. .3: one SYN each after the flood
ATTACK_NET=198.19.0.0/18	# the many-source flood: 4,000 sources, one SYN each
ATTACK_N=4000 ATTACK_PPS=2500
FILL_NET=198.19.128.0/17	# the eviction step, allow-listed: no attack mode
FILL_N=20000
MILLION_NET=2001:2:0:1::/108	# 2^20 sources
MILLION=1048576

lab_up || { not_ok "lab_up"; tap_done; }
lab_xdp_pass "$NS_W" sws && lab_xdp_pass "$NS_W" swa ||
	{ not_ok "XDP programs on the switch ports (XDP_TX on veth)"; tap_done; }
SRV_MAC=$(lab_mac $NS_S $SRV_IF)

ev() { sg events $SRV_IF --json "$@"; }
stats() { sg stats $SRV_IF --json; }
# syns ADDR N: N SYNs from ADDR, 2 ms apart, bounded by count and time
syns() { lab_hping -S -p 80 -a "$1" -c "$2" $SRV_IP; }

check "attach: src_rate $SRC_RATE, attack_syn_rate $ATTACK_RATE, half-open-max $HALF_MAX" \
	sg attach $SRV_IF --src-rate $SRC_RATE --src-burst $SRC_BURST --prefix4 32 \
	--prefix6 128 --attack-syn-rate $ATTACK_RATE --attack-hold $HOLD \
	--unproven-rate 1000000 --cookies never --half-open-max $HALF_MAX \
	--half-open-timeout $HALF_TIMEOUT

# 1. One source over its limit, released once its bucket is full again.
syns $SINGLE 50
sleep 2.5
syns $SINGLE 1
# 2. A denied source.
check "deny $DENY_NET" sg deny $SRV_IF add $DENY_NET
syns $DENIED 10
# 3. Many sources, each within its own limit: the interface's rate is over.
lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $ATTACK_NET $ATTACK_N 10 \
	--sources $ATTACK_N --rate $ATTACK_PPS >"$LAB_TMP/attack.out" 2>&1
diag "attack flood: $(cat "$LAB_TMP/attack.out")"
sleep $((HOLD + 1))
for i in 1 2 3; do		# attack mode is judged at a SYN's window
	syns $CALM.$i 1
	sleep 1.2
done
# 4. The half-open table filled past its size by allow-listed sources.
check "allow $FILL_NET" sg allow $SRV_IF add $FILL_NET
sleep $HALF_TIMEOUT
stats >/dev/null		# its walk removes the expired flows of the steps before
S0=$(stats)
E0=$(jq -r .flows.half_open_entries <<<"$S0")
lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP $FILL_NET $FILL_N 10 --sources $FILL_N \
	>"$LAB_TMP/fill.out" 2>&1
S1=$(stats)
E1=$(jq -r .flows.half_open_entries <<<"$S1")
N=$(( $(jq -r .counters.hs_started <<<"$S1") - $(jq -r .counters.hs_started <<<"$S0") ))
diag "fill: $(cat "$LAB_TMP/fill.out"); sg_half $E0 before, $N inserted, $E1 after"
# The interval over: the next new flow tells the evictions since the
# first event; an interval later with none, the next one the end.
sleep $((HALF_TIMEOUT + 1))
stats >/dev/null		# expired: removed by the walk
syns $CALM.8 1
sleep 2.2
stats >/dev/null
syns $CALM.9 1

ev >"$LAB_TMP/e" 2>"$LAB_TMP/e.err"
diag "$(cat "$LAB_TMP/e.err")"
while read -r l; do diag "  $l"; done < <(jq -c 'del(.time, .ktime_ns)' "$LAB_TMP/e")
jq -e . "$LAB_TMP/e" >/dev/null 2>&1 && ok "every line parses with jq" ||
	not_ok "every line parses with jq"
# flow_table_evicting: the first eviction, then the rest a 2 s interval
# after (one more each interval the fill lasts: it takes 0.1 s here).
expect_eq "exactly the expected events, in order" \
	"$(jq -r .event "$LAB_TMP/e" | tr '\n' ' ')" \
	"src_limited src_released deny_hits attack_enter attack_leave flow_table_evicting flow_table_evicting flow_table_drained "
sel() { jq -c "select(.event == \"$1\")" "$LAB_TMP/e"; }
expect_eq "src_limited: the single source at its first drop (syns 2, dropped 1)" \
	"$(sel src_limited | jq -r '"\(.source) \(.syns) \(.dropped) \(.src_rate)"')" \
	"$SINGLE/32 2 1 $SRC_RATE"
R=$(sel src_released)
expect_eq "src_released: the single source" "$(jq -r .source <<<"$R")" "$SINGLE/32"
# sg_src's counts: drops another CPU's sg_over slot holds may be pending.
n=$(jq -r '.syns' <<<"$R")
if [ "$n" -ge 3 ] && [ "$n" -le 51 ]; then ok "...with its SYN count ($n, of 51 sent)"
else not_ok "...with its SYN count (got $n, want 3..51)"; fi
expect_eq "deny_hits: the source, its entry, the entry's hits (first hit)" \
	"$(sel deny_hits | jq -r '"\(.source) \(.entry) \(.entry_hits)"')" "$DENIED $DENY_NET 1"
A=$(sel attack_enter)
expect_eq "attack_enter: the threshold that decided it, and why" \
	"$(jq -r '"\(.syn_threshold) \(.why)"' <<<"$A")" "$ATTACK_RATE syn_rate"
expect_ge "...and a rate over it" "$(jq -r .syn_rate <<<"$A")" $ATTACK_RATE
expect_eq "attack_leave: below the leave threshold" \
	"$(sel attack_leave | jq -r 'if .syn_rate * 100 < .syn_threshold * .leave_pct then "below" else "not" end')" \
	below
V=$(sel flow_table_evicting | head -1)
expect_eq "flow_table_evicting: the half-open table, its size" \
	"$(jq -r '"\(.table) \(.max_entries)"' <<<"$V")" "half_open $HALF_MAX"
expect_ge "...at its first eviction: a batch, the table near full" \
	"$(jq -r '.entries + .evicted' <<<"$V")" $((HALF_MAX / 2))
# Nothing else left sg_half during the fill: spoofed sources never answer.
expect_eq "...its events' evictions add up to what went missing (E0 + N - E1)" \
	"$(sel flow_table_evicting | jq -s 'map(.evicted) | add')" $((E0 + N - E1))
D=$(sel flow_table_drained)
expect_eq "flow_table_drained: the table, the episode's evictions" \
	"$(jq -r '"\(.table) \(.evicted)"' <<<"$D")" "half_open $((E0 + N - E1))"
expect_eq "...after a walk emptied it: entries 1 (the new flow)" "$(jq -r .entries <<<"$D")" 1

# 5. A million sources: one per-source event each, through the token bucket.
check "deny $MILLION_NET" sg deny $SRV_IF add $MILLION_NET
S0=$(stats)
T0=$(date +%s.%N)
lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP6 $MILLION_NET $MILLION 20 --sources $MILLION \
	>"$LAB_TMP/million.out" 2>&1
T1=$(date +%s.%N)
S1=$(stats)
d() { echo $(( $(jq -r "$1" <<<"$S1") - $(jq -r "$1" <<<"$S0") )); }
HITS=$(d .drops.deny_list) W=$(d .counters.events) SUP=$(d .counters.events_suppressed)
LOST=$(d .counters.events_lost)
SECS=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%d", b - a + 1 }')
NCPU=$(nproc)
MAX=$((NCPU * (100 + 20 * SECS)))	# burst + 20/s per CPU, for the flood's time
diag "million: $(cat "$LAB_TMP/million.out"); $HITS sources denied in <= $SECS s:" \
	"$W events written, $SUP suppressed, $LOST lost"
expect_ge "the flood reached synguard: >= 90% of $MILLION sources hit" "$HITS" $((MILLION * 9 / 10))
if [ "$W" -ge 100 ] && [ "$W" -le "$MAX" ]; then
	ok "events written stay bounded ($W in $SECS s, in [100, $MAX])"
else
	not_ok "events written stay bounded"; diag "  got $W, want [100, $MAX]"
fi
expect_eq "written + suppressed + lost = every source's first hit" $((W + SUP + LOST)) "$HITS"
ev >"$LAB_TMP/m" 2>/dev/null
expect_eq "what was written is what a reader reads" "$(jq -c 'select(.event == "deny_hits")' "$LAB_TMP/m" | wc -l)" "$W"
# Per second of the program's clock: a burst and a second's refill a CPU.
PEAK=$(jq -r '.ktime_ns / 1000000000 | floor' "$LAB_TMP/m" | uniq -c | sort -n | tail -1 |
	awk '{ print $1 + 0 }')
diag "million: at most $PEAK events in one second ($(jq -r '.ktime_ns / 1000000000 | floor' \
	"$LAB_TMP/m" | uniq -c | awk '{ printf "%s ", $1 }')by second)"
expect_ge "at most a burst and a second's rate per CPU in any second ($((NCPU * 120)))" \
	$((NCPU * 120)) "${PEAK:-999999}"

check "detach" sg detach $SRV_IF
tap_done
