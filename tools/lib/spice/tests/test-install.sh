#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# test-install.sh KHDR_DIR: `make install` libspice into a scratch root,
# then build a program against the installed tree only, through
# pkg-config, linked shared and static, and check what the shared library
# exports against libspice.map.  KHDR_DIR holds the kernel's uapi headers
# (linux/spice.h), as a system with the series' headers would.  Prints TAP.
set -uo pipefail
khdr=$1
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
if ! command -v pkg-config >/dev/null; then
	echo "1..0 # SKIP no pkg-config"
	exit 0
fi
make -s -C "$src" OUTPUT="$dir/build/" KHDR_INCLUDES="-isystem $khdr" \
	prefix=/usr DESTDIR="$dir/root" install >"$dir/make.log" 2>&1
ok $? "make install into a scratch root"

root=$dir/root
for f in usr/lib/libspice.a usr/lib/libspice.so.0.0.1 usr/lib/libspice.so.0 \
	 usr/lib/libspice.so usr/lib/pkgconfig/libspice.pc \
	 usr/include/spice/spice.h usr/include/spice/image.h usr/include/spice/dump.h; do
	[ -e "$root/$f" ]
	ok $? "installed /$f"
done
[ "$(readlink "$root/usr/lib/libspice.so.0")" = libspice.so.0.0.1 ]
ok $? "libspice.so.0 links to libspice.so.0.0.1"

export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig
[ "$(pkg-config --modversion libspice)" = 0.0.1 ]
ok $? "pkg-config finds libspice 0.0.1"

cat >"$dir/user.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <spice/dump.h>
#include <spice/image.h>
#include <spice/spice.h>

int main(void)
{
	char why[SPICE_IMAGE_WHY_LEN], junk[256];
	struct spice_image *img = NULL;
	struct spice_writer *w = spice_writer_new("/tmp");
	int err;

	memset(junk, 0x5a, sizeof(junk));
	err = spice_image_parse(junk, sizeof(junk), sizeof(junk), &img, why);
	printf("%s %d %s\n", spice_version(), err, w ? "writer" : "none");
	spice_writer_free(w);
	return err == -ENOEXEC && !img ? 0 : 1;
}
C
# shellcheck disable=SC2046
gcc -Wall -Werror -isystem "$khdr" "$dir/user.c" -o "$dir/user-shared" \
	$(pkg-config --cflags --libs libspice)
ok $? "a program builds against the installed headers and shared library"
out=$(LD_LIBRARY_PATH=$root/usr/lib "$dir/user-shared")
ok $? "it runs on the installed libspice.so.0 and rejects junk with ENOEXEC ($out)"
# Not piped into grep -q: its early exit can SIGPIPE ldd, which pipefail
# would count as a failure.
libs=$(LD_LIBRARY_PATH=$root/usr/lib ldd "$dir/user-shared")
grep -q "libspice.so.0 => $root/usr/lib/libspice.so.0" <<<"$libs"
ok $? "it is linked to the installed libspice.so.0"
# shellcheck disable=SC2046
gcc -Wall -Werror -isystem "$khdr" "$dir/user.c" -o "$dir/user-static" \
	$(pkg-config --cflags libspice) "$root/usr/lib/libspice.a" &&
	"$dir/user-static" >/dev/null
ok $? "the same program links statically and runs"

nm -D --defined-only "$root/usr/lib/libspice.so.0.0.1" | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' | sort >"$dir/exported"
sed -n 's/^\t\t\(spice_[a-z_0-9]*\);$/\1/p' "$src/libspice.map" | sort >"$dir/map"
[ "$(wc -l <"$dir/map")" -ge 20 ] && diff "$dir/map" "$dir/exported" >"$dir/diff"
ok $? "the shared library exports exactly libspice.map's $(wc -l <"$dir/map") symbols"
sed 's/^/# /' "$dir/diff"
echo "1..$n"
exit $fail
