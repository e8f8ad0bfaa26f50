#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The policy commands (config, allow, deny) and attach --config on a live
# attachment, without traffic: every bad input is refused with exit 2 (3
# for state) and one line on stderr, and changes nothing; a good policy
# survives `config show` -> `attach --config`.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }

lab_up || { not_ok "lab_up"; tap_done; }
check "attach to $SRV_IF" sg attach $SRV_IF

# A policy that is not the default, so that a bad input resetting a key
# (or a whole list) shows.
check "set a non-default policy" sg config $SRV_IF set src_rate=100 src_burst=20 \
	prefix4=24 prefix6=56 block_time=5 ports=80,443,8000-8100
check "fill the allow list" sg allow $SRV_IF add $ATT_IP 2001:2::3
check "fill the deny list" sg deny $SRV_IF add 198.18.1.0/24 2001:2:0:1::/64

# Everything the policy commands can show: the config and both lists.
snapshot() {
	sg config $SRV_IF show && sg allow $SRV_IF list --json &&
		sg deny $SRV_IF list --json
}
SNAP=$(snapshot)
diag "policy under test: ${SNAP//$'\n'/ }"

# refused DESC RC ARGS...: `synguard ARGS` exits RC with nothing on stdout
# and exactly one line on stderr, and the policy is what it was.
refused() {
	local desc=$1 want=$2 rc why=
	shift 2
	sg "$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
	rc=$?
	[ "$rc" = "$want" ] || why+=" exit $rc, want $want;"
	[ ! -s "$LAB_TMP/out" ] || why+=" stdout not empty;"
	[ "$(wc -l <"$LAB_TMP/err")" = 1 ] ||
		why+=" $(wc -l <"$LAB_TMP/err") lines on stderr, want 1;"
	[ "$(snapshot)" = "$SNAP" ] || why+=" the policy changed;"
	if [ -z "$why" ]; then
		ok "$desc (exit $want): $(cat "$LAB_TMP/err")"
	else
		not_ok "$desc:$why"
		diag "  synguard $*" && sed 's/^/#   stderr: /' "$LAB_TMP/err" | head -5
		SNAP=$(snapshot)	# judge the next case on its own
		diag "  now: ${SNAP//$'\n'/ }"
	fi
}

# --- config set ---------------------------------------------------------------
refused "unknown key" 2 config $SRV_IF set bogus=1
refused "missing '='" 2 config $SRV_IF set src_rate
refused "missing key" 2 config $SRV_IF set =5
for key in src_rate src_burst; do
	for v in 0 -1 4294967296 abc ''; do
		refused "$key=$v" 2 config $SRV_IF set "$key=$v"
	done
done
refused "prefix4=33" 2 config $SRV_IF set prefix4=33
refused "prefix6=129" 2 config $SRV_IF set prefix6=129
refused "prefix4=-1" 2 config $SRV_IF set prefix4=-1
for v in -1 86401 abc ''; do
	refused "block_time=$v" 2 config $SRV_IF set "block_time=$v"
done
for v in sometimes Always '' 1; do
	refused "cookies=$v" 2 config $SRV_IF set "cookies=$v"
done
for kv in cookie_mss4=535 cookie_mss4=65496 cookie_mss6=1219 cookie_mss6=65476 \
	  cookie_mss4=abc cookie_wscale=15 cookie_wscale=-1 cookie_wscale=; do
	refused "$kv" 2 config $SRV_IF set "$kv"
done
for v in 0 65536 80- 90-80 80,,443 x '80,' ,80 0-80 '80 '; do
	refused "ports=$v" 2 config $SRV_IF set "ports=$v"
done
refused "dry_run=maybe" 2 config $SRV_IF set dry_run=maybe
refused "unparsed=accept" 2 config $SRV_IF set unparsed=accept
refused "good then bad assignment changes neither" 2 \
	config $SRV_IF set src_rate=7 src_burst=0
refused "bad then good assignment changes neither" 2 \
	config $SRV_IF set ports=x src_rate=7
refused "good then unknown key changes neither" 2 \
	config $SRV_IF set dry_run=on bogus=1
