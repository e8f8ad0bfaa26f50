#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Events in the lab: a single source over its limit is told once, and its
# release once it calms down; a flood of 100,000 distinct sources enters
# attack mode (told with its rate and threshold) and leaves it, while the
# per-source events stay within their rate limit and events_suppressed
# counts the rest; a deny-listed source is told summarised, with its hits.
# A reader that comes late finds what the buffer still holds, and reading
# consumes it; --follow prints an event as it happens; --syslog reaches a
# syslog socket.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in hping3 jq perl python3 unshare; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

SRC_RATE=1 SRC_BURST=1		# per source: a second SYN within a second is over
ATTACK_RATE=2000		# interface SYNs/s that start attack mode
HOLD=2				# s calm before attack mode ends
FLOOD_FIRST=198.18.64.0		# 100,000 sources from here (to 198.19.230.159)
FLOOD_SRCS=100000
SINGLE=198.18.1.9		# the single-source flood
DENIED=198.18.2.7 DENY_NET=198.18.2.0/24

lab_up || { not_ok "lab_up"; tap_done; }

ev() { sg events $SRV_IF --json "$@"; }
# count FILE JQ-FILTER: lines of FILE the filter selects
count() { jq -c "select($2)" "$1" | wc -l; }
# syns ADDR N: N SYNs from ADDR, 2 ms apart, bounded by count and time
syns() {
	timeout -s INT -k 3 20 ip netns exec "$NS_A" hping3 -q -S -p 80 -a "$1" -c "$2" \
		-i u2000 $SRV_IP >/dev/null 2>&1
}

check "attach with src_rate $SRC_RATE, attack_syn_rate $ATTACK_RATE, attack_hold $HOLD" \
	sg attach $SRV_IF --src-rate $SRC_RATE --src-burst $SRC_BURST --prefix4 32 \
	--attack-syn-rate $ATTACK_RATE --attack-hold $HOLD --unproven-rate 1000000 \
	--cookies never
ev >"$LAB_TMP/e0" 2>/dev/null
expect_eq "a new attachment has no events" "$(wc -l <"$LAB_TMP/e0")" 0

# ==============================================================================
# 1. One source over its limit: one event, whatever it sends; released later.
# ==============================================================================
syns $SINGLE 200
sleep 2.5		# its bucket full again: the next SYN conforms
syns $SINGLE 1
sleep 0.5

# Top sources: the single source leads both lists, in stats --json and the metrics.
J=$(sg stats $SRV_IF --json --top 3)
expect_eq "stats --json: top source by drops, its counts (one-shot: by count)" \
	"$(jq -r '.top_sources | "\(.n) \(.rates) \(.by_drops[0].source) \(.by_drops[0].dropped > 100)"' <<<"$J")" \
	"3 false $SINGLE true"
J=$(sg stats $SRV_IF --json --interval 0.3 --count 1 --top 3)
expect_eq "stats --json --interval: with rates" "$(jq -r .top_sources.rates <<<"$J")" true
# Scrapes while it floods again (the rates: only sources active between scrapes).
mkdir -p "$LAB_TMP/prom"
syns $SINGLE 500 &
SYNS=$!
sleep 0.2
sg export $SRV_IF --textfile "$LAB_TMP/prom" --interval 0.3 --count 2 --top 2 >/dev/null
wait $SYNS
P="$LAB_TMP/prom/synguard_$SRV_IF.prom"
expect_ge "metrics: synguard_top_source_syns of the source" \
	"$(awk -v s="synguard_top_source_syns{source=\"$SINGLE\"}" '$1 == s { print $2 }' "$P")" 200
expect_eq "metrics: ...and its rates (a second scrape)" \
	"$(grep -c "^synguard_top_source_\(syn\|drop\)_rate{source=\"$SINGLE\"}" "$P")" 2

# ==============================================================================
# 2. A deny-listed source: its first hit told at once; its hits summarised.
# ==============================================================================
check "deny $DENY_NET" sg deny $SRV_IF add $DENY_NET
syns $DENIED 30

