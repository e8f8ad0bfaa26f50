#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The documents cannot drift from the CLI.  The man page, docs/synguard.8:
# man renders it without a warning, groff -ww and mandoc -T lint find
# nothing; every command `synguard --help` lists, every option a command's
# --help names, every policy key (`synguard config --help`, printed from
# the key table in user/policy.c), every counter and drop reason (the lists
# in include/synguard.h) and every exit code is in it, and every key,
# counter and reason it describes is one the code knows.  docs/example.conf
# names every key too.  The README states the two commands (CI runs its
# test command), has every command, key and exit code in its tables, and
# points to the man page, docs/design.md and BENCHMARKS.md; BENCHMARKS.md
# has a section for every part `make bench` prints; README and
# docs/design.md keep to 80 columns outside tables.  No root, no lab.
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

# --- counters and drop reasons --------------------------------------------------------
# names: the "..." of X(ID, "name") in one of include/synguard.h's lists
names() {
	awk -v l="#define $1(X)" 'index($0, l) == 1 { on = 1 } on { print } on && !/\\$/ { exit }' \
		"$TOP/include/synguard.h" | grep -oE 'X\([A-Z0-9_]+, *"[a-z0-9_]+"' |
		sed -E 's/.*"(.*)"/\1/' | sort -u
}
# tags: the names the .TP tags of a section of the page's source give
# (".B syn\fR, \fPsynack" -> syn synack)
tags() {
	awk -v s=".SH $1" '/^\.SH/ { on = ($0 == s) } on && prev == ".TP" { print } { prev = $0 }' "$MAN" |
		sed -E 's/^\.[BI]R? //; s/\\f[BIRP]//g' | grep -oE '[a-z][a-z0-9_]*' | sort -u
}
for l in "SG_STAT_LIST:COUNTERS" "SG_REASON_LIST:DROP REASONS"; do
	list=${l%%:*} sec=${l#*:}
	want=$(names "$list")
	expect_ge "$list names (include/synguard.h)" "$(wc -w <<<"$want")" 20
	got=$(tags "$sec")
	expect_eq "every name of $list is under $sec" \
		"$(comm -23 <(echo "$want") <(echo "$got") | tr '\n' ' ')" ""
	expect_eq "every name under $sec is one of $list" \
		"$(comm -13 <(echo "$want") <(echo "$got") | tr '\n' ' ')" ""
done

# --- README -------------------------------------------------------------------------------
README=$TOP/README.md
# The two commands, each on a line of its own in an indented block.
for c in "make demo" "make test"; do
	grep -qE "^    $c( |$)" "$README" && ok "README states \`$c\`" ||
		not_ok "README states \`$c\`"
done
# A README table's first column: "| `attach IFACE ...` |" -> attach
col1() { awk -v h="$1" '/^## / { on = ($0 == h); next } on && /^\| `/' "$README" |
	sed -E 's/^\| `([^`]*)`.*/\1/'; }
missing=
for c in $cmds; do
	col1 "## Commands" | grep -qE "^([a-z]+\\\\?\|)*$c( |\\\\|\||$)" || missing+=" $c"
done
expect_eq "every command is in the README's commands table" "${missing# }" ""
missing=
rkeys=$(awk '/^## Policy keys/ { on = 1; next } /^## / { on = 0 } on && /^\| `/' "$README" |
	cut -d'|' -f2 | grep -oE '`[a-z0-9_]+`' | tr -d '`' | sort -u)
missing=$(comm -23 <(sort -u <<<"$keys") <(echo "$rkeys") | tr '\n' ' ')
expect_eq "every policy key is in the README's table" "${missing% }" ""
unknown=$(comm -13 <(sort -u <<<"$keys") <(echo "$rkeys") | tr '\n' ' ')
expect_eq "every key of the README's table is one the CLI knows" "${unknown% }" ""
rcodes=$(awk '/^## Exit codes/ { on = 1; next } /^## / { on = 0 } on && /^\| [0-9] \|/ { print $2 }' "$README")
expect_eq "the README's exit codes are those of --help" "$(echo $rcodes)" "$(echo $codes)"
missing=
for f in docs/synguard.8 docs/design.md BENCHMARKS.md; do
	grep -qF "$f" "$README" || missing+=" $f"
done
expect_eq "the README points to the man page, design.md and BENCHMARKS.md" "${missing# }" ""

# --- BENCHMARKS.md: a section for each part make bench prints -----------------------------
parts=$(cat "$TOP"/tests/bench/*.sh "$TOP"/tests/bench/*.c 2>/dev/null |
	grep -oE '## Part [0-9]+: [^"\\%]*' | sed -E 's/ +$//' | sort -u)
expect_ge "make bench prints its parts" "$(grep -c . <<<"$parts")" 4
missing=
while read -r h; do
	# bench_paths prints its CPU: "## Part 1: per-path cost (bench_paths, CPU "
	grep -qF -- "$h" "$TOP/BENCHMARKS.md" || missing+=" [$h]"
done <<<"$parts"
expect_eq "BENCHMARKS.md has a section for every part make bench prints" "${missing# }" ""

# --- line width -------------------------------------------------------------------------------
# Tables, URLs and the two commands (kept as they are) may be wider.
wide=$(awk 'length > 80 && !/^\|/ && !/:\/\// && !/^    make (demo|test) / { print FILENAME ":" FNR }' \
	"$README" "$TOP/docs/design.md" | sed "s|$TOP/||")
expect_eq "README.md and docs/design.md: no line over 80 columns outside tables" "${wide:-none}" none

tap_done
