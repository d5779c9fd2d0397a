#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kconfig.sh TREE OBJ FRAGMENT...
#
# Write OBJ/.config: tinyconfig, then the fragments merged in order, then
# olddefconfig.  merge_config.sh silently drops options whose dependencies
# are off, so every option a fragment sets is checked in the result.
set -euo pipefail

tree=$1 obj=$2
shift 2

mkdir -p "$obj"
make -s -C "$tree" O="$obj" tinyconfig >/dev/null
"$tree/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$@" >/dev/null
make -s -C "$tree" O="$obj" olddefconfig >/dev/null

# The last fragment that sets an option wins, as in merge_config.sh.
wanted=$(cat "$@" | awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { o = $0; sub(/=.*/, "", o); want[o] = $0; order[++n] = o }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { o = $2; want[o] = $0; order[++n] = o }
	END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print want[order[i]] }')

bad=0
while IFS= read -r want; do
	grep -qxF "$want" "$obj/.config" && continue
	opt=${want#\# }
	opt=${opt%%[= ]*}
	got=$(grep -E "^$opt=|^# $opt is not set" "$obj/.config" || echo "absent")
	echo "kconfig: fragments want '$want', got '$got'" >&2
	bad=1
done <<<"$wanted"
exit $bad
