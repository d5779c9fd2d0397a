#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Event-loop runtimes of the host (run in the guest in a chroot of the
# host's root, /host): python3 serving the asyncio function, whose loop
# holds an epoll instance and a self-pipe that is a socket pair of its own,
# and Node.js (nodejs) serving the hello function, whose libuv loops hold epoll
# instances, eventfds, internal pipes (one with a wake-up byte) and worker
# threads.  spice run --snapshot dumps each warm; the image must describe
# those as internal, and spice restore --pid must answer two requests as
# the warm function did and end at end of input; meanwhile, its pid taken,
# a second instance restored with --pid-ns (a pid namespace of its own)
# must answer too.  A runtime that is not installed is skipped.
ksft_skip=4
n=0 fail=0 ran=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
if ! command -v host-run >/dev/null || [ ! -x /host/mnt/spice/spice ]; then
	echo "1..0 # SKIP no host-run or spice"
	exit $ksft_skip
fi
dir=$(mktemp -d -p /host/mnt)	# also under / in the chroot: /mnt/...
cdir=${dir#/host}
spice() { host-run /mnt/spice/spice "$@"; }

# replies FILE N: wait up to 30 s until FILE holds N replies (FILE may
# not exist yet: the restore opens it once its input FIFO is open).
replies() {
	i=0
	while [ $i -lt 300 ]; do
		got=$(grep -c checksum "$1" 2>/dev/null)
		[ "${got:-0}" -ge "$2" ] && return
		sleep 0.1
		i=$((i + 1))
	done
}

# loop NAME RUNTIME SCRIPT PATTERN...: each PATTERN must match a line of
# spice inspect --fds, as "COUNT REGEX".
loop() {
	name=$1 runtime=$2 fn=/mnt/spice/functions/$3
	shift 3
	if [ ! -x "/host/usr/bin/$runtime" ] || [ ! -r "/host$fn" ]; then
		echo "# $name: no /usr/bin/$runtime or $fn, skipped"
		return
	fi
	ran=1
	spice run --snapshot "$cdir/$name.img" --warmup 1 --request '{"n":1}' \
		-- "$runtime" "$fn" >"$dir/run" 2>"$dir/run.err"
	ok $? "$name: spice run --snapshot"
	sed 's/^/# /' "$dir/run.err"
	warm=$(sed -n 's/^spice run: reply //p' "$dir/run.err")

	spice inspect "$cdir/$name.img" --fds >"$dir/fds"
	sed 's/^/# /' "$dir/fds"
	for want in "$@"; do
		count=${want%% *}
		[ "$(grep -c "${want#* }" "$dir/fds")" -ge "$count" ]
		ok $? "$name: the image has at least $count fds matching '${want#* }'"
	done

	rm -f "$dir/in" "$dir/out"
	mkfifo "$dir/in"
	spice restore "$cdir/$name.img" --pid --fd 0=0 --fd 1=1 --fd 2=2 \
		<"$dir/in" >"$dir/out" 2>"$dir/err" &
	pid=$!
	exec 9>"$dir/in"
	for req in 1 2; do
		echo '{"n":1}' >&9
		replies "$dir/out" $req
	done
	[ -n "$warm" ] && [ "$(sed -n 1p "$dir/out")" = "$warm" ] &&
		[ "$(sed -n 2p "$dir/out")" = "$warm" ]
	ok $? "$name: the restored loop answers two requests as the warm one did"
	sed 's/^/# /' "$dir/out" "$dir/err"

	rm -f "$dir/in2" "$dir/out2"
	mkfifo "$dir/in2"
	spice restore "$cdir/$name.img" --pid-ns --fd 0=0 --fd 1=1 --fd 2=2 \
		<"$dir/in2" >"$dir/out2" 2>"$dir/err2" &
	pid2=$!
	exec 8>"$dir/in2"
	echo '{"n":1}' >&8
	replies "$dir/out2" 1
	[ -n "$warm" ] && [ "$(sed -n 1p "$dir/out2")" = "$warm" ]
	ok $? "$name: a second instance, its pid taken, answers from a pid namespace of its own"
	sed 's/^/# /' "$dir/out2" "$dir/err2"
	exec 8>&-
	wait "$pid2" 2>/dev/null
	ok $? "$name: the second instance and its namespace end at end of input"
	exec 9>&-
	wait "$pid" 2>/dev/null
	ok $? "$name: the restored loop ends at end of input"
}

loop asyncio python3 asyncio_fn.py "2 : socketpair " "1 : epoll "
loop nodejs node hello.js "4 : pipe " "1 : eventfd " "1 : epoll "
rm -rf "$dir"
if [ $ran = 0 ]; then
	echo "1..0 # SKIP neither python3 nor node"
	exit $ksft_skip
fi
echo "1..$n"
exit $fail