# ==============================================================================
# 3. 100,000 distinct sources, three SYNs each: every one goes over its limit.
# ==============================================================================
S0=$(sg stats $SRV_IF --json)
export -f lab_synflood
timeout -k 5 120 bash -c 'lab_synflood "$@"' flood "$NS_A" $FLOOD_FIRST $FLOOD_SRCS 3 40000 \
	$SRV_IP >"$LAB_TMP/flood.out" 2>&1
diag "flood: $(cat "$LAB_TMP/flood.out")"
S1=$(sg stats $SRV_IF --json)
expect_eq "top sources stay bounded under 100,000 (--top 10 each: 10 and 10)" \
	"$(jq -r '.top_sources | "\(.by_syn_rate | length) \(.by_drops | length) \(.sources > 1000)"' <<<"$S1")" \
	"10 10 true"
sg export $SRV_IF --textfile "$LAB_TMP/prom" --interval 0 --count 1 >/dev/null
expect_ge "metrics: at most 20 top-source series a metric (the union of the lists)" \
	20 "$(grep -c '^synguard_top_source_syns{' "$P")"
sleep $((HOLD + 1))
syns $CLI_IP 3		# attack mode is judged at a SYN: calm now
sleep 1.2
syns $CLI_IP 3

# ==============================================================================
# The late reader: everything since attach, in order, nothing twice.
# ==============================================================================
ev >"$LAB_TMP/e1" 2>"$LAB_TMP/e1.err"
diag "$(cat "$LAB_TMP/e1.err")"
jq -e . "$LAB_TMP/e1" >/dev/null 2>&1 && ok "every line parses with jq" ||
	not_ok "every line parses with jq"
# Two floods of it, released between them: limited, released, limited.
expect_eq "the single source: limited, released, limited again (its second flood)" \
	"$(jq -r "select(.source == \"$SINGLE/32\") | .event" "$LAB_TMP/e1" | tr '\n' ' ')" \
	"src_limited src_released src_limited "
L=$(jq -c "select(.event == \"src_limited\" and .source == \"$SINGLE/32\")" "$LAB_TMP/e1" | head -1)
expect_eq "...with its counts and limit (syns, dropped, src_rate)" \
	"$(jq -r '"\(.syns) \(.dropped) \(.src_rate)"' <<<"$L")" "2 1 $SRC_RATE"
R=$(jq -c "select(.event == \"src_released\" and .source == \"$SINGLE/32\")" "$LAB_TMP/e1")
expect_eq "one src_released event for it, after it calmed down" "$(grep -c . <<<"$R")" 1
expect_ge "...with its SYNs (sg_src's count: drops of other CPUs' sg_over slots may be pending)" "$(jq -r .syns <<<"$R")" 3

D=$(jq -c 'select(.event == "deny_hits")' "$LAB_TMP/e1")
expect_eq "one deny_hits event for 30 hits within the interval" "$(grep -c . <<<"$D")" 1
expect_eq "...naming the source, its entry, the entry's hits" \
	"$(jq -r '"\(.source) \(.entry) \(.entry_hits) \(.entry_hits_since)"' <<<"$D")" \
	"$DENIED $DENY_NET 1 0"

E=$(jq -c 'select(.event == "attack_enter")' "$LAB_TMP/e1")
expect_eq "attack mode entered once" "$(grep -c . <<<"$E")" 1
expect_eq "...with the threshold that decided it, and why" \
	"$(jq -r '"\(.syn_threshold) \(.why)"' <<<"$E")" "$ATTACK_RATE syn_rate"
expect_ge "...and a rate over it" "$(jq -r .syn_rate <<<"$E")" $ATTACK_RATE
X=$(jq -c 'select(.event == "attack_leave")' "$LAB_TMP/e1")
expect_eq "attack mode left once" "$(grep -c . <<<"$X")" 1
expect_eq "...below the leave threshold (rate < threshold x leave_pct)" \
	"$(jq -r 'if .syn_rate * 100 < .syn_threshold * .leave_pct then "below" else "not" end' <<<"$X")" \
	below
order=$(jq -r 'select(.event | startswith("attack_")) | .event' "$LAB_TMP/e1" | tr '\n' ' ')
expect_eq "...in that order" "$order" "attack_enter attack_leave "
t_ok=$(jq -r '.time' "$LAB_TMP/e1" | awk -v now="$(date -u +%Y-%m-%dT%H:%M)" \
	'substr($0, 1, 10) == substr(now, 1, 10) { n++ } END { print n + 0 }')
