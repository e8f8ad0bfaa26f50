#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# sg-flood, the lab's SYN generator (tests/tools/sg-flood.c): it refuses
# addresses outside the benchmarking ranges and the initial network
# namespace; through the lab's switch, exactly the SYNs it says it sent
# reach the server (synguard's counters and a capture agree), from as many
# distinct sources as asked, IPv4 and IPv6, one thread or two; SIGTERM stops
# it at once; and its full rate beside hping3 --flood's, measured the same
# way in the same run: reported, and only "more than hping3" asserted (by
# a margin of 4x or more every time it was seen).
set -u
. "$(dirname "$0")/../lib.sh"
lab_need hping3 tcpdump jq ethtool
[ -x "$SG_FLOOD" ] || { echo "1..0 # SKIP $SG_FLOOD is not built (make all)"; exit 0; }

FLOOD4=198.19.0.0/20 NSRC4=4096 N4=10000 RATE4=5000
FLOOD6=2001:2:0:ff::/64 NSRC6=1000 N6=5000 RATE6=5000
FLOOD6_NETS=2001:2:0:8000::/49
# Paced low: a test run costs up to tens of ms (sg-flood.c), so --rate
# sends what is owed in bursts at full speed, and a burst must fit the
# veth rings (256 frames) and the capture's buffer for the count to be exact.
PORT=9		# nothing listens: the server answers nothing it could route
RATE_SECS=3

# --- refusals, before anything is touched ---------------------------------------
# out FILE CMD...: CMD's exit status, its stderr in FILE.
out() { local f=$1; shift; "$@" >/dev/null 2>"$f"; echo $?; }
ARGS="--dev lo --dst-mac 02:00:00:00:00:01 --count 1 --duration 1"
T=$(mktemp -d /tmp/sggen.XXXXXX)
trap 'rm -rf "$T"' EXIT
expect_eq "refuses a destination outside the lab (exit 2)" \
	"$(out $T/e1 "$SG_FLOOD" $ARGS --dst 10.0.0.1 --src 198.19.0.0/16)" 2
check "...and says so" grep -q "refusing --dst 10.0.0.1" $T/e1
expect_eq "refuses a source prefix reaching outside 198.18.0.0/15 (exit 2)" \
	"$(out $T/e2 "$SG_FLOOD" $ARGS --dst 198.18.0.1 --src 198.16.0.0/14)" 2
check "...and says so" grep -q "refusing --src" $T/e2
expect_eq "refuses an IPv6 source prefix wider than 2001:2::/48 (exit 2)" \
	"$(out $T/e3 "$SG_FLOOD" $ARGS --dst 2001:2::1 --src 2001:2::/47)" 2
expect_eq "refuses IPv6 outside 2001:2::/48 (exit 2)" \
	"$(out $T/e4 "$SG_FLOOD" $ARGS --dst 2001:db8::1 --src 2001:2:0:ff::/64)" 2
expect_eq "refuses a flood without --duration (exit 2)" \
	"$(out $T/e5 "$SG_FLOOD" --dev lo --dst-mac 02:00:00:00:00:01 --count 1 --dst 198.18.0.1 --src 198.19.0.0/16)" 2
expect_eq "refuses a flood without --count (exit 2)" \
	"$(out $T/e6 "$SG_FLOOD" --dev lo --dst-mac 02:00:00:00:00:01 --duration 1 --dst 198.18.0.1 --src 198.19.0.0/16)" 2
expect_eq "refuses --smooth without --rate (exit 2)" \
	"$(out $T/e8 "$SG_FLOOD" $ARGS --dst 198.18.0.1 --src 198.19.0.0/16 --smooth)" 2
expect_eq "refuses a device in the initial network namespace (exit 2)" \
	"$(out $T/e7 "$SG_FLOOD" $ARGS --dst 198.18.0.1 --src 198.19.0.0/16)" 2
check "...and says why" grep -Eq "initial network namespace|initial one" $T/e7
rm -rf "$T"
trap - EXIT

# --- the lab --------------------------------------------------------------------
lab_up || { not_ok "lab_up"; tap_done; }
SRV_MAC=$(lab_mac "$NS_S" $SRV_IF)
# XDP_TX frames out of att0 land on the switch's swa: it needs a program.
check "trivial XDP_PASS on the switch port the generator sends into (lab_xdp_pass)" \
	lab_xdp_pass "$NS_W" swa
check "synguard attach $SRV_IF --dry-run" sg attach $SRV_IF --dry-run

