#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# libxdp's multiprog dispatcher (issue 15): does this kernel run it?
#   1. The kernel: build/ext-probe loads a root XDP program and a
#      BPF_PROG_TYPE_EXT (freplace) program that replaces its global
#      function, the dispatcher's building block, attaches it and checks
#      the root's verdict changes and changes back.  Where the kernel
#      refuses EXT, its line is "ok - ... # SKIP" with the errno and the
#      verifier's log: never a silent pass.
#   2. libxdp itself: xdp-loader (xdp-tools, make deps) loads the trivial
#      XDP_PASS program on srv0 in a lab.  Where the dispatcher loads,
#      `xdp-loader status` lists xdp_dispatcher with the program under it;
#      where libxdp falls back to a single program, the check says skip
#      with libxdp's reason, and the fallback's program must be the one
#      attached.  Either way echo requests still pass.
# See docs/coexistence-notes.md for why this 6.18 lab kernel refuses EXT
# (EPERM before the verifier: no BPF trampolines).
set -u
. "$(dirname "$0")/../lib.sh"
lab_need xdp-loader hping3 jq
EXT_PROBE=${EXT_PROBE:-$TOP/build/ext-probe}

# --- 1. the kernel: EXT programs, by ext-probe ------------------------------------
if [ ! -x "$EXT_PROBE" ]; then
	not_ok "ext-probe is built ($EXT_PROBE: make all)"
else
	"$EXT_PROBE" >"/tmp/sg-ext.$$" 2>&1
	rc=$?
	# Its TAP lines, renumbered into this script's.
	while IFS= read -r line; do
		case $line in
		"ok "*" # SKIP "*) d=${line#ok * - }; skip "${d%% # SKIP *}" "${d#* # SKIP }" ;;
		"ok "*) ok "${line#ok * - }" ;;
		"not ok "*) not_ok "${line#not ok * - }" ;;
		"1.."*) ;;
		*) diag "ext-probe: $line" ;;
		esac
	done <"/tmp/sg-ext.$$"
	grep -q '^ok .*# SKIP' "/tmp/sg-ext.$$" && EXT_SKIP=$(sed -n 's/^ok .*# SKIP //p' "/tmp/sg-ext.$$")
	rm -f "/tmp/sg-ext.$$"
	expect_eq "ext-probe exits 0 (every step ok or skipped with a reason)" "$rc" 0
fi

# --- 2. libxdp's dispatcher, by xdp-loader, in a lab --------------------------------
lab_pair_up || { not_ok "lab_pair_up"; tap_done; }
echoes() {
	timeout 20 ip netns exec "$NS_A" hping3 -1 -c "$1" -i u100000 $SRV_IP 2>&1 |
		sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}
# One `ip netns exec`, one mount namespace: libxdp needs a bpffs for the
# dispatcher's pins, and this one goes with it (the dispatcher stays
# attached by netlink, removed below with `xdp off`).
ip netns exec "$NS_S" sh -c "mount -t bpf bpf /sys/fs/bpf &&
	xdp-loader load -v -m native -n trivial_pass $SRV_IF '$TRIVIAL_OBJ' &&
	echo '-- status' && xdp-loader status $SRV_IF" >"$LAB_TMP/loader" 2>&1
rc=$?
sed 's/^/#   xdp-loader: /' "$LAB_TMP/loader" | grep -iv '^#   xdp-loader: *$' | head -20
expect_eq "xdp-loader load exits 0" "$rc" 0
PROG=$(ip -n "$NS_S" -j link show $SRV_IF | jq -r '.[0].xdp.prog.name // empty')
WHY=$(sed -n 's/^ *libxdp: \(Compatibility check for dispatcher program failed: .*\)/\1/p' "$LAB_TMP/loader" | head -1)
if grep -q 'xdp_dispatcher' "$LAB_TMP/loader"; then
	ok "libxdp's dispatcher loads on $SRV_IF"
	expect_eq "the dispatcher is what srv0 runs" "$PROG" xdp_dispatcher
	if sed -n '/^-- status/,$p' "$LAB_TMP/loader" | grep -q 'trivial_pass'; then
		ok "xdp-loader status lists trivial_pass under the dispatcher"
	else
		not_ok "xdp-loader status lists trivial_pass under the dispatcher"
	fi
elif grep -q 'Falling back to loading single prog' "$LAB_TMP/loader"; then
	skip "libxdp's dispatcher loads on $SRV_IF" "libxdp: ${WHY:-no reason given}; it fell back to a single program${EXT_SKIP:+ (ext-probe: $EXT_SKIP)}"
	expect_eq "the fallback attached trivial_pass itself" "$PROG" trivial_pass
else
	not_ok "libxdp's dispatcher loads on $SRV_IF, or libxdp says why not"
fi
expect_eq "echo requests pass through what xdp-loader attached: 3 of 3" "$(echoes 3)" 3
ip -n "$NS_S" link set dev $SRV_IF xdp off
expect_eq "xdp off: nothing left on $SRV_IF" \
	"$(ip -n "$NS_S" -j link show $SRV_IF | jq -r '.[0].xdp // empty')" ""
tap_done
