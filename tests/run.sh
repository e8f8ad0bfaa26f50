#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the suites (default: all) and merges their TAP into one stream,
# ending with "N passed, N failed, N skipped".   tests/run.sh [unit] [cli] [integration]
set -u
cd "$(dirname "$0")/.."
suites=${*:-unit cli integration}
pass=0 fail=0 skipped=0 todo=0 n=0

# Renumbers the TAP lines of one test program into the whole run's; a
# program that exits non-zero without a failed test line is a failure too.
run_one() {
	local line st rest rc=1 failed_here=0
	echo "# $1"
	while IFS= read -r line; do
		case $line in
		"not ok "*) st="not ok" ;;
		"ok "*) st=ok ;;
		__rc=*) rc=${line#__rc=}; continue ;;
		*" passed, "*" failed"*) continue ;;	# the program's own summary
		*) echo "$line"; continue ;;
		esac
		rest=${line#"$st" }
		rest=${rest#* }		# drop the program's own number
		n=$((n + 1))
		echo "$st $n $rest"
		# TAP's TODO: a known open defect, expected to fail; counted
		# with the skipped, its reason in the line.
		if [ "$st" = "not ok" ] && [[ $rest == *"# TODO "* ]]; then todo=$((todo + 1))
		elif [ "$st" = "not ok" ]; then fail=$((fail + 1)); failed_here=1
		elif [[ $rest == *"# SKIP"* ]]; then skipped=$((skipped + 1))
		else pass=$((pass + 1)); fi
	done < <("$1" 2>&1; echo "__rc=$?")
	if [ "$rc" != 0 ] && [ $failed_here = 0 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $1 exited with status $rc"
	fi
}

for s in $suites; do
	case $s in
	unit) progs="build/test_xdp build/test_policy build/test_flow build/test_cookie" ;;
	cli) progs=$(ls tests/cli/*.sh 2>/dev/null) ;;
	integration) progs=$(ls tests/integration/*.sh 2>/dev/null) ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
	for p in $progs; do run_one "$p"; done
done
[ "$todo" = 0 ] || echo "# $todo known open defects (not ok ... # TODO), counted as skipped"
echo "$pass passed, $fail failed, $((skipped + todo)) skipped"
[ "$fail" = 0 ]
