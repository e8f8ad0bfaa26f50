#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# monitoring/: the alert rules and the Grafana dashboard shipped for the
# exporter.
#   - promtool check rules and promtool test rules pass;
#   - the dashboard is JSON, has job and instance variables, and every
#     query selects by both (many hosts in one Prometheus);
#   - every metric any rule expression or dashboard query names is one the
#     exporter really serves: its output is read from a real attachment
#     on srv0 in a lab netns (`export --textfile`, one exposition guarding
#     and one in dry-run), and so is every label value they select;
#   - that check fails when a query names a metric (or selects a label
#     value) that does not exist.
# Nothing listens and no traffic is sent; the lab is removed on every exit.
set -u
. "$(dirname "$0")/../lib.sh"

M=$TOP/monitoring
RULES=$M/synguard.rules.yml
DASH=$M/synguard.dashboard.json

if ! command -v promtool >/dev/null; then
	echo "1..0 # SKIP no promtool (make deps installs it)"
	exit 0
fi
lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP

# --- the rules -------------------------------------------------------------------
promtool check rules "$RULES" >"$T/check.out" 2>&1
expect_eq "promtool check rules $(basename "$RULES")" "$?" 0
grep -q SUCCESS "$T/check.out" || sed "s/^/#   /" "$T/check.out" | head -10
(cd "$M" && promtool test rules synguard.rules.test.yml) >"$T/test.out" 2>&1
expect_eq "promtool test rules synguard.rules.test.yml" "$?" 0
grep -q SUCCESS "$T/test.out" || sed 's/^/#   /' "$T/test.out" | head -30

# --- the dashboard ---------------------------------------------------------------
check "the dashboard is JSON" jq -e . "$DASH"
expect_eq "its template variables: datasource, job, instance" \
	"$(jq -r '[.templating.list[].name] | join(" ")' "$DASH")" "datasource job instance"
expect_eq "every panel query selects by \$job and \$instance" \
	"$(jq -r '.panels[].targets[]?.expr | select(test("job=~\"\\$job\", instance=~\"\\$instance\"") | not)' "$DASH")" ""
expect_eq "every panel query has a legend naming its instance" \
	"$(jq -r '.panels[].targets[]? | select(.legendFormat | test("\\{\\{instance\\}\\}") | not) | .expr' "$DASH")" ""
# Each query parses as PromQL: promtool checks them as recording rules,
# with Grafana's variables given values.
jq -r '[.. | objects | .expr? // empty] | to_entries[] |
	"  - record: dashboard:q\(.key)\n    expr: \(.value | gsub("\\$__rate_interval"; "1m") |
		gsub("\\$job"; "synguard") | gsub("\\$instance"; ".*") | tojson)"' "$DASH" |
	sed '1i groups:\n- name: dashboard\n  rules:' >"$T/dash.rules.yml"
promtool check rules "$T/dash.rules.yml" >"$T/dcheck.out" 2>&1
rc=$?
expect_eq "every dashboard query parses (promtool check rules: $(grep -o '[0-9]* rules found' "$T/dcheck.out"))" "$rc" 0
grep -q SUCCESS "$T/dcheck.out" || sed "s/^/#   /" "$T/dcheck.out" | head -10
expect_eq "panel ids are unique" "$(jq '[.panels[].id] | length == (unique | length)' "$DASH")" true

# --- every metric they name is exported ------------------------------------------
# The exporter's own output, from a real attachment: guarding, then in
# dry-run (a rule selects dry_run="true").
mkdir -p "$T/tf"
# exposition NAME: one exposition of srv0's attachment into $T/NAME.prom.
exposition() {
	timeout 30 "$SYNGUARD" --netns "$NS_S" export $SRV_IF --textfile "$T/tf" --count 1 &&
		mv "$T/tf/synguard_$SRV_IF.prom" "$T/$1.prom"
}
check "attach srv0" sg attach $SRV_IF
check "export --textfile: one exposition" exposition guard
check "attach srv0 --force --dry-run" sg attach $SRV_IF --force --dry-run
check "... and one exposition of it" exposition dry
check "the second is the dry-run one" grep -q 'dry_run="true"' "$T/dry.prom"
cat "$T/guard.prom" "$T/dry.prom" 2>/dev/null >"$T/all.prom"
awk '!/^#/ && NF { sub(/[{ ].*/, "", $1); print $1 }' "$T/all.prom" | sort -u >"$T/exported"
perl -ne 'next if /^#/; next unless /^(\w+)\{(.*)\}\s/; my ($m, $ls) = ($1, $2);
	while ($ls =~ /(\w+)="((?:[^"\\]|\\.)*)"/g) { print "$m $1 $2\n" }' \
	"$T/all.prom" | sort -u >"$T/exported.labels"
expect_ge "the exposition has samples ($(wc -l <"$T/exported") names)" "$(wc -l <"$T/exported")" 40
check "detach srv0" sg detach $SRV_IF

