#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `synguard export` in the netns lab, scraped by a real Prometheus:
#   - after real traffic (curl to nginx) and malformed classes (hping3),
#     /metrics passes `promtool check metrics` with no lint at all; every
#     line is a HELP, a TYPE or a synguard_ sample; counters end in _total
#     and nothing else does; each value is what `stats --json` says;
#   - another path is a 404;
#   - a Prometheus server scrapes it every second: `up` is 1, a drop reason
#     it stores is the one stats reports, and the handshake latency
#     histogram is there to query; it evaluates monitoring/'s alert rules
#     without an error, and none fires.
# The exporter and Prometheus listen on 127.0.0.1 inside the server netns
# only; both are stopped (and waited for) on every exit path.
set -u
. "$(dirname "$0")/../lib.sh"

EXP_PORT=19474
PROM_PORT=19090
EXP_URL=http://127.0.0.1:$EXP_PORT
PROM_URL=http://127.0.0.1:$PROM_PORT

lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP

# until_ok TRIES CMD...: CMD every 0.2 s until it succeeds, at most TRIES times.
scrape() { in_srv curl -s --max-time 5 "$EXP_URL${1:-/metrics}"; }
# Prometheus's HTTP API: the value of an instant query, "" when it has none.
promq() {
	in_srv curl -s --max-time 5 -G "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .status == "success" and (.data.result | length) == 1
		       then .data.result[0].value[1] else "" end'
}
# Nothing listens on PORT in the root netns (nor in the server's, with ns).
no_listener() { ${2:+ip netns exec "$2"} ss -Htln "sport = :$1" | grep -q . && return 1; return 0; }

# --- traffic --------------------------------------------------------------------
check "nginx starts in the server namespace" lab_nginx
check "attach srv0 --src-rate 100" sg attach $SRV_IF --src-rate 100
expect_eq "20 fetches from the client" "$(lab_fetch 20)" 20
H=(lab_hping $SRV_IP -p 80)
"${H[@]}" -S -F -c 7		# syn_fin
"${H[@]}" -S -R -c 5		# syn_rst
"${H[@]}" -c 4			# no_flags
"${H[@]}" -F -P -U -c 3		# no_ack (XMAS)
"${H[@]}" -O 15 -S -c 2		# tcp_doff_beyond
# Wait until the drops are all counted and hold still.
settled() {
	local a b
	a=$(sg_counter verdicts.drop)
	sleep 0.3
	b=$(sg_counter verdicts.drop)
	[ "$a" = "$b" ] && [ "$b" -ge 21 ]
}
check "the 21 malformed frames are counted" until_ok 100 settled

# --- the exporter -------------------------------------------------------------------
timeout 300 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --listen 127.0.0.1:$EXP_PORT \
	>"$T/export.out" 2>"$T/export.err" &
LAB_PIDS+=" $!"
check "the exporter answers on 127.0.0.1:$EXP_PORT in the server netns" \
	until_ok 100 scrape
check "it says where it serves, on stdout, while it runs" \
	grep -q "serving /metrics for $SRV_IF on 127.0.0.1:$EXP_PORT" "$T/export.out"
check "nothing listens on :$EXP_PORT in the root netns" no_listener $EXP_PORT

# A scrape between two stats snapshots: a value both snapshots agree on is
# the one the scrape must show (ARP and ND may move a few in between).
stats_scrape() {
	sg stats $SRV_IF --json >"$T/s1.json" &&
	scrape >"$T/metrics" &&
	sg stats $SRV_IF --json >"$T/s2.json"
}
check "stats, scrape, stats" stats_scrape
diag "$(grep -c . "$T/metrics") lines, $(grep -c '^# TYPE' "$T/metrics") metric families"

promtool check metrics <"$T/metrics" >"$T/promtool.out" 2>&1
rc=$?
expect_eq "promtool check metrics exits 0" "$rc" 0
expect_eq "promtool check metrics has nothing to say" "$(cat "$T/promtool.out")" ""
sed 's/^/#   promtool: /' "$T/promtool.out" | head -10

expect_eq "every line is # HELP, # TYPE or a synguard_ sample" \
	"$(grep -Ev '^(# (HELP|TYPE) synguard_[a-z0-9_]+ .|synguard_[a-z0-9_]+(\{[^}]*\})? [0-9.e+-]+$)' "$T/metrics" | head -3)" ""
expect_eq "counters end in _total" \
	"$(awk '$1 == "#" && $2 == "TYPE" && $4 == "counter" && $3 !~ /_total$/ {print $3}' "$T/metrics")" ""
expect_eq "gauges and histograms do not end in _total" \
	"$(awk '$1 == "#" && $2 == "TYPE" && $4 != "counter" && $3 ~ /_total$/ {print $3}' "$T/metrics")" ""
