#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The peer of synguard's XDP cookies in bench_cookie.sh (issue 18): the
# kernel selftest's XDP synproxy, tools/testing/selftests/bpf/
# progs/xdp_synproxy_kern.c and its user side xdp_synproxy.c, from Debian's
# linux-source-6.1 (apt-get installed here if missing), built into
# $OUT/synproxy, never committed.  Its logic is not touched: the only
# choices are the compiler and the selftests' own flags.  The BPF object is
# built with every clang-N on the machine (Debian offers 13, 14, 15, 16,
# 19; `apt-cache search clang-1`), one directory each, since the user
# program loads ARGV0_kern.bpf.o: bench_cookie.sh takes the first that
# the verifier accepts.  Exit 0 when at least one object was built.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$TOP/build}
CLANG=${CLANG:-clang}
TAR=/usr/src/linux-source-6.1.tar.xz
SUB=linux-source-6.1/tools/testing/selftests/bpf
DIR=$OUT/synproxy
SRC=$DIR/src

if [ ! -e "$TAR" ]; then
	if [ "$(id -u)" != 0 ]; then echo "synproxy: $TAR missing (run as root)" >&2; exit 1; fi
	echo "  DEPS    installing: linux-source-6.1" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		linux-source-6.1 >/dev/null || { echo "synproxy: apt-get failed" >&2; exit 1; }
fi
mkdir -p "$SRC"
if [ ! -e "$SRC/$SUB/xdp_synproxy.c" ]; then
	echo "  TAR     $SUB/xdp_synproxy{,_kern}.c" >&2
	tar -xJf "$TAR" -C "$SRC" "$SUB/xdp_synproxy.c" "$SUB/progs/xdp_synproxy_kern.c" ||
		{ echo "synproxy: cannot extract from $TAR" >&2; exit 1; }
fi

# The selftests' Makefile flags for a BPF object (6.1: -g -O2 -mcpu=v3),
# the running kernel's vmlinux.h, the arch's asm/errno.h.
built=0
for cc in $CLANG $(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -u -t- -k2 -n); do
	command -v "$cc" >/dev/null || continue
	v=$("$cc" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	d=$DIR/clang-$v
	[ -e "$d/xdp_synproxy_kern.bpf.o" ] && [ -x "$d/xdp_synproxy" ] && { built=1; continue; }
	mkdir -p "$d"
	echo "  BPF     $d/xdp_synproxy_kern.bpf.o ($cc)" >&2
	"$cc" -g -O2 -mcpu=v3 -target bpf -D__TARGET_ARCH_x86 -I"$TOP" \
		-I/usr/include/$(gcc -print-multiarch) -Wno-compare-distinct-pointer-types \
		-c "$SRC/$SUB/progs/xdp_synproxy_kern.c" -o "$d/xdp_synproxy_kern.bpf.o" ||
		{ rm -rf "$d"; continue; }
	gcc -g -O2 -o "$d/xdp_synproxy" "$SRC/$SUB/xdp_synproxy.c" -lbpf ||
		{ rm -rf "$d"; continue; }
	built=1
done
[ $built = 1 ] || { echo "synproxy: nothing built" >&2; exit 1; }