refused "config with no action" 2 config $SRV_IF
refused "config with an unknown action" 2 config $SRV_IF frob
refused "config set with no assignment" 2 config $SRV_IF set
refused "config show with an assignment" 2 config $SRV_IF show src_rate=5

# --- allow / deny -------------------------------------------------------------
for list in allow deny; do
	for c in 198.18.0.0/ 1.2.3 198.18.0.300 2001:2::/ foo 198.18.0.0/-1 \
		 /24 198.18.0.0/24/8; do
		refused "$list add $c: malformed" 2 $list $SRV_IF add "$c"
	done
	refused "$list add 198.18.0.0/33: prefix too long" 2 $list $SRV_IF add 198.18.0.0/33
	refused "$list add 2001:2::/129: prefix too long" 2 $list $SRV_IF add 2001:2::/129
	refused "$list add good and bad adds neither" 2 $list $SRV_IF add 198.18.7.0/24 foo
	refused "$list add bad and good adds neither" 2 $list $SRV_IF add 2001:2::/ 2001:2:0:7::/64
	refused "$list del of a CIDR not in the list" 3 $list $SRV_IF del 198.18.9.0/24
	refused "$list with no verb" 2 $list $SRV_IF
	refused "$list with an unknown verb" 2 $list $SRV_IF frob 198.18.9.0/24
	refused "$list add with no CIDR" 2 $list $SRV_IF add
	refused "$list list with a CIDR" 2 $list $SRV_IF list 198.18.9.0/24
done
refused "allow del of a present and an absent CIDR deletes neither" 3 \
	allow $SRV_IF del $ATT_IP 198.18.9.9
refused "deny del of a present and an absent CIDR deletes neither" 3 \
	deny $SRV_IF del 2001:2:0:1::/64 2001:2:0:9::/64
refused "deny del of a CIDR only in the allow list" 3 deny $SRV_IF del $ATT_IP

# --- the wrong interface --------------------------------------------------------
# lo exists in the server namespace but has nothing attached: a state error.
refused "config show on an interface with nothing attached" 3 config lo show
refused "config set on an interface with nothing attached" 3 config lo set src_rate=5
refused "allow add on an interface with nothing attached" 3 allow lo add 198.18.9.9
refused "deny list on an interface with nothing attached" 3 deny lo list
refused "attach --cookies sometimes" 2 attach lo --cookies sometimes
refused "config show on an interface that does not exist" 2 config nosuch0 show
if grep -qiE "unknown interface|no such interface|does not exist" "$LAB_TMP/err"; then
	ok "...and says the interface is unknown"
else
	not_ok "...and says the interface is unknown"; diag "  stderr: $(cat "$LAB_TMP/err")"
fi

# --- the good path still works after all that ------------------------------------
check "allow add of a new CIDR" sg allow $SRV_IF add 198.18.9.0/24
check "allow del of it" sg allow $SRV_IF del 198.18.9.0/24
expect_eq "the policy is still the one set at the start" "$(snapshot)" "$SNAP"
hosts=$(sg allow $SRV_IF add 198.18.9.77/24 >/dev/null && sg allow $SRV_IF list --json |
	jq -r '[.allow[].cidr] | map(select(startswith("198.18.9."))) | join(",")')
expect_eq "host bits are cleared: 198.18.9.77/24 is listed as" "$hosts" "198.18.9.0/24"
# The program skips a trie that sg_lists counts empty: the counts (allow4,
# allow6, deny4, deny6) are the lists' sizes after adds, a re-add, refused
# and good deletes.
check "allow add of a CIDR already there" sg allow $SRV_IF add $ATT_IP
expect_eq "sg_lists counts the entries of each trie" \
	"$(bpftool -j map dump pinned /sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF/sg_lists |
		jq -c '.[0].formatted.value.n // .[0].value.n')" "[2,1,1,1]"

# --- attach --config: show -> file -> attach reproduces show ----------------------
check "set every key" sg config $SRV_IF set dry_run=on unparsed=pass src_rate=123 \
	src_burst=77 prefix4=24 prefix6=48 block_time=2.5 ports=80,443,8000-8100
