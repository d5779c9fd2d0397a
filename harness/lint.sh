#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh TREE KMAKE-COMMAND... -- TAPFILE
#
# sparse (C=2), W=1 and kernel-doc over the Spice sources of TREE; one TAP
# line per check, failing on any report about a Spice file.
set -uo pipefail

tree=$1
shift
kmake=()
while [ "$1" != -- ]; do kmake+=("$1"); shift; done
tap=$2

# The Spice sources: what the series adds in kernel directories.
srcs=$(cd "$tree" && git diff --name-only --diff-filter=A spice-base spice |
	grep -E '^(mm|kernel|fs|arch/x86/kernel)/.*\.c$' | grep -v '_test\.c$')
srcdirs=$(echo "$srcs" | xargs -r -n1 dirname | sort -u)
kdoc_files=$(cd "$tree" && git diff --name-only --diff-filter=A spice-base spice |
	grep -E '^(mm|kernel|fs|arch|include)/.*\.[ch]$')

: >"$tap"
n=0
result() { # status name [note]
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n $2" >>"$tap"
	else echo "not ok $n $2 # $3" >>"$tap"; echo "lint: $2: $3" >&2; fi
}

# Build the Spice objects (only them, in one make) with sparse and W=1;
# count the reports about Spice files and headers, per directory.
log=$(mktemp)
# shellcheck disable=SC2046 # one target per word
"${kmake[@]}" C=2 W=1 $(echo "$srcs" | sed 's/\.c$/.o/') >"$log" 2>&1
rc=$?
for d in $srcdirs; do
	files=$(echo "$srcs" | grep "^$d/[^/]*$" | sed 's/\./\\./g' | paste -sd'|')
	reports=$(grep -E "(^|/)($files|include/(uapi/)?linux/spice\.h):[0-9]+:([0-9]+:)? (warning|error):" "$log")
	if [ $rc -eq 0 ] && [ -z "$reports" ]; then
		result ok "sparse and W=1 on $d"
	else
		echo "$reports" | sed 's/^/  /' >&2
		result fail "sparse and W=1 on $d" "$(echo "$reports" | grep -c .) reports (build exit $rc)"
	fi
done
rm -f "$log"

for f in $kdoc_files; do
	reports=$(cd "$tree" && scripts/kernel-doc -none -Wall "$f" 2>&1)
	if [ -z "$reports" ]; then
		result ok "kernel-doc on $f"
	else
		echo "$reports" | sed 's/^/  /' >&2
		result fail "kernel-doc on $f" "$(echo "$reports" | wc -l) reports"
	fi
done
! grep -q '^not ok' "$tap"
