#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Attack mode in the lab: a SYN flood from thousands of distinct sources,
# each under its per-source limit, trips attack mode; a client that
# connected before the flood (proven) keeps connecting without a loss; new,
# unproven sources are held to the admission rate, during the flood and
# after it while attack mode holds; attack mode ends attack_hold seconds
# after the flood.  The kernel's own account (nstat ListenDrops: every
# flood SYN that got past XDP, for the server has no route back to the
# flood's prefix) and a capture on the attacker's switch port (what was
# sent) are checked against synguard's counters.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in hping3 nginx curl jq perl tcpdump nstat taskset; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

# --- the policy and the load -----------------------------------------------------
SRC_RATE=50 SRC_BURST=50	# per source
ATTACK_RATE=2000		# interface SYNs/s that start attack mode (leave: < 50%)
ADMIT_RATE=20 ADMIT_BURST=20	# unproven SYNs admitted in attack mode
HOLD=6				# s calm before attack mode ends; long enough
				# to measure a new source alone while it holds
FLOOD_FIRST=198.18.64.0		# the flood's sources: FLOOD_SRCS addresses from
FLOOD_NET=198.18.64.0/18	# here, in this prefix (no route to it from the server)
FLOOD_SRCS=3000
FLOOD_PER=20			# SYNs per source, back to back: under SRC_BURST,
				# so no source ever goes over its limit
FLOOD_PPS=5500			# ~4700 pps, ~12.5 s: the generator's pacing
				# sleeps between sources and leaves out send time
NEW1=198.18.0.20 NEW2=198.18.0.21 NEW3=198.18.0.22	# new clients, never seen before
BASE_CONNS=100 CONNS=200 CONN_RATE=40	# proven client: connections, per second
					# (under its own per-source limit)

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }
for a in $NEW1 $NEW2 $NEW3; do ip -n "$NS_C" addr add $a/24 dev cli0; done

# --- helpers -----------------------------------------------------------------
stats() { sg stats $SRV_IF --json; }
# d KEY: how much KEY (a jq path) rose from $S0 to $S1.
d() { echo $(( $(jq -r ".$1" <<<"$S1") - $(jq -r ".$1" <<<"$S0") )); }
# The server kernel's count of SYNs it dropped at a listener: here, those of
# the flood that passed XDP (no route for their SYN-ACK).
listen_drops() {
	ip netns exec "$NS_S" nstat -asz TcpExtListenDrops | awk '$1 == "TcpExtListenDrops" { print $2 }'
}
now() { date +%s.%N; }
# calc EXPR: awk arithmetic, printed with 3 decimals.
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }
# within DESC GOT LO HI: LO <= GOT <= HI.
within() {
	if le "$3" "$2" && le "$2" "$4"; then ok "$1 ($2 in [$3, $4])"
	else not_ok "$1"; diag "  got $2, want [$3, $4]"; fi
}

