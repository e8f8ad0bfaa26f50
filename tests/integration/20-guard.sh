#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The guard in the lab, against real peers: a single-source SYN flood is
# dropped at XDP while a real client keeps connecting and a long transfer
# goes on; the allow and deny lists; dry-run; live policy changes; attach
# --config.  nginx serves in the server namespace, synguard sits on srv0.
set -u
. "$(dirname "$0")/../lib.sh"
lab_need hping3 nginx curl jq

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }

SPOOF=198.18.0.77	# the flood's source: in the lab, owned by nobody
FLOOD_SECS=7		# how long the flood runs (hping3 --flood ignores -c)
CONNS=1000		# the client's connections, with and without the flood
CONN_RATE=400		# ...started at most this many per second
RATE=1000 BURST=100	# the per-source limit during the flood

# --- helpers -----------------------------------------------------------------
stats() { sg stats $SRV_IF --json; }
# d KEY: how much counter KEY (a jq path) rose from $S0 to $S1.
d() { echo $(( $(jq -r ".$1" <<<"$S1") - $(jq -r ".$1" <<<"$S0") )); }

# syn_burst PORT: 50 SYNs from the attacker's own address, 2 ms apart (so a
# real peer answers them); prints how many answers hping3 got back.
syn_burst() {
	timeout 15 ip netns exec "$NS_A" hping3 -S -p "$1" -c 50 -i u2000 $SRV_IP 2>&1 |
		sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}


# The generator is not the server: on this small VM hping3 would otherwise
# share every CPU with nginx and the client.  Give it the last CPU.
NCPU=$(nproc)
FLOOD_CPU=
[ "$NCPU" -ge 2 ] && FLOOD_CPU="taskset -c $((NCPU - 1))"

# flood_start: the single-source SYN flood, in the background, bounded by
# time (timeout, then SIGKILL) and count; SIGINT makes hping3 print its
# statistics into $LAB_TMP/flood.out.
flood_start() {
	FLOOD_T0=$(date +%s.%N)
	timeout -s INT -k 3 $FLOOD_SECS $FLOOD_CPU ip netns exec "$NS_A" \
		hping3 --flood -S -p 80 -a $SPOOF -c 2000000 $SRV_IP \
		>"$LAB_TMP/flood.out" 2>&1 &
	FLOOD_PID=$!
	LAB_PIDS="${LAB_PIDS:-} $FLOOD_PID"	# lab_down stops it on any exit
}
flood_wait() {
	wait $FLOOD_PID
	FLOOD_T1=$(date +%s.%N)
	LAB_PIDS=${LAB_PIDS/ $FLOOD_PID/}
}

# ==============================================================================
# 1+2. A single-source SYN flood; a real client connecting through it; a
#      long transfer spanning it.
# ==============================================================================
# The per-source limit alone: its 1000 SYN/s allowance for the flood would
# trip the default attack mode (unanswered SYNs past 1000/s).
check "attach --src-rate $RATE --src-burst $BURST --attack-syn-rate off --attack-half-open off" \
	sg attach $SRV_IF --src-rate $RATE --src-burst $BURST --attack-syn-rate off \
	--attack-half-open off
PROG_ID=$(stats | jq -r .prog_id)

# ~200 MB, sparse: nginx sends zeros without the disk noticing.
truncate -s 200M "$LAB_TMP/www/big"
BIG_SIZE=$(stat -c %s "$LAB_TMP/www/big")

S_START=$(stats)
# The transfer starts first and, limited to 16 MB/s, outlasts the baseline
# and the flood; falling under 1 MB/s for 2 s (a stall) makes curl fail.
ip netns exec "$NS_C" curl -s --limit-rate 16M --speed-limit 1000000 --speed-time 2 \
	--max-time 60 -o "$LAB_TMP/big.got" -w '%{http_code} %{size_download}\n' \
	"http://$SRV_IP/big" >"$LAB_TMP/big.res" 2>&1 &
BIG_PID=$!
LAB_PIDS="${LAB_PIDS:-} $BIG_PID"
sleep 0.5

# The baseline: the same client, the same connections, no flood.
lab_clients "$LAB_TMP/base.txt" $CONNS $CONN_RATE
sleep 0.3
S_BASE=$(stats)

