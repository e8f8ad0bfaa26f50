#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Flow tracking against the kernel's own account: synguard's half-open and
# TIME_WAIT gauges next to `ss` in the namespace that holds the sockets, and
# its completed handshakes next to the server's TcpPassiveOpens.
#
# The server runs nginx and synguard on srv0 (XDP ingress + tcx egress).  The
# spoofed SYN source (198.18.0.77/.78) is given a permanent neighbour entry on
# the server, pointing at the attacker's MAC: the SYN-ACKs really leave
# through egress, and the attacker's kernel drops them (not its address, no
# forwarding), so no RST ever closes the half-open requests.
set -u
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (network namespaces, XDP)"; exit 0; }
for cmd in nginx hping3 curl jq ss nstat wrk; do
	command -v $cmd >/dev/null 2>&1 || [ -x /usr/sbin/$cmd ] ||
		{ echo "1..0 # SKIP $cmd not installed (make deps)"; exit 0; }
done

START=$SECONDS
SPOOF1=198.18.0.77 SPOOF2=198.18.0.78
BURST=300
FETCHES=200
MIN_CONNS=10000

# --- helpers ------------------------------------------------------------------
# A gauge or counter from `synguard stats --json`: flow flows.half_open
flow() { sg stats $SRV_IF --json | jq -r ".$1"; }
# Sockets of STATE in namespace NS, as the kernel counts them.
ss_count() { ip netns exec "$1" ss -Htan state "$2" | wc -l; }
half_open_timeout() { sg config $SRV_IF show | sed -n 's/^half_open_timeout=//p'; }
passive_opens() { ip netns exec "$NS_S" nstat -asz TcpPassiveOpens | awk '/TcpPassiveOpens/ {print $2}'; }

# expect_near DESC GOT WANT: |GOT - WANT| <= max(2, 2% of WANT).
expect_near() {
	local d=$(( $2 > $3 ? $2 - $3 : $3 - $2 )) tol=$(( $3 * 2 / 100 ))
	[ $tol -lt 2 ] && tol=2
	if [[ $2 =~ ^[0-9]+$ ]] && [ $d -le $tol ]; then ok "$1 ($2 vs $3)"
	else not_ok "$1"; diag "  got '$2', want '$3' +- $tol"; fi
}

# wait_zero SECS CMD...: polls CMD every 0.25 s until it prints 0; prints
# the seconds it took, or "timeout".
wait_zero() {
	local limit=$1 t0=$SECONDS v; shift
	while :; do
		v=$("$@")
		[ "$v" = 0 ] && { echo $((SECONDS - t0)); return 0; }
		[ $((SECONDS - t0)) -ge "$limit" ] && { echo "timeout (last $v)"; return 1; }
		sleep 0.25
	done
}

# A bounded burst of spoofed SYNs from inside the lab ranges, to port 80.
syn_burst() {
	timeout 20 ip netns exec "$NS_A" hping3 -q -S -p 80 -a "$1" -c $BURST -i u1000 \
		$SRV_IP >/dev/null 2>&1
}

# --- the lab --------------------------------------------------------------------
lab_up || { echo "not ok 1 - lab_up"; exit 1; }
# Half-open requests must stay requests: no cookies, room for all of them.
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_syncookies=0 \
	net.ipv4.tcp_max_syn_backlog=4096 net.ipv4.tcp_synack_retries=5
NGINX_BACKLOG=4096 lab_nginx || { echo "not ok 1 - nginx in the server namespace"; exit 1; }
att_mac=$(lab_mac "$NS_A" att0)
for a in $SPOOF1 $SPOOF2; do
	ip -n "$NS_S" neigh replace $a lladdr "$att_mac" dev $SRV_IF nud permanent
done

# --- half-open: the kernel holds its requests 63 s; synguard's timeout is live ---
check "attach srv0 (XDP + tcx egress)" sg attach $SRV_IF
expect_eq "half_open_timeout derived from tcp_synack_retries=5: 2^6-1" \
	"$(half_open_timeout)" 63
