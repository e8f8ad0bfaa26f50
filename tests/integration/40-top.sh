#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard top` in the lab, on a real terminal (a detached tmux of our own):
#   - the screen shows the attachment, a non-zero SYN/s while hping3 sends
#     a bounded burst from one spoofed source, that source at the top of
#     the sources table, the flow gauges and the latency bars; the totals
#     on it agree with `stats`, and the rates fall back to 0 when quiet;
#   - q ends it within 2 s, and SIGTERM, SIGHUP and Ctrl-C end it too, each
#     leaving the terminal as it was: echo and icanon on, the normal screen,
#     the cursor shown;
#   - without a terminal it prints plain reports with no escapes, --count
#     of them, and follows live policy changes;
#   - it exits 3 when synguard is detached under it.
# Spoofed sources stay inside 198.18.0.0/15; every generator is bounded.
set -u
. "$(dirname "$0")/../lib.sh"
lab_need tmux hping3 nginx curl jq

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }
T=$LAB_TMP
SPOOF=198.18.0.77

# A tmux server of our own (own socket, no user config), stopped by lab_down.
TM=(tmux -L "sgtop$LAB_ID" -f /dev/null)
# tm_start NAME CMD: CMD in a new 120x50 session NAME.
tm_start() {
	"${TM[@]}" new-session -d -s "$1" -x 120 -y 50 "$2" || return 1
	local pid
	pid=$("${TM[@]}" display -p -t "$1" '#{pid}' 2>/dev/null)
	[ -n "$pid" ] && case " ${LAB_PIDS:-} " in *" $pid "*) ;; *) LAB_PIDS="${LAB_PIDS:-} $pid" ;; esac
	return 0
}
screen() { "${TM[@]}" capture-pane -p -t "$1" 2>/dev/null; }
pane() { "${TM[@]}" display -p -t "$1" "$2" 2>/dev/null; }
alive() { "${TM[@]}" has-session -t "$1" 2>/dev/null; }
# wait_screen NAME SECS CMD...: until CMD succeeds on the screen (in $T/screen).
wait_screen() {
	local name=$1 n=$(( $2 * 10 )) i
	shift 2
	for i in $(seq $n); do
		screen "$name" >"$T/screen"
		"$@" "$T/screen" && return 0
		sleep 0.1
	done
	return 1
}
has_header() { grep -q "^synguard top  $SRV_IF  netns $NS_S  native XDP  prog $PROG" "$1"; }
# The spoofed source's row with a SYN/s above 0.
spoof_row() { awk -v s=$SPOOF '$1 == s && $2 > 0 { f = 1 } END { exit !f }' "$1"; }
syn_rate() { sed -n 's/.*SYN\/s \([0-9.]*\).*/\1/p' "$1" | head -1; }
nonzero() { awk -v v="$1" 'BEGIN { exit !(v > 0) }'; }
quiet() { grep -q 'SYN/s 0\.0 ' "$1" && grep -q 'no SYNs from any source' "$1"; }
# restored FILE: `stty -a` there says echo and icanon are on.
restored() { grep -Eq '(^| )icanon( |;|$)' "$1" && grep -Eq '(^| )echo( |;|$)' "$1"; }

check "attach --src-rate 1000 --src-burst 2000" \
	sg attach $SRV_IF --src-rate 1000 --src-burst 2000
PROG=$(sg_counter prog_id)

# --- the live view ----------------------------------------------------------------
tm_start top "bash -c '\"$SYNGUARD\" --netns $NS_S top $SRV_IF; echo \$? >$T/top.rc; stty -a >$T/top.stty'"
check "top paints its header on the terminal" wait_screen top 5 has_header
expect_eq "top is on the alternate screen" "$(pane top '#{alternate_on}')" 1
expect_eq "top hides the cursor" "$(pane top '#{cursor_flag}')" 0

timeout 20 ip netns exec "$NS_A" hping3 -q -S -p 80 -a $SPOOF -c 300 -i u2000 $SRV_IP \
	>/dev/null 2>&1 &
HPING=$!
LAB_PIDS="$LAB_PIDS $HPING"
fetched=$(lab_fetch 10)
if wait_screen top 6 spoof_row; then
	ok "the top sources show $SPOOF with a SYN/s above 0"
else
	not_ok "the top sources show $SPOOF with a SYN/s above 0"
	sed 's/^/#   /' "$T/screen"
fi
wait $HPING
LAB_PIDS=${LAB_PIDS/ $HPING/}
cp "$T/screen" "$T/busy"
check "the header names the interface, netns, mode, prog $PROG and dry-run" \
	grep -q "^synguard top  $SRV_IF  netns $NS_S  native XDP  prog $PROG  dry-run off" "$T/busy"