sg config $SRV_IF show >"$LAB_TMP/policy.conf"
check "detach" sg detach $SRV_IF
check "attach --config (a file from config show)" \
	sg attach $SRV_IF --config "$LAB_TMP/policy.conf"
expect_eq "config show after attach --config is the show it came from" \
	"$(sg config $SRV_IF show)" "$(cat "$LAB_TMP/policy.conf")"
# --json carries the same keys and values as the text form, whatever keys
# exist, and the lists' allow= and deny= lines as arrays.
expect_eq "the same with --json" "$(sg config $SRV_IF show --json | jq -c .)" \
	"$(sg config $SRV_IF show | jq -R -s -c 'split("\n") | map(select(length > 0) | split("="))
		| (map(select(.[0] != "allow" and .[0] != "deny") | {(.[0]): .[1]}) | add)
		+ {allow: map(select(.[0] == "allow") | .[1]), deny: map(select(.[0] == "deny") | .[1])}')"
expect_eq "--json has the values set" \
	"$(sg config $SRV_IF show --json | jq -c '[.dry_run, .unparsed, .src_rate, .src_burst, .prefix4, .prefix6, .block_time, .ports]')" \
	'["on","pass","123","77","24","48","2.5","80,443,8000-8100"]'

# `config show` must print what is in effect, or the round trip above
# silently changes the policy: block_time is kept in nanoseconds.
sg config $SRV_IF set block_time=1234.5678 >/dev/null
expect_eq "config show prints block_time as set (1234.5678)" \
	"$(sg config $SRV_IF show | grep '^block_time=')" "block_time=1234.5678"
sg config $SRV_IF set block_time=0.25 >/dev/null
expect_eq "config show prints block_time as set (0.25)" \
	"$(sg config $SRV_IF show | grep '^block_time=')" "block_time=0.25"

# config set says what it changed, in one line, as config show spells it;
# the whole policy is config show's.
expect_eq "config set prints what it changed, in one line" \
	"$(sg config $SRV_IF set block_time=30 src_rate=200 dry_run=on)" \
	"src_rate 123 -> 200, block_time 0.25 -> 30"
expect_eq "...and the policy is changed" \
	"$(sg config $SRV_IF show | grep -E '^(src_rate|block_time)=' | tr '\n' ' ')" \
	"src_rate=200 block_time=30 "
expect_eq "config set of values in force: no change" \
	"$(sg config $SRV_IF set src_rate=200 block_time=30.0)" "no change"
expect_eq "config set --json: the keys that changed, old and new" \
	"$(sg config $SRV_IF set --json src_rate=off ports=all | jq -c .)" \
	'{"src_rate":{"old":"200","new":"off"},"ports":{"old":"80,443,8000-8100","new":"all"}}'

# attach refuses bad policy options before touching the kernel.
# Flow table sizes are set at attach and reported as the kernel has them.
check "detach before sizing the tables" sg detach $SRV_IF
check "attach --half-open-max 1024 --flows-max 4096" \
	sg attach $SRV_IF --half-open-max 1024 --flows-max 4096
expect_eq "stats reports the sizes" \
	"$(sg stats $SRV_IF --json | jq -c '[.flows.half_open_max, .flows.flows_max]')" "[1024,4096]"
check "detach again" sg detach $SRV_IF
# attach_refused OPT...: `attach IFACE OPT` exits 2 in one line on stderr,
# and nothing is attached.
attach_refused() {
	local opt rc
	for opt; do
		sg attach $SRV_IF $opt >"$LAB_TMP/out" 2>"$LAB_TMP/err"
		rc=$?
		if [ $rc = 2 ] && [ "$(wc -l <"$LAB_TMP/err")" = 1 ] &&
		   ! ip -n "$NS_S" link show $SRV_IF | grep -q prog/xdp; then
			ok "attach $opt: exit 2, nothing attached: $(cat "$LAB_TMP/err")"
		else
			not_ok "attach $opt: exit $rc, want 2 and nothing attached"
			sed 's/^/#   stderr: /' "$LAB_TMP/err"
			sg detach $SRV_IF >/dev/null 2>&1
		fi
	done
}
attach_refused "--half-open-max 0" "--flows-max abc" "--flows-max 67108865" "--half-open-max -1"
check "attach back for what follows" sg attach $SRV_IF
check "detach again" sg detach $SRV_IF
attach_refused "--src-rate 0" "--src-burst abc" "--prefix4 33" "--prefix6 129" \
	"--block-time 86401" "--ports 90-80" "--unparsed maybe"
