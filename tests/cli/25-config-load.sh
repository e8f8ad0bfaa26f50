#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard config IFACE load FILE` on a live attachment: `config show`
# output loads back exactly; a file is the whole policy (keys it leaves out
# go back to their defaults, list entries it leaves out are removed, entries
# it keeps keep their hits); a bad line anywhere changes nothing and names
# FILE:LINE; a comment longer than any buffer stays a comment.  The only
# traffic is a few connects from the attacker namespace to a closed port,
# to count deny hits and see the deny list in force.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP
check "attach to $SRV_IF" sg attach $SRV_IF

# Everything a load may change: the keys, both lists with their hits, and
# sg_lists, the counts the program trusts to skip an empty trie.
snapshot() {
	sg config $SRV_IF show && sg allow $SRV_IF list --json &&
		sg deny $SRV_IF list --json && lists_counts
}
lists_counts() {
	bpftool -j map dump pinned /sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF/sg_lists |
		jq -c '.[0].formatted.value.n // .[0].value.n'
}
# The counts the tries' entries give (allow4, allow6, deny4, deny6).
lists_sizes() {
	local a d
	a=$(sg allow $SRV_IF list --json) d=$(sg deny $SRV_IF list --json)
	jq -n -c --argjson a "$a" --argjson d "$d" \
		'def n(l; six): [l[] | select((.cidr | contains(":")) == six)] | length;
		 [n($a.allow; false), n($a.allow; true), n($d.deny; false), n($d.deny; true)]'
}
# Does the server's stack answer the attacker?  A connect to a closed port
# is refused (RST) at once when it does, times out when synguard denies it.
reach() {
	timeout 2 ip netns exec "$NS_A" bash -c "exec 3<>/dev/tcp/$SRV_IP/9" 2>/dev/null
	[ $? = 124 ] && echo denied || echo answered
}
deny_hits() { sg deny $SRV_IF list --json | jq -r --arg c "$1" '.deny[] | select(.cidr == $c) | .hits'; }

# --- a policy that is not the default, lists with hits -----------------------
check "set a non-default policy" sg config $SRV_IF set src_rate=100 block_time=30 \
	ports=80,443 cookies=never attack_syn_rate=5000
check "fill the lists" sh -c "$SYNGUARD --netns $NS_S allow $SRV_IF add 198.18.5.0/24 2001:2::5 &&
	$SYNGUARD --netns $NS_S deny $SRV_IF add $ATT_IP 198.18.6.0/24 2001:2:0:6::/64"
expect_eq "the attacker is denied: its connect times out" "$(reach)" denied
HITS=$(deny_hits $ATT_IP/32)
expect_ge "...and its deny entry counted hits (SYN and retransmit)" "${HITS:-0}" 2

# --- round trip -------------------------------------------------------------
sg config $SRV_IF show >"$T/show.conf"
diag "config show: $(tr '\n' ' ' <"$T/show.conf")"
expect_eq "config show lists the allow and deny entries" \
	"$(grep -E '^(allow|deny)=' "$T/show.conf" | tr '\n' ' ')" \
	"allow=198.18.5.0/24 allow=2001:2::5/128 deny=198.18.0.3/32 deny=198.18.6.0/24 deny=2001:2:0:6::/64 "
SNAP=$(snapshot)
check "config load of config show's output" sg config $SRV_IF load "$T/show.conf"
expect_eq "config show after the load is the file, byte for byte" \
	"$(sg config $SRV_IF show)" "$(cat "$T/show.conf")"
expect_eq "lists, hits and sg_lists counts unchanged by loading the same" "$(snapshot)" "$SNAP"

# Drift away from the file, then load it back.
check "change keys and lists" sh -c "$SYNGUARD --netns $NS_S config $SRV_IF set src_rate=7 dry_run=on &&
	$SYNGUARD --netns $NS_S allow $SRV_IF del 2001:2::5 &&
	$SYNGUARD --netns $NS_S allow $SRV_IF add 198.18.7.0/24 &&
	$SYNGUARD --netns $NS_S deny $SRV_IF del 198.18.6.0/24 &&
	$SYNGUARD --netns $NS_S deny $SRV_IF add 2001:2:0:8::/64"
check "config load puts the file back" sg config $SRV_IF load "$T/show.conf"
expect_eq "config show is the file again" "$(sg config $SRV_IF show)" "$(cat "$T/show.conf")"
expect_ge "the kept deny entry kept its hits" "$(deny_hits $ATT_IP/32)" "$HITS"
expect_eq "sg_lists counts equal the tries' sizes" "$(lists_counts)" "$(lists_sizes)"

