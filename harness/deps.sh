#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh GROUP...: make sure the Debian packages that GROUP needs are
# installed.  As root they are installed with apt-get; otherwise the
# missing packages are named and the script fails.
set -euo pipefail

declare -A group=(
	[build]="build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
		 ccache git rsync python3 python3-ply python3-git perl kmod
		 linux-source-6.12 sparse gdb binutils elfutils pkgconf"
	[guest]="qemu-system-x86 qemu-system-data busybox-static e2fsprogs golang-go"
	[bench]="criu python3 python3-pyaes python3-chameleon python3-pil python3-sklearn
		 gnuplot-nox"
)

want=()
for g in "$@"; do
	[ -n "${group[$g]+x}" ] || { echo "deps.sh: unknown group $g" >&2; exit 2; }
	want+=(${group[$g]})
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages: ${missing[*]}" >&2
	echo "deps.sh: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
