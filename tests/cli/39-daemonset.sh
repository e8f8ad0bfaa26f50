#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# monitoring/daemonset.yaml, the example Kubernetes DaemonSet:
#   - it parses (yq, jq for YAML), as a Namespace, a ConfigMap, a
#     DaemonSet and a Service;
#   - the DaemonSet runs in the host's network namespace with the host's
#     bpffs and the capabilities attach needs; its initContainer attaches
#     $IFACE with the ConfigMap's $IFACE.conf and --force, its container
#     exports $IFACE on the port that the annotations and the headless
#     Service (whose selector picks its pods) name;
#   - the two commands, run as the manifest has them (its $IFACE a lab
#     interface, /etc/synguard the ConfigMap's file), attach with exactly
#     that config and serve /metrics with synguard_up 1; run again, the
#     attach replaces in place.
# No cluster: the commands run in a lab netns; nothing else is checked
# against Kubernetes itself.  The lab is removed on every exit.
set -u
. "$(dirname "$0")/../lib.sh"
Y=$TOP/monitoring/daemonset.yaml
lab_need yq

J=$(yq -s . "$Y" 2>&1)
rc=$?
expect_eq "yq parses it" "$rc" 0
[ $rc = 0 ] || { diag "$J"; tap_done; }
# q FILTER: a jq filter over the documents, compact.
q() { jq -c "$1" <<<"$J"; }
qr() { jq -r "$1" <<<"$J"; }
expect_eq "its documents" "$(q '[.[].kind]')" '["Namespace","ConfigMap","DaemonSet","Service"]'
DS='(.[] | select(.kind == "DaemonSet"))'
POD="$DS.spec.template"
expect_eq "the DaemonSet's selector picks its pods" \
	"$(q "[$DS.spec.selector.matchLabels | to_entries[]] - [$POD.metadata.labels | to_entries[]] | length == 0")" true
expect_eq "hostNetwork" "$(q "$POD.spec.hostNetwork")" true
expect_eq "the host's /sys/fs/bpf is a volume" \
	"$(q "[$POD.spec.volumes[] | select(.hostPath.path == \"/sys/fs/bpf\")] | length")" 1
expect_eq "every container mounts it at /sys/fs/bpf and the ConfigMap at /etc/synguard" \
	"$(q "[$POD.spec.initContainers[], $POD.spec.containers[] | [.volumeMounts[].mountPath] | sort] | unique")" \
	'[["/etc/synguard","/sys/fs/bpf"]]'
expect_eq "... with BPF, NET_ADMIN and SYS_ADMIN (or privileged)" \
	"$(q "[$POD.spec.initContainers[], $POD.spec.containers[] | .securityContext |
		.privileged == true or ([.capabilities.add[]?] | contains([\"BPF\", \"NET_ADMIN\", \"SYS_ADMIN\"]))] | all")" true
# cmd NAME: a container's command, $(IFACE) as the manifest sets it.
IFACE=$(qr "[$POD.spec.initContainers[0].env[] | select(.name == \"IFACE\") | .value][0]")
ATTACH=$(qr "$POD.spec.initContainers[0].command | join(\" \")")
EXPORT=$(qr "$POD.spec.containers[0].command | join(\" \")")
diag "initContainer: $ATTACH" "container: $EXPORT" "IFACE=$IFACE"
expect_eq "the initContainer attaches \$IFACE with /etc/synguard/\$IFACE.conf, --force" \
	"$ATTACH" 'synguard attach $(IFACE) --config /etc/synguard/$(IFACE).conf --force'
check "the container exports \$IFACE on :9474" \
	bash -c '[[ $1 =~ ^synguard\ export\ \$\(IFACE\)\ --listen\ [^\ ]+:9474$ ]]' _ "$EXPORT"
expect_eq "both set IFACE alike" \
	"$(q "[$POD.spec.initContainers[0], $POD.spec.containers[0] | .env[] | select(.name == \"IFACE\") | .value] | unique | length")" 1
expect_eq "the ConfigMap has \$IFACE.conf ($IFACE.conf)" \
	"$(q "(.[] | select(.kind == \"ConfigMap\")).data | has(\"$IFACE.conf\")")" true
expect_eq "the pod's prometheus.io/port is its metrics port" \
	"$(q "$POD.metadata.annotations[\"prometheus.io/port\"] == ($POD.spec.containers[0].ports[] | select(.name == \"metrics\") | .containerPort | tostring)")" true
SVC='(.[] | select(.kind == "Service"))'
expect_eq "the Service is headless, selects the pods, targets the metrics port" \
	"$(q "($SVC.spec.clusterIP == \"None\") and ([$SVC.spec.selector | to_entries[]] - [$POD.metadata.labels | to_entries[]] | length == 0) and ($SVC.spec.ports[0].targetPort == \"metrics\")")" true
expect_eq "every object in the same namespace" "$(q '[.[] | select(.kind != "Namespace") | .metadata.namespace] | unique')" \
	"[$(q '.[] | select(.kind == "Namespace") | .metadata.name')]"

# --- the commands, in a lab netns ------------------------------------------------
lab_up || { not_ok "lab_up"; tap_done; }
T=$LAB_TMP
qr "(.[] | select(.kind == \"ConfigMap\")).data[\"$IFACE.conf\"]" >"$T/$SRV_IF.conf"
# One value changed from its default, so that the file is seen to be read.
sed -i '/^src_rate=/d' "$T/$SRV_IF.conf" && echo src_rate=123 >>"$T/$SRV_IF.conf"
# args CMD: the manifest's command line as synguard's arguments (A), with
# $(IFACE) the lab's interface and /etc/synguard the ConfigMap's file.
args() {
	local c=${1//\$(IFACE)/$SRV_IF}
	c=${c//\/etc\/synguard/$T}
	read -ra A <<<"$c"
	A=("${A[@]:1}")
}
# run CMD: it, in the server netns.
run() { args "$1"; "$SYNGUARD" --netns "$NS_S" "${A[@]}"; }
check "the initContainer's command attaches" run "$ATTACH"
expect_eq "... with the ConfigMap's keys in force (src_rate 123 for the test)" \
	"$(sg config $SRV_IF show | grep -Fxf "$T/$SRV_IF.conf" | wc -l)" "$(grep -c = "$T/$SRV_IF.conf")"
out=$(run "$ATTACH" 2>&1)
expect_eq "run again (a pod restarted), it replaces in place" "$?" 0
case $out in *"in place"*) ok "... and says so" ;; *) not_ok "... and says so"; diag "$out" ;; esac
EXP=${EXPORT/\$(NODE_IP)/127.0.0.1}
args "$EXP"
timeout 60 "$SYNGUARD" --netns "$NS_S" "${A[@]}" >"$T/export.out" 2>&1 &
LAB_PIDS+=" $!"
up1() { in_srv curl -s --max-time 2 http://127.0.0.1:9474/metrics | grep -qx 'synguard_up 1'; }
check "the container's command serves synguard_up 1 on :9474" until_ok 100 up1
tap_done