# --- a file is the whole policy ------------------------------------------------
cat >"$T/small.conf" <<'EOF'
# only these: everything else back to its default
src_rate = 50
allow=198.18.9.77/24
EOF
check "config load of a file with one key and one allow entry" \
	sg config $SRV_IF load "$T/small.conf"
show=$(sg config $SRV_IF show)
expect_eq "its key is set (spaces around '=' allowed)" "$(grep '^src_rate=' <<<"$show")" "src_rate=50"
expect_eq "keys it does not set are back to their defaults" \
	"$(grep -E '^(block_time|ports|cookies|attack_syn_rate|dry_run)=' <<<"$show" | tr '\n' ' ')" \
	"dry_run=off block_time=0 ports=all attack_syn_rate=auto cookies=attack "
expect_eq "the lists are the file's (host bits cleared)" \
	"$(grep -E '^(allow|deny)=' <<<"$show" | tr '\n' ' ')" "allow=198.18.9.0/24 "
expect_eq "sg_lists counts follow: [1,0,0,0]" "$(lists_counts)" "[1,0,0,0]"
expect_eq "the attacker, no longer denied, is answered (RST)" "$(reach)" answered
check "config load of the full file again" sg config $SRV_IF load "$T/show.conf"
expect_eq "the attacker is denied again" "$(reach)" denied
expect_eq "the re-added entry counts from 0 again: 1 to 3 hits, not $HITS more" \
	"$(( $(deny_hits $ATT_IP/32) >= 1 && $(deny_hits $ATT_IP/32) <= 3 ))" 1

# --json carries the lists too.
expect_eq "config show --json has the lists" \
	"$(sg config $SRV_IF show --json | jq -c '[.allow, .deny]')" \
	'[["198.18.5.0/24","2001:2::5/128"],["198.18.0.3/32","198.18.6.0/24","2001:2:0:6::/64"]]'

# --- a bad line changes nothing --------------------------------------------------
SNAP=$(snapshot)
# refused DESC RC FILE LINE: load exits RC, one stderr line naming FILE:LINE,
# nothing on stdout, the snapshot as it was.
refused() {
	local desc=$1 want=$2 file=$3 line=$4 rc why=
	sg config $SRV_IF load "$file" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || why+=" exit $rc, want $want;"
	[ ! -s "$T/out" ] || why+=" stdout not empty;"
	[ "$(wc -l <"$T/err")" = 1 ] || why+=" $(wc -l <"$T/err") lines on stderr, want 1;"
	[ -z "$line" ] || grep -qF "$file:$line: " "$T/err" || why+=" stderr does not name $file:$line;"
	[ "$(snapshot)" = "$SNAP" ] || why+=" something changed;"
	if [ -z "$why" ]; then
		ok "$desc (exit $want): $(cat "$T/err")"
	else
		not_ok "$desc:$why"
		sed 's/^/#   stderr: /' "$T/err" | head -3
		SNAP=$(snapshot)
	fi
}
# bad FILE-NAME LINE CONTENT: the good file with CONTENT put in as line LINE.
bad() { awk -v n="$2" -v l="$3" 'NR == n { print l } { print } END { if (NR < n) print l }' \
	"$T/show.conf" >"$T/$1"; }
bad key.conf 3 'bogus=1';			refused "an unknown key" 2 "$T/key.conf" 3
bad value.conf 5 'src_burst=0';			refused "a bad value" 2 "$T/value.conf" 5
bad noeq.conf 1 'src_rate';			refused "a line without '='" 2 "$T/noeq.conf" 1
LAST=$(($(wc -l <"$T/show.conf") + 1))
bad cidr.conf $LAST 'allow=198.18.0.300';	refused "a bad allow CIDR (last line)" 2 "$T/cidr.conf" $LAST
bad prefix.conf 22 'deny=2001:2::/129';		refused "a deny prefix too long" 2 "$T/prefix.conf" 22
bad empty.conf 24 'deny=';			refused "an empty deny entry" 2 "$T/empty.conf" 24
refused "a file that does not exist" 2 "$T/nosuch.conf" ""
refused "a directory" 2 "$T" ""
# More entries than a trie holds (16384): refused before any is added.
{ cat "$T/show.conf"; for i in $(seq 0 16384); do
	echo "allow=198.18.$((64 + i / 256)).$((i % 256))"; done; } >"$T/big.conf"
