# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# synguard: out-of-tree build into build/.  `make help` lists the targets.

OUT       ?= build
L2        := $(OUT)/layout2
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= cc
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION   := 0.1.0

# libbpf, libelf and zlib are linked statically so the binary carries its
# own loader; only libc stays dynamic.  LDLIBS is expanded when a link runs,
# not when make reads this file: on a fresh machine libbpf.a only exists once
# the deps step of the same `make test` has installed libbpf-dev.
LIBBPF_A  ?= $(shell for d in /usr/lib/$$(gcc -print-multiarch 2>/dev/null) /usr/lib64 /usr/lib; do \
		test -f $$d/libbpf.a && echo $$d/libbpf.a && break; done)
LDLIBS     = $(LIBBPF_A) -Wl,-Bstatic -lelf -lz -Wl,-Bdynamic

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I. -Iinclude
CFLAGS    ?= -g -O2
CFLAGS    += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	     -DSYNGUARD_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUT)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	     -fno-sanitize-recover=undefined

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRC   := bpf/synguard.bpf.c
BPF_HDRS  := $(wildcard bpf/*.bpf.h) include/synguard.h include/detect.h vmlinux.h
USER_SRC  := $(filter-out user/main.c,$(wildcard user/*.c))
USER_HDRS := $(wildcard user/*.h) include/synguard.h include/detect.h $(OUT)/synguard.skel.h \
	     $(OUT)/flow_walk.skel.h
USER_OBJ  := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRC))
SAN_OBJ   := $(patsubst user/%.c,$(OUT)/san/%.o,$(USER_SRC))
# The programs built from tests/: every name is also its path under build/.
UNIT_TESTS := test_xdp test_policy test_flow test_cookie
TOOLS     := sendframes sg-flood ext-probe
BENCHES   := bench_paths bench_scale

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test unit integration asan demo bench synproxy vmlinux clean help install uninstall

PROGS := $(OUT)/synguard $(UNIT_TESTS:%=$(OUT)/%) $(TOOLS:%=$(OUT)/%) $(OUT)/trivial.bpf.o \
	 $(OUT)/sg-crowd $(L2)/synguard $(OUT)/tools/chain_test.bpf.o

all: $(PROGS) ## build the CLI, the unit tests and the lab's tools

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "  V=1 shows the commands."

# Each Debian package the build, the tests or the demo need, by the command
# or file that shows it is there.  nginx, prometheus and alertmanager are
# only run by the tests, in their own namespaces: a policy-rc.d keeps their
# packages from starting services on the host while installing, and
# systemd's units for them are disabled.  yq (jq for YAML) checks that
# monitoring/daemonset.yaml parses.
DEPS := clang:clang llvm:llvm-strip libbpf-dev:/usr/include/bpf/libbpf.h \
	bpftool:bpftool libelf-dev:/usr/include/libelf.h \
	zlib1g-dev:/usr/include/zlib.h \
	gcc:gcc make:make iproute2:ip hping3:hping3 tcpdump:tcpdump \
	nginx-light:nginx curl:curl util-linux:setpriv procps:pgrep jq:jq ethtool:ethtool \
	wrk:wrk tmux:tmux prometheus:promtool nftables:nft strace:strace \
	prometheus-alertmanager:prometheus-alertmanager yq:yq \
	mandoc:mandoc man-db:man groff-base:groff systemd:systemd-analyze \
	xdp-tools:xdp-loader

deps: ## install missing Debian packages (apt-get, as root)
	$(Q)missing=""; for d in $(DEPS); do pkg=$${d%%:*}; what=$${d#*:}; \
		case $$what in /*) test -e $$what ;; \
		*) command -v $$what >/dev/null 2>&1 || test -x /usr/sbin/$$what ;; esac \
		|| missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "deps: missing:$$missing (run as root)" >&2; exit 1; fi; \
		echo "  DEPS    installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		guard=""; if [ ! -e /usr/sbin/policy-rc.d ]; then guard=1; \
			printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
			chmod 755 /usr/sbin/policy-rc.d; fi; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends $$missing >/dev/null; rc=$$?; \
		[ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; \
		[ $$rc = 0 ] || exit 1; \
		if [ -d /run/systemd/system ]; then for u in nginx prometheus prometheus-alertmanager; do \
			case " $$missing " in *" $$u "*|*" $$u-light "*) \
			systemctl disable --now $$u >/dev/null 2>&1 || true ;; esac; done; fi; \
	fi

$(OUT) $(OUT)/user $(OUT)/san $(OUT)/lib $(OUT)/tests $(OUT)/bench $(OUT)/tools:
	$(Q)mkdir -p $@

# `make test` and `make demo` install first: every build step waits for its
# directory, and with test or demo asked for, the directories wait for deps,
# so `make -j` does not compile beside apt-get.
ifneq ($(filter test demo,$(MAKECMDGOALS)),)
$(OUT) $(OUT)/user $(OUT)/san $(OUT)/lib $(OUT)/tests $(OUT)/bench $(OUT)/tools: | deps
endif

# The two recipes every C file and every program share.  cc FLAGS[,LABEL]
# compiles $< with the directory's include flags; link LIBS links $^, and
# what loads BPF passes $(LDLIBS), expanded here when the link runs.
define cc
$(call msg,$(or $(2),CC),$@)
$(Q)$(CC) $(CFLAGS) $(1) -c $< -o $@
endef
define link
$(call msg,LINK,$@)
$(Q)$(CC) $(CFLAGS) $^ $(1) -o $@
endef

# BPF objects: each bpf/*.bpf.c becomes build/*.tmp.o, then build/*.bpf.o and
# build/*.skel.h; the tools' tests/tools/*.bpf.c the same way in build/tools.
$(OUT)/%.tmp.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tools/%.tmp.o: tests/tools/%.bpf.c vmlinux.h | $(OUT)/tools
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(notdir $*) > $@

# The CLI, and the same with ASan/UBSan for `make asan`.
$(OUT)/user/%.o: user/%.c $(USER_HDRS) | $(OUT)/user
	$(call cc)

$(OUT)/san/%.o: user/%.c $(USER_HDRS) | $(OUT)/san
	$(call cc,$(SAN_FLAGS),CC-SAN)

$(OUT)/synguard: $(OUT)/user/main.o $(USER_OBJ)
	$(call link,$(LDLIBS))

$(OUT)/synguard-san: $(OUT)/san/main.o $(SAN_OBJ)
	$(call link,$(SAN_FLAGS) $(LDLIBS))

# tests/lib: what the unit tests, the tools and the benchmarks all use (the
# frame builder), so none of them reaches into another's directory.
TESTLIB_HDRS := $(wildcard tests/lib/*.h)

$(OUT)/lib/%.o: tests/lib/%.c $(TESTLIB_HDRS) | $(OUT)/lib
	$(call cc,-Itests/lib)

# Unit tests (tests/unit): build/test_X from test_X.c, testlib.c and the CLI's
# objects, run against the real BPF object.
$(OUT)/tests/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(TESTLIB_HDRS) $(USER_HDRS) | $(OUT)/tests
	$(call cc,-Itests/unit -Itests/lib)

$(UNIT_TESTS:%=$(OUT)/%): $(OUT)/%: $(OUT)/tests/%.o $(OUT)/tests/testlib.o $(OUT)/lib/pktbuild.o \
			     $(OUT)/lib/testpolicy.o $(USER_OBJ)
	$(call link,$(LDLIBS))

# The lab's tools (tests/tools), used by the integration tests and the
# benchmarks, not tests themselves.  sendframes sends the frames hping3
# cannot make (malformed headers, VLAN tags, IPv6 extension headers);
# sg-flood is the lab's high-rate frame generator, an XDP program
# (sg_flood.bpf.c) run by BPF_PROG_TEST_RUN live frames, one thread a queue.
$(TOOLS:%=$(OUT)/tools/%.o): $(OUT)/tools/%.o: tests/tools/%.c $(TESTLIB_HDRS) include/synguard.h | $(OUT)/tools
	$(call cc,-Itests/lib -I$(OUT)/tools)

$(OUT)/tools/sg-flood.o: $(OUT)/tools/sg_flood.skel.h
$(OUT)/tools/ext-probe.o: $(OUT)/tools/ext_test.skel.h

$(TOOLS:%=$(OUT)/%): $(OUT)/%: $(OUT)/tools/%.o $(OUT)/lib/pktbuild.o
	$(call link,$(TOOL_LIBS))

$(OUT)/sg-flood: TOOL_LIBS = $(LDLIBS) -lpthread
$(OUT)/ext-probe: TOOL_LIBS = $(LDLIBS)

# sg-crowd (tests/tools): real HTTP clients in numbers, from many bound
# source addresses, for the flash-crowd proofs and the wrk bench's sources.
$(OUT)/sg-crowd: tests/tools/sg-crowd.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@

# build/layout2/synguard: the same sources with SG_LAYOUT_TEST, which adds
# a field to a map's value (struct sg_attack).  tests/integration/29-replace
# upgrades an attachment to it and back, as a release that changed a map's
# layout would.
$(L2) $(L2)/user:
	$(Q)mkdir -p $@

$(L2)/synguard.tmp.o: bpf/synguard.bpf.c $(BPF_HDRS) | $(L2)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DSG_LAYOUT_TEST -c $< -o $@

$(L2)/user/%.o: user/%.c $(USER_HDRS) $(L2)/synguard.skel.h | $(L2)/user
	$(call msg,CC,$@)
	$(Q)$(CC) -I$(L2) $(CFLAGS) -DSG_LAYOUT_TEST -c $< -o $@

$(L2)/synguard: $(L2)/user/main.o $(patsubst user/%.c,$(L2)/user/%.o,$(USER_SRC))
	$(call link,$(LDLIBS))

# Benchmarks (tests/bench): not tests, and not part of `make test`.  The
# trivial XDP programs are their baseline; bpf/trivial.bpf.c goes through
# the same tmp.o -> bpf.o -> skel.h rules as synguard.
BENCH_HDRS := $(wildcard tests/bench/*.h) $(OUT)/trivial.skel.h $(OUT)/tools/sg_reflect.skel.h \
	      $(OUT)/tools/chain_test.skel.h

$(OUT)/bench/%.o: tests/bench/%.c $(BENCH_HDRS) $(TESTLIB_HDRS) $(USER_HDRS) | $(OUT)/bench
	$(call cc,-Itests/lib -Itests/bench -I$(OUT)/tools)

$(BENCHES:%=$(OUT)/%): $(OUT)/%: $(OUT)/bench/%.o $(OUT)/bench/bench_util.o $(OUT)/lib/pktbuild.o \
			   $(OUT)/lib/testpolicy.o $(USER_OBJ)
	$(call link,$(LDLIBS))

test: deps all ## install deps, build, run every test (unit + netns lab)
	$(Q)tests/run.sh

unit: all ## the BPF_PROG_TEST_RUN unit tests only
	$(Q)tests/run.sh unit

integration: all ## the netns lab tests only
	$(Q)tests/run.sh integration

asan: $(OUT)/synguard-san all ## the userspace tests with ASan/UBSan
	$(Q)SYNGUARD=$(OUT)/synguard-san tests/run.sh unit cli

demo: deps all ## install deps, build, and show synguard in a netns lab
	$(Q)tests/demo.sh

# The kernel's own XDP synproxy, the cookie table's peer: the selftest's
# xdp_synproxy_kern.c and xdp_synproxy.c from Debian's linux-source-6.12
# and -6.1, installed, extracted and built into $(OUT)/synproxy by the
# script at bench time, never committed.
synproxy: all ## fetch and build the kernel selftest's XDP synproxy into build/synproxy (root: apt-get)
	$(Q)OUT=$(OUT) CLANG=$(CLANG) tests/bench/synproxy_build.sh

bench: all $(BENCHES:%=$(OUT)/%) $(OUT)/tools/sg_reflect.bpf.o synproxy ## build and run the benchmarks (root; netns labs for the floods and the stats timing), print the tables
	$(Q)tests/bench/run.sh

# Installation: `make install` (PREFIX=/usr/local, DESTDIR for staging).
# The configuration directory is /etc whatever the PREFIX, as the units
# and the man page say; the units are written with the paths they run.
PREFIX        ?= /usr/local
SBINDIR       ?= $(PREFIX)/sbin
MANDIR        ?= $(PREFIX)/share/man
DOCDIR        ?= $(PREFIX)/share/doc/synguard
UNITDIR       ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR    ?= /etc
UNITS         := synguard@.service synguard-export@.service synguard-events@.service
MONITORING    := README.md synguard.rules.yml synguard.rules.test.yml synguard.dashboard.json \
		 daemonset.yaml
# Every file install makes, for uninstall to remove exactly those.
INSTALLED      = $(SBINDIR)/synguard $(MANDIR)/man8/synguard.8 \
		 $(addprefix $(UNITDIR)/,$(UNITS)) $(COMPLETIONDIR)/synguard \
		 $(DOCDIR)/example.conf $(addprefix $(DOCDIR)/monitoring/,$(MONITORING))

install: $(OUT)/synguard ## install the CLI, man page, units, completion, example config, monitoring/ (PREFIX, DESTDIR)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OUT)/synguard $(DESTDIR)$(SBINDIR)/synguard
	$(Q)install -D -m 0644 docs/synguard.8 $(DESTDIR)$(MANDIR)/man8/synguard.8
	$(Q)install -D -m 0644 completion/synguard.bash $(DESTDIR)$(COMPLETIONDIR)/synguard
	$(Q)install -D -m 0644 docs/example.conf $(DESTDIR)$(DOCDIR)/example.conf
	$(Q)install -d -m 0755 $(DESTDIR)$(DOCDIR)/monitoring
	$(Q)install -m 0644 $(addprefix monitoring/,$(MONITORING)) $(DESTDIR)$(DOCDIR)/monitoring/
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/synguard
	$(Q)for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; done

uninstall: ## remove what install installed (same PREFIX, DESTDIR); configs in /etc/synguard stay
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DOCDIR)/monitoring $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/synguard 2>/dev/null || true

vmlinux: ## regenerate vmlinux.h from the running kernel's BTF
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean: ## remove build/
	rm -rf $(OUT)
