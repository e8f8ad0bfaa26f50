#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard stats` on a million flows: attach synguard to the lab server's
# srv0 (a netns lab from tests/lib.sh; never the host's interfaces) with
# --flows-max 1000000, fill the attachment's pinned maps with real
# handshakes through bench_scale -p, then time `synguard --netns NS stats
# srv0 --json`, median of 5.  No traffic crosses the lab: the handshakes
# are BPF_PROG_TEST_RUN frames.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib.sh"
BENCH_SCALE=${BENCH_SCALE:-$TOP/build/bench_scale}
FLOWS=${FLOWS:-1000000}
TARGET_MS=100

lab_up || { echo "bench_scale.sh: cannot build the lab" >&2; exit 1; }
if ! sg attach $SRV_IF --flows-max $FLOWS >/dev/null; then
	echo "bench_scale.sh: attach failed" >&2
	exit 1
fi
dir=/sys/fs/bpf/synguard/netns/$NS_S/$SRV_IF
[ -e "$dir/sg_flows" ] || { echo "bench_scale.sh: no pins in $dir" >&2; exit 1; }
"$BENCH_SCALE" -p "$dir" -f $FLOWS || exit 1

times=()
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	sg stats $SRV_IF --json > "$LAB_TMP/stats.json" || { echo "bench_scale.sh: stats failed" >&2; exit 1; }
	t1=$(date +%s%N)
	times+=($(( (t1 - t0) / 1000 )))
done
median_us=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
est=$(jq -r '.flows.established' "$LAB_TMP/stats.json")
entries=$(jq -r '.flows.flow_entries' "$LAB_TMP/stats.json")
fmax=$(jq -r '.flows.flows_max' "$LAB_TMP/stats.json")
ms=$(awk -v u="$median_us" 'BEGIN { printf "%.1f", u / 1000 }')
met=$(awk -v u="$median_us" -v t=$TARGET_MS 'BEGIN { print (u / 1000 < t) ? "met" : "**missed**" }')
all=$(printf '%s ' "${times[@]}" | awk '{ for (i = 1; i <= NF; i++) printf "%s%.0f", (i > 1 ? ", " : ""), $i / 1000 }')
echo "### \`synguard --netns NS stats srv0 --json\` on the attachment above"
echo
echo "| measure | value |"
echo "|---|---|"
echo "| flows it reports (established / flow_entries / flows_max) | $est / $entries / $fmax |"
echo "| wall time, median of 5 (each: $all ms) | $ms ms: target < $TARGET_MS ms, $met |"
echo
