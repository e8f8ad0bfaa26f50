#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Sharing the XDP hook by tail calls (issue 15), in the netns lab:
#   - attach --then PIN: a second XDP program (chain_count, counts every
#     frame it gets, drops UDP to port 9) runs on what synguard passes,
#     exactly that (pass - chain_empty), and never on what synguard drops
#     (a deny-listed source); curl to nginx goes through both;
#   - chain clear / set / show change it live; a program of another type,
#     an xdp.frags one or a map is refused with its reason, slot unchanged;
#     attach --force (a replace in place) keeps the slot's program;
#   - attach --into ARRAY_PIN:INDEX: synguard in slot 0 of a test root's
#     program array (chain_root, attached to srv0), Katran's shared-mode
#     layout: it counts the frames and its drops take effect; detach
#     empties the slot, and leaves it alone once it holds another program;
#     attach --force does not replace it in place (exit 3);
#     the root stays attached, at its pin, its other slots untouched;
#   - the slot filled and emptied 80-odd times while 8,000 UDP frames flow:
#     each frame synguard passes ran chain_count or fell through, once;
#   - detach leaves chain_count loaded at its pin, with its id.
# The test programs are tests/tools/chain_test.bpf.c, pinned under a bpffs
# directory of this test's own, removed on every exit path.
set -u
. "$(dirname "$0")/../lib.sh"

lab_up || { not_ok "lab_up"; tap_done; }

check "nginx starts in the server namespace" lab_nginx
check "bpftool loads and pins the test programs" lab_chain_load
P=$CHAIN_PIN
prog_id() { bpftool -j prog show pinned "$1" | jq -r .id; }
# "passed_on pass": what synguard handed on (pass - chain_empty), its passes.
passed_on() { sg stats $SRV_IF --json | jq -r '.counters | "\(.pass - .chain_empty) \(.pass)"'; }
# Waits for the lab to go quiet: synguard's frames counter still for 0.3 s.
quiet() {
	local last=-1 cur i
	for i in $(seq 40); do
		cur=$(sg_counter counters.frames)
		[ "$cur" = "$last" ] && return 0
		last=$cur
		sleep 0.3
	done
}
# "seen passed_on pass", read at one moment: a stray frame (ND, ARP) may
# land between the two reads, so read chain_count's side on both sides of
# synguard's and retry until it did not move.
pair() {
	local a b po i
	for i in $(seq 30); do
		a=$(lab_chain_cnt 0) po=$(passed_on) b=$(lab_chain_cnt 0)
		[ "$a" = "$b" ] && break
		sleep 0.1
	done
	echo "$b $po"
}
udp9() { lab_hping -2 -p 9 -c "$1" $SRV_IP; }

COUNT_ID=$(prog_id "$P/progs/chain_count")

# --- attach --then ---------------------------------------------------------
check "attach --then the pinned chain_count" sg attach $SRV_IF --then "$P/progs/chain_count"
check "status shows it after synguard" \
	sh -c "'$SYNGUARD' --netns $NS_S status | grep -q 'then prog $COUNT_ID chain_count'"
expect_eq "status --json: next is chain_count" \
	"$(sg status --json | jq -r '.attachments[0].next.prog_id, .attachments[0].next.name' | tr '\n' ' ')" \
	"$COUNT_ID chain_count "
check "stats shows it" sh -c "'$SYNGUARD' --netns $NS_S stats $SRV_IF | grep -q 'then prog $COUNT_ID chain_count'"
check "top's header shows it" \
	sh -c "'$SYNGUARD' --netns $NS_S top $SRV_IF --count 1 | head -1 | grep -q 'prog [0-9]*, then prog $COUNT_ID chain_count  dry-run'"

quiet
read -r S0 PO0 _ <<<"$(pair)"
D0=$(lab_chain_cnt 1) E0=$(sg_counter counters.chain_empty)
expect_eq "curl through synguard and chain_count: 5 of 5" "$(lab_fetch 5)" 5
udp9 5
quiet
expect_eq "chain_count dropped the 5 UDP frames to port 9" $(( $(lab_chain_cnt 1) - D0 )) 5
read -r S1 PO1 _ <<<"$(pair)"
expect_eq "chain_count saw exactly what synguard passed on (pass - chain_empty)" \
	$(( S1 - S0 )) $(( PO1 - PO0 ))
