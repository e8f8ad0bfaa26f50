#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `top` and `replay --local` on bad input: each case exits with its
# documented code (2 usage or bad input, 3 not attached, 4 not root), says
# what is wrong in one line on stderr and prints nothing on stdout.  top
# never touches the terminal before its input is good: these run with no
# terminal at all, and one on a tmux terminal leaves it as it was.
# A lab gives the commands a real interface, srv0, left unattached; the
# only traffic is one fetch for a capture to replay.
set -u
. "$(dirname "$0")/../lib.sh"

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
NOSUCH=sgx$LAB_ID

# bad DESC RC PATTERN CMD...
bad() { refused_1line "$@" </dev/null; }

# --- top ------------------------------------------------------------------------
"$SYNGUARD" --help >"$T/out" 2>&1
check "--help lists top" grep -q '^  top IFACE' "$T/out"
"${NOBODY[@]}" "$SYNGUARD" top --help >"$T/out" 2>"$T/err"
expect_eq "top --help exits 0, even as nobody" "$?" 0
check "top --help: its usage on stdout" grep -q '^usage: synguard top IFACE' "$T/out"
bad "top with no interface"		2 "one interface" sg top
bad "top with an extra argument"	2 "one interface" sg top $SRV_IF extra
bad "top: unknown option"		2 "unknown option.*--bogus" sg top $SRV_IF --bogus
bad "top --interval without a value"	2 "interval.*value|value.*interval" sg top $SRV_IF --interval
for v in 0 -1 abc "" 0.01 1e999 nan 86401; do
	bad "top --interval '$v'"	2 "interval" sg top $SRV_IF --interval "$v"
done
for v in 0 -1 abc 1.5 4294967297; do
	bad "top --count '$v'"		2 "count" sg top $SRV_IF --count "$v"
done
bad "top: unknown interface"		2 "unknown interface.*$NOSUCH" "$SYNGUARD" top "$NOSUCH"
bad "top: unknown interface in a netns"	2 "unknown interface.*$NOSUCH" sg top "$NOSUCH"
bad "top: invalid interface name"	2 "invalid interface name" sg top srv0/x
bad "top: unknown netns"		2 "nope.*not found|not found.*nope" \
	"$SYNGUARD" --netns nope top $SRV_IF
bad "top as nobody"			4 "root" "${NOBODY[@]}" "$SYNGUARD" --netns "$NS_S" top $SRV_IF
bad "top with nothing attached"		3 "not attached" sg top $SRV_IF

if command -v tmux >/dev/null; then
	TM=(tmux -L "sgtopcli$LAB_ID" -f /dev/null)
	"${TM[@]}" new-session -d -x 100 -y 30 \
		"bash -c '\"$SYNGUARD\" --netns $NS_S top $SRV_IF 2>$T/tty.err; echo \$? >$T/tty.rc; stty -a >$T/tty.stty'"
	LAB_PIDS="${LAB_PIDS:-} $("${TM[@]}" display -p '#{pid}' 2>/dev/null)"
	for _ in $(seq 40); do [ -s "$T/tty.stty" ] && break; sleep 0.05; done
	expect_eq "top on a terminal, nothing attached: exit 3" "$(cat "$T/tty.rc" 2>/dev/null)" 3
	check "...one line on stderr" test "$(wc -l <"$T/tty.err")" = 1
	check "...and the terminal keeps echo and icanon" \
		bash -c 'grep -Eq "(^| )icanon( |;|$)" "$1" && grep -Eq "(^| )echo( |;|$)" "$1"' _ "$T/tty.stty"
	"${TM[@]}" kill-server 2>/dev/null
else
	skip "top on a terminal with nothing attached" "tmux is not installed"
fi

# --- replay --local -------------------------------------------------------------------
lab_nginx || diag "nginx did not start: the capture has less in it"
lab_capture "$T/real.pcap" 1 0.3
"$SYNGUARD" replay "$T/real.pcap" --local $SRV_IP >"$T/out" 2>"$T/err"
expect_eq "replay --local of a real capture exits 0" "$?" 0
for v in bogus 198.18.0.1/33 2001:2::1/129 198.18.0.300 "" , "198.18.0.1," ",2001:2::1" \
	"198.18.0.1,,2001:2::1" 198.18.0.1/ /24 "198.18.0.1/24 "; do
	bad "replay --local '$v'"	2 "--local" "$SYNGUARD" replay "$T/real.pcap" --local "$v"
done
bad "replay --local: a prefix too long says so" 2 "prefix longer" \
	"$SYNGUARD" replay "$T/real.pcap" --local 198.18.0.0/40
bad "replay --local with a bad second CIDR" 2 "'nope'" \
	"$SYNGUARD" replay "$T/real.pcap" --local 198.18.0.1 --local nope
bad "replay --local without a value"	2 "local.*value|value.*local" "$SYNGUARD" replay "$T/real.pcap" --local
many=$(for i in $(seq 65); do printf '198.18.1.%d,' $i; done)
bad "replay --local with 65 CIDRs"	2 "at most 64" "$SYNGUARD" replay "$T/real.pcap" --local "${many%,}"
bad "replay --local before asking for root" 2 "--local" \
	"${NOBODY[@]}" "$SYNGUARD" replay "$T/real.pcap" --local bogus

# The kernel refusing BPF_PROG_TEST_RUN is exit 1 ("the kernel said no"),
# not 2: the capture is fine.  strace makes the first test run fail; its
# place among the bpf() calls comes from a traced run that succeeds.
if command -v strace >/dev/null; then
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=bpf -o "$T/st.log" "$SYNGUARD" replay "$T/real.pcap" >/dev/null 2>&1
	nth=$(awk '/bpf\(/ { n++ } /BPF_PROG_TEST_RUN/ { print n; exit }' "$T/st.log")
	bad "replay: BPF_PROG_TEST_RUN refused is exit 1" 1 "BPF_PROG_TEST_RUN.*record 1" \
		env ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=bpf -e inject=bpf:error=EINVAL:when="${nth:-1}" \
		"$SYNGUARD" replay "$T/real.pcap"
else
	skip "replay: BPF_PROG_TEST_RUN refused is exit 1" "strace is not installed"
fi

tap_done