rate=$(syn_rate "$T/busy")
check "SYN/s is above 0 during the burst (got ${rate:-nothing})" nonzero "${rate:-0}"
check "the frames, SYN-ACK, completed and drops rates are there" \
	grep -Eq '^frames/s [0-9.]+ +SYN/s [0-9.]+ +SYN-ACK/s [0-9.]+ +completed/s [0-9.]+ +drops/s [0-9.]+$' \
	"$T/busy"
check "the sources table says its limit" grep -q 'top sources by SYN/s (limit 1000/s, burst 2000' "$T/busy"
check "the half_open gauge line" grep -Eq '^  half_open +[0-9]+ ' "$T/busy"
check "every flow gauge is there" bash -c 'for s in half_open syn_seen syn_sent established \
	fin_wait_1 fin_wait_2 closing time_wait time_wait_remote close_wait last_ack; do
	grep -Eq "(^| )$s +[0-9]+" "$1" || { echo "no $s"; exit 1; }; done' _ "$T/busy"
check "latency: both histograms with p50/p90/p99" \
	grep -Eq 'syn_to_synack_us: p50 <[0-9.]+[mu]?s p90 <[0-9.]+[mu]?s p99 <[0-9.]+[mu]?s .*synack_to_ack_us: p50' \
	"$T/busy"
check "latency: bars of # per bucket" grep -Eq '^  <[0-9.]+[mu]?s +\|#+ *\| [1-9][0-9]*' "$T/busy"
check "no line of the screen is wider than the window" \
	awk 'length($0) > 119 { exit 1 }' "$T/busy"
expect_eq "the client's 10 fetches during the burst succeed" "$fetched" 10

# Quiet now: the rates fall to 0, the totals hold still and agree with stats.
check "quiet: SYN/s back to 0.0 and no active source" wait_screen top 5 quiet
live=$(sg stats $SRV_IF --json)
expect_eq "the screen's handshake totals == stats" \
	"$(sed -n 's/^handshakes since attach: \([0-9]*\) started, \([0-9]*\) completed.*/\1 \2/p' "$T/screen")" \
	"$(jq -r '"\(.handshakes.started) \(.handshakes.completed)"' <<<"$live")"
expect_eq "the screen's half_open and syn_seen gauges == stats" \
	"$(awk '{ for (i = 1; i < NF; i++) if ($i == "half_open" || $i == "syn_seen") printf "%s ", $(i + 1) }' "$T/screen")" \
	"$(jq -r '"\(.flows.half_open) \(.flows.syn_seen) "' <<<"$live")"

# q: gone within 2 s, exit 0, the terminal as it was.
t0=$(date +%s%N)
"${TM[@]}" send-keys -t top q
for _ in $(seq 40); do alive top || break; sleep 0.05; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if alive top; then not_ok "q ends the session within 2 s"; else ok "q ends the session within 2 s (${ms} ms)"; fi
expect_eq "top exits 0 on q" "$(cat "$T/top.rc" 2>/dev/null)" 0
check "after q: echo and icanon are on again" restored "$T/top.stty"

# SIGTERM, SIGHUP, Ctrl-C: the pane stays (a sleep after top), so tmux can
# tell whether the normal screen and the cursor came back.
for how in TERM HUP C-c; do
	name=sig${how/-/}
	rm -f "$T/$name.rc" "$T/$name.stty"
	tm_start $name "bash -c '\"$SYNGUARD\" --netns $NS_S top $SRV_IF; echo \$? >$T/$name.rc; stty -a >$T/$name.stty; echo after-top; exec sleep 60'"
	wait_screen $name 5 has_header || diag "$how: no header within 5 s"
	if [ $how = C-c ]; then
		"${TM[@]}" send-keys -t $name C-c
	else
		pid=$(pgrep -P "$(pane $name '#{pane_pid}')")
		[ -n "$pid" ] && kill -$how "$pid"
	fi
	for _ in $(seq 40); do [ -s "$T/$name.rc" ] && break; sleep 0.05; done
	expect_eq "$how: top exits 0 within 2 s" "$(cat "$T/$name.rc" 2>/dev/null)" 0
	# stty runs after the rc is written: on a loaded machine, not yet.
	for _ in $(seq 40); do [ -s "$T/$name.stty" ] && break; sleep 0.05; done
	check "$how: echo and icanon are on again" restored "$T/$name.stty"
	wait_screen $name 2 grep -q after-top >/dev/null
	expect_eq "$how: back on the normal screen" "$(pane $name '#{alternate_on}')" 0
	expect_eq "$how: the cursor is shown" "$(pane $name '#{cursor_flag}')" 1
	"${TM[@]}" kill-session -t $name 2>/dev/null
done