# rule_exprs FILE: each `expr:` of a rules file, one per line (a block
# scalar joined).
rule_exprs() {
	perl -ne 'if (/^(\s*)expr:\s*(\|[-+]?)?\s*(.*)$/) { print "$e\n" if defined $e;
			$e = $2 ? "" : $3; $ind = length $1; $blk = !!$2; next }
		if (defined $e && $blk && (/^\s*$/ || /^(\s*)/ && length($1) > $ind)) { chomp; $e .= " $_"; next }
		if (defined $e) { print "$e\n"; undef $e }
		END { print "$e\n" if defined $e }' "$1"
}
# dash_exprs FILE: every query of a dashboard: panels, annotations, variables.
dash_exprs() {
	jq -r '.. | objects | (.expr?, .definition?, (.query? | objects | .query?)) // empty' "$1"
}
# metric_names: the metric names in the PromQL expressions on stdin, one
# per line: what is left once strings, label matchers, ranges, label lists,
# numbers, keywords and function names are taken out.
# label_values(METRIC{...}, LABEL) (Grafana) is its METRIC.
metric_names() {
	perl -ne 's/label_values\(\s*([^,(){}]*(?:\{[^}]*\})?)\s*,\s*\w+\s*\)/$1/g;
		s/"(?:[^"\\]|\\.)*"//g; s/\{[^}]*\}//g; s/\[[^\]]*\]//g;
		s/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)//g;
		s/\boffset\s+\S+//g; s/(?<![\w:])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?//g;
		while (/([A-Za-z_:][\w:]*)(\s*\()?/g) {
			next if $2 || $1 =~ /^(?:and|or|unless|bool|inf|nan)$/i;
			print "$1\n";
		}' | sort -u
}
# unexported: names the expressions on stdin use that the exposition lacks
# (up is Prometheus's own, per target).
unexported() { metric_names | grep -vx up | comm -23 - "$T/exported"; }
# label_pairs: "METRIC LABEL VALUE" for each label a synguard_ selector on
# stdin matches literally (=, or =~ with a|b|c alternatives; not the
# dashboard's $variables).
label_pairs() {
	perl -ne 'while (/(synguard_\w+)\{([^}]*)\}/g) { my ($m, $sel) = ($1, $2);
			while ($sel =~ /(\w+)\s*(=~|=)\s*"((?:[^"\\]|\\.)*)"/g) {
				my ($l, $op, $v) = ($1, $2, $3);
				next if $v =~ /\$/ || ($op eq "=~" && $v !~ /^[\w|]+$/);
				print "$m $l $_\n" for split /\|/, $v;
			} }' | sort -u
}
# unmatched: label values the expressions on stdin select that no exported
# sample has.
unmatched() { label_pairs | comm -23 - "$T/exported.labels"; }

rule_exprs "$RULES" >"$T/rule.exprs"
dash_exprs "$DASH" >"$T/dash.exprs"
expect_eq "the rules file has 13 expressions" "$(wc -l <"$T/rule.exprs")" 13
metric_names <"$T/rule.exprs" >"$T/rule.names"
metric_names <"$T/dash.exprs" >"$T/dash.names"
diag "rules name $(wc -l <"$T/rule.names") metrics, the dashboard $(wc -l <"$T/dash.names")"
expect_ge "the rules name at least 10 metrics" "$(wc -l <"$T/rule.names")" 10
expect_ge "the dashboard names at least 30" "$(wc -l <"$T/dash.names")" 30
expect_eq "every metric a rule names is exported" "$(unexported <"$T/rule.exprs" | tr '\n' ' ')" ""
expect_eq "every metric the dashboard queries is exported" \
	"$(unexported <"$T/dash.exprs" | tr '\n' ' ')" ""
expect_eq "every label value a rule selects is exported" "$(unmatched <"$T/rule.exprs" | tr '\n' ' ')" ""
expect_eq "every label value the dashboard selects is exported" \
	"$(unmatched <"$T/dash.exprs" | tr '\n' ' ')" ""
expect_ge "... of at least 12 selected" "$(cat "$T/rule.exprs" "$T/dash.exprs" | label_pairs | wc -l)" 12

# ...and the check sees one that is not: a panel query, a variable and a
# rule, each given a metric the exporter does not have.
jq '.panels[2].targets[0].expr |= sub("synguard_attack_active"; "synguard_attack_on")' \
	"$DASH" >"$T/bad.json"
expect_eq "a dashboard query naming synguard_attack_on is caught" \
	"$(dash_exprs "$T/bad.json" | unexported | tr '\n' ' ')" "synguard_attack_on "
jq '.templating.list[1].query.query |= sub("synguard_up"; "synguard_upp")' "$DASH" >"$T/bad.json"
expect_eq "a variable's label_values(synguard_upp, ...) is caught" \
	"$(dash_exprs "$T/bad.json" | unexported | tr '\n' ' ')" "synguard_upp "
sed 's/synguard_attack_syn_backlog > 0/synguard_syn_backlog > 0/' "$RULES" >"$T/bad.yml"
expect_eq "a rule naming synguard_syn_backlog is caught" \
	"$(rule_exprs "$T/bad.yml" | unexported | tr '\n' ' ')" "synguard_syn_backlog "
expect_eq "a typo inside a function's argument is caught" \
	"$(echo 'histogram_quantile(0.9, sum by (le) (rate(synguard_handshake_latency_second_bucket{phase="x"}[5m]))) and on (job) up == 0' |
		unexported | tr '\n' ' ')" "synguard_handshake_latency_second_bucket "
sed 's/reason=~"attack_unproven|/reason=~"attack_unprovn|/' "$RULES" >"$T/bad.yml"
expect_eq "a rule selecting reason=~\"attack_unprovn|...\" is caught" \
	"$(rule_exprs "$T/bad.yml" | unmatched | tr '\n' ' ')" "synguard_drops_total reason attack_unprovn "
tap_done