expect_ge "...which is the curls' and the UDP frames' at least" $(( $(lab_chain_cnt 0) - S0 )) 25
expect_eq "chain_empty still while the slot is filled" $(( $(sg_counter counters.chain_empty) - E0 )) 0

check "deny the attacker" sg deny $SRV_IF add $ATT_IP/32
quiet
S0=$(lab_chain_cnt 0) DL0=$(sg_counter drops.deny_list)
udp9 5
quiet
expect_eq "synguard dropped the denied source's 5 frames" $(( $(sg_counter drops.deny_list) - DL0 )) 5
expect_eq "none of them reached chain_count" $(( $(lab_chain_cnt 0) - S0 )) 0
check "allow the attacker again" sg deny $SRV_IF del $ATT_IP/32

# --- chain clear / set / show, live -------------------------------------------
check "chain clear" sg chain $SRV_IF clear
expect_eq "chain show: nothing after synguard" "$(sg chain $SRV_IF show --json | jq -c .next)" null
expect_eq "top's header: nothing after synguard once cleared" \
	"$(sg top $SRV_IF --count 1 | head -1 | grep -c 'then prog')" 0
quiet
S0=$(lab_chain_cnt 0) D0=$(lab_chain_cnt 1) P0=$(sg_counter counters.pass) E0=$(sg_counter counters.chain_empty)
expect_eq "curl with the slot empty: 3 of 3" "$(lab_fetch 3)" 3
udp9 3
quiet
expect_eq "chain_count sees nothing once cleared" $(( $(lab_chain_cnt 0) - S0 )) 0
expect_eq "every pass fell through: chain_empty == pass" \
	$(( $(sg_counter counters.chain_empty) - E0 )) $(( $(sg_counter counters.pass) - P0 ))
expect_eq "and the UDP to port 9 went up (not dropped)" $(( $(lab_chain_cnt 1) - D0 )) 0

check "chain set the pinned chain_count" sg chain $SRV_IF set "$P/progs/chain_count"
expect_eq "chain show names it" "$(sg chain $SRV_IF show)" \
	"$SRV_IF: prog $(sg status --json | jq -r '.attachments[0].prog_id'), then prog $COUNT_ID chain_count"
quiet
S0=$(lab_chain_cnt 0)
expect_eq "curl after chain set: 3 of 3" "$(lab_fetch 3)" 3
quiet
expect_ge "chain_count runs again" $(( $(lab_chain_cnt 0) - S0 )) 15

