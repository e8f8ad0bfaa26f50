#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# synguard in slot 0 of another root's program array (attach --into,
# Katran's shared-mode layout; the root is chain_root of
# tests/tools/chain_test.bpf.c, attached to srv0) does what the direct
# attach does (issue 15):
#   - each malformed class raises its own drop reason by exactly N and no
#     other, as 10-filter.sh checks for the direct attach (lab_malformed);
#   - SYN cookies from the slot: during a full-rate many-source flood
#     (sg-flood, a whole lab /16), 1,000 clients from addresses the server
#     has never seen connect and fetch a page, at least 99.9% of them, as
#     27-cookies.sh checks for the direct attach; the flood's SYNs are
#     answered with XDP_TX from the tail-called program, and the root never
#     fell through (synguard held the slot throughout);
#   - detach empties the slot and leaves the root attached.
set -u
. "$(dirname "$0")/../lib.sh"
lab_need nginx curl jq nft hping3 bpftool nsenter

NEW=1000			# connections from new addresses during the flood

lab_up || { not_ok "lab_up"; tap_done; }
check "nginx starts in the server namespace" lab_nginx
# XDP_TX on veth: the receiving end needs an XDP program (see 27-cookies.sh).
check "XDP programs on the switch ports (XDP_TX on veth)" \
	sh -c "ip -n $NS_W link set dev sws xdpdrv object '$TRIVIAL_OBJ' program trivial_pass &&
	       ip -n $NS_W link set dev swa xdpdrv object '$TRIVIAL_OBJ' program trivial_pass"
lab_new_addrs $NEW
check "the test programs loaded and pinned" lab_chain_load
check "the test root attached to $SRV_IF" lab_root_attach
ROOT_ID=$(bpftool -j prog show pinned "$CHAIN_PIN/progs/chain_root" | jq -r .id)
SLOTS=$CHAIN_PIN/maps/root_slots

# --- the malformed classes, from the slot ------------------------------------------
check "attach --into the root's slot 0" sg attach $SRV_IF --into "$SLOTS:0"
expect_eq "the slot holds synguard" "$(lab_root_slot)" \
	"$(sg status --json | jq -r '.attachments[0].prog_id')"
F0=$(lab_chain_cnt 3)
expect_eq "curl through the root and synguard: 5 of 5" "$(lab_fetch 5)" 5
lab_malformed
expect_eq "no frame fell through the root's slot" $(( $(lab_chain_cnt 3) - F0 )) 0
check "detach" sg detach $SRV_IF

# --- SYN cookies from the slot --------------------------------------------------
check "attach --into with cookies in attack mode" \
	sg attach $SRV_IF --into "$SLOTS:0" --cookies attack --attack-syn-rate 2000 \
	--attack-hold 3 --attack-half-open off --src-rate off
stats() { sg stats $SRV_IF --json; }
S0=$(stats) F0=$(lab_chain_cnt 3) R0=$(lab_chain_cnt 2)
T0=$SECONDS
lab_flood_bg 240		# stopped when its phase is done
sleep 2
expect_eq "the flood put synguard in attack mode" "$(stats | jq -r .attack.active)" true
lab_new_clients 0 $NEW "$LAB_TMP/cookie" 3 4
diag "$NEW new clients took $((SECONDS - T0)) s"
S1=$(stats)
lab_flood_stop
diag "generator: $(tail -1 "$LAB_TMP/flood.out")"
d() { echo $(( $(jq -r ".$1" <<<"$S1") - $(jq -r ".$1" <<<"$S0") )); }
GOOD=$(good_conns "$LAB_TMP/cookie")
diag "new clients during the flood: $GOOD of $NEW connected and fetched the page"
if [ $((GOOD * 1000)) -ge $((NEW * 999)) ]; then ok "new clients: $GOOD/$NEW >= 99.9%"
else not_ok "new clients: $GOOD/$NEW >= 99.9%"; fi
grep -vn '^200 1 ' "$LAB_TMP/cookie" | head -5 | sed 's/^/#   failed: line:code connects connect_s /'
expect_ge "flood SYNs answered by cookies (XDP_TX from the slot)" "$(d cookies.sent)" 10000
expect_ge "cookie_valid >= connected new clients" "$(d cookies.valid)" "$GOOD"
expect_eq "no SYN fell back to the stack" "$(d cookies.fallback)" 0
diag "root saw $(( $(lab_chain_cnt 2) - R0 )) frames; synguard $(d counters.frames);" \
	"cookies sent $(d cookies.sent); connect p50 $(quantile "$LAB_TMP/cookie" 0.5) ms," \
	"p99 $(quantile "$LAB_TMP/cookie" 0.99) ms"
expect_eq "the root never fell through: synguard held the slot" $(( $(lab_chain_cnt 3) - F0 )) 0

check "detach" sg detach $SRV_IF
expect_eq "detach emptied the slot" "$(lab_root_slot)" ""
expect_eq "the root is still attached to $SRV_IF" \
	"$(ip -n $NS_S -j link show $SRV_IF | jq -r '.[0].xdp.prog.id // empty')" "$ROOT_ID"
tap_done