# count_syns PCAP NET: "SYNS SOURCES" from NET in a capture.
count_syns() {
	tcpdump -nn -r "$1" 2>/dev/null | awk -v net="$2" '$2 == "IP" || $2 == "IP6" {
			src = $3; sub(/\.[0-9]+$/, "", src)
			if (index(src, net) == 1) { n++; if (!(src in seen)) { seen[src] = 1; d++ } } }
		END { print n + 0, d + 0 }'
}
capture() {	# capture FILE FILTER: tcpdump on srv0 in the background, ready
	ip netns exec "$NS_S" tcpdump -i $SRV_IF -nn -s 96 -B 32768 --immediate-mode -U -w "$1" "$2" \
		>"$1.out" 2>&1 &
	CAP_PID=$!
	LAB_PIDS="${LAB_PIDS:-} $CAP_PID"
	local i
	for i in $(seq 50); do grep -q listening "$1.out" && break; sleep 0.1; done
}
# capture_end FILE: once FILE stopped growing (tcpdump -U writes each
# packet as it reads it), tcpdump is stopped.
capture_end() {
	local size=-1 i
	for i in $(seq 100); do
		sleep 0.5
		[ "$(stat -c %s "$1")" = "$size" ] && break
		size=$(stat -c %s "$1")
	done
	kill -INT $CAP_PID; wait $CAP_PID
	LAB_PIDS=${LAB_PIDS/ $CAP_PID/}
}

# Frames the sending veth could not put in its peer's ring (ethtool -S).
xmit_errors() {
	ip netns exec "$NS_A" ethtool -S att0 | awk -F': *' '/xdp_xmit_errors/ { n += $2 } END { print n + 0 }'
}

# exact NAME FAMILY_NET FLOOD NSRC N RATE DST [sg-flood options]: N SYNs
# paced at RATE from the first NSRC addresses of FLOOD reach the server,
# every one, from NSRC distinct sources.
exact() {
	local name=$1 net=$2 flood=$3 nsrc=$4 n=$5 rate=$6 dst=$7
	shift 7
	local pcap=$LAB_TMP/$name.pcap s0 s1 sent got srcs e0 e1 lost
	capture "$pcap" "tcp[tcpflags] & tcp-syn != 0 or (ip6 and ip6[53] & 2 != 0)"
	s0=$(sg stats $SRV_IF --json) e0=$(xmit_errors)
	lab_flood "$NS_A" att0 "$SRV_MAC" "$dst" "$flood" "$n" 30 --rate "$rate" \
		--sources "$nsrc" --dport $PORT --json "$@" >"$LAB_TMP/$name.json" 2>&1
	local rc=$?
	capture_end "$pcap"
	s1=$(sg stats $SRV_IF --json) e1=$(xmit_errors)
	lost=$((e1 - e0))
	sent=$(jq -r .sent "$LAB_TMP/$name.json" 2>/dev/null)
	if [ "$rc" = 0 ] && [ "$sent" = "$n" ]; then ok "$name: sg-flood sent $n SYNs ($*)"
	else not_ok "$name: sg-flood sent $n SYNs (exit $rc)"; sed 's/^/#   /' "$LAB_TMP/$name.json"; fi
	diag "$name: att0 refused $lost of them (tx_queue_*_xdp_xmit_errors: the switch port's ring was full)"
	expect_eq "$name: synguard counted the $n less those refused (counters.syn)" \
		$(( $(jq -r .counters.syn <<<"$s1") - $(jq -r .counters.syn <<<"$s0") )) "$((n - lost))"
	read -r got srcs < <(count_syns "$pcap" "$net")
	diag "$name: capture on $SRV_IF: $got SYNs from $srcs sources; $(grep -h 'dropped by kernel' "$pcap.out")"
	expect_eq "$name: the server's capture has as many" "$got" "$((n - lost))"
	expect_eq "$name: from $nsrc distinct sources of $flood" "$srcs" "$nsrc"
}

exact ipv4 198.19. $FLOOD4 $NSRC4 $N4 $RATE4 $SRV_IP
if [ "$(nproc)" -ge 2 ]; then
	exact ipv4-2threads 198.19. $FLOOD4 $NSRC4 6000 2000 $SRV_IP --threads 2
else
	skip "ipv4-2threads" "one CPU"
fi
exact ipv6 2001:2:0:ff: $FLOOD6 $NSRC6 $N6 $RATE6 $SRV_IP6 --no-options
# --smooth: paced frame by frame in the program; as exact, and on time.
exact ipv4-smooth 198.19. $FLOOD4 $NSRC4 5000 5000 $SRV_IP --smooth
check "ipv4-smooth: 5000 SYNs at 5000/s took 0.9 to 1.5 s ($(jq -r .seconds "$LAB_TMP/ipv4-smooth.json") s)" \
	jq -e '.seconds >= 0.9 and .seconds <= 1.5' "$LAB_TMP/ipv4-smooth.json"
