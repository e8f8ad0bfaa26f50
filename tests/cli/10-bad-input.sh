#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The CLI on bad input: each case exits with its documented code (2 usage or
# bad input, 3 already/not attached, 4 not root, 1 failure), says what is
# wrong in one line on stderr, prints nothing on stdout, and changes nothing:
# no attachment, pin, XDP program or directory appears or goes away.
#
# A lab gives the commands a real interface (srv0 in the server namespace);
# the only traffic is two fetches to make a real capture for `replay`.
# Nothing here names an interface of the host: every attach and detach goes
# to the lab's srv0 or to a name that does not exist.
set -u
. "$(dirname "$0")/../lib.sh"

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
NOSUCH=sgx$LAB_ID		# an interface name neither the host nor the lab has
LONG=sgabcdefghijklmnop		# 18 characters: longer than IFNAMSIZ allows

# Everything a failed command must leave alone: the lab's (and the host
# netns's) attachments as `status` reports them, their pins, the XDP
# programs on the lab's links, and no stray /synguard made outside a bpffs.
# Other labs' entries are left out: their tests may run at the same time.
# (The table, not --json: another test's odd interface name must not make
# this one's snapshot unreadable.)
state() {
	local ns
	"$SYNGUARD" status 2>&1 | awk -v lab=" $NS_C $NS_A $NS_S $NS_W " \
		'$2 == "-" || index(lab, " " $2 " ") || $1 == "synguard:"'
	find /sys/fs/bpf/synguard -mindepth 1 2>/dev/null |
		grep -Ev '^/sys/fs/bpf/synguard/netns(/|$)'
	for ns in $NS_C $NS_A $NS_S $NS_W; do
		find "/sys/fs/bpf/synguard/netns/$ns" 2>/dev/null
	done
	for ns in $NS_C $NS_A $NS_S $NS_W; do
		echo "$ns: $(ip -n "$ns" -o link show | grep -o 'prog/xdp id [0-9]*' | tr '\n' ' ')"
	done
	ls -d /synguard 2>/dev/null
}

# bad DESC RC PATTERN CMD...: CMD exits RC with exactly one line on stderr
# matching PATTERN (extended regex, any case), nothing on stdout, and state
# unchanged.
REFUSED_STATE=state
bad() { refused_1line "$@"; }

# The prog id synguard has on srv0 per `status`, "" when none.
prog_of_srv() {
	"$SYNGUARD" status --json | jq -r --arg ns "$NS_S" \
		'.attachments[] | select(.netns == $ns and .interface == "srv0") | .prog_id'
}

# Runs "$@" where no bpffs can be found or mounted: a fresh pid namespace
# (no ancestors whose /proc/PID/root could lead to one) and a mount
# namespace where /sys/fs is a read-only tmpfs, so /sys/fs/bpf is gone.
# Exits 99 when it cannot make that world.
without_bpffs() {
	unshare --pid --mount --fork --mount-proc --propagation private bash -c '
		umount -l /sys/fs/bpf 2>/dev/null
		mount -t tmpfs -o ro,size=4k sg-no-bpffs /sys/fs || exit 99
		[ -e /sys/fs/bpf ] && exit 99
		# Not the last command, which bash would exec: this shell stays
		# PID 1 and the CLI is its child, as it would be from a shell.
		"$@"
		exit $?' without-bpffs "$@"
}

diag "lab $LAB_ID; nonexistent interface $NOSUCH"
if ip link show "$NOSUCH" >/dev/null 2>&1; then not_ok "$NOSUCH must not exist"; tap_done; fi

# --- a real capture for replay ----------------------------------------------
lab_nginx || diag "nginx did not start: the capture has less in it"
lab_capture "$T/real.pcap" 2 0.5
size=$(stat -c %s "$T/real.pcap" 2>/dev/null || echo 0)
expect_ge "a real capture for the replay cases (bytes)" "$size" 200
chmod 711 "$T"			# nobody may reach the files made public below
cp "$T/real.pcap" "$T/public.pcap" && chmod 644 "$T/public.pcap"
head -c $((size - 7)) "$T/real.pcap" >"$T/cut-record.pcap"	# inside the last record
head -c 30 "$T/real.pcap" >"$T/cut-header.pcap"		# inside the first record header
head -c 10 "$T/real.pcap" >"$T/cut-global.pcap"		# inside the file header
: >"$T/empty.pcap"
printf 'this is not a capture, just text long enough to read a header\n' >"$T/text.pcap"
mkdir "$T/dir.pcap"
cp "$T/real.pcap" "$T/secret.pcap" && chmod 600 "$T/secret.pcap"

