#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The gauges under a flood, when the kernel answers with SYN cookies of its
# own: synguard's cookies off (cookies=never, attack mode off), so once the
# listener's SYN queue is full the kernel sends stateless cookie SYN-ACKs.
# Those hold nothing: synguard's half_open must stay what `ss` counts as
# syn-recv, at every sample, and count them apart (synack_cookie, next to
# the kernel's TcpExtSyncookiesSent); real clients that get in through a
# cookie are completed handshakes (next to TcpPassiveOpens).
#
# A spoofed flood from a lab /16 (IPv4) and a lab /49 (IPv6) reaches the
# server; its SYN-ACKs are routed to the attacker's address, whose kernel
# drops them (not its address, no forwarding): no RST closes a request.
# Three runs of 10 s, sampled all along: tcp_syncookies=2 (every SYN-ACK a
# cookie: half_open stays at the real count, 0), then tcp_syncookies=1
# over IPv4 and over IPv6 (the queue fills, then cookies).  TIME_WAIT too:
# nginx closes first each client's connection ("Connection: close"), and
# in the IPv4 runs a wrk connection storm beside the flood.
set -u
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (network namespaces, XDP)"; exit 0; }
for cmd in nginx curl jq ss nstat wrk; do
	command -v $cmd >/dev/null 2>&1 || [ -x /usr/sbin/$cmd ] ||
		{ echo "1..0 # SKIP $cmd not installed (make deps)"; exit 0; }
done
[ -x "$SG_FLOOD" ] || { echo "1..0 # SKIP $SG_FLOOD not built (make all)"; exit 0; }

FLOOD4=198.19.0.0/16		# spoofed sources, routed back to the attacker
FLOOD6=2001:2:0:8000::/49	# spread over 32,768 /64s (src_rate keys IPv6 by /64)
RATE=20000			# flood SYNs a second: the queue fills in well under 1 s
# lab_nginx's default.  A queue of 4,096 retransmits 4,096 SYN-ACKs in one
# timer tick (at 1 s and 3 s); the bridge's input backlog (netdev_max_backlog,
# 1,000) drops some, and the kernel drops each request whose retransmit
# failed, with no packet synguard could see (docs/design.md, Known gaps).
BACKLOG=511
CLIENTS=40			# real connections during each flood, 10 a second

stats() { sg stats $SRV_IF --json; }
ss_count() { ip netns exec "$NS_S" ss -Htan state "$1" | wc -l; }
# ss_dump FILE: the SYN-RECV and TIME-WAIT sockets, one "STATE LOCAL
# PEER" line each, from one dump (two states: ss prints the state column).
ss_dump() {
	ip netns exec "$NS_S" ss -Htan state syn-recv state time-wait | awk '{ print $1, $4, $5 }' >"$1"
}
# ss_bounds BEFORE AFTER: "LO_H HI_H LO_TW HI_TW", what the kernel held
# at any moment between two dumps, by state.  A socket in both dumps was
# there all along (a 4-tuple does not come back within milliseconds), and
# none came and went between them (a request lives seconds, TIME_WAIT a
# minute): at least the sockets common to both, at most those in either.
# Not the smaller and larger count: when the kernel drops the flood's
# requests, its queue refills within milliseconds, and two dumps of 512
# can hold different sockets with a moment of far fewer in between.
ss_bounds() {
	awk 'FNR == NR { seen[$0] = 1; n[$1]++; next }
	     { m[$1]++; if ($0 in seen) c[$1]++ }
	     END { h = "SYN-RECV"; t = "TIME-WAIT"
		   print c[h] + 0, n[h] + m[h] - c[h], c[t] + 0, n[t] + m[t] - c[t] }' "$1" "$2"
}
# A counter of the kernel's, absolute: kstat TcpExtSyncookiesSent
kstat() { ip netns exec "$NS_S" nstat -asz "$1" | awk -v k="$1" '$1 == k {print $2}'; }

