#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The function workflow on a real runtime, the host's python3 (run in the
# guest in a chroot of the host's root, /host): spice run --snapshot
# starts the hello function, warms it up and dumps it; spice record
# restores it with no working set, sends a request and keeps the pages it
# touched, in the order it first touched them (page-fault tracepoints);
# spice restore then answers a request from the recorded image with the
# reply the warm function gave.  Skips without /host.
ksft_skip=4
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
fn=/mnt/spice/functions/hello.py
if [ ! -x /host/usr/bin/python3 ] || ! command -v host-run >/dev/null ||
   [ ! -x /host/mnt/spice/spice ] || [ ! -r "/host$fn" ]; then
	echo "1..0 # SKIP no host python3, host-run, spice or $fn"
	exit $ksft_skip
fi
dir=$(mktemp -d -p /host/mnt)	# also under / in the chroot: /mnt/...
cdir=${dir#/host}
spice() { host-run /mnt/spice/spice "$@"; }

spice run --snapshot "$cdir/hello.img" --warmup 1 --request '{"n":1}' \
	-- python3 "$fn" >"$dir/run" 2>"$dir/run.err"
ok $? "spice run --snapshot of the python3 hello function"
warm=$(sed -n 's/^spice run: reply //p' "$dir/run.err")

spice record "$cdir/hello.img" -o "$cdir/rec.img" --request '{"n":1}' --json \
	>"$dir/record" 2>"$dir/record.err"
ok $? "spice record of its first request"
sed 's/^/# /' "$dir/record" "$dir/record.err"
ws=$(sed -n 's/.*"ws_pages":\([0-9]*\),.*/\1/p' "$dir/record")
before=$(sed -n 's/.*"ws_pages_before":\([0-9]*\),.*/\1/p' "$dir/record")
[ -n "$ws" ] && [ "$ws" -gt 0 ] && [ "$ws" -lt "$before" ]
ok $? "the recorded working set ($ws pages) is smaller than the resident set ($before)"
grep -q '"order":"first-touch","ascending":0' "$dir/record"
ok $? "its ranges are in first-touch order, not address order"
spice verify "$cdir/rec.img" >/dev/null
ok $? "spice verify accepts the recorded image"

mkfifo "$dir/in"
spice restore "$cdir/rec.img" --fd 0=0 --fd 1=1 --fd 2=2 --json-timings \
	<"$dir/in" >"$dir/out" 2>"$dir/timings" &
pid=$!
exec 9>"$dir/in"
echo '{"n":1}' >&9
i=0
while ! grep -q checksum "$dir/out" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -n "$warm" ] && [ "$(head -n 1 "$dir/out")" = "$warm" ]
ok $? "the restored function replies as the warm one did"
grep -q '"total_ns":[1-9]' "$dir/timings" && grep -q '"pages_populated":[1-9]' "$dir/timings"
ok $? "spice restore --json-timings reports the phases"
sed 's/^/# /' "$dir/timings"
exec 9>&-
wait "$pid" 2>/dev/null
rm -rf "$dir"
echo "1..$n"
exit $fail