# --- what must work -----------------------------------------------------------
"$SYNGUARD" --help >"$T/out" 2>"$T/err"
rc=$?
expect_eq "--help exits 0" "$rc" 0
check "--help prints the usage and every command on stdout, nothing on stderr" \
	bash -c '! [ -s "$2" ] && grep -q "^usage: synguard" "$1" &&
		 for c in attach detach status stats replay prune; do grep -qw $c "$1" || exit 1; done' \
	_ "$T/out" "$T/err"
"$SYNGUARD" --version >"$T/out" 2>"$T/err"
rc=$?
expect_eq "--version exits 0" "$rc" 0
check "--version prints 'synguard X.Y.Z'" grep -Eq '^synguard [0-9]+\.[0-9]+\.[0-9]+' "$T/out"
"$SYNGUARD" >"$T/out" 2>"$T/err"
rc=$?
expect_eq "no arguments exits 2" "$rc" 2
check "no arguments: usage on stderr, nothing on stdout" \
	bash -c 'grep -q "^usage: synguard" "$2" && ! [ -s "$1" ]' _ "$T/out" "$T/err"
for c in attach detach status stats replay prune; do
	"${NOBODY[@]}" "$SYNGUARD" $c --help >"$T/out" 2>"$T/err"
	rc=$?
	expect_eq "$c --help exits 0, even as nobody" "$rc" 0
done
"$SYNGUARD" replay "$T/real.pcap" --json >"$T/out" 2>"$T/err"
rc=$?
expect_eq "replay of the real capture exits 0 (the cases below cut it)" "$rc" 0

# --- unknown and invalid names ---------------------------------------------------
bad "attach: unknown interface"		2 "unknown interface.*$NOSUCH" "$SYNGUARD" attach "$NOSUCH"
bad "detach: unknown interface"		2 "unknown interface.*$NOSUCH" "$SYNGUARD" detach "$NOSUCH"
bad "stats: unknown interface"		2 "unknown interface.*$NOSUCH" "$SYNGUARD" stats "$NOSUCH"
bad "attach: unknown interface in a netns" 2 "unknown interface.*$NOSUCH" sg attach "$NOSUCH"
bad "detach: unknown interface in a netns" 2 "unknown interface.*$NOSUCH" sg detach "$NOSUCH"
bad "stats: unknown interface in a netns"  2 "unknown interface.*$NOSUCH" sg stats "$NOSUCH"
for c in attach detach stats; do
	bad "$c: interface name too long"	2 "invalid interface name" sg $c "$LONG"
	bad "$c: interface name with '/'"	2 "invalid interface name" sg $c srv0/x
	bad "$c: empty interface name"		2 "invalid interface name" sg $c ""
done
for c in attach detach stats; do
	bad "$c: unknown netns (--netns before)" 2 "nope.*not found|not found.*nope" \
		"$SYNGUARD" --netns nope $c srv0
	bad "$c: unknown netns (--netns after)"  2 "nope.*not found|not found.*nope" \
		"$SYNGUARD" $c srv0 --netns nope
done
bad "attach: netns name with '/'"	2 "invalid network namespace name" "$SYNGUARD" --netns a/b attach srv0
# status takes --netns like every command: a netns that does not exist is an
# error there too, not silently ignored.  prune --netns NAME is for a netns
# that may be gone already: it prunes what NAME left, here nothing.
bad "status: unknown netns"		2 "nope" "$SYNGUARD" --netns nope status
expect_eq "prune --netns of a deleted netns prunes only its leftovers (none)" \
	"$("$SYNGUARD" --netns nope prune 2>&1; echo "rc=$?")" "synguard: pruned 0 attachments
rc=0"