# --- without a terminal -------------------------------------------------------------
t0=$(date +%s%N)
sg top $SRV_IF --count 2 --interval 0.5 2>"$T/plain.err" | cat >"$T/plain"
rc=${PIPESTATUS[0]}
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "top --count 2 --interval 0.5 | cat: exit 0" "$rc" 0
expect_eq "two plain reports" "$(grep -c "^synguard top  $SRV_IF  netns $NS_S" "$T/plain")" 2
expect_eq "no escape character at all" "$(grep -c $'\033' "$T/plain")" 0
expect_eq "nothing on stderr" "$(wc -c <"$T/plain.err")" 0
check "each covers about 0.5 s" bash -c '[ "$(grep -c "^rates over the last 0\.[45][0-9] s$" "$1")" = 2 ]' _ "$T/plain"
check "two intervals of 0.5 s took 0.9 to 3 s (${ms} ms)" test "$ms" -ge 900 -a "$ms" -le 3000
check "the plain report has the gauges, latency and sources" \
	bash -c 'grep -q "^  half_open " "$1" && grep -q "^syn_to_synack_us: p50" "$1" &&
		 grep -q "^top sources by SYN/s" "$1"' _ "$T/plain"

sg config $SRV_IF set src_rate=off >/dev/null
sg top $SRV_IF --count 1 --interval 0.2 >"$T/off" 2>&1
check "with src_rate off: (per-source limit off)" \
	grep -q '^top sources by SYN/s (per-source limit off)$' "$T/off"
sg config $SRV_IF set dry_run=on >/dev/null
sg top $SRV_IF --count 1 --interval 0.2 >"$T/dry" 2>&1
check "a live switch to dry-run shows in the header and the rates" \
	bash -c 'grep -q "  dry-run ON  " "$1" && grep -q "would-drop/s" "$1"' _ "$T/dry"
sg config $SRV_IF set dry_run=off >/dev/null

# Counters that go down between two readings (maps replaced under top, as
# by a re-attach) give no rate, never the 2^64 wrap of a subtraction.
# The test sets every counter to 1000 on each CPU, lets top take its
# first reading, then sets them to 0.
PIN=/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF
set_counters() {
	local m n
	for m in sg_stats sg_drops; do
		n=$(bpftool -j map show pinned "$PIN/$m" | jq .bytes_value)
		bpftool map update pinned "$PIN/$m" key 0 0 0 0 value \
			$(for _ in $(seq $((n / 8))); do printf '0x%02x 0x%02x 0 0 0 0 0 0 ' \
				$(($1 & 255)) $(($1 >> 8)); done) || return 1
	done
}
sg config $SRV_IF set attack_syn_rate=100000 >/dev/null	# top's attack line has rates
set_counters 1000
sg top $SRV_IF --count 1 --interval 1 >"$T/reset" 2>&1 &
bg=$!
sleep 0.4
set_counters 0
wait $bg
check "counters reset under top: no rate above 1e6" \
	bash -c '! grep -Eq "[0-9]{7,}" "$1"' _ "$T/reset"
check "...and the report has the attack and cookie rates" \
	bash -c 'grep -q "proven 0.0/s, admitted 0.0/s" "$1" && grep -q "(0.0/s, 0.0/s, 0.0/s)" "$1"' _ "$T/reset"
sg config $SRV_IF set attack_syn_rate=off >/dev/null

# SIGTERM without a terminal: a clean exit 0, promptly.  (Not through the
# sg function: in the background that is a subshell, and $! its pid.)
"$SYNGUARD" --netns "$NS_S" top $SRV_IF --interval 5 >"$T/bg" 2>&1 &
bg=$!
LAB_PIDS="$LAB_PIDS $bg"
sleep 0.5
t0=$(date +%s%N)
kill -TERM $bg
wait $bg
rc=$?
LAB_PIDS=${LAB_PIDS/ $bg/}
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "plain top exits 0 on SIGTERM" "$rc" 0
check "...within 1 s of it, not at the end of its 5 s interval (${ms} ms)" test "$ms" -le 1000

# Detached under it: top says so and exits 3.
"$SYNGUARD" --netns "$NS_S" top $SRV_IF --interval 0.2 >"$T/det" 2>"$T/det.err" &
bg=$!
LAB_PIDS="$LAB_PIDS $bg"
sleep 0.5
sg detach $SRV_IF >/dev/null
for _ in $(seq 30); do kill -0 $bg 2>/dev/null || break; sleep 0.1; done
wait $bg
rc=$?
LAB_PIDS=${LAB_PIDS/ $bg/}
expect_eq "detached under it: top exits 3" "$rc" 3
check "...saying synguard was detached" grep -q "synguard was detached from $SRV_IF" "$T/det.err"

tap_done
