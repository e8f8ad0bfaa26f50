#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The tree a newcomer reads: every top-level entry is one of the layout's
# (no stray files), and every project file a comment or a
# document names exists (no design notes that were never written, no file
# renamed under its readers).  Reads the git checkout only.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || { not_ok "cd $TOP"; tap_done; }
command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "1..0 # SKIP not a git checkout"; exit 0; }

# Top-level entries: the layout below, and nothing else.  A new one is a
# decision: add it here and say in the README what it holds.
layout=" .ci .gitignore BENCHMARKS.md Makefile README.md bpf completion docs include monitoring systemd tests user vmlinux.h "
stray=
for e in $(git ls-files | cut -d/ -f1 | sort -u); do
	case $layout in *" $e "*) ;; *) stray+=" $e" ;; esac
done
expect_eq "every top-level entry is one of the layout's" "${stray:-none}" none

# Project paths named in the tracked files (not #include <...> lines, nor
# kernel paths such as include/net/tcp.h), and *.md files named anywhere.
missing=
while read -r f; do
	[ -e "$f" ] || missing+=" $f"
done < <(git ls-files | grep -v '^vmlinux.h$' | xargs grep -hv '#include <' 2>/dev/null |
	grep -oP '(?<![/\w.-])((bpf|user|tests|docs|systemd|completion|monitoring)/[\w./@-]+|include/synguard[\w.-]*)\.(c|h|sh|8|conf|md|pl|in|bash|yml|json)\b' |
	sort -u)
expect_eq "every project file the tree names exists" "${missing:-none}" none
missing=
while read -r f; do
	git ls-files | grep -q "\(^\|/\)$f$" || missing+=" $f"
done < <(git ls-files | grep -v '^vmlinux.h$' | xargs grep -ohP '(?<![\w.-])[\w-]+\.md\b' 2>/dev/null | sort -u)
expect_eq "every .md file the tree names exists" "${missing:-none}" none
tap_done