# --- not root ------------------------------------------------------------------
bad "attach as nobody"	4 "root" "${NOBODY[@]}" "$SYNGUARD" --netns "$NS_S" attach srv0
bad "detach as nobody"	4 "root" "${NOBODY[@]}" "$SYNGUARD" --netns "$NS_S" detach srv0
bad "stats as nobody"	4 "root" "${NOBODY[@]}" "$SYNGUARD" --netns "$NS_S" stats srv0
bad "status as nobody"	4 "root" "${NOBODY[@]}" "$SYNGUARD" status
bad "prune as nobody"	4 "root" "${NOBODY[@]}" "$SYNGUARD" prune
bad "replay of a readable capture as nobody" 4 "root" "${NOBODY[@]}" "$SYNGUARD" replay "$T/public.pcap"
bad "replay of an unreadable capture as nobody: the file first" 2 "permission denied" \
	"${NOBODY[@]}" "$SYNGUARD" replay "$T/secret.pcap"

# --- no bpffs anywhere -------------------------------------------------------------
without_bpffs true
rc=$?
if [ $rc = 0 ]; then
	bad "attach without a bpffs fails before touching the kernel" 1 "bpffs|bpf filesystem" \
		without_bpffs "$SYNGUARD" --netns "$NS_S" attach srv0
else
	skip "attach without a bpffs" "cannot hide /sys/fs/bpf here (unshare: $rc)"
fi

# --- attached, detached --------------------------------------------------------------
bad "detach with nothing attached"	3 "not attached" sg detach srv0
bad "stats with nothing attached"	3 "not attached" sg stats srv0
sg attach srv0 >"$T/out" 2>"$T/err"
rc=$?
expect_eq "attach srv0 exits 0" "$rc" 0
old=$(prog_of_srv)
check "status lists srv0 with its prog id" test -n "$old"
bad "attach twice: exit 3, says already attached and --force" 3 "already attached.*--force" \
	sg attach srv0
bad "attach twice in dry-run, generic mode: still exit 3" 3 "already attached.*--force" \
	sg attach srv0 --dry-run --mode generic
sg attach srv0 --force >"$T/out" 2>"$T/err"
rc=$?
expect_eq "attach --force exits 0" "$rc" 0
new=$(prog_of_srv)
check "attach --force replaced the program (prog $old -> $new)" \
	test -n "$new" -a "$new" != "$old"
check "srv0 carries the new program" \
	bash -c 'ip -n "$1" link show srv0 | grep -q "prog/xdp id $2 "' _ "$NS_S" "$new"
gone=1
for _ in $(seq 20); do bpftool prog show id "$old" >/dev/null 2>&1 || { gone=0; break; }; sleep 0.1; done
expect_eq "the replaced program $old is gone from the kernel" "$gone" 0

# With srv0 attached, a bad option must not replace, detach or touch it.
bad "unknown option to attach"	2 "unknown option.*--bogus" sg attach srv0 --force --bogus
bad "unknown short option"	2 "unknown option.*-Z" sg attach srv0 -Z
bad "unknown option to stats"	2 "unknown option.*--jsn" sg stats srv0 --jsn
bad "unknown option to detach"	2 "unknown option.*--bogus" sg detach srv0 --bogus
bad "unknown option to status"	2 "unknown option.*--bogus" "$SYNGUARD" status --bogus
bad "unknown option to prune"	2 "unknown option.*--bogus" "$SYNGUARD" prune --bogus
bad "unknown option to replay"	2 "unknown option.*--bogus" "$SYNGUARD" replay --bogus "$T/real.pcap"
bad "unknown global option"	2 "unknown option.*--bogus" "$SYNGUARD" --bogus status
bad "unknown command"		2 "unknown command.*frobnicate" "$SYNGUARD" frobnicate
bad "option without its value"	2 "interval.*value|value.*interval" sg stats srv0 --interval
bad "--netns without its value"	2 "netns.*value|value.*netns" "$SYNGUARD" status --netns
for v in 0 -1 abc 1e999 "" 0.01 nan inf 86401; do
	bad "stats --interval '$v'"	2 "interval" sg stats srv0 --interval "$v"
done
bad "stats --count 0 without --interval"	2 "count" sg stats srv0 --count 0
bad "stats --count 0 with --interval"		2 "count" sg stats srv0 --count 0 --interval 1
for v in -1 abc 1.5 4294967297 99999999999999999999 " 5"; do
	bad "stats --count '$v'"	2 "count" sg stats srv0 --count "$v" --interval 1