sg stats $SRV_IF >/dev/null 2>&1
expect_eq "stats after the refused attaches: nothing attached (exit 3)" "$?" 3

# Every policy key is an attach option, however many keys there are: each
# one --help lists is parsed as that key (its value refused by name), none
# is an unknown option; and `config show` lists the same keys.
keys=$(sg attach --help | sed -n 's/^    --\([a-z0-9-]*\) .*/\1/p')
missing=
for k in $keys; do
	sg attach $SRV_IF "--$k" '?' >/dev/null 2>"$LAB_TMP/err"
	grep -q "^synguard: ${k//-/_} takes " "$LAB_TMP/err" || missing+=" --$k"
done
expect_eq "attach takes each of the $(echo $keys | wc -w) keys --help lists" "${missing:-none}" none
check "attach to list the policy keys" sg attach $SRV_IF
# Keys whose defaults come from the host, and list entries.
HOSTKEYS="allow|deny|half_open_timeout|cookie_mss4|cookie_mss6|cookie_wscale"
keys_show=$(sg config $SRV_IF show | sed -n 's/^\([a-z0-9_]*\)=.*/\1/p' | grep -vx dry_run | tr _ - | sort)
expect_eq "config show and attach --help list the same keys" \
	"$keys_show" "$(echo "$keys" | tr ' ' '\n' | sort)"
expect_eq "a fresh attach's policy is docs/example.conf's defaults" \
	"$(sg config $SRV_IF show | grep -E '^[a-z0-9_]+=' | grep -vE "^($HOSTKEYS)=" | sort)" \
	"$(sed -n 's/^#\([a-z0-9_]*=[^ ]*\)$/\1/p' "$TOP/docs/example.conf" | grep -vE "^($HOSTKEYS)=" | sort)"
check "detach" sg detach $SRV_IF

# Two `config set` at once both land: each reads, changes and writes the
# whole policy, so without a lock one would write over the other's change.
check "attach for concurrent writers" sg attach $SRV_IF
lost=0
for i in $(seq 40); do
	sg config $SRV_IF set src_rate=off block_time=0 >/dev/null
	sg config $SRV_IF set src_rate=100 >/dev/null &
	a=$!
	sg config $SRV_IF set block_time=7 >/dev/null &
	b=$!
	wait $a $b
	[ "$(sg config $SRV_IF show | grep -cE '^(src_rate=100|block_time=7)$')" = 2 ] || lost=$((lost + 1))
done
expect_eq "40 pairs of concurrent config set: runs that lost a change" "$lost" 0
check "detach" sg detach $SRV_IF

# Config lines of any length: a long comment's tail is no setting, and a
# long ports= line is one setting.
{ printf '#%05000d dry_run=on\n' 0; echo "src_rate=77"; } >"$LAB_TMP/long.conf"
check "attach --config with a 5000-byte comment line" sg attach $SRV_IF --config "$LAB_TMP/long.conf"
expect_eq "...its tail set nothing: dry_run=off, src_rate=77" \
	"$(sg config $SRV_IF show | grep -E '^(dry_run|src_rate)=' | tr '\n' ' ')" "dry_run=off src_rate=77 "
check "detach" sg detach $SRV_IF
echo "ports=$(seq -s, 1 2 9999)" >"$LAB_TMP/ports.conf"
check "attach --config with a $(wc -c <"$LAB_TMP/ports.conf")-byte ports= line" \
	sg attach $SRV_IF --config "$LAB_TMP/ports.conf"
expect_eq "...every port of it in force" "$(sg config $SRV_IF show | grep -c '^ports=1,3,5,.*,9997,9999$')" 1
check "detach" sg detach $SRV_IF

tap_done
