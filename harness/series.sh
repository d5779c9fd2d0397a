#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# series.sh REPO TREE OUTDIR TAPFILE
#
# Export the series (spice-base..spice in TREE) as numbered patches with a
# cover letter (subject and text from REPO/patches/cover-letter), check each
# patch with checkpatch.pl --strict, and check that `git am` applies them on
# pristine upstream to exactly the series' tree.  One TAP line per check.
set -uo pipefail

repo=$1 tree=$2 out=$3 tap=$4
# checkpatch runs spdxcheck.py with python3 from PATH; it needs Debian's
# python3 with python3-ply and python3-git, not another python3 first in PATH.
export PATH=/usr/bin:$PATH

rm -rf "$out"
mkdir -p "$out" "$(dirname "$tap")"
: >"$tap"
n=0
result() { # status name [note]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n $2${3:+ ($3)}" >>"$tap"
	else
		echo "not ok $n $2${3:+ # $3}" >>"$tap"
		echo "series: $2: $3" >&2
	fi
}

git -C "$tree" -c user.name="${SPICE_AUTHOR_NAME:-Spice Developers}" \
	-c user.email="${SPICE_AUTHOR_EMAIL:-spice-devel@lists.spice-kernel.org}" format-patch -q --zero-commit --no-signature --cover-letter \
	-o "$out" spice-base..spice || { result fail "format-patch" "failed"; exit 1; }

# The cover letter's subject and text come from the repo.
cover=$(ls "$out"/0000-cover-letter.patch)
python3 - "$repo/patches/cover-letter" "$cover" <<'EOF'
import sys
src, dst = sys.argv[1], sys.argv[2]
subject, _, blurb = open(src).read().partition("\n")
text = open(dst).read()
text = text.replace("*** SUBJECT HERE ***", subject.strip())
text = text.replace("*** BLURB HERE ***", blurb.strip("\n"))
open(dst, "w").write(text)
EOF

# The MAINTAINERS entry has its own patch; the other patches would each be
# told "does MAINTAINERS need updating?".  In user space code (tools/ only)
# ENOSYS has exactly the meaning checkpatch reserves it for: no such call,
# and libelf's types (Elf64_Ehdr, GElf_Phdr) are CamelCase by its API.
for p in "$out"/0*.patch; do
	name=$(basename "$p")
	[ "$name" = 0000-cover-letter.patch ] && continue
	ignore=FILE_PATH_CHANGES
	files=$(grep '^diff --git' "$p")
	grep -qv ' a/tools/' <<<"$files" || ignore=$ignore,ENOSYS,CAMELCASE
	report=$(cd "$tree" && scripts/checkpatch.pl --strict --ignore "$ignore" \
		--no-summary --terse "$p" 2>&1)
	if [ -z "$report" ]; then
		result ok "checkpatch --strict $name"
	else
		echo "$report" >"$out/$name.checkpatch"
		result fail "checkpatch --strict $name" \
			"$(echo "$report" | wc -l) reports, see $out/$name.checkpatch"
	fi
done

# git am on a pristine checkout must give exactly the series' tree.
wt=$(mktemp -d)
trap 'git -C "$tree" worktree remove --force "$wt" >/dev/null 2>&1; rm -rf "$wt"' EXIT
if git -C "$tree" worktree add -q --detach "$wt" spice-base &&
   git -C "$wt" -c user.name=check -c user.email=check@localhost \
	am -q $(ls "$out"/0*.patch | grep -v /0000-cover-letter.patch) 2>/dev/null; then
	if [ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" = "$(git -C "$tree" rev-parse 'spice^{tree}')" ]; then
		result ok "git am of the series on pristine upstream"
	else
		result fail "git am of the series on pristine upstream" "result differs from the series"
	fi
else
	result fail "git am of the series on pristine upstream" "does not apply"
fi
echo "series: $(ls "$out"/0*.patch | wc -l) files in $out"
! grep -q '^not ok' "$tap"
