#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The attachment's and the SYN cookie path's lifecycle, each part against
# the kernel's view (nft list tables, bpftool, ip link) and a real client:
#   1. interface names with every odd character Linux allows: the cookie
#      path's nftables rule is whole and a client gets in through synproxy;
set -u
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (netns, XDP)"; exit 0; }
for tool in nginx curl jq nft bpftool; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done

lab_up || { not_ok "lab_up"; tap_done; }
lab_nginx || { not_ok "nginx starts in the server namespace"; tap_done; }

stats() { sg stats "$1" --json; }
# tables NS: the synguard tables in netns NS, one per line
tables() { ip netns exec "$1" nft list tables 2>/dev/null | awk '$3 ~ /^synguard/ { print $3 }'; }
# fetch: one page from the server, prints the HTTP code
fetch() {
	ip netns exec "$NS_C" curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://$SRV_IP/"
}

# ==============================================================================
# 1. Odd interface names.  Linux allows any character in a name but '/', ':'
#    and white space ('%' only as a template, and bpffs refuses a pin
#    directory with a '.'); nft's quoted strings cannot hold '"', and '#',
#    ';', '{', '}' end a token or a statement.  "1" is lo's index: a rule
#    that said `iif 1` would match lo.
# ==============================================================================
IF=$SRV_IF
rename_srv() {	# rename_srv NEW: the server's interface renamed
	ip -n "$NS_S" link set dev "$IF" down &&
		ip -n "$NS_S" link set dev "$IF" name "$1" &&
		ip -n "$NS_S" link set dev "$1" up && IF=$1
}
for name in 'v"#' 'v;x' 'v{x}' "v'x" 'v\x' 'v$x' '1' \
	    'p!"#$&'"'"'()*+,-' 'q<=>?@[\]^_' 'r`{|}~;"#x'; do
	if ! rename_srv "$name"; then not_ok "rename the server's veth to '$name'"; continue; fi
	if ! sg attach "$name" --mode generic --cookies always >"$LAB_TMP/out" 2>&1; then
		not_ok "'$name': attach --cookies always"; sed 's/^/#   /' "$LAB_TMP/out"; continue
	fi
	T=$(tables "$NS_S")
	RULES=$(ip netns exec "$NS_S" nft list table inet "${T:-none}" 2>/dev/null |
		grep -c 'meta mark 0x53474b31 meta nfproto ipv[46] .*synproxy mss')
	CODE=$(fetch)
	VALID=$(stats "$name" | jq -r .cookies.valid)
	sg detach "$name" >/dev/null 2>&1
	LEFT=$(tables "$NS_S" | wc -l)
	if [ "$RULES" = 2 ] && [ "$CODE" = 200 ] && [ "${VALID:-0}" -ge 1 ] && [ "$LEFT" = 0 ]; then
		ok "'$name': 2 synproxy rules, a client through a cookie ($CODE, valid $VALID), detach removes the table"
	else
		not_ok "'$name': synproxy rules $RULES (want 2), client $CODE (want 200)," \
			"cookies valid ${VALID:-?} (want >= 1), tables left after detach $LEFT (want 0)"
		ip netns exec "$NS_S" nft list ruleset | head -20 | sed 's/^/#   /'
	fi
done
rename_srv $SRV_IF || not_ok "the server's veth back to $SRV_IF"

tap_done