refused "16385 IPv4 allow entries (a trie holds 16384)" 3 "$T/big.conf" ""
expect_eq "the attacker is still denied" "$(reach)" denied

for args in "load" "load a b" "load $T/show.conf extra"; do
	sg config $SRV_IF $args >"$T/out" 2>"$T/err"
	expect_eq "config $args: exit 2" "$?/$(wc -l <"$T/err")" "2/1"
done
sg config lo load "$T/show.conf" >/dev/null 2>&1
expect_eq "config load on an interface with nothing attached: exit 3" "$?" 3

# --- long lines ----------------------------------------------------------------
# A 5000-character comment whose text from byte 4096 on reads like a
# setting: a reader that splits long lines would apply it.
{
	printf '#%s' "$(head -c 4094 /dev/zero | tr '\0' x)"
	printf 'src_rate=5%s\n' "$(head -c 895 /dev/zero | tr '\0' ' ')"
	echo "src_burst=9"
} >"$T/long.conf"
expect_eq "the comment line is 5000 characters" "$(head -1 "$T/long.conf" | wc -c)" 5001
check "config load of a file with a 5000-character comment" sg config $SRV_IF load "$T/long.conf"
expect_eq "the comment's tail is not applied (src_rate the default, 100), the next line is (src_burst 9)" \
	"$(sg config $SRV_IF show | grep -E '^src_(rate|burst)=' | tr '\n' ' ')" "src_rate=100 src_burst=9 "
# A long value is read whole too, and refused whole.
printf 'ports=%s\n' "$(seq -s, 1 3000)" >"$T/longports.conf"
check "config load of a 14 kB ports line" sg config $SRV_IF load "$T/longports.conf"
expect_eq "...all of it applied" "$(sg config $SRV_IF show | grep '^ports=')" "ports=1-3000"

# attach --config reads the same format: lists included.
check "detach" sg detach $SRV_IF
sg attach $SRV_IF --config "$T/big.conf" >"$T/out" 2>"$T/err"
rc=$?
expect_eq "attach --config with 16385 allow entries: exit 3, one line" "$rc/$(wc -l <"$T/err")" "3/1"
expect_eq "...and nothing attached" "$(ip -n "$NS_S" -o link show $SRV_IF | grep -c prog/xdp)" 0
check "attach --config with the show file" sg attach $SRV_IF --config "$T/show.conf"
expect_eq "config show after attach --config is the file" \
	"$(sg config $SRV_IF show)" "$(cat "$T/show.conf")"
expect_eq "sg_lists counts equal the tries' sizes after attach --config" \
	"$(lists_counts)" "$(lists_sizes)"
expect_eq "the attacker is denied from the start" "$(reach)" denied

# A load that needs the cookie path, failing at its last step (the flip of
# the policy slot, made to fail by strace): the path it made for a policy
# never written goes again.  Its index among the bpf() calls comes from a
# traced load that succeeds.
tables() { ip netns exec "$NS_S" nft list tables 2>/dev/null | grep -c ' synguard_'; }
if command -v strace >/dev/null; then
	sg config $SRV_IF set cookies=never >/dev/null
	{ grep -v '^cookies=' "$T/show.conf"; echo "cookies=always"; } >"$T/cookies.conf"
	ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=bpf -o "$T/st.log" "$SYNGUARD" --netns "$NS_S" config $SRV_IF \
		load "$T/cookies.conf" >/dev/null 2>&1
	nth=$(awk '/bpf\(/ { n++ } /BPF_MAP_UPDATE_ELEM/ { last = n } END { print last }' "$T/st.log")
	expect_eq "a traced load makes the cookie path (tables)" "$(tables)" 1
	sg config $SRV_IF set cookies=never >/dev/null
	expect_eq "...and cookies=never removes it" "$(tables)" 0
	ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=bpf -e inject=bpf:error=EIO:when="${nth:-1}" \
		"$SYNGUARD" --netns "$NS_S" config $SRV_IF load "$T/cookies.conf" >"$T/out" 2>"$T/err"
	expect_eq "a load whose policy write fails: exit 1" "$?" 1
	expect_eq "...leaves no cookie path behind" "$(tables)" 0
	expect_eq "...and the policy as it was (cookies=never)" \
		"$(sg config $SRV_IF show | grep '^cookies=')" "cookies=never"
else
	skip "a failed load leaves no cookie path" "strace is not installed"
fi

tap_done