expect_eq "wall-clock timestamps (today, UTC)" "$t_ok" "$(wc -l <"$LAB_TMP/e1")"

# The flood: each of 100,000 sources went over its limit once.
FL=$(count "$LAB_TMP/e1" '.event == "src_limited" and .source != "'$SINGLE'/32"')
SUP=$(( $(jq -r .counters.events_suppressed <<<"$S1") - $(jq -r .counters.events_suppressed <<<"$S0") ))
WR=$(( $(jq -r .counters.events <<<"$S1") - $(jq -r .counters.events <<<"$S0") ))
diag "flood: $FL src_limited events read, $WR written, $SUP suppressed"
NCPU=$(nproc)
MAX=$(( NCPU * (100 + 20 * 40) ))	# burst + 20/s for the flood's time, per CPU
if [ "$FL" -ge 50 ] && [ "$FL" -le "$MAX" ]; then
	ok "the flood's per-source events stay bounded ($FL, in [50, $MAX])"
else
	not_ok "the flood's per-source events stay bounded"; diag "  got $FL, want [50, $MAX]"
fi
expect_ge "events_suppressed counts the rest (>= 90,000 of 100,000)" "$SUP" 90000
SRC_DROPS=$(( $(jq -r .drops.src_rate <<<"$S1") - $(jq -r .drops.src_rate <<<"$S0") ))
diag "flood: $SRC_DROPS src_rate drops"
expect_eq "...and nothing was lost: lost 0" "$(sg stats $SRV_IF --json | jq -r .counters.events_lost)" 0

ev >"$LAB_TMP/e2" 2>/dev/null
expect_eq "a second reader finds them consumed" "$(wc -l <"$LAB_TMP/e2")" 0

# ==============================================================================
# --follow prints an event as it happens; a summary after 5 s of hits.
# ==============================================================================
"$SYNGUARD" --netns "$NS_S" events $SRV_IF --json --follow >"$LAB_TMP/f" 2>/dev/null &
FOLLOW=$!
LAB_PIDS="${LAB_PIDS:-} $FOLLOW"
sleep 5		# the deny interval of step 2 is over
syns $DENIED 1
until_ok 50 grep -q deny_hits "$LAB_TMP/f"
D=$(jq -c 'select(.event == "deny_hits")' "$LAB_TMP/f")
expect_eq "--follow: the deny summary as it happens (the entry's hits since, ever)" \
	"$(jq -r '"\(.entry_hits_since) \(.entry_hits)"' <<<"$D")" "30 31"
kill -TERM $FOLLOW
wait $FOLLOW
expect_eq "--follow ends cleanly on SIGTERM (exit 0)" "$?" 0

# ==============================================================================
# --syslog: to /dev/log, here a socket of the test's own in a mount namespace.
# ==============================================================================
python3 - "$LAB_TMP/log" >"$LAB_TMP/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(15)
try:
    while True:
        print(s.recv(4096).decode(), flush=True)
except socket.timeout:
    pass
PY
LOGGER=$!
LAB_PIDS="${LAB_PIDS:-} $LOGGER"
until_ok 50 test -S "$LAB_TMP/log"
sleep 5.2
syns $DENIED 1
# A private /dev (unshare -m: private propagation) where /dev/log is ours.
unshare -m sh -c "mount -t tmpfs none /dev && ln -s '$LAB_TMP/log' /dev/log && \
	exec '$SYNGUARD' --netns $NS_S events $SRV_IF --syslog" 2>"$LAB_TMP/syslog.err"
diag "$(cat "$LAB_TMP/syslog.err")"
until_ok 30 grep -q deny_hits "$LAB_TMP/syslog"
L=$(grep deny_hits "$LAB_TMP/syslog" | head -1)
diag "syslog: $L"
# <29>: facility daemon (3 << 3), severity notice (5)
case "$L" in
"<29>"*"synguard["*"deny_hits source=$DENIED entry=$DENY_NET"*) ok "--syslog: LOG_DAEMON, notice, the event's line" ;;
*) not_ok "--syslog: LOG_DAEMON, notice, the event's line" ;;
esac

check "detach" sg detach $SRV_IF
tap_done