# new_syns ADDR COUNT USEC OUT: COUNT SYNs from a new client address, USEC
# apart, each from a new port.  A SYN that is admitted is answered by a
# SYN-ACK, which the client's kernel resets: the handshake never
# completes, so the address stays unproven and every SYN is judged alone.
new_syns() {
	timeout -s INT -k 3 $(( $2 * $3 / 1000000 + 8 )) ip netns exec "$NS_C" \
		hping3 -S -p 80 -a "$1" -c "$2" -i u"$3" $SRV_IP >"$4" 2>&1
}
hp_sent() { sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1"; }
hp_got() { sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$1"; }

# The generator is not the server: pin it to the last CPU.
NCPU=$(nproc)
FLOOD_CPU=
[ "$NCPU" -ge 2 ] && FLOOD_CPU="taskset -c $((NCPU - 1))"

# ==============================================================================
# 1. Attach; the client connects before any flood, and so is proven.
# ==============================================================================
check "attach --src-rate $SRC_RATE --src-burst $SRC_BURST --attack-syn-rate $ATTACK_RATE --unproven-rate $ADMIT_RATE --cookies never --unproven-burst $ADMIT_BURST --attack-hold $HOLD" \
	sg attach $SRV_IF --src-rate $SRC_RATE --src-burst $SRC_BURST \
	--attack-syn-rate $ATTACK_RATE --unproven-rate $ADMIT_RATE --cookies never \
	--unproven-burst $ADMIT_BURST --attack-hold $HOLD \
	--attack-half-open off	# the SYN rate's mode under test, not the default

lab_clients "$LAB_TMP/base.txt" $BASE_CONNS $CONN_RATE
S_BASE=$(stats)
expect_eq "before the flood: $BASE_CONNS client connections, all 200" \
	"$(good_conns "$LAB_TMP/base.txt")" $BASE_CONNS
expect_ge "...and completed handshakes (counters.hs_completed)" \
	"$(jq -r .counters.hs_completed <<<"$S_BASE")" $BASE_CONNS
expect_eq "...attack mode off" "$(jq -r .attack.active <<<"$S_BASE")" false
expect_eq "...never entered" "$(jq -r .attack.entered <<<"$S_BASE")" 0

# ==============================================================================
# 2. The many-source flood.
# ==============================================================================
# What was sent, as the switch sees it on the attacker's port.
ip netns exec "$NS_W" tcpdump -i swa -nn -B 8192 --immediate-mode -w "$LAB_TMP/flood.pcap" \
	"tcp[13] == 2 and src net $FLOOD_NET" >"$LAB_TMP/tcpdump.out" 2>&1 &
CAP_PID=$!
LAB_PIDS="${LAB_PIDS:-} $CAP_PID"
for i in $(seq 50); do grep -q listening "$LAB_TMP/tcpdump.out" && break; sleep 0.1; done

S_PRE=$(stats) LD_PRE=$(listen_drops)
FLOOD_T0=$(now)
timeout -s INT -k 3 40 $FLOOD_CPU bash -c ". '$TOP/tests/lib.sh'; lab_synflood '$NS_A' \
	$FLOOD_FIRST $FLOOD_SRCS $FLOOD_PER $FLOOD_PPS $SRV_IP 80" >"$LAB_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
LAB_PIDS="$LAB_PIDS $FLOOD_PID"

# Attack mode is judged when a SYN opens a one-second window: it should be
# on within about two seconds.
S_A=
for i in $(seq 50); do
	sleep 0.1
	S=$(stats)
	[ "$(jq -r .attack.active <<<"$S")" = true ] && { S_A=$S T_A=$(now) LD_A=$(listen_drops); break; }
done
if [ -n "$S_A" ]; then
	ok "attack mode entered $(calc "$T_A - $FLOOD_T0") s into the flood"
else
	not_ok "attack mode entered within 5 s of the flood"
	diag "  $(stats | jq -c .attack)"
	S_A=$(stats) T_A=$(now) LD_A=$(listen_drops)
fi

# The proven client connects through the flood, and a new address tries too.
timeout -s INT -k 3 13 ip netns exec "$NS_C" hping3 -S -p 80 -a $NEW1 -c 50 -i u100000 \
	$SRV_IP >"$LAB_TMP/new1.out" 2>&1 &
NEW1_PID=$!
LAB_PIDS="$LAB_PIDS $NEW1_PID"
CLI_T0=$(now)
lab_clients "$LAB_TMP/flood.txt" $CONNS $CONN_RATE
CLI_T1=$(now)
S_B=$(stats) T_B=$(now) LD_B=$(listen_drops)
wait $NEW1_PID
LAB_PIDS=${LAB_PIDS/ $NEW1_PID/}
wait $FLOOD_PID
FLOOD_RC=$?
FLOOD_T1=$(now)
LAB_PIDS=${LAB_PIDS/ $FLOOD_PID/}
S_F=$(stats) LD_F=$(listen_drops)

# ==============================================================================
# 3. At once after the flood, while attack mode holds: a new address alone.
# ==============================================================================
# Attack mode cannot end before attack_hold after the flood (calm starts
# when the first window after the flood's last is judged), and this is
# over well before that; the flood's figures are checked after it.
S3_0=$(stats) T3_0=$(now)
new_syns $NEW2 120 25000 "$LAB_TMP/new2.out"
S3_1=$(stats) T3_1=$(now)

sleep 0.2
kill -INT $CAP_PID; wait $CAP_PID
LAB_PIDS=${LAB_PIDS/ $CAP_PID/}

# --- the flood (2): what was sent ---
read -r SENT NSRC <"$LAB_TMP/flood.out" 2>/dev/null
case ${SENT:-}${NSRC:-} in ''|*[!0-9]*) SENT=0 NSRC=0 ;; esac
if [ "$FLOOD_RC" = 0 ] && [ "$SENT" -gt 0 ]; then
	ok "the generator sent $SENT SYNs from $NSRC sources"
else
	not_ok "the generator ran to its end (exit $FLOOD_RC)"; sed 's/^/#   /' "$LAB_TMP/flood.out"
fi
FLOOD_DUR=$(calc "$FLOOD_T1 - $FLOOD_T0")
FLOOD_RATE=$(calc "$SENT / $FLOOD_DUR")
tcpdump -nn -r "$LAB_TMP/flood.pcap" 2>/dev/null | awk '{ split($3, a, "."); print a[1] "." a[2] "." a[3] "." a[4] }' |
	sort | uniq -c | awk '{ n++; s += $1; if ($1 > m) m = $1 } END { print n + 0, s + 0, m + 0 }' >"$LAB_TMP/wire"
read -r WIRE_SRCS WIRE_SYNS WIRE_MAX <"$LAB_TMP/wire"
diag "flood: $SENT SYNs from $NSRC distinct sources in ${FLOOD_DUR} s: $(calc "$SENT / $FLOOD_DUR" | cut -d. -f1) pps"
diag "on the wire (switch port): $WIRE_SYNS SYNs, $WIRE_SRCS distinct sources, at most $WIRE_MAX from one; $(grep -h 'dropped by kernel' "$LAB_TMP/tcpdump.out")"
expect_eq "the switch saw every SYN sent" "$WIRE_SYNS" "$SENT"
expect_ge "...from thousands of distinct sources" "$WIRE_SRCS" 2000
expect_eq "...each sending $FLOOD_PER, under its burst of $SRC_BURST" "$WIRE_MAX" $FLOOD_PER
if le "$ATTACK_RATE" "$FLOOD_RATE"; then ok "flood rate $FLOOD_RATE pps >= attack_syn_rate $ATTACK_RATE"
else not_ok "flood rate $FLOOD_RATE pps >= attack_syn_rate $ATTACK_RATE"; fi
if le "$CLI_T1" "$FLOOD_T1"; then ok "the flood outlasted the client's run"
else not_ok "the flood outlasted the client's run"; diag "  client until $CLI_T1, flood until $FLOOD_T1"; fi

# --- attack mode during the flood ---
expect_eq "mid-flood: attack.active" "$(jq -r .attack.active <<<"$S_B")" true
expect_eq "mid-flood: attack.entered is 1" "$(jq -r .attack.entered <<<"$S_B")" 1
expect_ge "mid-flood: attack.syn_rate >= $ATTACK_RATE" "$(jq -r .attack.syn_rate <<<"$S_B")" $ATTACK_RATE
ENTERED_AT=$(jq -r '.attack.log[0].at' <<<"$S_F")
expect_eq "attack.log: one entry, entered" "$(jq -c '[.attack.log[].event]' <<<"$S_F")" '["entered"]'
# The window that sees the flood must end before it is judged: entered
# between 1 and 2 windows after the flood started (some slack for the clocks).
within "entered 1-2 s after the flood started (log at - flood start)" \
	"$(calc "$ENTERED_AT - $FLOOD_T0")" 0.9 2.5

S0=$S_PRE S1=$S_F
expect_eq "the whole flood: no source went over its limit (drops.src_rate)" "$(d drops.src_rate)" 0
expect_eq "...none blocked (drops.src_blocked)" "$(d drops.src_blocked)" 0
UNPROVEN=$(d drops.attack_unproven)
diag "flood: drops.attack_unproven $UNPROVEN of $SENT SYNs ($(calc "100 * $UNPROVEN / $SENT")%)"
# Every flood SYN either got past XDP, and the server's kernel dropped it at
# the listener (no route back), or was dropped as attack_unproven; the new
# client's SYNs that were not answered were dropped the same way.
NEW1_SENT=$(hp_sent "$LAB_TMP/new1.out") NEW1_GOT=$(hp_got "$LAB_TMP/new1.out")
LD_FLOOD=$((LD_F - LD_PRE))
expect_eq "every flood SYN: past XDP (server ListenDrops $LD_FLOOD) or dropped (attack_unproven less the new client's $((NEW1_SENT - NEW1_GOT)))" \
	"$((LD_FLOOD + UNPROVEN - (NEW1_SENT - NEW1_GOT)))" "$SENT"
# What got past before attack mode: about the first window and a bit.
diag "flood SYNs past XDP: $LD_FLOOD ($((LD_A - LD_PRE)) before attack mode was seen on)"

# --- the admission rate under the flood ---
# From S_A to S_B the flood never stops and drains the admission bucket:
# GCRA admits exactly one unproven SYN per 1/rate.  Slack: 2 for the two
# snapshots (each ~10-50 ms from its time stamp), and 5%.
S0=$S_A S1=$S_B
ADM=$(d counters.attack_admitted)
DT=$(calc "$T_B - $T_A")
WANT=$(calc "$ADMIT_RATE * $DT")
diag "admitted during the flood: $ADM in ${DT} s (rate * time = $WANT)"
within "under the flood, unproven SYNs admitted at $ADMIT_RATE/s" "$ADM" \
	"$(calc "$WANT * 0.95 - 2")" "$(calc "$WANT * 1.05 + 2")"
# The kernel's truth: the flood SYNs that reached the listener in that time
# are those admitted, less the new client's answered ones.
LD_AB=$((LD_B - LD_A))
within "...and the server's kernel got those (ListenDrops $LD_AB = admitted - new client's)" \
	"$LD_AB" "$((ADM - NEW1_GOT - 1))" "$((ADM + 1))"
# Over the whole attack: the full burst at entry, then the rate.
S0=$S_PRE S1=$S_F
ADM_ALL=$(d counters.attack_admitted)
WANT_ALL=$(calc "$ADMIT_BURST + $ADMIT_RATE * ($FLOOD_T1 - $ENTERED_AT)")
within "entry to flood end: admitted ~ burst + rate * time ($WANT_ALL)" "$ADM_ALL" \
	"$(calc "$WANT_ALL * 0.95 - 3")" "$(calc "$WANT_ALL * 1.05 + 3")"

# --- a new address during the flood ---
# It shares the bucket with the flood: with a smooth flood its share is rate
# * its part of the unproven SYNs, 20 * 10/5000 * 5 s = 0.2 SYNs.  But the
# bucket refills in the generator's pauses, which grow when the machine is
# busy, and a probe SYN landing in one is admitted (9 of 50 seen on a loaded
# machine; 0, 0, 0, 2, 7 and 13 in six runs on a quiet one).  What the
# issue asks, the rate all unproven SYNs get, is checked above; here: a new
# source does not get through freely, at most 20 of its 50.
diag "new client $NEW1 during the flood: ${NEW1_GOT:-?} of ${NEW1_SENT:-?} SYNs answered"
expect_eq "new client $NEW1 sent its 50 SYNs during the flood" "$NEW1_SENT" 50
within "...and at most 20 of 50 were admitted (it shares $ADMIT_RATE/s with the flood)" "${NEW1_GOT:--1}" 0 20

# --- the proven client ---
S0=$S_A S1=$S_B
expect_eq "proven client during the flood: $CONNS connections, all new, all 200" \
	"$(good_conns "$LAB_TMP/flood.txt")" $CONNS
expect_ge "...every SYN passed as proven (counters.attack_proven)" "$(d counters.attack_proven)" $CONNS
expect_connect_times "$LAB_TMP/base.txt" "$LAB_TMP/flood.txt" "proven client"

# --- a new address alone after the flood, while attack mode holds ---
# 120 SYNs 25 ms apart: 40/s, under its own per-source limit and twice the
# admission rate.  They span T >= 119 * 25 ms (hping3 may be late, never
# early) and at most the run's time less the 1 s hping3 waits for answers.
# The bucket refilled for the moment since the flood (at most the burst),
# then admits one SYN per 1/rate: answered in [rate * T_min - 2,
# burst + rate * T_max * 1.05 + 1].
S0=$S3_0 S1=$S3_1
NEW2_SENT=$(hp_sent "$LAB_TMP/new2.out") NEW2_GOT=$(hp_got "$LAB_TMP/new2.out")
T3=$(calc "$T3_1 - $T3_0 - 1")
diag "new client $NEW2 after the flood: ${NEW2_GOT:-?} of ${NEW2_SENT:-?} SYNs answered in ${T3} s"
expect_eq "attack mode held through it (active, none left, $(calc "$T3_1 - $FLOOD_T1") s after the flood)" \
	"$(jq -r '"\(.attack.active) \(.attack.left)"' <<<"$S1")" "true 0"
expect_eq "new client $NEW2 sent its 120 SYNs" "$NEW2_SENT" 120
within "...answered at the admission rate" "${NEW2_GOT:--1}" \
	"$(calc "$ADMIT_RATE * 119 * 0.025 - 2")" "$(calc "$ADMIT_BURST + $ADMIT_RATE * $T3 * 1.05 + 1")"
expect_eq "...counters.attack_admitted rose by as many" "$(d counters.attack_admitted)" "${NEW2_GOT:--1}"
expect_eq "...drops.attack_unproven by the rest" "$(d drops.attack_unproven)" "$(( ${NEW2_SENT:-0} - ${NEW2_GOT:-0} ))"

# ==============================================================================
# 4. Attack mode ends attack_hold seconds after the flood.
# ==============================================================================
# Calm starts when the first window after the flood's last one is judged:
# after the flood's end, and within 2 s of it (the window holding its last
# SYNs may still be over the leave threshold).  The first SYN after calm +
# hold ends attack mode.
WAIT=$(calc "$FLOOD_T1 + $HOLD + 2.5 - $(now)")
le 0 "$WAIT" && sleep "$WAIT"
T4=$(now)
expect_eq "a client connection after the hold" "$(lab_fetch 1)" 1
S_END=$(stats)
diag "attack: $(jq -c '.attack | del(.log)' <<<"$S_END")"
diag "log: $(jq -c .attack.log <<<"$S_END")"
expect_eq "attack.active is false" "$(jq -r .attack.active <<<"$S_END")" false
expect_eq "attack.entered 1, attack.left 1 (no flapping)" \
	"$(jq -r '"\(.attack.entered) \(.attack.left)"' <<<"$S_END")" "1 1"
expect_eq "counters agree (attack_entered, attack_left)" \
	"$(jq -r '"\(.counters.attack_entered) \(.counters.attack_left)"' <<<"$S_END")" "1 1"
expect_eq "attack.log: entered, then left" "$(jq -c '[.attack.log[].event]' <<<"$S_END")" '["entered","left"]'
LEFT_AT=$(jq -r '.attack.log[1].at // 0' <<<"$S_END")
if le "$ENTERED_AT" "$LEFT_AT" && [ "$ENTERED_AT" != "$LEFT_AT" ]; then
	ok "attack.log times increase ($ENTERED_AT < $LEFT_AT)"
else not_ok "attack.log times increase ($ENTERED_AT, $LEFT_AT)"; fi
diag "entered $(calc "$ENTERED_AT - $FLOOD_T0") s after the flood started, left $(calc "$LEFT_AT - $FLOOD_T1") s after it ended"
within "left no earlier than attack_hold after the flood, at the first SYN after it" \
	"$(calc "$LEFT_AT - $FLOOD_T1")" "$(calc "$HOLD - 0.05")" "$(calc "$T4 - $FLOOD_T1 + 0.5")"

# Out of attack mode, a new address gets every SYN answered again.
S0=$S_END
new_syns $NEW3 20 20000 "$LAB_TMP/new3.out"
S1=$(stats)
expect_eq "after attack mode: new client $NEW3 has all 20 SYNs answered" \
	"$(hp_got "$LAB_TMP/new3.out")" 20
expect_eq "...none admitted or dropped by attack mode" \
	"$(d counters.attack_admitted) $(d drops.attack_unproven)" "0 0"

tap_done
