#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# `make install` and `make uninstall` into a staging DESTDIR: install puts
# every file where the man page and the units say, with the paths filled
# in; uninstall removes exactly those (a config of the operator's stays).
# The bash completion completes commands, verbs, options, keys and
# interfaces.  No root needed; nothing outside a temporary directory.
set -u
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d /tmp/sginst.XXXXXX)
trap 'rm -rf "$T"' EXIT
D=$T/dest

files() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }

# --- install ---------------------------------------------------------------------
make -s -C "$TOP" install DESTDIR="$D" >"$T/out" 2>&1
expect_eq "make install DESTDIR=... exits 0" "$?" 0

expect_eq "it installs every file, and only those" "$(files "$D" | tr '\n' ' ')" \
"usr/local/lib/systemd/system/synguard-events@.service usr/local/lib/systemd/system/synguard-export@.service usr/local/lib/systemd/system/synguard@.service usr/local/sbin/synguard usr/local/share/bash-completion/completions/synguard usr/local/share/doc/synguard/example.conf usr/local/share/doc/synguard/monitoring/README.md usr/local/share/doc/synguard/monitoring/daemonset.yaml usr/local/share/doc/synguard/monitoring/synguard.dashboard.json usr/local/share/doc/synguard/monitoring/synguard.rules.test.yml usr/local/share/doc/synguard/monitoring/synguard.rules.yml usr/local/share/man/man8/synguard.8 "
[ -d "$D/etc/synguard" ] && ok "it makes /etc/synguard for the configs" ||
	not_ok "it makes /etc/synguard for the configs"
expect_eq "modes: binary 755, the rest 644" \
	"$(cd "$D" && stat -c '%a %n' usr/local/sbin/synguard usr/local/share/man/man8/synguard.8 \
		usr/local/lib/systemd/system/synguard@.service usr/local/share/doc/synguard/example.conf |
		awk '{ print $1 }' | tr '\n' ' ')" "755 644 644 644 "
expect_eq "the installed binary runs" \
	"$("$D/usr/local/sbin/synguard" --version | awk '{ print $1 }')" "synguard"
if command -v promtool >/dev/null; then
	check "the installed alert rules pass their tests where they are" \
		bash -c 'cd "$1" && promtool test rules synguard.rules.test.yml' _ \
		"$D/usr/local/share/doc/synguard/monitoring"
fi
cmp -s "$D/usr/local/share/man/man8/synguard.8" "$TOP/docs/synguard.8" &&
	ok "the man page is docs/synguard.8" || not_ok "the man page is docs/synguard.8"
U=$D/usr/local/lib/systemd/system
expect_eq "synguard@.service runs the installed binary on /etc/synguard/%i.conf" \
	"$(grep -E '^Exec(Start|Reload|Stop)=' "$U/synguard@.service" | tr '\n' ' ')" \
	"ExecStart=/usr/local/sbin/synguard attach %i --config /etc/synguard/%i.conf ExecReload=/usr/local/sbin/synguard config %i load /etc/synguard/%i.conf ExecStop=/usr/local/sbin/synguard detach %i "
expect_eq "no @PLACEHOLDER@ is left in the units" "$(grep -c '@[A-Z]*@' "$U"/*.service | tr '\n' ' ')" \
	"$U/synguard-events@.service:0 $U/synguard-export@.service:0 $U/synguard@.service:0 "

# PREFIX moves all but /etc.
make -s -C "$TOP" install DESTDIR="$T/usr" PREFIX=/usr >/dev/null 2>&1
expect_eq "PREFIX=/usr: the same files under /usr, the configs still in /etc" \
	"$(files "$T/usr" | tr '\n' ' ')" \
"usr/lib/systemd/system/synguard-events@.service usr/lib/systemd/system/synguard-export@.service usr/lib/systemd/system/synguard@.service usr/sbin/synguard usr/share/bash-completion/completions/synguard usr/share/doc/synguard/example.conf usr/share/doc/synguard/monitoring/README.md usr/share/doc/synguard/monitoring/daemonset.yaml usr/share/doc/synguard/monitoring/synguard.dashboard.json usr/share/doc/synguard/monitoring/synguard.rules.test.yml usr/share/doc/synguard/monitoring/synguard.rules.yml usr/share/man/man8/synguard.8 "
grep -q '^ExecStart=/usr/sbin/synguard attach %i --config /etc/synguard/%i.conf$' \
	"$T/usr/usr/lib/systemd/system/synguard@.service" &&
	ok "...and the unit runs /usr/sbin/synguard" || not_ok "...and the unit runs /usr/sbin/synguard"

# --- uninstall -------------------------------------------------------------------
make -s -C "$TOP" uninstall DESTDIR="$T/usr" PREFIX=/usr >/dev/null 2>&1
expect_eq "make uninstall PREFIX=/usr leaves no file" "$(files "$T/usr" | wc -l)" 0
echo "src_rate=5" >"$D/etc/synguard/eth0.conf"
make -s -C "$TOP" uninstall DESTDIR="$D" >"$T/out" 2>&1
expect_eq "make uninstall DESTDIR=... exits 0" "$?" 0
expect_eq "it removes every installed file; the operator's config stays" \
	"$(files "$D" | tr '\n' ' ')" "etc/synguard/eth0.conf "
expect_eq "...and synguard's own directories (doc)" \
	"$(find "$D" -path '*synguard*' -type d | sed "s|^$D/||" | tr '\n' ' ')" "etc/synguard "
rm "$D/etc/synguard/eth0.conf"
make -s -C "$TOP" uninstall DESTDIR="$D" >/dev/null 2>&1
expect_eq "with no config left, /etc/synguard goes too" \
	"$(find "$D" -path '*synguard*' | wc -l)" 0

# --- bash completion ---------------------------------------------------------------
make -s -C "$TOP" install DESTDIR="$D" >/dev/null 2>&1
# comp WORDS...: what the completion offers for the last word, sorted.
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_synguard; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		_ "$D/usr/local/share/bash-completion/completions/synguard" "$SYNGUARD" "$@"
}
bash -c ". '$D/usr/local/share/bash-completion/completions/synguard'; complete -p synguard" \
	>/dev/null 2>&1 && ok "the completion registers for synguard" ||
	not_ok "the completion registers for synguard"
expect_eq "commands" "$(comp '')" \
	"allow attach chain config deny detach events export prune replay stats status top "
expect_eq "commands starting with s" "$(comp s)" "stats status "
expect_eq "config IFACE: its verbs" "$(comp config lo '')" "load set show "
expect_eq "config IFACE set: keys" "$(comp config lo set src_)" "src_burst= src_rate= "
expect_eq "deny IFACE: its verbs" "$(comp -n ns1 deny lo '')" "add del list "
expect_eq "chain IFACE: its verbs" "$(comp chain lo '')" "clear set show "
expect_eq "attach options from attach --help" "$(comp attach lo --mo)" "--mode "
expect_eq "attach --mode values" "$(comp attach lo --mode '')" "generic native "
comp attach '' | grep -qw lo && ok "interfaces: attach offers lo" ||
	not_ok "interfaces: attach offers lo ($(comp attach ''))"

tap_done