flood_start
sleep 0.5
CLI_T0=$(date +%s.%N)
lab_clients "$LAB_TMP/flood.txt" $CONNS $CONN_RATE
CLI_T1=$(date +%s.%N)
flood_wait
S_FLOOD=$(stats)
wait $BIG_PID
BIG_RC=$?
LAB_PIDS=${LAB_PIDS/ $BIG_PID/}
BIG_T1=$(date +%s.%N)
S_END=$(stats)

SENT=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LAB_TMP/flood.out")
FLOOD_DUR=$(awk -v a="$FLOOD_T0" -v b="$FLOOD_T1" 'BEGIN { printf "%.2f", b - a }')
if [ -n "$SENT" ] && [ "$SENT" -gt 0 ]; then
	ok "hping3 flooded: $SENT SYNs from $SPOOF in ${FLOOD_DUR}s"
	diag "flood rate: $(awk -v n="$SENT" -v t="$FLOOD_DUR" 'BEGIN { printf "%d", n / t }') pps"
else
	not_ok "hping3 flooded"; sed 's/^/#   /' "$LAB_TMP/flood.out" | head; SENT=0
fi
if le "$CLI_T1" "$FLOOD_T1" && le "$FLOOD_T0" "$CLI_T0"; then
	ok "the flood overlapped the whole client run"
else
	not_ok "the flood overlapped the whole client run"
	diag "  flood $FLOOD_T0..$FLOOD_T1, client $CLI_T0..$CLI_T1"
fi

# What the flood may legitimately get through: its burst, plus the rate for
# every second it ran.  At least 99% of the rest must be dropped at XDP.
S0=$S_BASE S1=$S_FLOOD
DROPPED=$(( $(d drops.src_rate) + $(d drops.src_blocked) ))
ALLOWANCE=$(awk -v r=$RATE -v b=$BURST -v t="$FLOOD_DUR" 'BEGIN { printf "%d", b + r * t }')
OVER=$((SENT > ALLOWANCE ? SENT - ALLOWANCE : 0))
diag "flood: $SENT SYNs, $DROPPED dropped at XDP \
($(awk -v a=$DROPPED -v b=$SENT 'BEGIN { printf "%.2f", b ? 100 * a / b : 0 }')%), \
$((SENT - DROPPED)) passed (allowance: burst + rate * time = $ALLOWANCE)"
expect_ge "at least 99% of the flood's SYNs over burst + rate*time dropped (src_rate + src_blocked)" \
	"$DROPPED" "$(( (OVER * 99 + 99) / 100 ))"
if [ "$DROPPED" -le "$SENT" ]; then ok "no more drops than flood SYNs ($DROPPED <= $SENT)"
else not_ok "no more drops than flood SYNs ($DROPPED > $SENT)"; fi
# hping3's source port wraps through 0 every 65536 SYNs: those few are
# dropped as port_zero.  Every drop has its reason counted.
expect_eq "verdicts.drop is the sum of the drop reasons" "$(d verdicts.drop)" \
	"$(jq -n --argjson a "$S0" --argjson b "$S1" '[$b.drops[]] | add - ([$a.drops[]] | add)')"
diag "drops during the flood: $(jq -n -c --argjson a "$S0" --argjson b "$S1" \
	'$b.drops | with_entries(.value -= $a.drops[.key]) | with_entries(select(.value > 0))')"

expect_eq "client without flood: $CONNS connections, all new, all 200" \
	"$(good_conns "$LAB_TMP/base.txt")" $CONNS
expect_eq "client during the flood: $CONNS connections, all new, all 200" \
	"$(good_conns "$LAB_TMP/flood.txt")" $CONNS
expect_connect_times "$LAB_TMP/base.txt" "$LAB_TMP/flood.txt" client

# 2. The long transfer.
expect_eq "the long transfer through the flood: curl exit 0 (no reset, no stall)" "$BIG_RC" 0
expect_eq "...with the whole file" "$(stat -c %s "$LAB_TMP/big.got" 2>/dev/null)" "$BIG_SIZE"
if le "$FLOOD_T1" "$BIG_T1"; then ok "...and it outlasted the flood"
else not_ok "...and it outlasted the flood"; fi
S0=$S_START S1=$S_END
expect_eq "no RST reached the server, baseline to end of transfer (counters.rst)" "$(d counters.rst)" 0

