#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh TREE BUILD_DIR OUT.tap: run Spice's KUnit suites with kunit.py
# (x86_64 under QEMU) and turn their KTAP into flat TAP results.
set -uo pipefail

tree=$1 build=$2 tap=$3
here=$(dirname "$(realpath "$0")")
raw=$build/kunit.ktap

mkdir -p "$build"
cd "$tree" || exit 1
# Debian's python3 (kunit.py needs nothing else); ccache for the kernel.
PATH=/usr/bin:$PATH python3 tools/testing/kunit/kunit.py run \
	--arch=x86_64 --kunitconfig=mm/spice --build_dir="$build" \
	--jobs "$(nproc)" --make_options CC="ccache gcc" \
	--raw_output=kunit --timeout 600 >"$raw"
rc=$?
python3 "$here/results.py" kunit "$raw" "$tap"
[ -s "$tap" ] || echo "not ok 1 kunit.py run # exit $rc, no results" >"$tap"
! grep -q '^not ok' "$tap"
