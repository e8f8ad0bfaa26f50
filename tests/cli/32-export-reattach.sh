#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard export` follows the attachment it serves, with no restart:
#   - after `attach --force`, /metrics names the new program and its
#     counters move with traffic again;
#   - after `detach`, it answers 200 with only `synguard_up 0`;
#   - after a new `attach`, `synguard_up 1` with the new program's id;
#   - with the interface deleted (the link left detached), `synguard_up 0`.
# The exporter listens on 127.0.0.1 in the lab's server namespace, runs
# under `timeout` and is stopped on every exit path; the traffic is curl
# from the lab's client to nginx in the server namespace.
set -u
. "$(dirname "$0")/../lib.sh"

PORT=19477

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP

# scrape: /metrics into $T/m, the HTTP code on stdout.
scrape() {
	in_srv curl -s -o "$T/m" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/metrics"
}
answers() { [ "$(scrape)" = 200 ]; }
# metric NAME: the value of the sample NAME (with its labels) in $T/m.
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/m"; }
# The prog_id label of synguard_info in $T/m.
scraped_prog() { sed -n 's/^synguard_info{.*prog_id="\([0-9]*\)".*/\1/p' "$T/m"; }
# The program `status` says is attached to srv0 in the server netns.
status_prog() {
	"$SYNGUARD" status --json |
		jq -r --arg ns "$NS_S" '.attachments[] | select(.interface == "srv0" and .netns == $ns) | .prog_id'
}
completed() { metric synguard_hs_completed_total; }
# completed_above N: a scrape whose completed handshakes are above N + 2.
completed_above() { scrape >/dev/null && [ "$(completed)" -gt $(($1 + 2)) ] 2>/dev/null; }
# Three fetches, and a scrape counts their three handshakes.
counters_move() {
	local before
	scrape >/dev/null || return 1
	before=$(completed)
	[ "$(lab_fetch 3)" = 3 ] || { echo "the fetches failed"; return 1; }
	until_ok 30 completed_above "${before:-0}" && return 0
	echo "synguard_hs_completed_total $before, then $(completed)"
	return 1
}

check "nginx starts in the server namespace" lab_nginx
check "attach srv0" sg attach $SRV_IF
timeout 120 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --listen 127.0.0.1:$PORT \
	>"$T/export.out" 2>"$T/export.err" &
LAB_PIDS+=" $!"
check "the exporter answers" until_ok 50 answers
old=$(status_prog)
scrape >/dev/null
expect_eq "synguard_up 1" "$(metric synguard_up)" 1
expect_eq "synguard_info names the program attached ($old)" "$(scraped_prog)" "$old"
check "its counters move with traffic" counters_move

# --- attach --force --------------------------------------------------------------
check "attach --force srv0" sg attach $SRV_IF --force
new=$(status_prog)
diag "prog $old, then $new"
check "the new attachment has another program" test -n "$new" -a "$new" != "$old"
expect_eq "after attach --force: 200" "$(scrape)" 200
expect_eq "... synguard_info names the new program" "$(scraped_prog)" "$new"
expect_eq "... synguard_up 1" "$(metric synguard_up)" 1
check "... and the counters move again" counters_move

# --- detach ------------------------------------------------------------------------
check "detach srv0" sg detach $SRV_IF
expect_eq "after detach: 200 (Prometheus stores what it says)" "$(scrape)" 200
expect_eq "... synguard_up 0" "$(metric synguard_up)" 0
expect_eq "... and no other sample" "$(grep -v '^#' "$T/m" | grep -cv '^synguard_up ')" 0
if command -v promtool >/dev/null; then
	check "... which promtool check metrics passes" bash -c "promtool check metrics <'$T/m'"
else
	skip "promtool check metrics" "no promtool (make deps installs prometheus)"
fi
expect_eq "a second scrape says the same" "$(scrape) $(metric synguard_up)" "200 0"

# --- attach again -------------------------------------------------------------------
check "attach srv0 again" sg attach $SRV_IF
again=$(status_prog)
expect_eq "after a new attach: 200" "$(scrape)" 200
expect_eq "... synguard_up 1" "$(metric synguard_up)" 1
expect_eq "... synguard_info names the new program ($again)" "$(scraped_prog)" "$again"
check "... and the counters move" counters_move

# --- the interface deleted: the link is left detached ------------------------------
check "srv0 deleted" ip -n "$NS_S" link del $SRV_IF
expect_eq "with srv0 gone: 200, synguard_up 0" "$(scrape) $(metric synguard_up)" "200 0"

lab_stop_pids
sed 's/^/#   exporter: /' "$T/export.out"
check "the exporter exited cleanly, nothing on stderr" test ! -s "$T/export.err"
check "detach srv0" sg detach $SRV_IF
tap_done