syn_burst $SPOOF1
sleep 0.3	# the last SYN-ACKs leave
ss_n=$(ss_count "$NS_S" syn-recv) sg_n=$(flow flows.half_open)
ss_n2=$(ss_count "$NS_S" syn-recv)
diag "half-open, tcp_synack_retries=5: ss syn-recv $ss_n (then $ss_n2), synguard half_open $sg_n"
expect_ge "ss holds the burst as syn-recv" "$ss_n" $((BURST * 98 / 100))
expect_near "half_open equals ss syn-recv" "$sg_n" "$ss_n"
expect_near "every SYN-ACK went through egress (hs_synacked)" \
	"$(flow counters.hs_synacked)" "$ss_n"
check "config set half_open_timeout=3" sg config $SRV_IF set half_open_timeout=3
sleep 4
expect_eq "half_open is 0 ~4 s later (timeout 3 s)" "$(flow flows.half_open)" 0
ss_n=$(ss_count "$NS_S" syn-recv)
diag "the kernel still holds $ss_n syn-recv requests (its own 63 s)"
expect_ge "...while the kernel still holds them" "$ss_n" $((BURST * 98 / 100))

# --- half-open: the kernel gives up after 1 s + 2 s, and so does synguard -----
# The next timer tick of each request reads the sysctl: the kernel forgets
# the first burst, and a new attachment derives its timeout from it.
ip netns exec "$NS_S" sysctl -qw net.ipv4.tcp_synack_retries=1
t_ss=$(wait_zero 10 ss_count "$NS_S" syn-recv)
diag "the first burst left ss after ${t_ss}s more"
check "detach" sg detach $SRV_IF
check "attach after tcp_synack_retries=1" sg attach $SRV_IF
expect_eq "half_open_timeout derived from tcp_synack_retries=1: 2^2-1" \
	"$(half_open_timeout)" 3
syn_burst $SPOOF2
sleep 0.3
ss_n=$(ss_count "$NS_S" syn-recv) sg_n=$(flow flows.half_open)
diag "half-open, tcp_synack_retries=1: ss syn-recv $ss_n, synguard half_open $sg_n"
expect_ge "ss holds the burst as syn-recv" "$ss_n" $((BURST * 98 / 100))
expect_near "half_open equals ss syn-recv (synack_retries=1)" "$sg_n" "$ss_n"
# Both polled side by side from here, every 0.25 s.
t0=$SECONDS t_ss=timeout t_sg=timeout
while [ $((SECONDS - t0)) -lt 8 ]; do
	[ "$t_ss" = timeout ] && [ "$(ss_count "$NS_S" syn-recv)" = 0 ] && t_ss=$((SECONDS - t0))
	[ "$t_sg" = timeout ] && [ "$(flow flows.half_open)" = 0 ] && t_sg=$((SECONDS - t0))
	[ "$t_ss" != timeout ] && [ "$t_sg" != timeout ] && break
	sleep 0.25
done
diag "drained to 0: ss after ${t_ss}s, synguard after ${t_sg}s (from 0.3 s after the burst)"
check "ss syn-recv drains within ~5 s" test "$t_ss" != timeout -a "$t_ss" -le 5
check "half_open drains within ~5 s" test "$t_sg" != timeout -a "$t_sg" -le 5

# --- TIME_WAIT: the client closes first ------------------------------------------
# curl closes its HTTP/1.1 keep-alive connection at exit: the client sends the
# first FIN and sits in TIME_WAIT; the server only sees the remote one.
got=$(lab_fetch $FETCHES)
expect_eq "client closes: $FETCHES fetches" "$got" $FETCHES
sleep 0.5
ss_n=$(ss_count "$NS_C" time-wait) sg_n=$(flow flows.time_wait_remote)
diag "client closes: ss time-wait (client ns) $ss_n, synguard time_wait_remote $sg_n," \
	"server ns time-wait $(ss_count "$NS_S" time-wait)"
