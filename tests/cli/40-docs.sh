#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The man page, docs/synguard.8: man renders it without a warning, groff
# -ww and mandoc -T lint find nothing, and it cannot drift from the CLI:
# every command `synguard --help` lists, every option a command's --help
# names, every policy key (`synguard config --help`, printed from the key
# table in user/policy.c) and every exit code is in it, and every key it
# describes is one the CLI knows.  docs/example.conf names every key too.
# No root, no lab.
set -u
. "$(dirname "$0")/../lib.sh"
MAN=$TOP/docs/synguard.8
T=$(mktemp -d /tmp/sgdocs.XXXXXX)
trap 'rm -rf "$T"' EXIT

# --- it renders cleanly ---------------------------------------------------------
MANWIDTH=80 man --warnings -l "$MAN" >"$T/man.txt" 2>"$T/err"
rc=$?
expect_eq "man -l renders it (exit 0, nothing on stderr)" "$rc:$(cat "$T/err")" "0:"
expect_ge "...into a page of some length (lines)" "$(wc -l <"$T/man.txt")" 300
groff -ww -man -z "$MAN" 2>"$T/err"
rc=$?
expect_eq "groff -ww -man -z: no warning" "$rc:$(cat "$T/err")" "0:"
if command -v mandoc >/dev/null; then
	mandoc -T lint -W all "$MAN" >"$T/err" 2>&1
	rc=$?
	expect_eq "mandoc -T lint -W all: nothing to say" "$rc:$(cat "$T/err")" "0:"
else
	skip "mandoc -T lint" "no mandoc (make deps installs it)"
fi

# The rendered text, wide and without overstrikes, to search in.
MANWIDTH=400 man -l "$MAN" 2>/dev/null | col -b >"$T/page"
# section NAME: the rendered lines of one section
section() { awk -v s="$1" '/^[A-Z]/ { on = ($0 == s); next } on' "$T/page"; }

# --- commands ------------------------------------------------------------------
cmds=$("$SYNGUARD" --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
	on && /^  [a-z]/ { gsub(/\|/, " ", $1); print $1 }' | tr ' ' '\n' | sort -u)
expect_ge "synguard --help lists commands" "$(wc -w <<<"$cmds")" 10
missing=
for c in $cmds; do
	# a subsection of COMMANDS headed by it, and a SYNOPSIS line
	section COMMANDS | grep -qE "^   ([a-z]+\|)*$c(\||[[:space:]]|$)" || missing+=" $c(COMMANDS)"
	section SYNOPSIS | grep -qE "synguard ([a-z]+\|)*$c(\||[[:space:]]|$)" || missing+=" $c(SYNOPSIS)"
done
expect_eq "every command has its subsection and synopsis line" "${missing# }" ""

# --- options ---------------------------------------------------------------------
keys=$("$SYNGUARD" config --help | awk '/Keys:$/ { on = 1; next } on { print $1 }')
expect_ge "synguard config --help lists the policy keys" "$(wc -w <<<"$keys")" 20
missing=
for c in $cmds; do
	for o in $("$SYNGUARD" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		# --src-rate and the like: the policy keys, as --KEY
		grep -qx "${o#--}" <<<"${keys//_/-}" && continue
		[ "$o" = --key-with-dashes ] && continue	# the form of those: --KEY
		grep -qF -- "$o" "$T/page" || missing+=" $c:$o"
	done
done
for o in --netns --verbose --help --version; do
	section OPTIONS | grep -qF -- "$o" || missing+=" $o"
done
expect_eq "every option of every command's --help is in the page" "${missing# }" ""

# --- policy keys -------------------------------------------------------------------
# The tags of POLICY KEYS: "       src_rate N|off", "       prefix4 N, prefix6 N".
tags=$(section "POLICY KEYS" | awk '/^       [a-z]/ && !/^        / { print }' |
	sed -E 's/^ +//' | grep -oE '(^|, )[a-z][a-z0-9_]*' | tr -d ', ' | sort -u)
missing=$(comm -23 <(sort -u <<<"$keys") <(echo "$tags") | tr '\n' ' ')
expect_eq "every policy key the CLI knows is described under POLICY KEYS" "${missing% }" ""
unknown=$(comm -13 <(sort -u <<<"$keys") <(echo "$tags") | tr '\n' ' ')
expect_eq "every key POLICY KEYS describes is one the CLI knows" "${unknown% }" ""

# --- exit codes ----------------------------------------------------------------------
codes=$("$SYNGUARD" --help | sed -n '/^exit codes:/,$p' | grep -oE '\b[0-9] [a-z]' | cut -c1)
missing=
for n in $codes; do
	section "EXIT STATUS" | grep -qE "^       $n( |$)" || missing+=" $n"
done
expect_eq "exit codes $(echo $codes) of --help each under EXIT STATUS" "${missing# }" ""

# --- files and the example config -----------------------------------------------------
for f in /sys/fs/bpf/synguard/IFACE/ /etc/synguard/IFACE.conf synguard@.service; do
	section FILES | grep -qF "$f" && ok "FILES names $f" || not_ok "FILES names $f"
done
missing=
for k in $keys; do
	grep -qE "^#?$k=" "$TOP/docs/example.conf" || missing+=" $k"
done
expect_eq "docs/example.conf shows every key" "${missing# }" ""

tap_done
