#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard export` beside clients that do not finish their requests:
#   - a slow client (a byte every 1.5 s, reconnecting when closed) and eight
#     idle connections (reconnecting when closed) stay open while a scraper
#     asks ten times in a row: every answer is a complete 200 within 1 s;
#   - the slow client's connection is closed by the request deadline, about
#     2 s after it connected, with no answer; idle ones too;
#   - 80 idle connections at once: the exporter holds at most 64 of them,
#     still answers a scrape within 1 s, and is left with none 2 s later.
# Everything runs in the lab's server namespace on 127.0.0.1; the clients
# and the exporter run under `timeout` and are stopped on every exit path.
set -u
. "$(dirname "$0")/../lib.sh"

PORT=19476
MAX_CONNS=64			# user/export.c: EXP_MAX_CONNS
PESTS=

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP

answers() { in_srv curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/metrics"; }
# Client-side sockets connected to the exporter (accepted or still queued).
clients() { in_srv ss -Htn state established "dport = :$PORT" | wc -l; }
have_clients() { [ "$(clients)" -ge "$1" ]; }
# Sockets the exporter holds, its listener included.
exporter_sockets() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
only_listener() { [ "$(exporter_sockets "$1")" = 1 ]; }

# The pests, as bash functions run in the server netns.  Each logs one
# line per connection the exporter closed: seconds it lasted, bytes it got.
# slow: sends "GET /metrics ..." a byte every 1.5 s, reconnects when closed.
slow_client() {
	local req='GET /metrics HTTP/1.1' t0 got w
	while :; do
		{ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || { sleep 0.1; continue; }
		t0=$EPOCHREALTIME
		( for ((i = 0; i < ${#req}; i++)); do printf %s "${req:i:1}" || exit; sleep 1.5; done
		  sleep 60 ) >&3 2>/dev/null &
		w=$!
		got=$(timeout 30 cat <&3 2>/dev/null | wc -c)
		kill $w 2>/dev/null
		wait $w 2>/dev/null
		exec 3>&-
		echo "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') $got"
	done
}
# idle: connects, says nothing, reconnects when closed.
idle_client() {
	local t0 got
	while :; do
		{ exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || { sleep 0.1; continue; }
		t0=$EPOCHREALTIME
		got=$(timeout 30 cat <&3 2>/dev/null | wc -c)
		exec 3>&-
		echo "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }') $got"
	done
}
# pest FUNC LOG: FUNC in the background in the server netns, bounded.
pest() {
	timeout 120 ip netns exec "$NS_S" bash -c "PORT=$PORT; $(declare -f "$1"); $1" >"$2" 2>&1 &
	PESTS+=" $!"
	LAB_PIDS+=" $!"
}
# stop_pests: the pests stopped and waited for, the exporter left running.
stop_pests() {
	LAB_PIDS=$PESTS
	lab_stop_pids
	LAB_PIDS=" $EXP_PID" PESTS=
}
# scrape N: one scrape, limited to 1 s; "CODE SECONDS" on stdout, the body
# in $T/m.N; exit 0 when it is a complete 200 (the last sample present and
# the length curl got the one announced: curl fails a short body).
scrape() {
	local out rc
	out=$(in_srv curl -s -o "$T/m.$1" --max-time 1 -w '%{http_code} %{time_total}' \
		"http://127.0.0.1:$PORT/metrics")
	rc=$?
	echo "$out"
	[ $rc = 0 ] && [ "${out%% *}" = 200 ] && tail -n 1 "$T/m.$1" |
		grep -Eq '^synguard_handshake_latency_seconds_count\{phase="synack_to_ack"\} [0-9]+$'
}

check "attach srv0" sg attach $SRV_IF
timeout 180 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --listen 127.0.0.1:$PORT \
	>"$T/export.out" 2>"$T/export.err" &
EXP_PID=$!
LAB_PIDS+=" $EXP_PID"
check "the exporter answers" until_ok 50 answers

# --- a slow client and eight idle ones beside the scraper ------------------------
pest slow_client "$T/slow.log"
for i in $(seq 8); do pest idle_client "$T/idle.$i.log"; done
check "nine pest connections are up" until_ok 50 have_clients 9
good=0 times=
for i in $(seq 10); do
	out=$(scrape "$i") && good=$((good + 1))
	times+=" ${out:-none}"
	sleep 0.3
done
diag "scrapes (code seconds):$times"
diag "client connections to the exporter at the end: $(clients)"
expect_eq "ten scrapes beside a slow and 8 idle clients: each a complete 200 within 1 s" "$good" 10
# The pests keep running until the slow client has been closed twice.
slow_closed_twice() { [ "$(wc -l <"$T/slow.log")" -ge 2 ]; }
until_ok 100 slow_closed_twice
stop_pests
diag "slow client's connections (seconds bytes): $(tr '\n' ',' <"$T/slow.log")"
cat "$T"/idle.*.log >"$T/idle.log"
span=$(sort -n "$T/idle.log" | awk 'NR == 1 { a = $1 } { b = $1 } END { print a "-" b }')
diag "idle connections closed: $(wc -l <"$T/idle.log"), lasting $span s"
expect_ge "the slow client was closed at least twice" "$(wc -l <"$T/slow.log")" 2
expect_eq "... each time after 1.9-3 s (the 2 s request deadline)" \
	"$(awk '$1 < 1.9 || $1 > 3 { print }' "$T/slow.log" | head -3)" ""
expect_eq "... with no answer" "$(awk '$2 != 0 { print }' "$T/slow.log" | head -3)" ""
expect_ge "idle connections were closed too" "$(wc -l <"$T/idle.log")" 8
expect_eq "... each after 1.9-3 s, with no answer" \
	"$(awk '$1 < 1.9 || $1 > 3 || $2 != 0 { print }' "$T/idle.log" | head -3)" ""

# --- more idle connections than the exporter takes ----------------------------------
pid=$(pgrep -P "$EXP_PID")
# One shell opens them all, then says so: the checks below must come
# within the 2 s the first of them lives.
timeout 30 ip netns exec "$NS_S" bash -c "t0=\$EPOCHREALTIME
	for i in \$(seq 80); do exec {fd}<>/dev/tcp/127.0.0.1/$PORT || exit 1; done
	awk -v a=\$t0 -v b=\$EPOCHREALTIME 'BEGIN { printf \"%.3f\", b - a }' >'$T/hold.up'
	sleep 20" 2>"$T/hold.err" &
PESTS+=" $!"
LAB_PIDS+=" $!"
hold_up() { [ -s "$T/hold.up" ]; }
check "80 idle connections are made" until_ok 50 hold_up
out=$(scrape bound)
rc=$?
n=$(exporter_sockets "$pid")
expect_eq "beside them a scrape is a complete 200 within 1 s ($out)" "$rc" 0
states=$(in_srv ss -Htn "dport = :$PORT" | awk '{ n[$1]++ } END { for (s in n) printf " %s %d", s, n[s] }')
diag "80 connections made in $(cat "$T/hold.up") s; the exporter holds $n sockets (listener included); client side:$states"
expect_ge "it holds at most $MAX_CONNS connections" $((MAX_CONNS + 1 - n)) 0
expect_ge "... and more than a few (the test had them in place)" "$n" 32
SECONDS=0
check "2 s later it holds none of them (bounded wait: 5 s)" \
	until_ok 50 only_listener "$pid"
diag "the last idle connection closed after ~${SECONDS}s"

stop_pests
check "the exporter still runs" kill -0 "$pid"
lab_stop_pids
check "it stops cleanly, nothing on stderr" test ! -s "$T/export.err"
check "detach srv0" sg detach $SRV_IF
tap_done
