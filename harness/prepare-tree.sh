#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# prepare-tree.sh REPO TREE KSRC
#
# Make TREE a git repository whose first commit is pristine upstream Linux
# (from KSRC: a linux-source tarball or a 6.12.y source directory) and whose
# following commits are the Spice series described by REPO/patches/NNNN-*/.
#
# Each patches/NNNN-slug/ directory is one commit:
#   message   subject line, blank line, body (Signed-off-by is appended)
#   files     repo paths (files or directories) whose files the commit adds
#   *.diff    hunks against upstream files, applied in name order
#
# The commits are built with git plumbing on a private index, then the work
# tree is moved to the result with `git reset --hard`, which rewrites only the
# files whose content changed: an edit in REPO rebuilds only what it touches.
set -euo pipefail

repo=$(realpath "$1")
tree=$2
ksrc=$3

author_name=${SPICE_AUTHOR_NAME:-Spice Developers}
author_email=${SPICE_AUTHOR_EMAIL:-spice-devel@lists.spice-kernel.org}
# Fixed dates keep commit ids stable while nothing changes.
export GIT_AUTHOR_NAME="$author_name" GIT_AUTHOR_EMAIL="$author_email"
export GIT_COMMITTER_NAME="$author_name" GIT_COMMITTER_EMAIL="$author_email"
export GIT_AUTHOR_DATE="2026-11-27T00:00:00+0000"
export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"

die() { echo "prepare-tree: $*" >&2; exit 1; }

base_id() {
	if [ -f "$ksrc" ]; then
		stat -c 'tarball %n %s %Y' "$ksrc"
	elif git -C "$ksrc" rev-parse HEAD >/dev/null 2>&1; then
		echo "git $(git -C "$ksrc" rev-parse HEAD)"
	elif [ -f "$ksrc/Makefile" ]; then
		echo "dir $(realpath "$ksrc")"
	else
		die "KSRC=$ksrc is neither a linux-source tarball nor a kernel tree"
	fi
}

kernel_version() {
	awk '/^VERSION =/{v=$3} /^PATCHLEVEL =/{p=$3} /^SUBLEVEL =/{s=$3}
	     END{print v "." p "." s}' "$tree/Makefile"
}

extract_base() {
	echo "prepare-tree: extracting pristine upstream from $ksrc"
	rm -rf "$tree"
	mkdir -p "$tree"
	if [ -f "$ksrc" ]; then
		tar -xf "$ksrc" -C "$tree" --strip-components=1
	elif git -C "$ksrc" rev-parse HEAD >/dev/null 2>&1; then
		git -C "$ksrc" archive --format=tar HEAD | tar -x -C "$tree"
	else
		tar -C "$ksrc" --exclude=.git -cf - . | tar -x -C "$tree"
	fi
	local ver
	ver=$(kernel_version)
	case "$ver" in
	6.12.*) ;;
	*) die "KSRC is Linux $ver; the series is against 6.12.y" ;;
	esac
	git -C "$tree" init -q -b spice
	git -C "$tree" config core.autocrlf false
	git -C "$tree" config gc.auto 0
	git -C "$tree" add -A -f
	git -C "$tree" commit -q -m "Linux $ver (pristine upstream base)"
	git -C "$tree" tag -f spice-base >/dev/null
	base_id >"$tree/.git/spice-base-id"
}

# Add every file under the repo path $1 to the private index.
add_repo_path() {
	local path=$1 f mode sha
	[ -e "$repo/$path" ] || die "patch lists missing path $path"
	while IFS= read -r -d '' f; do
		f=${f#"$repo"/}
		mode=100644
		[ -x "$repo/$f" ] && mode=100755
		sha=$(git hash-object -w "$repo/$f")
		git update-index --add --cacheinfo "$mode,$sha,$f"
		echo "$f" >>"$claimed"
	done < <(find "$repo/$path" -type f ! -name '*~' ! -name '*.swp' -print0 | sort -z)
}

build_series() {
	local parent dir msg out
	export GIT_INDEX_FILE="$tree/.git/spice-series-index"
	git read-tree spice-base
	parent=$(git rev-parse spice-base)
	claimed=$(mktemp)
	msg=$(mktemp)
	for dir in "$repo"/patches/[0-9][0-9][0-9][0-9]-*/; do
		[ -f "$dir/message" ] || die "$dir has no message"
		if [ -f "$dir/files" ]; then
			while read -r path; do
				case "$path" in ''|'#'*) continue ;; esac
				add_repo_path "$path"
			done <"$dir/files"
		fi
		for diff in "$dir"/*.diff; do
			[ -e "$diff" ] || continue
			git apply --cached --whitespace=error-all "$diff" ||
				die "$(basename "$dir"): $(basename "$diff") does not apply"
		done
		{ cat "$dir/message"; echo; echo "Signed-off-by: $author_name <$author_email>"; } >"$msg"
		out=$(git write-tree)
		parent=$(git commit-tree "$out" -p "$parent" -F "$msg")
	done
	unset GIT_INDEX_FILE
	git update-ref refs/heads/spice "$parent"
	git symbolic-ref HEAD refs/heads/spice
	git reset -q --hard spice
	check_claims
	rm -f "$claimed" "$msg"
}

# Every file the repo keeps in a kernel-tree place must belong to a commit,
# and to one only: otherwise it would silently miss the series.
check_claims() {
	local dup orphan
	dup=$(sort "$claimed" | uniq -d)
	[ -z "$dup" ] || die "files claimed by more than one patch: $dup"
	local dirs=()
	for d in arch kernel mm fs include tools Documentation; do
		[ -d "$repo/$d" ] && dirs+=("$d")
	done
	orphan=$(cd "$repo" && find "${dirs[@]}" -type f ! -name '*~' ! -name '*.swp' |
		sort | comm -23 - <(sort "$claimed"))
	[ -z "$orphan" ] || die "files in no patch (list them in a patches/*/files): $orphan"
}

mkdir -p "$(dirname "$tree")"
if [ ! -d "$tree/.git" ] || [ "$(cat "$tree/.git/spice-base-id" 2>/dev/null)" != "$(base_id)" ]; then
	extract_base
fi
cd "$tree"
build_series
echo "prepare-tree: $(git rev-list --count spice-base..spice) patches on Linux $(kernel_version) in $tree"