done
bad "stats --count without --interval"	2 "count.*interval" sg stats srv0 --count 5
bad "attach --mode bogus"	2 "mode.*bogus" sg attach srv0 --force --mode bogus
bad "attach --mode ''"		2 "mode" sg attach srv0 --force --mode ""
bad "attach --unparsed bogus"	2 "unparsed.*bogus" sg attach srv0 --force --unparsed bogus
bad "replay --unparsed bogus"	2 "unparsed.*bogus" "$SYNGUARD" replay "$T/real.pcap" --unparsed bogus
bad "attach with an extra argument"	2 "one interface" sg attach srv0 extra --force
bad "attach with no interface"		2 "one interface" sg attach --force
bad "detach with an extra argument"	2 "one interface" sg detach srv0 extra
bad "stats with an extra argument"	2 "one interface" sg stats srv0 extra
bad "stats with no interface"		2 "one interface" sg stats
bad "status with an argument"		2 "no arguments" "$SYNGUARD" status extra
bad "prune with an argument"		2 "no arguments" "$SYNGUARD" prune extra
bad "replay with two files"		2 "one capture" "$SYNGUARD" replay "$T/real.pcap" "$T/real.pcap"
bad "replay with no file"		2 "one capture" "$SYNGUARD" replay
bad "chain with no interface"		2 "takes an interface" sg chain
bad "chain with a bogus verb"		2 "set PIN, clear or show.*bogus" sg chain srv0 bogus
bad "chain set without a pin"		2 "one pinned program" sg chain srv0 set
bad "chain clear with an argument"	2 "no more arguments" sg chain srv0 clear extra
bad "chain set a path that is no pin"	2 "cannot open.*No such file" sg chain srv0 set /sys/fs/bpf/sg-nope
bad "attach --then a path that is no pin" 2 "cannot open.*No such file" \
	sg attach srv0 --force --then /sys/fs/bpf/sg-nope
bad "attach --into without an index"	2 "ARRAY_PIN:INDEX" sg attach srv0 --force --into /sys/fs/bpf/x
bad "attach --into a relative path"	2 "ARRAY_PIN:INDEX" sg attach srv0 --force --into x:0
bad "attach --into and --mode"		2 "no --mode" sg attach srv0 --force --into /x:0 --mode generic
expect_eq "srv0 still has prog $new after all that" "$(prog_of_srv)" "$new"

# --- captures that are not -------------------------------------------------------------
bad "replay: no such file"	2 "no such file" "$SYNGUARD" replay "$T/nonexistent.pcap"
bad "replay: a directory"	2 "directory" "$SYNGUARD" replay "$T/dir.pcap"
bad "replay: an empty file"	2 "empty" "$SYNGUARD" replay "$T/empty.pcap"
bad "replay: a text file"	2 "not a pcap" "$SYNGUARD" replay "$T/text.pcap"
bad "replay: cut inside the file header"   2 "truncated" "$SYNGUARD" replay "$T/cut-global.pcap"
bad "replay: cut inside a record header"   2 "truncated" "$SYNGUARD" replay "$T/cut-header.pcap"
bad "replay: cut inside a record"	   2 "truncated" "$SYNGUARD" replay "$T/cut-record.pcap"
bad "replay --json of a cut capture prints no JSON" 2 "truncated" \
	"$SYNGUARD" replay --json "$T/cut-record.pcap"

# Interface names may hold '"' and '\\': the JSON must still parse.
QIF='sg"q\x'
if ip -n "$NS_S" link add "$QIF" type veth peer name sgq1; then
	sg attach "$QIF" >/dev/null 2>&1
	expect_eq "attach to an interface named $QIF exits 0" "$?" 0
	check "status --json escapes the interface name" \
		jq -e --arg i "$QIF" '.attachments | any(.interface == $i)' \
		<("$SYNGUARD" status --json)
	check "stats --json escapes the interface name" \
		jq -e --arg i "$QIF" '.interface == $i' <(sg stats "$QIF" --json)
	sg detach "$QIF" >/dev/null 2>&1
	expect_eq "detach from $QIF exits 0" "$?" 0
	ip -n "$NS_S" link del "$QIF"
else
	skip "JSON escaping of interface names" "cannot make an interface named $QIF"
fi

sg detach srv0 >/dev/null 2>&1
rc=$?
expect_eq "detach exits 0" "$rc" 0
bad "detach again: nothing attached"	3 "not attached" sg detach srv0
bad "stats after detach: nothing attached" 3 "not attached" sg stats srv0

tap_done