# near GOT LO HI [PCT]: GOT within max(2, PCT% (2)) of [LO, HI], what ss
# held between its dumps just before and just after the `stats` that read
# GOT (ss_bounds).
near() {
	local lo=$2 hi=$3 tol
	tol=$(( hi * ${4:-2} / 100 ))
	[ $tol -lt 2 ] && tol=2
	[ "$1" -ge $((lo - tol)) ] && [ "$1" -le $((hi + tol)) ]
}

# run NAME DST FLOOD_PREFIX URL SECONDS: the flood for SECONDS with real
# clients beside it; ss and synguard sampled side by side, once a second
# at most, while it runs.  Sets the globals the checks read.
run() {
	local name=$1 dst=$2 src=$3 url=$4 secs=$5 i t0 fpid cpid wpid s ts left
	local ss_h ss_h2 sg_h ss_tw ss_tw2 sg_tw sg_ck c0 b a
	local k0 p0 k1 p1 S0 S1
	S0=$(stats) k0=$(kstat TcpExtSyncookiesSent) p0=$(kstat TcpPassiveOpens)
	c0=$(jq -r .counters.synack_cookie <<<"$S0")
	lab_flood "$NS_A" att0 "$(lab_mac $NS_S $SRV_IF)" "$dst" "$src" \
		$((RATE * secs)) "$secs" --random --rate $RATE >"$LAB_TMP/flood.$name" 2>&1 &
	fpid=$!
	LAB_PIDS="${LAB_PIDS:-} $fpid"
	ip netns exec "$NS_C" curl -s -H 'Connection: close' --rate 10/s --max-time 5 \
		-o /dev/null -w '%{http_code}\n' "$url?n=[1-$CLIENTS]" >"$LAB_TMP/clients.$name" 2>&1 &
	cpid=$!
	LAB_PIDS="$LAB_PIDS $cpid"
	wpid=
	if [ -n "${STORM:-}" ]; then
		# A connection storm beside it: nginx closes each connection.
		timeout -k 2 $((secs + 5)) ip netns exec "$NS_C" wrk -t1 -c4 -d$((secs - 1))s \
			-H 'Connection: close' "$url" >"$LAB_TMP/wrk.$name" 2>&1 &
		wpid=$!
		LAB_PIDS="$LAB_PIDS $wpid"
	fi
	BAD_HO=0 BAD_TW=0 SAMPLES=0 MAX_HO=0 MAX_SS=0
	diag "$name: t   ss syn-recv  half_open  ss time-wait  time_wait  cookies sent (kernel)  synack_cookie" \
		"(ss: at least-at most, between dumps before and after the stats)"
	t0=$SECONDS
	while kill -0 $fpid 2>/dev/null && [ $((SECONDS - t0)) -lt $((secs + 10)) ]; do
		# Few commands a sample: on a loaded machine each costs.
		ts=${EPOCHREALTIME/./} b=$LAB_TMP/ss.before a=$LAB_TMP/ss.after
		ss_dump "$b"
		s=$(stats)
		ss_dump "$a"
		read -r ss_h ss_h2 ss_tw ss_tw2 < <(ss_bounds "$b" "$a")
		read -r sg_h sg_tw sg_ck < <(jq -r '"\(.flows.half_open) \(.flows.time_wait) \(.counters.synack_cookie)"' <<<"$s")
		diag "$(printf '%s: %2d %12s %10s %13s %10s %23s %14s' "$name" $((SECONDS - t0)) \
			"$ss_h-$ss_h2" "$sg_h" "$ss_tw-$ss_tw2" "$sg_tw" "$(( $(kstat TcpExtSyncookiesSent) - k0 ))" \
			"$((sg_ck - c0))")"
		SAMPLES=$((SAMPLES + 1))
		near "$sg_h" "$ss_h" "$ss_h2" || BAD_HO=$((BAD_HO + 1))
		near "$sg_tw" "$ss_tw" "$ss_tw2" || BAD_TW=$((BAD_TW + 1))
		[ "$sg_h" -gt "$MAX_HO" ] && MAX_HO=$sg_h
		[ "$ss_h" -gt "$MAX_SS" ] && MAX_SS=$ss_h
		left=$(( 1000000 - (${EPOCHREALTIME/./} - ts) ))
		[ $left -gt 0 ] && sleep "0.$(printf '%06d' $left)"
	done
	wait $fpid 2>/dev/null
	wait $cpid 2>/dev/null
	[ -n "$wpid" ] && wait $wpid 2>/dev/null
	sleep 0.5	# the last ACKs
	S1=$(stats) k1=$(kstat TcpExtSyncookiesSent) p1=$(kstat TcpPassiveOpens)
	KCOOKIES=$((k1 - k0)) PASSIVE=$((p1 - p0))
	SGCOOKIES=$(( $(jq -r .counters.synack_cookie <<<"$S1") - $(jq -r .counters.synack_cookie <<<"$S0") ))
	COMPLETED=$(( $(jq -r .handshakes.completed <<<"$S1") - $(jq -r .handshakes.completed <<<"$S0") ))
	GOOD=$(grep -c '^200$' "$LAB_TMP/clients.$name")
	diag "$name: $(head -1 "$LAB_TMP/flood.$name"); clients $GOOD/$CLIENTS"
	[ -n "$wpid" ] && diag "$name: wrk: $(grep -E 'requests in|Socket errors' "$LAB_TMP/wrk.$name" | tr -s ' ' | tr '\n' ';')"
	local c
	for c in hs_started hs_synacked synack_retrans unexpected_synack hs_reset syn_retrans; do
		printf '%s %s ' $c $(( $(jq -r .counters.$c <<<"$S1") - $(jq -r .counters.$c <<<"$S0") ))
	done >"$LAB_TMP/sgc"
	diag "$name: synguard: $(cat "$LAB_TMP/sgc")"
	diag "$name: kernel: $(ip netns exec "$NS_S" nstat -asz | awk '$2 != 0 && /ReqQFull|ListenDrops|ListenOverflows|SyncookiesFailed|EmbryonicRsts|TCPTimeouts|InSegs|OutRsts/ {printf "%s %s ", $1, $2}')"
	diag "$name: SyncookiesSent $KCOOKIES, synack_cookie $SGCOOKIES; TcpPassiveOpens $PASSIVE, completed $COMPLETED"
}

