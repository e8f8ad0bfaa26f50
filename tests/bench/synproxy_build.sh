#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The peer of synguard's XDP cookies in bench_cookie.sh (issue 18): the
# kernel selftest's XDP synproxy, tools/testing/selftests/bpf/
# progs/xdp_synproxy_kern.c and its user side xdp_synproxy.c, from Debian's
# linux-source-6.12 and linux-source-6.1 (apt-get installed here if
# missing), built into $OUT/synproxy/VERSION-clang-N, never committed.
# Its logic is not touched: the only choices are the source release, the
# compiler and the selftests' own flags.  6.1's object stops at the 6.18
# verifier's 1,000,000 instructions with every clang tried (14, 19, 22);
# upstream reworked its option parser for the verifier (6.12: 14,615
# instructions).  6.12's user side calls bpf_{prog,map}_get_info_by_fd(),
# which Debian's libbpf 1.1 lacks: they are bpf_obj_get_info_by_fd()
# under a typed name, so the build maps them with -D.  Each object is
# built with every clang-N on the machine, one directory each, since the
# user program loads ARGV0_kern.bpf.o: bench_cookie.sh takes the first
# that the verifier accepts, 6.12's first.  Exit 0 when at least one
# object was built.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$TOP/build}
CLANG=${CLANG:-clang}
DIR=$OUT/synproxy
VERSIONS=${SYNPROXY_VERSIONS:-"6.12 6.1"}
built=0

for ver in $VERSIONS; do
	TAR=/usr/src/linux-source-$ver.tar.xz
	SUB=linux-source-$ver/tools/testing/selftests/bpf
	SRC=$DIR/src-$ver
	if [ ! -e "$TAR" ]; then
		if [ "$(id -u)" != 0 ]; then echo "synproxy: $TAR missing (run as root)" >&2; continue; fi
		echo "  DEPS    installing: linux-source-$ver" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			linux-source-$ver >/dev/null || { echo "synproxy: apt-get linux-source-$ver failed" >&2; continue; }
	fi
	mkdir -p "$SRC"
	if [ ! -e "$SRC/$SUB/xdp_synproxy.c" ]; then
		echo "  TAR     $SUB/xdp_synproxy{,_kern}.c" >&2
		files="$SUB/xdp_synproxy.c $SUB/progs/xdp_synproxy_kern.c"
		# 6.12's includes the selftests' bpf_compiler.h (pragmas only).
		tar -tJf "$TAR" "$SUB/progs/bpf_compiler.h" >/dev/null 2>&1 &&
			files="$files $SUB/progs/bpf_compiler.h"
		tar -xJf "$TAR" -C "$SRC" $files ||
			{ echo "synproxy: cannot extract from $TAR" >&2; continue; }
	fi
	# The selftests' Makefile flags for a BPF object (-g -O2 -mcpu=v3),
	# the running kernel's vmlinux.h, the arch's asm/errno.h.
	for cc in $CLANG $(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -u -t- -k2 -n); do
		command -v "$cc" >/dev/null || continue
		v=$("$cc" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
		d=$DIR/$ver-clang-$v
		[ -e "$d/xdp_synproxy_kern.bpf.o" ] && [ -x "$d/xdp_synproxy" ] && { built=1; continue; }
		mkdir -p "$d"
		echo "  BPF     $d/xdp_synproxy_kern.bpf.o ($cc)" >&2
		"$cc" -g -O2 -mcpu=v3 -target bpf -D__TARGET_ARCH_x86 -I"$TOP" \
			-I/usr/include/$(gcc -print-multiarch) -Wno-compare-distinct-pointer-types \
			-c "$SRC/$SUB/progs/xdp_synproxy_kern.c" -o "$d/xdp_synproxy_kern.bpf.o" ||
			{ rm -rf "$d"; continue; }
		gcc -g -O2 -Dbpf_prog_get_info_by_fd=bpf_obj_get_info_by_fd \
			-Dbpf_map_get_info_by_fd=bpf_obj_get_info_by_fd \
			-o "$d/xdp_synproxy" "$SRC/$SUB/xdp_synproxy.c" -lbpf ||
			{ rm -rf "$d"; continue; }
		built=1
	done
done
[ $built = 1 ] || { echo "synproxy: nothing built" >&2; exit 1; }
