# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# synguard: out-of-tree build into build/.  `make help` lists the targets.

OUT       ?= build
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

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test unit integration asan demo bench synproxy vmlinux clean help install uninstall

all: $(OUT)/synguard $(OUT)/test_xdp $(OUT)/test_policy $(OUT)/test_flow $(OUT)/test_cookie \
	$(OUT)/sendframes $(OUT)/sg-flood $(OUT)/trivial.bpf.o ## build the CLI and the test programs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo "  V=1 shows the commands."

# Each Debian package the build, the tests or the demo need, by the command
# or file that shows it is there.  nginx and prometheus are only run by the
# tests, in their own namespaces: a policy-rc.d keeps their packages from
# starting services on the host while installing, and systemd's units for
# them are disabled.
DEPS := clang:clang llvm:llvm-strip libbpf-dev:/usr/include/bpf/libbpf.h \
	bpftool:bpftool libelf-dev:/usr/include/libelf.h \
	zlib1g-dev:/usr/include/zlib.h \
	gcc:gcc make:make iproute2:ip hping3:hping3 tcpdump:tcpdump \
	nginx-light:nginx curl:curl util-linux:setpriv procps:pgrep jq:jq ethtool:ethtool \
	wrk:wrk tmux:tmux prometheus:promtool nftables:nft strace:strace \
	mandoc:mandoc man-db:man groff-base:groff systemd:systemd-analyze

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
		if [ -d /run/systemd/system ]; then for u in nginx prometheus; do \
			case " $$missing " in *" $$u "*|*" $$u-light "*) \
			systemctl disable --now $$u >/dev/null 2>&1 || true ;; esac; done; fi; \
	fi

$(OUT) $(OUT)/user $(OUT)/san $(OUT)/tests $(OUT)/bench $(OUT)/tools:
	$(Q)mkdir -p $@

$(OUT)/%.tmp.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/san/%.o: user/%.c $(USER_HDRS) | $(OUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUT)/synguard: $(OUT)/user/main.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/synguard-san: $(OUT)/san/main.o $(SAN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%.o: tests/unit/%.c $(wildcard tests/unit/*.h) $(USER_HDRS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(OUT)/test_xdp: $(OUT)/tests/test_xdp.o $(OUT)/tests/pktbuild.o $(OUT)/tests/testlib.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/test_policy: $(OUT)/tests/test_policy.o $(OUT)/tests/pktbuild.o $(OUT)/tests/testlib.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/test_flow: $(OUT)/tests/test_flow.o $(OUT)/tests/pktbuild.o $(OUT)/tests/testlib.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/test_cookie: $(OUT)/tests/test_cookie.o $(OUT)/tests/pktbuild.o $(OUT)/tests/testlib.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/sendframes: $(OUT)/tests/sendframes.o $(OUT)/tests/pktbuild.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

# sg-flood (tests/tools): the lab's high-rate frame generator, an XDP program
# run by BPF_PROG_TEST_RUN live frames; its BPF object takes the same
# tmp.o -> bpf.o -> skel.h steps, from tests/tools.
$(OUT)/tools/%.tmp.o: tests/tools/%.bpf.c vmlinux.h | $(OUT)/tools
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/tools/%.bpf.o: $(OUT)/tools/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/tools/%.skel.h: $(OUT)/tools/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/tools/sg-flood.o: tests/tools/sg-flood.c tests/unit/pktbuild.h $(OUT)/tools/sg_flood.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -I$(OUT)/tools -c $< -o $@

$(OUT)/sg-flood: $(OUT)/tools/sg-flood.o $(OUT)/tests/pktbuild.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -lpthread -o $@

# Benchmarks (tests/bench): not tests, and not part of `make test`.  The
# trivial XDP programs are their baseline; bpf/trivial.bpf.c goes through
# the same tmp.o -> bpf.o -> skel.h rules as synguard.
BENCH_HDRS := $(wildcard tests/bench/*.h) $(OUT)/trivial.skel.h $(OUT)/tools/sg_reflect.skel.h

$(OUT)/bench/%.o: tests/bench/%.c $(BENCH_HDRS) $(wildcard tests/unit/*.h) $(USER_HDRS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Itests/bench -I$(OUT)/tools -c $< -o $@

$(OUT)/bench_paths: $(OUT)/bench/bench_paths.o $(OUT)/bench/bench_util.o $(OUT)/tests/pktbuild.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/bench_scale: $(OUT)/bench/bench_scale.o $(OUT)/bench/bench_util.o $(OUT)/tests/pktbuild.o $(USER_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

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

# The kernel's own XDP synproxy, the cookie table's peer (issue 18): the
# selftest's xdp_synproxy_kern.c and xdp_synproxy.c from Debian's
# linux-source-6.1, installed, extracted and built into $(OUT)/synproxy by
# the script at bench time, never committed.
synproxy: all ## fetch and build the kernel selftest's XDP synproxy into build/synproxy (root: apt-get)
	$(Q)OUT=$(OUT) CLANG=$(CLANG) tests/bench/synproxy_build.sh

bench: all $(OUT)/bench_paths $(OUT)/bench_scale $(OUT)/tools/sg_reflect.bpf.o synproxy ## build and run the benchmarks (root; netns labs for the floods and the stats timing), print the tables
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
UNITS         := synguard@.service synguard-export@.service
# Every file install makes, for uninstall to remove exactly those.
INSTALLED      = $(SBINDIR)/synguard $(MANDIR)/man8/synguard.8 \
		 $(addprefix $(UNITDIR)/,$(UNITS)) $(COMPLETIONDIR)/synguard \
		 $(DOCDIR)/example.conf

install: $(OUT)/synguard ## install the CLI, man page, units, completion, example config (PREFIX, DESTDIR)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OUT)/synguard $(DESTDIR)$(SBINDIR)/synguard
	$(Q)install -D -m 0644 docs/synguard.8 $(DESTDIR)$(MANDIR)/man8/synguard.8
	$(Q)install -D -m 0644 completion/synguard.bash $(DESTDIR)$(COMPLETIONDIR)/synguard
	$(Q)install -D -m 0644 docs/example.conf $(DESTDIR)$(DOCDIR)/example.conf
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/synguard
	$(Q)for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
			systemd/$$u.in > $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; done

uninstall: ## remove what install installed (same PREFIX, DESTDIR); configs in /etc/synguard stay
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR)/synguard 2>/dev/null || true

vmlinux: ## regenerate vmlinux.h from the running kernel's BTF
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean: ## remove build/
	rm -rf $(OUT)
