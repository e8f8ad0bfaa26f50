#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make bench`: the machine, then every benchmark's table, as markdown.
# Benchmarks are not tests: they report targets met or missed and fail only
# when they could not measure.  Root: BPF_PROG_TEST_RUN and the netns lab.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$TOP/build}
if [ "$(id -u)" != 0 ]; then echo "bench: must run as root" >&2; exit 4; fi

echo "# synguard benchmarks"
echo
echo "| machine | |"
echo "|---|---|"
echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
echo "| CPUs (nproc) | $(nproc) |"
echo "| CPU model | $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo) |"
echo "| kernel | $(uname -r) |"
echo "| clang | $(clang --version | head -1) |"
echo "| libbpf | $(pkg-config --modversion libbpf 2>/dev/null || echo unknown) |"
echo "| commit | $(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown) |"
echo

rc=0
# The min of 9 rounds: on a shared machine a neighbour only ever adds time
# (the table shows the ratio of the medians beside it).
"$OUT/bench_paths" -n 9 -m || rc=1

# Parts 3 and 4: netns labs flooded by sg-flood (build/sg-flood, make all).
"$TOP/tests/bench/bench_drop.sh" || rc=1
"$TOP/tests/bench/bench_flood.sh" || rc=1
"$TOP/tests/bench/bench_wrk.sh" || rc=1

echo "## Part 5: scale (bench_scale)"
echo
for max in 1000000 1048576 1050000; do
	"$OUT/bench_scale" -f 1000000 -m $max || rc=1
done
"$TOP/tests/bench/bench_scale.sh" || rc=1

# Part 6: the SYN cookie path (issue 18): answers against the reflector,
# the selftest synproxy and the kernel's cookies; then flood capacity.
"$TOP/tests/bench/bench_cookie.sh" || rc=1
"$TOP/tests/bench/bench_capacity.sh" || rc=1
exit $rc