# checks NAME: what every run must show.
checks() {
	# Counting the kernel's cookies as half-open flows put half_open at
	# the table's size (about 65,000 against 512).  Aging a request by
	# 7 s emptied half_open up to 0.3 s before the kernel's timer wheel
	# dropped the queue's requests (sg_reqsk_expiry).  time_wait was 5%
	# low when FINs crossed (flow.bpf.h, the closer).
	check "$1: half_open within 2% (or 2) of ss syn-recv at every sample ($BAD_HO of $SAMPLES off)" \
		test "$SAMPLES" -ge 5 -a "$BAD_HO" = 0
	check "$1: time_wait within 2% (or 2) of ss time-wait at every sample ($BAD_TW of $SAMPLES off)" \
		test "$SAMPLES" -ge 3 -a "$BAD_TW" = 0
	# That the run is what it is about; how many depends on the machine.
	check "$1: the kernel sent cookies ($KCOOKIES)" test "$KCOOKIES" -ge 100
	local d=$(( SGCOOKIES > KCOOKIES ? SGCOOKIES - KCOOKIES : KCOOKIES - SGCOOKIES ))
	check "$1: synack_cookie $SGCOOKIES within 1% of TcpExtSyncookiesSent $KCOOKIES" \
		test $((d * 100)) -le "$KCOOKIES"
	expect_eq "$1: every client got its page" "$GOOD" $CLIENTS
	# Off by one in 35,113 in one loaded run of the full suite: exact is
	# the target, within 0.1% (or 1) is what must hold.
	local dp=$(( COMPLETED > PASSIVE ? COMPLETED - PASSIVE : PASSIVE - COMPLETED ))
	check "$1: handshakes.completed $COMPLETED within 0.1% (or 1) of TcpPassiveOpens $PASSIVE" \
		test $((dp * 1000)) -le "$PASSIVE" -o "$dp" -le 1
	known "$1: handshakes.completed equals TcpPassiveOpens" \
		"a completion missed now and then beside the flood" test "$COMPLETED" = "$PASSIVE"
}

