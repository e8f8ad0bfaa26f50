#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The layers of bpf/ (docs/design.md, "Layers of bpf/"): every header is in
# the table there, includes only headers of a lower layer, and compiles on
# its own, with the BPF flags of the Makefile, from a file that includes
# it and nothing else: each includes what it uses (vmlinux.h, the libbpf
# headers, include/).  No root, no lab.
#   LAYERS_DIR=dir: check the headers of dir instead of bpf/ (the table
#   stays docs/design.md's), to see the check fail on a copy.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || { not_ok "cd $TOP"; tap_done; }
DIR=${LAYERS_DIR:-bpf}
T=$(mktemp -d /tmp/sglayers.XXXXXX)
trap 'rm -rf "$T"' EXIT

command -v "${CLANG:-clang}" >/dev/null ||
	{ echo "1..0 # SKIP no clang (make deps installs it)"; exit 0; }

# The table: "    <layer>  <name>.bpf.h  <concern>" lines of the section.
declare -A layer
while read -r l h _; do
	layer[$h]=$l
done < <(sed -n '/^## Layers of bpf\//,/^## /p' docs/design.md |
	grep -E '^ +[0-9]+ +[a-z_]+\.bpf\.h ')
expect_ge "docs/design.md has the layer table (headers)" "${#layer[@]}" 10

# The BPF flags, as the Makefile has them, with the checked directory first.
flags=$(make -pnq -f Makefile 2>/dev/null | sed -n 's/^BPF_CFLAGS := //p' | head -1)
[ -n "$flags" ] || { not_ok "BPF_CFLAGS from the Makefile"; tap_done; }

missing= bad= alone=
for f in "$DIR"/*.bpf.h; do
	h=${f##*/}
	l=${layer[$h]:-}
	if [ -z "$l" ]; then
		missing+=" $h"
		continue
	fi
	while read -r inc; do
		il=${layer[$inc]:-}
		if [ -z "$il" ]; then
			bad+=" $h->$inc(not in the table)"
		elif [ "$il" -ge "$l" ]; then
			bad+=" $h($l)->$inc($il)"
		fi
	done < <(sed -n 's/^#include "\([a-z_]*\.bpf\.h\)".*/\1/p' "$f")
	printf '#include "%s"\n' "$h" >"$T/$h.c"
	# shellcheck disable=SC2086 # the flags are words
	${CLANG:-clang} $flags -I"$DIR" -c "$T/$h.c" -o "$T/$h.o" >"$T/$h.err" 2>&1 ||
		{ alone+=" $h"; sed 's/^/#   /' "$T/$h.err" | head -8; }
done
expect_eq "every header of $DIR/ is in the layer table" "${missing:-none}" none
expect_eq "no header includes one of its own layer or above" "${bad:-none}" none
expect_eq "every header compiles on its own" "${alone:-none}" none
tap_done
