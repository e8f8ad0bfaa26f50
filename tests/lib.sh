# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The test lab and TAP helpers, sourced by tests/integration/*.sh and the demo.
#
#   client   198.18.0.2  2001:2::2 ─┐
#   attacker 198.18.0.3  2001:2::3 ─┼─ bridge (switch netns) ── server 198.18.0.1  2001:2::1
#                                   │                            (synguard on srv0, nginx)
# Every namespace is made here and removed by lab_down, which lab_up traps
# on EXIT, INT and TERM.  No namespace has a default route: lab traffic
# cannot leave the lab.  Addresses are from 198.18.0.0/15 and 2001:2::/48.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SYNGUARD=${SYNGUARD:-$TOP/build/synguard}
case $SYNGUARD in /*) ;; *) SYNGUARD=$TOP/$SYNGUARD ;; esac
SENDFRAMES=${SENDFRAMES:-$TOP/build/sendframes}
SG_FLOOD=${SG_FLOOD:-$TOP/build/sg-flood}
TRIVIAL_OBJ=${TRIVIAL_OBJ:-$TOP/build/trivial.bpf.o}

SRV_IP=198.18.0.1 CLI_IP=198.18.0.2 ATT_IP=198.18.0.3
SRV_IP6=2001:2::1 CLI_IP6=2001:2::2 ATT_IP6=2001:2::3
SRV_IF=srv0

# --- TAP --------------------------------------------------------------------
TAP_N=0
TAP_FAILED=0
ok()     { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
skip()   { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
diag()   { printf '# %s\n' "$@"; }

# check DESC CMD...: ok when CMD succeeds.
check() {
	local desc=$1; shift
	if "$@" >/tmp/sg-check.$$ 2>&1; then ok "$desc"
	else not_ok "$desc"; sed 's/^/#   /' /tmp/sg-check.$$ | head -20; fi
	rm -f /tmp/sg-check.$$
}
# known DESC WHY CMD...: a check of a known open defect (WHY): ok when CMD
# succeeds, else TAP's "not ok ... # TODO WHY", reported and counted apart,
# not a failure.  For a target the code does not meet yet, never to hide
# a regression: pair it with a check that does fail on one.
known() {
	local desc=$1 why=$2; shift 2
	if "$@" >/dev/null 2>&1; then ok "$desc"
	else TAP_N=$((TAP_N + 1)); echo "not ok $TAP_N - $desc # TODO $why"; fi
}
# expect_eq DESC GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; diag "  got '$2', want '$3'"; fi
}
# expect_ge DESC GOT MIN
expect_ge() {
	if [ "$2" -ge "$3" ] 2>/dev/null; then ok "$1"; else not_ok "$1"; diag "  got '$2', want >= '$3'"; fi
}
tap_done() { exit $((TAP_FAILED > 0)); }
# lab_need TOOL...: the whole script skipped (TAP "1..0 # SKIP why") unless
# run as root with every TOOL installed.
lab_need() {
	local tool
	[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
	for tool; do
		command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
	done
}
# refused_1line DESC RC PATTERN CMD...: CMD exits RC with exactly one line
# on stderr matching PATTERN (extended regex, any case) and nothing on
# stdout (both kept in $LAB_TMP/out and err); with REFUSED_STATE naming a
# function, what it prints is also the same before and after.
refused_1line() {
	local desc=$1 want=$2 pat=$3 rc before= after= why=""
	shift 3
	[ -z "${REFUSED_STATE:-}" ] || before=$($REFUSED_STATE)
	"$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
	rc=$?
	[ -z "${REFUSED_STATE:-}" ] || after=$($REFUSED_STATE)
	[ "$rc" = "$want" ] || why+="exit $rc, want $want; "
	[ "$(wc -l <"$LAB_TMP/err")" = 1 ] || why+="$(wc -l <"$LAB_TMP/err") lines on stderr, want 1; "
	grep -Eiq -- "$pat" "$LAB_TMP/err" || why+="stderr does not match /$pat/; "
	[ -s "$LAB_TMP/out" ] && why+="stdout not empty; "
	[ "$before" = "$after" ] || why+="state changed; "
	if [ -z "$why" ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc"
	diag "  $why" "  command: $*"
	sed 's/^/#   stderr: /' "$LAB_TMP/err" | head -5
	sed 's/^/#   stdout: /' "$LAB_TMP/out" | head -3
	[ "$before" = "$after" ] || diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
	return 1
}
# until_ok TRIES CMD...: CMD every 0.1 s until it succeeds, at most TRIES times.
until_ok() {
	local n=$1 i
	shift
	for i in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
# in_srv CMD...: CMD in the lab's server namespace.
in_srv() { ip netns exec "$NS_S" "$@"; }

# --- the lab ----------------------------------------------------------------
lab_ns() { echo "sg$LAB_ID$1"; }

lab_up() {
	LAB_ID=${LAB_ID:-$(printf '%x' $(( ($$ ^ RANDOM) & 0xffff )))}
	NS_C=$(lab_ns c) NS_A=$(lab_ns a) NS_S=$(lab_ns s) NS_W=$(lab_ns w)
	LAB_TMP=$(mktemp -d /tmp/sglab.XXXXXX)
	trap lab_down EXIT
	trap 'exit 130' INT TERM
	# bpftool pins the tests' own programs under /sys/fs/bpf, where
	# synguard would mount bpffs on its first attach: a machine that boots
	# without it (no systemd mount) gets it before any test pins.
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || return 1
	local ns
	for ns in $NS_C $NS_A $NS_S $NS_W; do lab_ns_add "$ns" || return 1; done
	ip -n "$NS_W" link add br0 type bridge || return 1
	# br_netfilter, when loaded, validates the IP headers of bridged frames
	# and drops the malformed ones the tests send: this switch forwards
	# frames as they are.  (Per-netns sysctls; absent without the module.)
	ip netns exec "$NS_W" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 \
		net.bridge.bridge-nf-call-arptables=0 2>/dev/null
	ip -n "$NS_W" link set br0 up
	# role:namespace:interface:v4:v6
	local spec role ns ifn v4 v6
	for spec in "c:$NS_C:cli0:$CLI_IP:$CLI_IP6" "a:$NS_A:att0:$ATT_IP:$ATT_IP6" \
		    "s:$NS_S:$SRV_IF:$SRV_IP:$SRV_IP6"; do
		IFS=: read -r role ns ifn v4 v6 <<<"${spec//::/@@}"
		v6=${v6//@@/::}
		lab_port "$ns" "$ifn" "sw$role" "$v4" "$v6" || return 1
	done
	# The bridge must learn every MAC before the first test frame.
	ip netns exec "$NS_C" ip neigh replace $SRV_IP lladdr "$(lab_mac $NS_S $SRV_IF)" dev cli0
	ip netns exec "$NS_A" ip neigh replace $SRV_IP lladdr "$(lab_mac $NS_S $SRV_IF)" dev att0
	# IPv6 too, permanent: no neighbour probes (NUD) or router solicitations
	# reach the server at odd moments, which a test comparing its live
	# counters with a capture would see as one frame more on one side.
	ip netns exec "$NS_C" ip -6 neigh replace $SRV_IP6 lladdr "$(lab_mac $NS_S $SRV_IF)" dev cli0
	ip netns exec "$NS_A" ip -6 neigh replace $SRV_IP6 lladdr "$(lab_mac $NS_S $SRV_IF)" dev att0
}

# lab_ns_add NS: a lab namespace, loopback up, no router solicitations.
lab_ns_add() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
		net.ipv6.conf.all.router_solicitations=0
}

# lab_port NS IFACE SWPORT V4 V6: IFACE in NS, up with V4/24 and V6/64,
# a veth whose peer SWPORT is a port of the switch's bridge.
lab_port() {
	ip link add "$2" netns "$1" type veth peer name "$3" netns "$NS_W" || return 1
	ip -n "$NS_W" link set "$3" master br0 up
	# With tx VLAN offload the bridge hands the outer tag to the
	# server's veth as metadata, and XDP never sees it (a known
	# gap, see docs/design.md); off, the tag stays in the frame.
	ip netns exec "$NS_W" ethtool -K "$3" txvlan off >/dev/null 2>&1
	ip -n "$1" addr add "$4/24" dev "$2"
	ip -n "$1" addr add "$5/64" dev "$2" nodad
	ip -n "$1" link set "$2" up
}

# lab_stop_pids: TERM what the test started in the background (LAB_PIDS), wait
# for each to go, at most 15 s (Prometheus writes its database as it stops),
# then KILL what is left.  lab_down calls it on every exit path.
lab_stop_pids() {
	local pid i
	for pid in ${LAB_PIDS:-}; do
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 75); do
			grep -Eq '^State:[[:space:]]+[^Z]' "/proc/$pid/status" 2>/dev/null || break
			sleep 0.2
		done
		[ "$i" = 75 ] && { pkill -KILL -P "$pid"; kill -KILL "$pid"; } 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	LAB_PIDS=
}

lab_mac() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }

lab_down() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "${LAB_TMP:-}" ] || return $rc
	[ -f "$LAB_TMP/nginx.pid" ] && kill "$(cat "$LAB_TMP/nginx.pid")" 2>/dev/null
	lab_stop_pids
	"$SYNGUARD" --netns "$NS_S" detach $SRV_IF >/dev/null 2>&1
	# detach cannot enter a server netns a test deleted: remove its pins here.
	[ -d "/sys/fs/bpf/synguard/netns/$NS_S" ] && rm -rf "/sys/fs/bpf/synguard/netns/$NS_S"
	local ns
	for ns in $NS_C $NS_A $NS_S $NS_W; do ip netns del "$ns" 2>/dev/null; done
	[ -n "${CHAIN_PIN:-}" ] && rm -rf "$CHAIN_PIN"
	rm -rf "$LAB_TMP"
	return $rc
}

# lab_pair_up: a smaller lab for throughput, attacker and server joined by
# one veth pair (att0 -- srv0, the usual addresses), no switch in between.
# The same names as lab_up's, so lab_down (trapped here too) removes it.
lab_pair_up() {
	LAB_ID=${LAB_ID:-$(printf '%x' $(( ($$ ^ RANDOM) & 0xffff )))}
	NS_A=$(lab_ns a) NS_S=$(lab_ns s) NS_C= NS_W=
	LAB_TMP=$(mktemp -d /tmp/sglab.XXXXXX)
	trap lab_down EXIT
	trap 'exit 130' INT TERM
	local ns
	for ns in $NS_A $NS_S; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
	done
	ip link add att0 netns "$NS_A" type veth peer name $SRV_IF netns "$NS_S" || return 1
	ip -n "$NS_A" addr add $ATT_IP/24 dev att0
	ip -n "$NS_A" addr add $ATT_IP6/64 dev att0 nodad
	ip -n "$NS_S" addr add $SRV_IP/24 dev $SRV_IF
	ip -n "$NS_S" addr add $SRV_IP6/64 dev $SRV_IF nodad
	ip -n "$NS_A" link set att0 up
	ip -n "$NS_S" link set $SRV_IF up
}

# --- XDP_TX floods (sg-flood) -------------------------------------------------
# Frames sent with XDP_TX into a veth are dropped without a word unless its
# peer runs an XDP program or has GRO on.  bpf/trivial.bpf.c
# has two programs in one SEC("xdp"): name the one wanted.
# lab_xdp NS IFACE pass|drop: the trivial XDP_PASS/XDP_DROP program on IFACE.
lab_xdp() { ip -n "$1" link set dev "$2" xdpdrv object "$TRIVIAL_OBJ" program "trivial_$3"; }
lab_xdp_pass() { lab_xdp "$1" "$2" pass; }
# lab_xdp_off NS IFACE: whatever XDP program IFACE has, removed.
lab_xdp_off() { ip -n "$1" link set dev "$2" xdp off; }
# lab_veth_rx NS IFACE: the frames a veth took in, XDP frames included
# (ethtool -S: rx_queue_*_xdp_packets counts frames sent into it by XDP_TX,
# /sys's rx_packets the rest; with an XDP program, xdp_packets counts all).
lab_veth_rx() {
	ip netns exec "$1" sh -c "ethtool -S $2; echo rx_packets: \$(cat /sys/class/net/$2/statistics/rx_packets)" |
		awk -F': *' '/rx_queue_[0-9]+_xdp_packets/ { x += $2 } /^rx_packets/ { r = $2 }
			END { print (x > r ? x : r) + 0 }'
}

# lab_sink NS PREFIX: the namespace's packets to PREFIX leave through a veth
# whose peer is down, and vanish there.  A server under a spoofed flood then
# sends its SYN-ACKs as a real one would (route, neighbour, transmit), and
# no namespace spends time receiving them.
lab_sink() {
	ip -n "$1" link add sink0 type veth peer name sink1 || return 1
	ip -n "$1" link set sink0 up
	ip -n "$1" neigh replace 198.18.255.254 lladdr 02:00:00:00:00:fe dev sink0 nud permanent
	ip -n "$1" route replace "$2" via 198.18.255.254 dev sink0 onlink
}

# lab_flood NS IFACE DST_MAC DST SRC_PREFIX COUNT SECONDS [sg-flood options]:
# sg-flood from NS, bounded by count, its own --duration and timeout.
lab_flood() {
	local ns=$1 dev=$2 mac=$3 dst=$4 src=$5 count=$6 secs=$7
	shift 7
	timeout -s INT -k 5 $((${secs%.*} + 10)) ip netns exec "$ns" "$SG_FLOOD" --dev "$dev" \
		--dst-mac "$mac" --dst "$dst" --src "$src" --count "$count" --duration "$secs" "$@"
}

# nginx in the server namespace, with its own config, serving a small page.
lab_nginx() {
	mkdir -p "$LAB_TMP/www" "$LAB_TMP/nginx"
	echo "synguard lab" > "$LAB_TMP/www/index.html"
	cat > "$LAB_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $LAB_TMP/nginx.pid;
error_log $LAB_TMP/nginx-error.log;
events { worker_connections ${NGINX_CONNECTIONS:-4096}; }
http {
	access_log $LAB_TMP/access.log;
	client_body_temp_path $LAB_TMP/nginx;
	proxy_temp_path $LAB_TMP/nginx;
	fastcgi_temp_path $LAB_TMP/nginx;
	uwsgi_temp_path $LAB_TMP/nginx;
	scgi_temp_path $LAB_TMP/nginx;
	server {
		listen $SRV_IP:80 backlog=${NGINX_BACKLOG:-511};
		listen [$SRV_IP6]:80 backlog=${NGINX_BACKLOG:-511};
		root $LAB_TMP/www;
		# Closed at once, no answer: the server closes first, so it (not
		# the client) holds TIME_WAIT for the 4-tuple.
		location = /close { return 444; }
	}
}
NGINX
	ip netns exec "$NS_S" nginx -e "$LAB_TMP/nginx-error.log" -c "$LAB_TMP/nginx.conf" || return 1
	local i
	for i in $(seq 50); do
		ip netns exec "$NS_S" ss -Htln "sport = :80" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Runs synguard with the arguments, against the server namespace.
sg() { "$SYNGUARD" --netns "$NS_S" "$@"; }
# A counter from `synguard stats --json`: sg_counter drops.syn_fin
sg_counter() { sg stats $SRV_IF --json | jq -r ".$1"; }

# lab_thresholds: a line for the log: attack mode and the thresholds in force.
lab_thresholds() {
	sg stats $SRV_IF --json | jq -r '.attack | "attack \(.active) why=\(.why) syn_threshold=\(.thresholds.syn_rate) (\(.thresholds.syn_rate_kind), baseline \(.thresholds.syn_baseline)/s, last window \(.syn_rate) SYNs, \(.unanswered) unanswered) half_open=\(.thresholds.half_open) (\(.thresholds.half_open_kind), estimate \(.half_open_estimate))"'
}

# curl from the client: N fetches of the page, prints how many succeeded.
lab_fetch() {
	local n=$1 url=${2:-http://$SRV_IP/} i good=0
	for i in $(seq "$n"); do
		ip netns exec "$NS_C" curl -s -o /dev/null --max-time 3 "$url" && good=$((good + 1))
	done
	echo $good
}

# lab_capture FILE N PAUSE: a capture on srv0 into FILE while the client
# fetches the page N times, and PAUSE seconds after for the last frames.
lab_capture() {
	local pid
	ip netns exec "$NS_S" tcpdump -i $SRV_IF -U --immediate-mode -w "$1" 2>"$LAB_TMP/tcpdump.err" &
	pid=$!
	LAB_PIDS="${LAB_PIDS:-} $pid"
	for _ in $(seq 50); do grep -q listening "$LAB_TMP/tcpdump.err" && break; sleep 0.1; done
	lab_fetch "$2" >/dev/null
	sleep "$3"
	kill -INT $pid
	wait $pid
	LAB_PIDS=${LAB_PIDS/ $pid/}
}

# hping3 from the attacker, always bounded by count and time.
lab_hping() { timeout 20 ip netns exec "$NS_A" hping3 -q -n -i u2000 "$@" >/dev/null 2>&1; }

# lab_synflood NS FIRST NSRC PER PPS DST [DPORT]: a many-source SYN flood
# from namespace NS.  NSRC consecutive IPv4 sources from FIRST each send PER
# SYNs back to back (a new source port and sequence number each), about PPS
# SYNs a second in all, to DST:DPORT (80).  hping3 cannot vary its source
# without --rand-source, and a hping3 process per source costs ~20 ms of
# kernel time (its capture ring), so this is a raw IP socket in perl-base's
# Perl.  Sources and destination must lie in 198.18.0.0/15: the generator
# refuses anything else.  Prints "SENT NSRC" when done; callers bound it
# with timeout as well.
lab_synflood() {
	ip netns exec "$1" perl -e '
use strict; use warnings; use Socket;
my ($first, $nsrc, $per, $pps, $dst, $dport) = @ARGV;
sub addr { my $a = inet_aton($_[0]) or die "synflood: bad address $_[0]\n"; unpack "N", $a }
my ($lo, $hi) = (addr("198.18.0.0"), addr("198.19.255.255"));
my ($s0, $d) = (addr($first), addr($dst));
die "synflood: sources and destination must be in 198.18.0.0/15\n"
	unless $nsrc >= 1 && $s0 >= $lo && $s0 + $nsrc - 1 <= $hi && $d >= $lo && $d <= $hi;
sub csum {
	my $s = 0;
	$s += $_ for unpack "n*", $_[0];
	$s = ($s & 0xffff) + ($s >> 16) while $s >> 16;
	return ~$s & 0xffff;
}
# IPPROTO_RAW: this socket writes the IP header; the kernel fills in its
# checksum, length and id, and routes it (no route leaves the lab).
socket(my $sk, PF_INET, SOCK_RAW, 255) or die "synflood: raw socket: $!\n";
my $to = sockaddr_in(0, pack "N", $d);
my ($sent, $sport, $pause) = (0, 1024, $per / $pps);
for my $i (0 .. $nsrc - 1) {
	my $src = pack "N", $s0 + $i;
	for (1 .. $per) {
		$sport = $sport >= 65535 ? 1024 : $sport + 1;
		my $tcp = pack "nnNNCCnnn", $sport, $dport, int(rand(4294967296)), 0,
			5 << 4, 0x02, 64240, 0, 0;
		substr($tcp, 16, 2) = pack "n",
			csum($src . pack("NCCn", $d, 0, 6, 20) . $tcp);
		my $ip = pack("CCnnnCCn", 0x45, 0, 40, 0, 0x4000, 64, 6, 0) . $src . pack("N", $d);
		send($sk, $ip . $tcp, 0, $to) or die "synflood: send: $!\n";
		$sent++;
	}
	select(undef, undef, undef, $pause);
}
print "$sent $nsrc\n";
' "$2" "$3" "$4" "$5" "$6" "${7:-80}"
}

# --- client connect times under a flood ---------------------------------------
# le A B: A <= B, as decimals.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# lab_clients FILE N RATE: N new connections from the client, one curl
# process, RATE a second, "Connection: close" so none is reused; a line per
# connection: HTTP code, connections made, connect time (s).
lab_clients() {
	ip netns exec "$NS_C" curl -s -H 'Connection: close' --rate "$3/s" \
		--max-time 5 -o /dev/null \
		-w '%{http_code} %{num_connects} %{time_connect}\n' \
		"http://$SRV_IP/?n=[1-$2]" >"$1" 2>&1
}
# good_conns FILE: connections in a lab_clients FILE that got their 200.
good_conns() { grep -c '^200 1 ' "$1"; }
# quantile FILE Q: the Q quantile (nearest rank) of its connect times, in ms.
quantile() {
	awk '{print $3}' "$1" | sort -g |
		awk -v q="$2" '{v[NR] = $1} END {
			r = int(NR * q); if (r < NR * q) r++; if (r < 1) r = 1
			printf "%.3f\n", v[r] * 1000 }'
}

# expect_connect_times BASE FLOOD WHO: the same client's connect times with
# no flood (BASE) and during one (FLOOD), both lab_clients files.
#  - No SYN of WHO lost: a dropped SYN, or one that found a queue full,
#    costs a retransmission, a connect time of 1 s or more.
#  - p99 within 2x of the baseline.  Connect times are ~0.1 ms, and on a
#    small shared VM the generator's own CPU use puts a few ms of scheduling
#    jitter on the tail: measured 2-5 ms at p99 with synguard, without it,
#    and with the same flood sent to a bridge port that is not the server's.
#    So the rule has a floor, p99_flood <= max(2 * p99_base, p99_base + 10 ms),
#    still two orders of magnitude under the 1 s a lost SYN costs.
#  - The median has no such noise: within 2x (floor 0.1 ms).
expect_connect_times() {
	local b50 b99 f50 f99 fmax lim50 lim99
	b50=$(quantile "$1" 0.5) b99=$(quantile "$1" 0.99)
	f50=$(quantile "$2" 0.5) f99=$(quantile "$2" 0.99) fmax=$(quantile "$2" 1)
	diag "connect time without flood: p50 $b50 ms, p99 $b99 ms, max $(quantile "$1" 1) ms"
	diag "connect time during flood:  p50 $f50 ms, p99 $f99 ms, max $fmax ms"
	if le "$fmax" 999; then ok "no $3 SYN lost during the flood (max connect $fmax ms < 1 s)"
	else not_ok "no $3 SYN lost during the flood (max connect $fmax ms >= 1 s)"; fi
	lim99=$(awk -v b="$b99" 'BEGIN { x = 2 * b; y = b + 10; printf "%.3f", (x > y ? x : y) }')
	lim50=$(awk -v b="$b50" 'BEGIN { x = 2 * b; y = b + 0.1; printf "%.3f", (x > y ? x : y) }')
	if le "$f99" "$lim99"; then ok "p99 connect during the flood $f99 ms <= $lim99 ms"
	else not_ok "p99 connect during the flood $f99 ms > $lim99 ms"; fi
	if le "$f50" "$lim50"; then ok "median connect during the flood $f50 ms <= $lim50 ms"
	else not_ok "median connect during the flood $f50 ms > $lim50 ms"; fi
}

# --- counters around a burst, the malformed classes ------------------------------
# lab_snap FILE: `synguard stats --json` of the lab's attachment into FILE.
lab_snap() { sg stats $SRV_IF --json >"$1" 2>"$1.err"; }
# jq: a stats or replay JSON as one flat object, "drops.syn_fin": 7, ...
SG_FLAT='[(.verdicts | to_entries[] | {key: ("verdicts." + .key), value}),
	 (.drops | to_entries[] | {key: ("drops." + .key), value}),
	 (.counters | to_entries[] | {key: ("counters." + .key), value})] | from_entries'
# lab_field FILE KEY: one counter, KEY as in SG_FLAT ("verdicts.pass").
lab_field() { jq -r "$SG_FLAT | .[\"$2\"]" "$1"; }
# lab_delta A B REGEX: "key=+n" for every counter matching REGEX that changed.
lab_delta() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" --arg re "$3" \
		"(\$a[0] | $SG_FLAT) as \$x | \$b[0] | $SG_FLAT | to_entries |
		 map(select((.key | test(\$re)) and .value != \$x[.key]) |
		     \"\(.key)=\(.value - \$x[.key])\") | join(\" \")"
}
# lab_settle A N: waits until the frames counter has risen by at least N
# over snapshot A and then holds still for 0.2 s: the frames are through
# the bridge and XDP.
lab_settle() {
	local a=$1 n=$2 want cur last=-1 i
	want=$(( $(lab_field "$a" counters.frames) + n ))
	for i in $(seq 50); do
		cur=$(sg_counter counters.frames)
		[ "$cur" -ge "$want" ] && [ "$cur" = "$last" ] && return 0
		last=$cur
		sleep 0.1
	done
	return 1
}
# lab_sendframes CLASS N [OPTIONS]: N frames of CLASS from the attacker.
lab_sendframes() {
	ip netns exec "$NS_A" "$SENDFRAMES" att0 "$1" "$2" --dmac "$(lab_mac "$NS_S" $SRV_IF)" \
		"${@:3}" >/dev/null
}

# lab_drop_case DESC REASON N CMD...: CMD sends N frames that XDP must drop
# for REASON: drops.REASON and verdicts.drop rise by N, nothing else drops;
# then the client still gets its pages.
lab_drop_case() {
	local desc=$1 reason=$2 n=$3
	shift 3
	lab_snap "$LAB_TMP/a"
	"$@"
	lab_settle "$LAB_TMP/a" "$n" || diag "$desc: counters did not settle"
	lab_snap "$LAB_TMP/b"
	expect_eq "$desc x$n: drops.$reason +$n, no other reason" \
		"$(lab_delta "$LAB_TMP/a" "$LAB_TMP/b" '^(drops\.|verdicts\.(drop|would_drop)$)')" \
		"verdicts.drop=$n drops.$reason=$n"
	expect_eq "$desc: the client still connects" "$(lab_fetch 2)" 2
}

# lab_malformed: each malformed class, sent N times (hping3, or sendframes
# for what hping3 cannot make), raises its own drop reason by exactly N
# and no other, whatever way synguard runs on srv0.
lab_malformed() {
	local H=(lab_hping $SRV_IP) V6=(--src $ATT_IP6 --dst $SRV_IP6)
	lab_drop_case "syn_fin (hping3 -S -F)"		syn_fin 7	"${H[@]}" -p 80 -S -F -c 7
	lab_drop_case "syn_rst (hping3 -S -R)"		syn_rst 5	"${H[@]}" -p 80 -S -R -c 5
	lab_drop_case "fin_rst (hping3 -F -R)"		fin_rst 6	"${H[@]}" -p 80 -F -R -c 6
	lab_drop_case "no_flags (hping3, no flags)"	no_flags 4	"${H[@]}" -p 80 -c 4
	lab_drop_case "no_ack (hping3 -F)"		no_ack 3	"${H[@]}" -p 80 -F -c 3
	lab_drop_case "no_ack (hping3 XMAS -F -P -U)"	no_ack 8	"${H[@]}" -p 80 -F -P -U -c 8
	lab_drop_case "tcp_doff_short (hping3 -O 4 -S)"	tcp_doff_short 9 "${H[@]}" -p 80 -O 4 -S -c 9
	lab_drop_case "tcp_doff_beyond (hping3 -O 15 -S)" tcp_doff_beyond 10 \
		"${H[@]}" -p 80 -O 15 -S -c 10
	lab_drop_case "port_zero (hping3 -s 0 -k -S)"	port_zero 2	"${H[@]}" -p 80 -s 0 -k -S -c 2
	lab_drop_case "port_zero (hping3 -p 0 -S)"	port_zero 11	"${H[@]}" -p 0 -S -c 11
	lab_drop_case "land (hping3 -a $SRV_IP -s 80 -p 80 -S)" land 12 \
		lab_hping -a $SRV_IP -s 80 -k -p 80 -S -c 12 $SRV_IP
	if [ ! -x "$SENDFRAMES" ]; then
		skip "sendframes' malformed classes" "no $SENDFRAMES (make all)"
		return
	fi
	lab_drop_case "ipv4_bad_ihl (sendframes)" ipv4_bad_ihl 13 lab_sendframes ipv4_bad_ihl 13
	lab_drop_case "ip_bad_len v4 (sendframes)" ip_bad_len 14 lab_sendframes ip_bad_len 14
	lab_drop_case "ip_bad_len v6 (sendframes)" ip_bad_len 18 \
		lab_sendframes ip_bad_len 18 "${V6[@]}"
	lab_drop_case "truncated v4 (sendframes)" truncated 15 lab_sendframes truncated 15
	lab_drop_case "truncated v6 (sendframes)" truncated 19 lab_sendframes truncated 19 "${V6[@]}"
	lab_drop_case "tcp_doff_beyond v6 (sendframes)" tcp_doff_beyond 20 \
		lab_sendframes tcp_doff_beyond 20 "${V6[@]}"
	lab_drop_case "unparsed_ipv6_ext (sendframes, 9 ext headers)" unparsed_ipv6_ext 22 \
		lab_sendframes unparsed_ipv6_ext 22
	lab_drop_case "unparsed_vlan v4 (sendframes, 3 tags)" unparsed_vlan 17 \
		lab_sendframes unparsed_vlan 17
	lab_drop_case "unparsed_vlan v6 (sendframes, 3 tags)" unparsed_vlan 21 \
		lab_sendframes unparsed_vlan 21 "${V6[@]}"
}

# --- new clients during a many-source flood (SYN cookies) -------------------------
# lab_new_addr I: the client's I-th address the server has never seen,
# 198.18.64.1 on, 250 an octet.
lab_new_addr() { echo "198.18.$((64 + $1 / 250)).$(($1 % 250 + 1))"; }
# lab_new_addrs N: the first N of them on the client; the server reaches
# them through it (a flood's sources have no route back).
lab_new_addrs() {
	ip -n "$NS_C" -b - <<EOA
$(for i in $(seq 0 $(($1 - 1))); do echo "addr add $(lab_new_addr $i)/32 dev cli0"; done)
EOA
	ip -n "$NS_S" route add 198.18.64.0/18 via $CLI_IP
}
# lab_new_clients FIRST N OUT [MAXTIME] [JOBS]: N connections, one per new
# address from index FIRST, a page each: "code connects connect_time"
# lines (as lab_clients).  MAXTIME (3 s) bounds each.  JOBS (1) loops
# share the addresses, each over its own contiguous part, in parallel:
# on a busy machine each curl takes its time to start, not to connect.
lab_new_clients() {
	local first=$1 n=$2 out=$3 max=${4:-3} jobs=${5:-1} j from cnt pids=
	for j in $(seq 0 $((jobs - 1))); do
		from=$((first + n * j / jobs)) cnt=$((first + n * (j + 1) / jobs - from))
		ip netns exec "$NS_C" bash -c '
			for i in $(seq '"$from"' $(('"$from"' + '"$cnt"' - 1))); do
				a="198.18.$((64 + i / 250)).$((i % 250 + 1))"
				curl -s --interface "$a" -H "Connection: close" --max-time '"$max"' \
					-o /dev/null -w "%{http_code} %{num_connects} %{time_connect}\n" \
					http://'"$SRV_IP"'/ || true
			done' >"$out.$j" 2>/dev/null &
		pids+=" $!"
	done
	wait $pids
	cat $(seq -f "$out.%g" 0 $((jobs - 1))) >"$out"
	rm -f $(seq -f "$out.%g" 0 $((jobs - 1)))
}
# lab_flood_bg SECONDS [SRC_PREFIX]: the project's generator at its full
# rate from SRC_PREFIX (198.19.0.0/16, a whole lab /16) to the server, in
# the background (LAB_PIDS, FLOOD_PID), bounded by count and time; its
# output in $LAB_TMP/flood.out.  lab_flood_stop ends it.
lab_flood_bg() {
	lab_flood "$NS_A" att0 "$(lab_mac $NS_S $SRV_IF)" $SRV_IP "${2:-198.19.0.0/16}" \
		$(($1 * 3000000)) "$1" --random >"$LAB_TMP/flood.out" 2>&1 &
	LAB_PIDS="${LAB_PIDS:-} $!"
	FLOOD_PID=$!
}
lab_flood_stop() {
	# The subshell's child is timeout, which passes the signal on.
	pkill -INT -P $FLOOD_PID 2>/dev/null
	wait $FLOOD_PID 2>/dev/null
}

# --- the chain test programs (tests/tools/chain_test.bpf.c) -------------------------
CHAIN_OBJ=${CHAIN_OBJ:-$TOP/build/tools/chain_test.bpf.o}
# lab_chain_load: loads them and pins them under CHAIN_PIN, a bpffs
# directory of this lab's own (progs/NAME, maps/NAME), which lab_down
# removes.
lab_chain_load() {
	CHAIN_PIN=/sys/fs/bpf/sgchain-$LAB_ID
	mkdir -p "$CHAIN_PIN" &&
		bpftool prog loadall "$CHAIN_OBJ" "$CHAIN_PIN/progs" pinmaps "$CHAIN_PIN/maps"
}
# lab_chain_cnt I: a counter of chain_test.bpf.c: 0 seen, 1 dropped,
# 2 root seen, 3 root fell through.
lab_chain_cnt() {
	bpftool -j map lookup pinned "$CHAIN_PIN/maps/chain_counts" key "$1" 0 0 0 |
		jq -r '.formatted.value'
}
# lab_root_slot [N]: the program id in slot N (0) of the root's array;
# "" when empty.
lab_root_slot() {
	bpftool -j map lookup pinned "$CHAIN_PIN/maps/root_slots" key "${1:-0}" 0 0 0 2>/dev/null |
		jq -r '.formatted.value // .value // empty' 2>/dev/null
}
# lab_root_attach: chain_root, Katran's shared-mode root, on srv0 (native).
lab_root_attach() {
	nsenter --net=/run/netns/$NS_S bpftool net attach xdpdrv \
		pinned "$CHAIN_PIN/progs/chain_root" dev $SRV_IF
}
