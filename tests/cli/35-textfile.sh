#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard export IFACE --textfile DIR`: node-exporter's textfile
# collector format in DIR/synguard_IFACE.prom, which promtool accepts,
# written atomically: a reader polling the file while it is rewritten
# 1000 times back to back never sees it half written, and no temporary
# file is left.  Bad options are refused before anything is opened.  No
# traffic: an attachment on the lab's srv0 is all it reads.
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }

lab_pair_up || { not_ok "lab_pair_up"; tap_done; }
T=$LAB_TMP
DIR=$T/textfile
mkdir "$DIR"
F=$DIR/synguard_$SRV_IF.prom
check "attach to $SRV_IF" sg attach $SRV_IF

# --- bad input -----------------------------------------------------------------------
refused() {
	local desc=$1
	shift
	sg export $SRV_IF "$@" >"$T/out" 2>"$T/err"
	expect_eq "$desc: exit 2, one line on stderr, nothing written" \
		"$?/$(wc -l <"$T/err")/$(ls -A "$DIR" | wc -l)" "2/1/0"
}
refused "--textfile and --listen" --textfile "$DIR" --listen 127.0.0.1:9999
refused "--interval without --textfile" --interval 1
refused "--count without --textfile" --count 1
refused "--textfile to a directory that does not exist" --textfile "$T/nosuch"
refused "--textfile to a file" --textfile /etc/hostname
refused "--interval -1" --textfile "$DIR" --interval -1
refused "--interval abc" --textfile "$DIR" --interval abc
refused "--count 0" --textfile "$DIR" --count 0
sg export lo --textfile "$DIR" --count 1 >/dev/null 2>&1
expect_eq "an interface with nothing attached: exit 3" "$?" 3

# --- one write -----------------------------------------------------------------------
check "export --textfile DIR --count 1" sg export $SRV_IF --textfile "$DIR" --count 1
expect_eq "DIR holds synguard_$SRV_IF.prom and nothing else" "$(ls -A "$DIR")" "synguard_$SRV_IF.prom"
expect_eq "readable by node-exporter's user (0644)" "$(stat -c %a "$F")" 644
if promtool check metrics <"$F" >"$T/promtool" 2>&1; then
	ok "promtool check metrics accepts it"
else
	not_ok "promtool check metrics accepts it"; sed 's/^/#   /' "$T/promtool" | head -5
fi
grep -q "^synguard_info{interface=\"$SRV_IF\",netns=\"$NS_S\"" "$F" &&
	ok "synguard_info names the attachment" || not_ok "synguard_info names the attachment"
FIRST=$(head -1 "$F") LAST=$(tail -1 "$F") LINES=$(wc -l <"$F")
expect_eq "it ends with the last histogram line" "${LAST%% *}" \
	'synguard_handshake_latency_seconds_count{phase="synack_to_ack"}'

# --- 1000 rewrites under a polling reader -----------------------------------------------
# The reader takes a snapshot of the file (one open, one read: a rename
# swaps the whole inode under the name) as fast as it can; each must be
# whole: first line, last line and line count as a complete file has
# them.  Every 50th snapshot also goes through promtool.
reader() {
	local s n=0 bad=0 parsed=0 ino inodes=
	while [ ! -e "$T/writer.done" ]; do
		# read -d '': the whole file in one go, without a fork
		IFS= read -r -d '' s <"$F"
		n=$((n + 1))
		if [[ $s != "$FIRST"$'\n'* || $s != *$'\n'"$LAST"$'\n' ]]; then
			bad=$((bad + 1))
			[ $bad -le 3 ] && printf '%s' "$s" >"$T/bad.$bad"
		elif [ $((n % 50)) = 0 ]; then
			[ "$(grep -c '' <<<"$s")" = "$((LINES + 1))" ] || bad=$((bad + 1))
			promtool check metrics <<<"$s" >/dev/null 2>&1 && parsed=$((parsed + 1)) ||
				bad=$((bad + 1))
		fi
		if [ $((n % 10)) = 0 ]; then
			ino=$(stat -c %i "$F" 2>/dev/null)
			[[ " $inodes " == *" $ino "* ]] || inodes+=" $ino"
		fi
	done
	echo "$n $bad $parsed $(wc -w <<<"$inodes")"
}
reader >"$T/reader" &
RPID=$!
LAB_PIDS="$RPID"
start=$(date +%s.%N)
timeout 120 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --textfile "$DIR" --interval 0 --count 1000
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
touch "$T/writer.done"
wait $RPID
LAB_PIDS=
read -r reads bad parsed inodes <"$T/reader"
diag "1000 rewrites in ${secs}s; $reads reads, $parsed through promtool, $inodes distinct files seen"
expect_eq "1000 rewrites (--interval 0 --count 1000): exit 0" "$rc" 0
expect_ge "the reader read the file many times during them" "$reads" 100
# (inode numbers are reused: a count of the ones seen, not of the rewrites)
expect_ge "...and saw it replaced (distinct inodes)" "$inodes" 2
expect_ge "...promtool parsed the sampled reads" "$parsed" 4
expect_eq "no read was half written" "$bad" 0
[ -e "$T/bad.1" ] && diag "first bad read ends: $(tail -c 120 "$T/bad.1" | tr '\n' '|')"
expect_eq "no temporary file is left" "$(ls -A "$DIR")" "synguard_$SRV_IF.prom"

# --- stops on SIGTERM while waiting ---------------------------------------------------
"$SYNGUARD" --netns "$NS_S" export $SRV_IF --textfile "$DIR" >"$T/out" 2>&1 &
EPID=$!
LAB_PIDS="$EPID"
sleep 0.5
kill -TERM $EPID
for i in $(seq 30); do kill -0 $EPID 2>/dev/null || break; sleep 0.1; done
kill -0 $EPID 2>/dev/null && { not_ok "SIGTERM during the 15 s wait ends it at once"; kill -KILL $EPID; } ||
	ok "SIGTERM during the 15 s wait ends it at once"
wait $EPID
expect_eq "...exit 0" "$?" 0
LAB_PIDS=

# --- follows a re-attach and a detach, as a scrape does -------------------------------
F=$DIR/synguard_$SRV_IF.prom
prog_in_file() { sed -n 's/^synguard_info{.*prog_id="\([0-9]*\)".*/\1/p' "$F"; }
"$SYNGUARD" --netns "$NS_S" export $SRV_IF --textfile "$DIR" --interval 0.2 >"$T/out" 2>&1 &
EPID=$!
LAB_PIDS="$EPID"
sleep 0.6
old=$(prog_in_file)
check "attach --force under a running --textfile" sg attach $SRV_IF --force
# (attach --force replaces the programs in place: synguard_up stays 1.)
for i in $(seq 50); do p=$(prog_in_file); [ -n "$p" ] && [ "$p" != "$old" ] && break; sleep 0.1; done
check "the file names the new program ($old -> $(prog_in_file))" \
	test -n "$old" -a "$(prog_in_file)" != "$old" -a "$(grep -c '^synguard_up 1$' "$F")" = 1
check "detach under it" sg detach $SRV_IF
for i in $(seq 30); do grep -q '^synguard_up 0$' "$F" && break; sleep 0.1; done
check "the file then says synguard_up 0, and nothing else" \
	bash -c '[ "$(grep -vc "^#" "$1")" = 1 ] && grep -q "^synguard_up 0$" "$1"' _ "$F"
kill -TERM $EPID; wait $EPID
LAB_PIDS=

tap_done