expect_near "time_wait_remote equals the client's ss time-wait" "$sg_n" "$ss_n"
expect_eq "client closes: no local TIME_WAIT" "$(flow flows.time_wait)" "$(ss_count "$NS_S" time-wait)"

# --- TIME_WAIT: the server closes first --------------------------------------------
# HTTP/1.0 without keep-alive: nginx closes after the response.
got=0
for i in $(seq $FETCHES); do
	ip netns exec "$NS_C" curl -s -o /dev/null --max-time 3 --http1.0 "http://$SRV_IP/" &&
		got=$((got + 1))
done
expect_eq "server closes: $FETCHES fetches" "$got" $FETCHES
sleep 0.5
ss_n=$(ss_count "$NS_S" time-wait) sg_n=$(flow flows.time_wait)
cli_n=$(ss_count "$NS_C" time-wait) rem_n=$(flow flows.time_wait_remote)
diag "server closes: ss time-wait (server ns) $ss_n, synguard time_wait $sg_n;" \
	"client ns time-wait now $cli_n, synguard time_wait_remote $rem_n"
expect_near "time_wait equals the server's ss time-wait" "$sg_n" "$ss_n"
# curl may close as soon as it has the body, before nginx's FIN: then the
# client closed first.  Most are the server's.
expect_ge "server closes: the server holds most of them" "$ss_n" $((FETCHES / 2))
expect_near "...and time_wait_remote still equals the client's ss time-wait" "$rem_n" "$cli_n"

# The kernel keeps TIME_WAIT 60 s: only synguard's view drains here.
check "config set time_wait_timeout=2" sg config $SRV_IF set time_wait_timeout=2
t_sg=$(wait_zero 5 flow flows.time_wait_total)
diag "time_wait_total drained after ${t_sg}s"
check "time_wait and time_wait_remote drain to 0 within ~3 s" \
	test "${t_sg% *}" != timeout -a "${t_sg% *}" -le 3
# The reading that found them expired removed them: the table is empty now
# (every connection of this section is closed), not just the gauges.
expect_eq "expired flows are removed from the table, not only uncounted" \
	"$(flow flows.flow_entries)" 0
check "config set time_wait_timeout=60" sg config $SRV_IF set time_wait_timeout=60

# --- handshakes.completed against the server's accepted connections -----------------
# Every request its own connection; more runs until MIN_CONNS, bounded.
po0=$(passive_opens) hs0=$(flow handshakes.completed) log0=$(wc -l < "$LAB_TMP/access.log")
t0=$SECONDS runs=0 reqs=0
while [ $(( $(passive_opens) - po0 )) -lt $MIN_CONNS ] && [ $runs -lt 6 ]; do
	out=$(timeout 30 ip netns exec "$NS_C" wrk -t 2 -c 32 -d 2s -H "Connection: close" \
		"http://$SRV_IP/" 2>&1)
	n=$(echo "$out" | awk '/requests in/ {print $1}')
	reqs=$((reqs + ${n:-0}))
	runs=$((runs + 1))
done
sleep 1	# the last ACKs and FINs
po=$(( $(passive_opens) - po0 )) hs=$(( $(flow handshakes.completed) - hs0 ))
logged=$(( $(wc -l < "$LAB_TMP/access.log") - log0 ))
diag "wrk: $runs run(s), $reqs requests in $((SECONDS - t0)) s; TcpPassiveOpens +$po," \
	"access log +$logged, handshakes.completed +$hs"
expect_ge "at least $MIN_CONNS connections" "$po" $MIN_CONNS
expect_eq "handshakes.completed equals TcpPassiveOpens exactly" "$hs" "$po"
expect_eq "no unexpected handshake ACKs" "$(flow handshakes.unexpected_ack)" 0
expect_eq "no flow table full" "$(flow closes.table_full)" 0

# Replay of a two-way capture against these live numbers: 45-replay-local.sh.

diag "runtime $((SECONDS - START)) s"
echo "1..$TAP_N"
echo "$((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
tap_done
