#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-export-core.sh SPICE: dump a small program with `spice dump` (on the
# host kernel: the dump needs only ptrace), export the image as a core
# file and read it back with readelf, elfutils and gdb.  Prints TAP.
set -uo pipefail
spice=$1
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi; }

cat >"$dir/t.c" <<'C'
#include <string.h>
#include <unistd.h>
static char marker[64];
void __attribute__((noinline)) wait_here(int fd) { char c; (void)!read(fd, &c, 1); }
int main(void) { strcpy(marker, "spice-core-marker-42"); wait_here(0); return 0; }
C
echo "TAP version 13"
gcc -g -O0 -o "$dir/t" "$dir/t.c" || { echo "1..0 # SKIP no compiler"; exit 0; }
sleep 60 | "$dir/t" &
pid=$(pgrep -n -f "^$dir/t$")
# Wait until it blocks in read(2) (system call 0).
for _ in $(seq 50); do
	[ "$(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)" = 0 ] && break
	sleep 0.1
done
"$spice" dump "$pid" -o "$dir/t.img" >/dev/null 2>"$dir/err"
ok $? "spice dump of a program blocked in read()"
"$spice" export-core "$dir/t.img" -o "$dir/t.core"
ok $? "spice export-core writes a core file"
notes=$(readelf -n "$dir/t.core" 2>/dev/null)
for t in NT_PRPSINFO NT_PRSTATUS NT_AUXV NT_FILE NT_X86_XSTATE; do
	grep -q "$t" <<<"$notes"
	ok $? "the core has an $t note"
done
loads=$(readelf -lW "$dir/t.core" | grep -c LOAD)
vmas=$("$spice" inspect "$dir/t.img" --json | sed 's/.*"vmas":\([0-9]*\).*/\1/')
[ "$loads" = "$vmas" ]
ok $? "one PT_LOAD per mapping ($loads, $vmas)"
# elfutils reads it too: its notes, and a stack unwound from the core.
if command -v eu-stack >/dev/null; then
	out=$(eu-readelf -n "$dir/t.core" 2>/dev/null)
	grep -q "CORE.*PRSTATUS" <<<"$out"
	ok $? "eu-readelf reads the notes"
	out=$(eu-stack --core="$dir/t.core" --executable="$dir/t" 2>&1)
	grep -q "wait_here" <<<"$out" && grep -q "main" <<<"$out"
	ok $? "eu-stack unwinds the stack from the core (wait_here, main)"
fi
if command -v gdb >/dev/null; then
	out=$(gdb -batch -ex bt -ex "print marker" "$dir/t" "$dir/t.core" 2>&1)
	grep -q "wait_here" <<<"$out" && grep -q "main ()" <<<"$out"
	ok $? "gdb unwinds the stack from the core (wait_here, main)"
	grep -q "spice-core-marker-42" <<<"$out"
	ok $? "gdb reads the program's data from the core"
fi
echo "1..$n"