expect_eq "every sample belongs to a family with a TYPE line" \
	"$(awk '$1 == "#" && $2 == "TYPE" { fam[$3] = $4; next }
		/^#/ { next }
		{ n = $1; sub(/\{.*/, "", n); b = n; sub(/_(bucket|sum|count)$/, "", b)
		  if (!(n in fam) && fam[b] != "histogram") print n }' "$T/metrics" | head -3)" ""

# metric VALUE: the value of one sample, by its name and labels as printed.
metric() { awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"; }
# The stats JSON as the samples the exporter must print for it (the
# verdicts, which JSON also has among its counters, are one family).
AS_METRICS='
	(.verdicts | to_entries[] | "synguard_verdicts_total{verdict=\"\(.key)\"} \(.value)"),
	(.drops | to_entries[] | "synguard_drops_total{reason=\"\(.key)\"} \(.value)"),
	(.counters | to_entries[] | select(.key | IN("pass", "drop", "would_drop") | not) |
		"synguard_\(.key)_total \(.value)"),
	(.flows | to_entries[] | select(.key | test("^time_wait_total$|_entries$|_max$") | not) |
		"synguard_flows{state=\"\(.key)\"} \(.value)"),
	"synguard_handshakes_failed \(.handshakes.failed)",
	"synguard_flow_table_entries{table=\"half_open\"} \(.flows.half_open_entries)",
	"synguard_flow_table_entries{table=\"flows\"} \(.flows.flow_entries)",
	"synguard_flow_table_size{table=\"half_open\"} \(.flows.half_open_max)",
	"synguard_flow_table_size{table=\"flows\"} \(.flows.flows_max)",
	"synguard_handshake_latency_seconds_count{phase=\"syn_to_synack\"} \(.latency.syn_to_synack_us.samples)",
	"synguard_handshake_latency_seconds_count{phase=\"synack_to_ack\"} \(.latency.synack_to_ack_us.samples)"'
jq -r "$AS_METRICS" "$T/s1.json" | sort >"$T/want1"
jq -r "$AS_METRICS" "$T/s2.json" | sort >"$T/want2"
comm -12 "$T/want1" "$T/want2" >"$T/want"
diag "$(wc -l <"$T/want") samples to compare, $(comm -3 "$T/want1" "$T/want2" | wc -l) moved between the snapshots"
missing=$(awk '/^#/ { next } { print $1, $2 }' "$T/metrics" | sort | comm -13 - "$T/want")
expect_eq "every value stats --json holds still on is the scraped one" "$(echo "$missing" | head -5)" ""
expect_eq "the scrape has every sample stats implies" \
	"$(comm -3 <(cut -d' ' -f1 "$T/want1" | sort) \
		   <(awk '/^#/ { next } { print $1 }' "$T/metrics" | sort) |
	   grep -Ev '^[[:space:]]*synguard_(info|handshake_latency_seconds_(bucket|sum))\{|^[[:space:]]*synguard_up$|^[[:space:]]*synguard_(attack|top_source)[a-z_]*(\{|$)')" ""
expect_eq "synguard_up 1: attached and read" "$(metric synguard_up)" 1
# Attack mode's section, from the policy and sg_attack rather than counters.
expect_eq "synguard_attack_active == stats .attack.active" \
	"$(metric synguard_attack_active)" "$(jq -r 'if .attack.active then 1 else 0 end' "$T/s2.json")"
expect_eq "the attack section has its thresholds (syn_rate, half_open)" \
	"$(grep -c '^synguard_attack_threshold{threshold="\(syn_rate\|half_open\)"' "$T/metrics")" 2

# The four the issue names, one by one, with their figures.
j() { jq -r "$1" "$T/s2.json"; }
for pair in 'synguard_verdicts_total{verdict="drop"} .verdicts.drop' \
	    'synguard_drops_total{reason="syn_fin"} .drops.syn_fin' \
	    'synguard_hs_completed_total .handshakes.completed' \
	    'synguard_flows{state="time_wait_remote"} .flows.time_wait_remote'; do
	m=${pair% *} k=${pair##* }
	expect_eq "$m == stats $k ($(j "$k"))" "$(metric "$m")" "$(j "$k")"
done
expect_eq "drops.syn_fin is the 7 hping3 sent" "$(j .drops.syn_fin)" 7
expect_ge "handshakes.completed counts the 20 fetches" "$(j .handshakes.completed)" 20
expect_ge "flows.time_wait_remote: the clients closed first" "$(j .flows.time_wait_remote)" 1

check "the histogram's +Inf bucket is its count" bash -c '
	for p in syn_to_synack synack_to_ack; do
		inf=$(awk -v k="synguard_handshake_latency_seconds_bucket{phase=\"$p\",le=\"+Inf\"}" "\$1 == k {print \$2}" "$1")
		cnt=$(awk -v k="synguard_handshake_latency_seconds_count{phase=\"$p\"}" "\$1 == k {print \$2}" "$1")
		[ -n "$inf" ] && [ "$inf" = "$cnt" ] || exit 1
	done' _ "$T/metrics"

code=$(in_srv curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$EXP_URL/")
expect_eq "GET / is a 404" "$code" 404
code=$(in_srv curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$EXP_URL/metricsx")
expect_eq "GET /metricsx is a 404" "$code" 404
ctype=$(in_srv curl -s -o /dev/null -w '%{content_type}' --max-time 5 "$EXP_URL/metrics")
expect_eq "Content-Type of the text format" "$ctype" "text/plain; version=0.0.4"

# --- a real Prometheus ---------------------------------------------------------------
if ! command -v prometheus >/dev/null; then
	skip "Prometheus scrapes the exporter" "no prometheus (make deps installs it)"
	tap_done
fi
cat >"$T/prometheus.yml" <<PROM
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: ['$TOP/monitoring/synguard.rules.yml']
scrape_configs:
  - job_name: synguard
    static_configs:
      - targets: ['127.0.0.1:$EXP_PORT']
PROM
timeout 300 ip netns exec "$NS_S" prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/tsdb" --web.listen-address=127.0.0.1:$PROM_PORT \
	>"$T/prometheus.log" 2>&1 &
LAB_PIDS+=" $!"
ready() { [ "$(in_srv curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$PROM_URL/-/ready")" = 200 ]; }
if until_ok 300 ready; then
	ok "Prometheus is ready on 127.0.0.1:$PROM_PORT in the server netns"
else
	not_ok "Prometheus is ready on 127.0.0.1:$PROM_PORT in the server netns"
	tail -5 "$T/prometheus.log" | sed 's/^/#   prometheus: /'
fi
check "nothing listens on :$PROM_PORT in the root netns" no_listener $PROM_PORT

want=$(sg_counter drops.syn_fin)
same_syn_fin() { [ "$(promq 'synguard_drops_total{reason="syn_fin"}')" = "$want" ]; }
SECONDS=0
check "Prometheus stores synguard_drops_total{reason=\"syn_fin\"} == stats ($want)" until_ok 200 same_syn_fin
diag "first matching query after ${SECONDS}s"
expect_eq 'up{job="synguard"} == 1' "$(promq 'up{job="synguard"}')" 1
expect_eq 'synguard_up == 1' "$(promq synguard_up)" 1
n=$(promq 'synguard_handshake_latency_seconds_count{phase="synack_to_ack"}')
expect_ge "synguard_handshake_latency_seconds_count{phase=\"synack_to_ack\"} ($n) > 0" "${n:-0}" 1
expect_eq "... and is stats' latency.synack_to_ack_us.samples" "$n" \
	"$(sg_counter latency.synack_to_ack_us.samples)"
expect_eq 'synguard_hs_completed_total == stats handshakes.completed' \
	"$(promq synguard_hs_completed_total)" "$(sg_counter handshakes.completed)"
p50=$(promq 'histogram_quantile(0.5, synguard_handshake_latency_seconds_bucket{phase="synack_to_ack"})')
diag "histogram_quantile(0.5, synack_to_ack) = ${p50:-none} s"
check "a quantile of the histogram is a number" bash -c '[[ $1 =~ ^[0-9.e+-]+$ ]]' _ "$p50"
# monitoring/'s alert rules, over this scrape: each evaluates without an
# error, and none is pending or firing for a guarded, calm server.
nrules=$(grep -c '^ *- alert:' "$TOP/monitoring/synguard.rules.yml")
rules_ok() {
	in_srv curl -s --max-time 5 "$PROM_URL/api/v1/rules" |
		jq -e --argjson n "$nrules" '[.data.groups[].rules[].health] | length == $n and all(. == "ok")'
}
check "Prometheus evaluates the $nrules rules of monitoring/ without an error" until_ok 100 rules_ok
in_srv curl -s --max-time 5 "$PROM_URL/api/v1/rules" |
	jq -r '.data.groups[].rules[] | select(.health != "ok") | "#   \(.name): \(.health) \(.lastError // "")"'
# An evaluation before the first scrape finds up{job="synguard"} absent
# and puts SynguardExportersAbsent in pending; the next one clears it.
alerts() { in_srv curl -s --max-time 5 "$PROM_URL/api/v1/alerts" |
	jq -r '[.data.alerts[].labels.alertname] | join(" ")'; }
no_alerts() { [ -z "$(alerts)" ]; }
until_ok 50 no_alerts
expect_eq "... and no alert is pending or firing" "$(alerts)" ""

lab_stop_pids
check "the exporter and Prometheus stopped: :$EXP_PORT is free" no_listener $EXP_PORT "$NS_S"
check "... and :$PROM_PORT is free" no_listener $PROM_PORT "$NS_S"
tap_done