# --- the slot filled and emptied under traffic --------------------------------
# A bounded UDP stream to port 7 (chain_count passes it on) while `chain set`
# and `chain clear` alternate as fast as synguard runs.  Each frame synguard
# passes runs chain_count or falls through (chain_empty), never both and
# never neither: seen + chain_empty == pass, and pass == the frames sent.
# The server's ICMP answers need no ARP (a frame in) with the neighbour
# entry permanent.
FLOW=8000
ip -n "$NS_S" neigh replace $ATT_IP lladdr "$(lab_mac $NS_A att0)" dev $SRV_IF nud permanent
toggle() {
	while [ ! -e "$LAB_TMP/stop" ]; do
		sg chain $SRV_IF set "$P/progs/chain_count" 2>/dev/null && echo set
		sg chain $SRV_IF clear 2>/dev/null && echo clear
	done >"$LAB_TMP/toggles"
}
quiet
read -r S0 _ PA0 <<<"$(pair)"
E0=$(sg_counter counters.chain_empty)
rm -f "$LAB_TMP/stop"
toggle &
TOGGLE=$!
LAB_PIDS="${LAB_PIDS:-} $TOGGLE"
SENT=$(timeout 60 ip netns exec "$NS_A" hping3 -q -n -2 -p 7 -i u150 -c $FLOW $SRV_IP 2>&1 |
       sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
touch "$LAB_TMP/stop"
wait $TOGGLE
LAB_PIDS=${LAB_PIDS/ $TOGGLE/}
quiet
read -r S1 _ PA1 <<<"$(pair)"
E1=$(sg_counter counters.chain_empty)
SETS=$(grep -c '^set' "$LAB_TMP/toggles") CLEARS=$(grep -c '^clear' "$LAB_TMP/toggles")
diag "under traffic: $SENT frames sent, $SETS sets and $CLEARS clears;" \
	"chain_count saw $((S1 - S0)), chain_empty $((E1 - E0)), pass $((PA1 - PA0))"
expect_eq "hping3 sent all $FLOW frames" "$SENT" $FLOW
expect_ge "the slot was filled and emptied at least 10 times each during it" \
	$(( SETS < CLEARS ? SETS : CLEARS )) 10
expect_eq "every frame passed: pass rose by the frames sent" $((PA1 - PA0)) "$SENT"
expect_eq "each counted once: chain_count's seen + chain_empty == pass" \
	$(( S1 - S0 + E1 - E0 )) $((PA1 - PA0))
if [ $((S1 - S0)) -gt 0 ] && [ $((E1 - E0)) -gt 0 ]; then
	ok "both states took frames (slot filled $((S1 - S0)), empty $((E1 - E0)))"
else
	not_ok "both states took frames (slot filled $((S1 - S0)), empty $((E1 - E0)))"
fi
check "chain set chain_count again" sg chain $SRV_IF set "$P/progs/chain_count"

# attach --force replaces the programs in place, keeping state
OLD_SG=$(sg status --json | jq -r '.attachments[0].prog_id')
check "attach --force: replaced in place" sg attach $SRV_IF --force
expect_eq "...a new program, the chain slot still holding chain_count" \
	"$(sg chain $SRV_IF show --json | jq -r '"\(.prog_id != '"$OLD_SG"') \(.next.prog_id)"')" "true $COUNT_ID"
quiet
S0=$(lab_chain_cnt 0)
expect_eq "curl after the replace: 2 of 2" "$(lab_fetch 2)" 2
quiet
expect_ge "chain_count still runs after synguard" $(( $(lab_chain_cnt 0) - S0 )) 10

# bad input: a clear message, the slot left as it is
bad_set() {
	local desc=$1 want=$2 pin=$3 out rc
	out=$(sg chain $SRV_IF set "$pin" 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -Eq "$want" <<<"$out" && [ "$(echo "$out" | wc -l)" = 1 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "  exit $rc: $out"
	fi
}
bad_set "chain set a tc program: refused, says its type" "sched_cls program, not XDP" "$P/progs/chain_tc"
bad_set "chain set an xdp.frags program: refused, says why" "refused .*xdp.frags" "$P/progs/chain_frags"
bad_set "chain set a map: refused" "not a BPF program" "$P/maps/chain_counts"
bad_set "chain set a missing pin: refused" "cannot open" "$P/progs/nope"
expect_eq "the slot still holds chain_count" "$(sg chain $SRV_IF show --json | jq -r .next.prog_id)" "$COUNT_ID"
out=$(sg attach $SRV_IF --force --then "$P/progs/chain_tc" 2>&1)
expect_eq "attach --then a tc program: exit 2" "$?" 2
expect_eq "...and the attachment is unchanged" "$(sg chain $SRV_IF show --json | jq -r .next.prog_id)" "$COUNT_ID"

check "detach" sg detach $SRV_IF
expect_eq "no XDP program left on $SRV_IF" "$(ip -n $NS_S -j link show $SRV_IF | jq -r '.[0].xdp // empty')" ""
expect_eq "detach leaves chain_count loaded, at its pin, under its id" \
	"$(bpftool -j prog show id $COUNT_ID 2>/dev/null | jq -r .name) $(prog_id "$P/progs/chain_count")" \
	"chain_count $COUNT_ID"

# --- attach --into ------------------------------------------------------------
check "the test root attached to $SRV_IF" lab_root_attach
ROOT_ID=$(prog_id "$P/progs/chain_root")
bad_into() {
	local desc=$1 want=$2 arg=$3 out rc
	out=$(sg attach $SRV_IF --into "$arg" 2>&1)
	rc=$?
	if [ $rc = 2 ] && grep -Eq "$want" <<<"$out" && ! sg status | grep -q "^$SRV_IF "; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "  exit $rc: $out"
	fi
}
bad_into "--into a map that is no program array" "not a program array" "$P/maps/chain_counts:0"
bad_into "--into a slot past the array's end" "has 4 slots: no slot 9" "$P/maps/root_slots:9"
bad_into "--into without an index" "ARRAY_PIN:INDEX" "$P/maps/root_slots"

# The root's own program in its slot 1: synguard's attach and detach must
# leave it there.
check "the root's owner fills its slot 1" \
	bpftool map update pinned "$P/maps/root_slots" key 1 0 0 0 value pinned "$P/progs/chain_count"
check "attach --into the root's slot 0" sg attach $SRV_IF --into "$P/maps/root_slots:0"
SG_ID=$(sg status --json | jq -r '.attachments[0].prog_id')
expect_eq "the root's slot 0 holds synguard" "$(lab_root_slot)" "$SG_ID"
expect_eq "status: mode slot, the array and index" \
	"$(sg status --json | jq -r '.attachments[0] | "\(.mode) \(.state) \(.into.index)"')" "slot active 0"
check "status text names the slot" sh -c "'$SYNGUARD' --netns $NS_S status | grep -q 'in slot 0 of $P/maps/root_slots'"
out=$(sg attach $SRV_IF --force 2>&1)
expect_eq "attach --force on synguard in a slot: exit 3, says detach first" \
	"$? $(grep -c 'detach srv0, then attach' <<<"$out")" "3 1"
expect_eq "...the slot still holds it" "$(lab_root_slot)" "$SG_ID"
quiet
R0=$(lab_chain_cnt 2) F0=$(lab_chain_cnt 3) FR0=$(sg_counter counters.frames)
expect_eq "curl through the root and synguard: 5 of 5" "$(lab_fetch 5)" 5
quiet
expect_eq "synguard counted every frame the root saw" \
	$(( $(sg_counter counters.frames) - FR0 )) $(( $(lab_chain_cnt 2) - R0 ))
expect_eq "no frame fell through the root's slot" $(( $(lab_chain_cnt 3) - F0 )) 0
expect_ge "synguard's hs_completed counts the handshakes" "$(sg_counter counters.hs_completed)" 5
mkdir -p "$LAB_TMP/tf"
check "export --textfile reads synguard in the slot: up, chain_empty counted" \
	sh -c "'$SYNGUARD' --netns $NS_S export $SRV_IF --textfile '$LAB_TMP/tf' --count 1 &&
	       grep -q '^synguard_up 1' '$LAB_TMP/tf/synguard_$SRV_IF.prom' &&
	       grep -q 'chain_empty' '$LAB_TMP/tf/synguard_$SRV_IF.prom'"
check "deny the client" sg deny $SRV_IF add $CLI_IP/32
expect_eq "synguard's drop takes effect in the slot: curl 0 of 2" "$(lab_fetch 2)" 0
check "allow it again" sg deny $SRV_IF del $CLI_IP/32
expect_eq "curl 2 of 2 again" "$(lab_fetch 2)" 2

check "detach from the slot" sg detach $SRV_IF
expect_eq "detach emptied the root's slot" "$(lab_root_slot)" ""
expect_eq "the root is still attached to $SRV_IF, still at its pin" \
	"$(ip -n $NS_S -j link show $SRV_IF | jq -r '.[0].xdp.prog.id // empty') $(prog_id "$P/progs/chain_root")" \
	"$ROOT_ID $ROOT_ID"
expect_eq "its other slots untouched: 1 holds the owner's program, 2 and 3 empty" \
	"$(lab_root_slot 1)/$(lab_root_slot 2)/$(lab_root_slot 3)" "$COUNT_ID//"
quiet 2>/dev/null
F0=$(lab_chain_cnt 3)
expect_eq "curl through the root alone: 2 of 2" "$(lab_fetch 2)" 2
expect_ge "the root's frames fall through now" $(( $(lab_chain_cnt 3) - F0 )) 10

# The root's owner put another program in the slot: detach leaves it.
check "attach --into again" sg attach $SRV_IF --into "$P/maps/root_slots:0"
check "the owner replaces synguard in the slot" \
	bpftool map update pinned "$P/maps/root_slots" key 0 0 0 0 value pinned "$P/progs/chain_count"
expect_eq "status: defunct, the slot no longer holds it" \
	"$(sg status --json | jq -r '.attachments[0].state')" defunct
check "detach" sg detach $SRV_IF
expect_eq "the slot still holds the owner's program" "$(lab_root_slot)" "$COUNT_ID"

tap_done