# A prefix shorter than /64 spreads the sources over its /64s (source i in
# the i-th): a flood from many networks, as per-/64 limits see them.
exact ipv6-nets 2001:2:0: $FLOOD6_NETS $NSRC6 $N6 $RATE6 $SRV_IP6 --no-options
expect_eq "ipv6-nets: the $NSRC6 sources in $NSRC6 distinct /64s of $FLOOD6_NETS" \
	"$(tcpdump -nn -r "$LAB_TMP/ipv6-nets.pcap" 2>/dev/null |
		awk '$2 == "IP6" { split($3, g, ":"); n[g[1] ":" g[2] ":" g[3] ":" g[4]] = 1 }
		     END { for (k in n) if (k ~ /^2001:2:0:[89a-f]/) d++; print d + 0 }')" $NSRC6

# --- SIGTERM stops it at once, with its report ------------------------------------
T0=$(date +%s%N)
lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP 198.19.0.0/16 1000000000000 20 \
	--rate 100000 --dport $PORT --json >"$LAB_TMP/term.json" 2>&1 &
FPID=$!
LAB_PIDS="${LAB_PIDS:-} $FPID"
sleep 1
# timeout is FPID; the generator is its child (ip netns exec execs it)
kill -TERM "$(pgrep -P $FPID | head -1)" 2>/dev/null
wait $FPID
RC=$?
LAB_PIDS=${LAB_PIDS/ $FPID/}
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
expect_eq "SIGTERM: sg-flood exits 0" "$RC" 0
if [ "$MS" -lt 3000 ]; then ok "SIGTERM: ...within 2 s ($MS ms from start, 1 s of it sending)"
else not_ok "SIGTERM: ...within 2 s ($MS ms from start)"; fi
expect_eq "SIGTERM: ...and reports it was interrupted" "$(jq -r .interrupted "$LAB_TMP/term.json")" true

# --- rate: sg-flood against hping3 --flood, the same way -----------------------------
# Both send from the attacker through the switch; the server drops
# everything with the trivial XDP_DROP program (cheapest receiver), and
# its veth's counters say how many arrived in RATE_SECS seconds.
sg detach $SRV_IF >/dev/null
check "trivial XDP_DROP on $SRV_IF" lab_xdp "$NS_S" $SRV_IF drop
rx() { lab_veth_rx "$NS_S" $SRV_IF; }
now() { date +%s.%N; }
R0=$(rx) T0=$(now)
timeout -s INT -k 3 $RATE_SECS ip netns exec "$NS_A" hping3 --flood -S -p $PORT -a 198.19.0.1 \
	$SRV_IP >"$LAB_TMP/hping.out" 2>&1
R1=$(rx) T1=$(now)
HP_SENT=$(sed -n 's/^\([0-9]*\) packets trans.*/\1/p' "$LAB_TMP/hping.out")
HP_PPS=$(awk -v r="$((R1 - R0))" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", r / (b - a) }')
HP_SENT_PPS=$(awk -v r="${HP_SENT:-0}" -v a="$T0" -v b="$T1" 'BEGIN { printf "%.0f", r / (b - a) }')
THREADS=$(nproc); [ "$THREADS" -gt 2 ] && THREADS=2
R0=$(rx)
lab_flood "$NS_A" att0 "$SRV_MAC" $SRV_IP 198.19.0.0/16 100000000 $RATE_SECS --dport $PORT \
	--threads $THREADS --json >"$LAB_TMP/full.json" 2>&1
FRC=$?
R1=$(rx)
GEN_SECS=$(jq -r .seconds "$LAB_TMP/full.json" 2>/dev/null)
GEN_SENT_PPS=$(jq -r .pps "$LAB_TMP/full.json" 2>/dev/null)
GEN_PPS=$(awk -v r="$((R1 - R0))" -v s="${GEN_SECS:-1}" 'BEGIN { printf "%.0f", r / s }')
expect_eq "full rate: sg-flood ran its $RATE_SECS s (exit 0)" "$FRC" 0
diag "full rate, $RATE_SECS s each, into the lab's switch, server dropping with trivial XDP_DROP:"
diag "  hping3 --flood:           sent ${HP_SENT_PPS} pps (hping3's count), ${HP_PPS} pps arrived at $SRV_IF"
diag "  sg-flood --threads $THREADS:    sent ${GEN_SENT_PPS} pps (its count), ${GEN_PPS} pps arrived at $SRV_IF"
diag "  ratio arrived: $(awk -v g="$GEN_PPS" -v h="$HP_PPS" 'BEGIN { if (h > 0) printf "%.1fx", g / h; else print "n/a" }')"
# Seen 4x to 7.5x on a loaded 2-CPU VM: the one rate comparison asserted.
if [ "$GEN_PPS" -gt "${HP_PPS:-0}" ]; then ok "full rate: more arrived from sg-flood than from hping3 --flood"
else not_ok "full rate: more arrived from sg-flood ($GEN_PPS pps) than from hping3 --flood ($HP_PPS pps)"; fi
lab_xdp_off "$NS_S" $SRV_IF

tap_done