# ==============================================================================
# 3. The allow list, with a strict limit.
# ==============================================================================
check "config set src_rate=1 src_burst=1" sg config $SRV_IF set src_rate=1 src_burst=1
check "allow add $ATT_IP" sg allow $SRV_IF add $ATT_IP
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_ge "allow-listed: counters.allowed rises by >= 50" "$(d counters.allowed)" 50
expect_eq "allow-listed: drops.src_rate does not move" "$(d drops.src_rate)" 0
expect_eq "allow-listed: all 50 SYNs answered" "$GOT" 50
HITS=$(sg allow $SRV_IF list --json | jq -r --arg c "$ATT_IP/32" '.allow[] | select(.cidr == $c) | .hits')
expect_ge "allow list shows the hits of $ATT_IP/32" "${HITS:-0}" 50
sg allow $SRV_IF list | grep -q "^$ATT_IP/32 .* hits$" && ok "allow list (text) shows $ATT_IP/32 and its hits" ||
	not_ok "allow list (text) shows $ATT_IP/32 and its hits"
check "allow del $ATT_IP" sg allow $SRV_IF del $ATT_IP
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_ge "after allow del: the same burst is limited (drops.src_rate +48)" "$(d drops.src_rate)" 48
expect_eq "after allow del: counters.allowed does not move" "$(d counters.allowed)" 0
if [ "${GOT:-99}" -le 2 ]; then ok "after allow del: at most 2 of 50 SYNs answered ($GOT)"
else not_ok "after allow del: at most 2 of 50 SYNs answered ($GOT)"; fi

# ==============================================================================
# 4. The deny list, IPv4 and IPv6.
# ==============================================================================
fetch4() { ip netns exec "$NS_C" curl -s -o /dev/null --max-time 2 "http://$SRV_IP/"; }
fetch6() { ip netns exec "$NS_C" curl -s -g -o /dev/null --max-time 2 "http://[$SRV_IP6]/"; }
check "client fetches over IPv4" fetch4
check "client fetches over IPv6" fetch6
check "deny add $CLI_IP" sg deny $SRV_IF add $CLI_IP
S0=$(stats)
fetch4 && not_ok "deny-listed client cannot fetch over IPv4" || ok "deny-listed client cannot fetch over IPv4"
S1=$(stats)
expect_ge "drops.deny_list rises" "$(d drops.deny_list)" 1
check "...while IPv6 from the same client still works" fetch6
check "deny add 2001:2::/64" sg deny $SRV_IF add 2001:2::/64
S0=$(stats)
fetch6 && not_ok "a client in a denied /64 cannot fetch over IPv6" ||
	ok "a client in a denied /64 cannot fetch over IPv6"
S1=$(stats)
expect_ge "drops.deny_list rises for IPv6" "$(d drops.deny_list)" 1
LIST=$(sg deny $SRV_IF list --json)
expect_eq "deny list shows both, with hits" \
	"$(jq -c '[.deny[] | [.cidr, (.hits > 0)]]' <<<"$LIST")" \
	"[[\"$CLI_IP/32\",true],[\"2001:2::/64\",true]]"
check "deny del both" sg deny $SRV_IF del $CLI_IP 2001:2::/64
check "after deny del: IPv4 works again" fetch4
check "after deny del: IPv6 works again" fetch6

# ==============================================================================
# 5. Dry-run: the same strict limit, nothing dropped.
# ==============================================================================
sleep 1.1	# let the attacker's bucket refill
check "config set dry_run=on" sg config $SRV_IF set dry_run=on
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_eq "dry-run: all 50 SYNs answered" "$GOT" 50
expect_ge "dry-run: drops.src_rate rises by the over-limit count" "$(d drops.src_rate)" 48
expect_eq "dry-run: verdicts.would_drop rises by the same" "$(d verdicts.would_drop)" "$(d drops.src_rate)"
expect_eq "dry-run: verdicts.drop stays" "$(d verdicts.drop)" 0
check "config set dry_run=off" sg config $SRV_IF set dry_run=off

