#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# An event-loop runtime: the host's python3 (run in the guest in a chroot of
# the host's root, /host) serving the asyncio function, whose loop holds an
# epoll instance and a self-pipe that is a socket pair of its own.  spice
# run --snapshot dumps it warm; the image must describe the pair as
# internal, and spice restore must answer requests as the warm function
# did, twice (the loop keeps running).  Skips without /host.
ksft_skip=4
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
fn=/mnt/spice/functions/asyncio_fn.py
if [ ! -x /host/usr/bin/python3 ] || ! command -v host-run >/dev/null ||
   [ ! -x /host/mnt/spice/spice ] || [ ! -r "/host$fn" ]; then
	echo "1..0 # SKIP no host python3, host-run, spice or $fn"
	exit $ksft_skip
fi
dir=$(mktemp -d -p /host/mnt)	# also under / in the chroot: /mnt/...
cdir=${dir#/host}
spice() { host-run /mnt/spice/spice "$@"; }

spice run --snapshot "$cdir/aio.img" --warmup 1 --request '{"n":1}' \
	-- python3 "$fn" >"$dir/run" 2>"$dir/run.err"
ok $? "spice run --snapshot of the python3 asyncio function"
sed 's/^/# /' "$dir/run.err"
warm=$(sed -n 's/^spice run: reply //p' "$dir/run.err")

spice inspect "$cdir/aio.img" --fds >"$dir/fds"
sed 's/^/# /' "$dir/fds"
[ "$(grep -c ': socketpair ' "$dir/fds")" = 2 ] && grep -q ': epoll ' "$dir/fds"
ok $? "the image has the loop's epoll and both sockets of its self-pipe"

mkfifo "$dir/in"
spice restore "$cdir/aio.img" --pid --fd 0=0 --fd 1=1 --fd 2=2 \
	<"$dir/in" >"$dir/out" 2>"$dir/err" &
pid=$!
exec 9>"$dir/in"
for req in 1 2; do
	echo '{"n":1}' >&9
	i=0
	while [ "$(grep -c checksum "$dir/out" 2>/dev/null)" -lt $req ] && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
done
[ -n "$warm" ] && [ "$(sed -n 1p "$dir/out")" = "$warm" ] &&
	[ "$(sed -n 2p "$dir/out")" = "$warm" ]
ok $? "the restored loop answers two requests as the warm one did"
sed 's/^/# /' "$dir/out" "$dir/err"
exec 9>&-
wait "$pid" 2>/dev/null
ok $? "the restored loop ends at end of input"
rm -rf "$dir"
echo "1..$n"
exit $fail
