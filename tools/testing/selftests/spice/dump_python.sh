#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Dump a real runtime: the host's python3 (run in the guest in a chroot of
# the host's root, /host) after `import json`, blocked reading its stdin.
# The image must hold what /proc said: its mappings, its thread, its
# executable; spice verify must accept it.  Skips without /host.
ksft_skip=4
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
if [ ! -x /host/usr/bin/python3 ] || ! command -v host-run >/dev/null ||
   ! command -v spice >/dev/null; then
	echo "1..0 # SKIP no host python3, host-run or spice"
	exit $ksft_skip
fi
dir=$(mktemp -d)
mkfifo "$dir/in"
host-run python3 -c 'import json, sys
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()' <"$dir/in" >"$dir/out" &
pid=$!
exec 9>"$dir/in"
i=0
while ! grep -q ready "$dir/out" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
grep -cv vsyscall "/proc/$pid/maps" >"$dir/maps"
readlink "/proc/$pid/exe" >"$dir/exe"
spice dump "$pid" -o "$dir/py.img" >/dev/null 2>"$dir/err"
ok $? "spice dump of python3 after import json"
spice inspect "$dir/py.img" --json >"$dir/inspect"
ok $? "spice inspect reads the image"
grep -q "\"vmas\":$(cat "$dir/maps")," "$dir/inspect"
ok $? "one VMA per line of /proc/PID/maps ($(cat "$dir/maps"))"
grep -q '"threads":1,' "$dir/inspect"
ok $? "one thread"
grep -q "\"exe\":\"$(cat "$dir/exe")\"" "$dir/inspect"
ok $? "the executable is $(cat "$dir/exe")"
grep -q '"comm":"python3"' "$dir/inspect"
ok $? "comm is python3"
spice verify "$dir/py.img" --files >/dev/null
ok $? "spice verify --files accepts it"
sed 's/^/# /' "$dir/inspect"
exec 9>&-
wait "$pid" 2>/dev/null
rm -rf "$dir"
echo "1..$n"
exit $fail
