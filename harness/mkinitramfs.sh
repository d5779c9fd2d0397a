#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT STAGING KSELFTEST_DIR [DESTDIR...]
#
# Build the guest's initramfs: static busybox, /init, the installed
# kselftests under /kselftest, each DESTDIR tree (libspice, the spice tool)
# merged at /, and the shared libraries that the binaries need, so that the
# guest runs without the host's root.
set -euo pipefail

here=$(dirname "$(realpath "$0")")
out=$1 root=$2 ksft=$3
shift 3

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,host,images,usr/bin,usr/lib}

install -m 0755 /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/demo.sh" "$root/usr/bin/spice-demo"
install -m 0755 "$here/guest/dump-python.sh" "$root/usr/bin/spice-dump-python"
install -m 0755 "$here/guest/restore-demo.sh" "$root/usr/bin/spice-restore-demo"
install -m 0755 "$here/guest/bench-coldstart.sh" "$root/usr/bin/spice-bench-coldstart-all"
install -m 0755 "$here/guest/host-run" "$root/usr/bin/host-run"
install -m 0755 "$here/guest/runtime-root" "$root/usr/bin/spice-runtime-root"
cp -a "$ksft" "$root/kselftest"
for dest in "$@"; do
	cp -a "$dest/." "$root/"
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF

# Shared libraries of every dynamic executable, at their host paths.
find "$root" -type f -perm -u+x ! -path "$root/bin/busybox" -print0 |
while IFS= read -r -d '' exe; do
	head -c 4 "$exe" | grep -q 'ELF' || continue
	ldd "$exe" 2>/dev/null | awk '/=> \//{print $3} /^\t\/[^ ]+ \(0x/{print $1}' || true
done | sort -u | while read -r lib; do
	[ -e "$root$lib" ] && continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