# drained: the kernel's requests and synguard's half-open flows of the run
# before both gone (tcp_synack_retries=2: 7 s after their SYN).
drained() {
	local i
	for i in $(seq 60); do
		[ "$(ss_count syn-recv)" = 0 ] && [ "$(stats | jq -r .flows.half_open)" = 0 ] && return 0
		sleep 0.25
	done
	return 1
}

# The kernel's cookies do the work: synguard's off, attack mode off.
attach() {
	sg attach $SRV_IF &&
		sg config $SRV_IF set cookies=never attack_syn_rate=off attack_half_open=off
}

# --- the lab ------------------------------------------------------------------
lab_up || { echo "not ok 1 - lab_up"; exit 1; }
# tcp_synack_retries=2: a request lives 1 + 2 + 4 s, full queue or not
# (above 2, reqsk_timer_handler prunes old requests early once the queue
# is half full, after 2 retransmits, and no packet tells synguard: see
# docs/design.md, Known gaps); synguard derives the same 7 s at attach.
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_max_syn_backlog=$BACKLOG \
	net.ipv4.tcp_synack_retries=2 net.ipv4.tcp_syncookies=2
NGINX_BACKLOG=$BACKLOG lab_nginx || { echo "not ok 1 - nginx in the server namespace"; exit 1; }
# sg-flood sends with XDP_TX: the veth peer needs an XDP program, or the
# frames vanish without a word.
lab_xdp_pass "$NS_W" swa || { echo "not ok 1 - XDP on the attacker's switch port"; exit 1; }
# Permanent: no neighbour resolution in the way while the flood runs.
ip -n "$NS_S" neigh replace $ATT_IP lladdr "$(lab_mac $NS_A att0)" dev $SRV_IF nud permanent
ip -n "$NS_S" -6 neigh replace $ATT_IP6 lladdr "$(lab_mac $NS_A att0)" dev $SRV_IF nud permanent
ip -n "$NS_S" route add $FLOOD4 via $ATT_IP dev $SRV_IF
ip -n "$NS_S" -6 route add $FLOOD6 via $ATT_IP6 dev $SRV_IF

check "attach srv0, cookies=never attack_syn_rate=off attack_half_open=off" attach

# --- tcp_syncookies=2: every SYN-ACK a cookie, the kernel holds nothing ---------
STORM=1 run always4 $SRV_IP $FLOOD4 "http://$SRV_IP/" 10
checks "tcp_syncookies=2, IPv4"
check "tcp_syncookies=2: half_open stayed at the real count (max $MAX_HO)" test "$MAX_HO" -le 2

# --- tcp_syncookies=1: the queue fills with requests, then cookies -------------
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=1
STORM=1 run full4 $SRV_IP $FLOOD4 "http://$SRV_IP/" 10
checks "tcp_syncookies=1, IPv4"
check "tcp_syncookies=1, IPv4: the queue was full (ss syn-recv max $MAX_SS >= $BACKLOG)" \
	test "$MAX_SS" -ge $BACKLOG
check "IPv4's requests gone, from ss and from half_open" drained
run full6 $SRV_IP6 $FLOOD6 "http://[$SRV_IP6]/" 10
checks "tcp_syncookies=1, IPv6"
check "tcp_syncookies=1, IPv6: the queue was full (ss syn-recv max $MAX_SS >= $BACKLOG)" \
	test "$MAX_SS" -ge $BACKLOG

tap_done
