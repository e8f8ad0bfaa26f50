#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard export` on bad input and at its end:
#   - an unknown interface exits 2, one not attached 3, each in one line;
#   - a --listen that is not a numeric ADDR:PORT (or [V6ADDR]:PORT) exits 2
#     in one line, before it looks at the interface;
#   - a port already in use exits 1 and says so;
#   - SIGTERM (and SIGINT) stop it with exit 0, and the port is free again.
# A lab gives it a real interface (srv0 in the server namespace); every
# exporter listens on 127.0.0.1 inside that namespace, runs under `timeout`
# and is stopped on every exit path.  No traffic leaves the lab.
set -u
. "$(dirname "$0")/../lib.sh"

PORT=19475

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP
NOSUCH=sgx$LAB_ID		# an interface name neither the host nor the lab has

# bad DESC RC PATTERN ARGS...: `synguard ARGS` exits RC with exactly one
# line on stderr matching PATTERN (extended regex, any case) and nothing on
# stdout.  Bounded: a bad case that serves instead would hang the suite.
bad() {
	local desc=$1 want=$2 pat=$3
	shift 3
	refused_1line "$desc" "$want" "$pat" timeout 10 "$SYNGUARD" "$@"
}

# start_export ADDR:PORT [NAME]: an exporter on ADDR:PORT in the server
# netns, in the background; its pid (timeout's) in EXP_PID and LAB_PIDS.
start_export() {
	timeout 60 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --listen "$1" \
		>"$T/export${2:-}.out" 2>"$T/export${2:-}.err" &
	EXP_PID=$!
	LAB_PIDS+=" $EXP_PID"
}
# stop_export SIG: SIGSIG to the exporter of start_export; it exits 0 and
# its port is free again.
stop_export() {
	local rc
	kill -"$1" "$(exporter_of $EXP_PID)" 2>/dev/null
	wait $EXP_PID
	rc=$?
	LAB_PIDS=
	expect_eq "SIG$1: exit 0" "$rc" 0
	check "SIG$1: the port is free again" bash -c "! ip netns exec $NS_S ss -Htln 'sport = :$PORT' | grep -q ."
}

answers() { ip netns exec "$NS_S" curl -g -s -o /dev/null --max-time 2 "http://$1/metrics"; }
# The synguard that timeout runs for EXP_PID.
exporter_of() { pgrep -P "$1"; }

diag "lab $LAB_ID; nonexistent interface $NOSUCH"
if ip link show "$NOSUCH" >/dev/null 2>&1; then not_ok "$NOSUCH must not exist"; tap_done; fi

"$SYNGUARD" export --help >"$T/out" 2>"$T/err"
rc=$?
expect_eq "export --help exits 0" "$rc" 0
check "export --help: the usage names --listen" grep -q -- "--listen" "$T/out"

# --- the interface ---------------------------------------------------------------
bad "unknown interface"			2 "unknown interface.*$NOSUCH" export "$NOSUCH"
bad "unknown interface in a netns"	2 "unknown interface.*$NOSUCH" --netns "$NS_S" export "$NOSUCH"
bad "no interface"			2 "one interface" export
bad "two interfaces"			2 "one interface" --netns "$NS_S" export $SRV_IF lo
bad "unknown netns"			2 "nope.*not found|not found.*nope" --netns nope export $SRV_IF
bad "nothing attached to srv0"		3 "not attached" --netns "$NS_S" export $SRV_IF \
	--listen 127.0.0.1:$PORT
bad "--listen without a value"		2 "listen" --netns "$NS_S" export $SRV_IF --listen

# --- --listen: checked before anything else, so srv0 needs no attachment --------
for spec in 1.2.3.4 :80 127.0.0.1:0 127.0.0.1:70000 '[::1:80' host:80 localhost:80 \
	    127.0.0.1: 127.0.0.1:80x 127.0.0.1:-1 '127.0.0.1: 80' 1.2.3:80 '[]:80' \
	    ::1:80 '[127.0.0.1]:80' '' ; do
	bad "--listen '$spec': exit 2" 2 "--listen.*ADDR:PORT" \
		--netns "$NS_S" export $SRV_IF --listen "$spec"
done
bad "--listen 'host:80' on an unknown interface: still the --listen" 2 "--listen" \
	--netns "$NS_S" export "$NOSUCH" --listen host:80

# --- serving, port in use, SIGTERM -------------------------------------------------
check "attach srv0" sg attach $SRV_IF
start_export 127.0.0.1:$PORT
check "an exporter on 127.0.0.1:$PORT answers" until_ok 50 answers 127.0.0.1:$PORT
bad "the same port again: exit 1, in use" 1 "cannot listen on 127\.0\.0\.1:$PORT: address already in use" \
	--netns "$NS_S" export $SRV_IF --listen 127.0.0.1:$PORT
check "... and the first one still answers" answers 127.0.0.1:$PORT
start_export "[::1]:$PORT" 6
check "an exporter on [::1]:$PORT answers too" until_ok 50 answers "[::1]:$PORT"
bad "the same [::1]:PORT again: exit 1, the message names it whole" 1 \
	"cannot listen on \[::1\]:$PORT: address already in use" \
	--netns "$NS_S" export $SRV_IF --listen "[::1]:$PORT"
lab_stop_pids
start_export "127.0.0.1:$PORT"
until_ok 50 answers "127.0.0.1:$PORT"

stop_export TERM
check "SIGTERM: nothing on stderr" test ! -s "$T/export.err"
start_export 127.0.0.1:$PORT 2
check "SIGTERM: a new exporter binds the same port at once" until_ok 50 answers 127.0.0.1:$PORT
stop_export INT

# A scraper that connects and says nothing does not keep SIGTERM waiting
# for long (the exporter reads a request for at most 2 s).
start_export 127.0.0.1:$PORT 3
until_ok 50 answers 127.0.0.1:$PORT
ip netns exec "$NS_S" timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; sleep 5" &
SILENT=$!
sleep 0.3
pid=$(exporter_of $EXP_PID)
SECONDS=0
kill -TERM "$pid" 2>/dev/null
wait $EXP_PID
rc=$?
LAB_PIDS=
expect_eq "SIGTERM with a silent client connected: exit 0" "$rc" 0
expect_ge "... within 3 s" $((3 - SECONDS)) 0
kill "$SILENT" 2>/dev/null
wait "$SILENT" 2>/dev/null

check "detach srv0" sg detach $SRV_IF
tap_done