# ==============================================================================
# 6. Live changes, without reattaching.
# ==============================================================================
check "config set src_rate=off" sg config $SRV_IF set src_rate=off
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_eq "src_rate=off: all 50 SYNs answered" "$GOT" 50
expect_eq "src_rate=off: nothing checked (counters.src_limited)" "$(d counters.src_limited)" 0
check "config set src_rate=1 src_burst=1" sg config $SRV_IF set src_rate=1 src_burst=1
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_ge "src_rate off -> 1: the next burst is limited at once" "$(d drops.src_rate)" 48
check "config set ports=443" sg config $SRV_IF set ports=443
S0=$(stats); GOT=$(syn_burst 80); S1=$(stats)
expect_eq "ports=443: a burst to port 80 is out of scope (no drops)" "$(d drops.src_rate)" 0
expect_eq "ports=443: ...all 50 answered" "$GOT" 50
S0=$(stats); syn_burst 443 >/dev/null; S1=$(stats)
expect_ge "ports=443: a burst to port 443 is limited" "$(d drops.src_rate)" 48
check "config set ports=all block_time=3" sg config $SRV_IF set ports=all block_time=3
sleep 1.1
S0=$(stats); syn_burst 80 >/dev/null; S1=$(stats)
expect_ge "block_time=3: over the limit, then blocked (src_rate + src_blocked)" \
	"$(( $(d drops.src_rate) + $(d drops.src_blocked) ))" 48
expect_ge "block_time=3: most of the burst counted as src_blocked" "$(d drops.src_blocked)" 45
expect_eq "prog_id unchanged by all the config sets" "$(stats | jq -r .prog_id)" "$PROG_ID"

# ==============================================================================
# 7. attach --config FILE.
# ==============================================================================
check "detach" sg detach $SRV_IF
cat >"$LAB_TMP/good.conf" <<'EOF'
# synguard policy for the lab

src_rate=5
	# an indented comment, then a trailing one
src_burst=7   # seven
ports=80,443

EOF
check "attach --config (comments, blank lines)" sg attach $SRV_IF --config "$LAB_TMP/good.conf"
# The stack's own window scale (tcp_select_initial_window), as attach derives it.
COOKIE_WS=$(ip netns exec "$NS_S" awk 'NR == FNR { m = $3; next } { if ($1 > m) m = $1 }
	END { ws = 0; while (m >= 2 ^ (ws + 1)) ws++; ws -= 15; print (ws < 0 ? 0 : (ws > 14 ? 14 : ws)) }' \
	/proc/sys/net/ipv4/tcp_rmem /proc/sys/net/core/rmem_max)
expect_eq "config show prints the file's values and the defaults" "$(sg config $SRV_IF show)" \
"dry_run=off
unparsed=drop
src_rate=5
src_burst=7
prefix4=32
prefix6=64
block_time=0
ports=80,443
attack_syn_rate=auto
attack_half_open=auto
attack_hold=5
attack_leave_pct=50
unproven_rate=10
unproven_burst=10
proven_time=3600
half_open_timeout=63
time_wait_timeout=60
cookies=attack
cookie_mss4=1460
cookie_mss6=1440
cookie_wscale=$COOKIE_WS"
check "detach" sg detach $SRV_IF

printf 'src_rate=5\nbogus=1\n' >"$LAB_TMP/unknown.conf"
printf '# bad value\nsrc_burst=0\n' >"$LAB_TMP/value.conf"
for f in unknown.conf value.conf missing.conf; do
	sg attach $SRV_IF --config "$LAB_TMP/$f" >"$LAB_TMP/out" 2>&1
	rc=$?
	expect_eq "attach --config $f exits 2" "$rc" 2
	diag "  $(head -2 "$LAB_TMP/out" | tr '\n' ' ')"
	sg stats $SRV_IF >/dev/null 2>&1
	expect_eq "...and attaches nothing (stats: not attached, exit 3)" "$?" 3
	ip -n "$NS_S" link show $SRV_IF | grep -q 'prog/xdp' &&
		not_ok "...no XDP program on $SRV_IF" || ok "...no XDP program on $SRV_IF"
done

tap_done
