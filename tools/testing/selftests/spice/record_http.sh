#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Functions that serve HTTP, on real runtimes: the host's python3 and
# Node.js (run in the guest in a chroot of the host's root, /host) and a
# static Go net/http program, each listening on TCP.  spice run --snapshot --http starts one,
# waits until it answers, warms it up over HTTP and dumps it; the image
# holds its listening socket.  spice record --http restores it with no
# working set, its socket made again by the kernel, sends a request and
# keeps the pages it touched; spice restore then answers an HTTP request
# from the recorded image, with no launcher of our own, with the bytes the
# warm function gave.  Each function skips without its runtime.
ksft_skip=4
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

echo "TAP version 13"
if ! command -v spice >/dev/null || ! command -v wget >/dev/null; then
	echo "1..0 # SKIP no spice or wget"
	exit $ksft_skip
fi
port=$((30000 + $$ % 10000))

# post ADDR BODY: the body of the reply to an HTTP POST of BODY to ADDR,
# once something listens there (within 60 s).
post() {
	i=0
	while ! wget -q -O - --post-data "$2" "http://$1/" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# http_function NAME DIR RUNNER CMD...: the workflow for one function,
# with its images in DIR as RUNNER (host-run, or nothing) sees it.
http_function() {
	name=$1 dir=$2 runner=$3
	shift 3
	port=$((port + 1))
	addr=127.0.0.1:$port
	out=${dir#/host}
	[ -n "$runner" ] || out=$dir
	$runner spice run --snapshot "$out/http.img" --http "$addr" --warmup 2 \
		--request '{"n":1}' -- "$@" 127.0.0.1 "$port" >"$dir/run" 2>"$dir/run.err"
	ok $? "$name: spice run --snapshot --http"
	sed 's/^/# /' "$dir/run.err"
	warm=$(sed -n 's/^spice run: reply //p' "$dir/run.err" | tail -n 1)
	$runner spice inspect --fds "$out/http.img" >"$dir/fds"
	grep -q "socket flags 0[0-9]* cloexec TCPv4 $addr listening backlog [0-9]* reuseaddr$" \
		"$dir/fds"
	ok $? "$name: its listening socket is in the image"

	$runner spice record "$out/http.img" -o "$out/rec.img" --http "$addr" \
		--request '{"n":1}' --json >"$dir/record" 2>"$dir/record.err"
	ok $? "$name: spice record --http of its first request"
	sed 's/^/# /' "$dir/record" "$dir/record.err"
	ws=$(sed -n 's/.*"ws_pages":\([0-9]*\),.*/\1/p' "$dir/record")
	[ -n "$ws" ] && [ "$ws" -gt 0 ]
	ok $? "$name: a working set was recorded ($ws pages)"

	$runner spice restore "$out/rec.img" --fd 1=2 --fd 2=2 2>"$dir/restore.err" &
	pid=$!
	reply=$(post "$addr" '{"n":1}')
	[ -n "$warm" ] && [ "$reply" = "$warm" ]
	ok $? "$name: the restored function answers HTTP as the warm one did"
	echo "# warm: $warm"
	echo "# restored: $reply"
	sed 's/^/# /' "$dir/restore.err"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

if [ -x /host/usr/bin/python3 ] && command -v host-run >/dev/null &&
   [ -r /host/mnt/spice/functions/http_fn.py ]; then
	dir=$(mktemp -d -p /host/mnt)	# also under / in the chroot: /mnt/...
	http_function python "$dir" host-run python3 /mnt/spice/functions/http_fn.py
	rm -rf "$dir"
else
	skip "python: no host python3, host-run or http_fn.py"
fi

if [ -x /host/usr/bin/node ] && command -v host-run >/dev/null &&
   [ -r /host/mnt/spice/functions/http_fn.js ]; then
	dir=$(mktemp -d -p /host/mnt)
	http_function node "$dir" host-run node /mnt/spice/functions/http_fn.js
	rm -rf "$dir"
else
	skip "node: no host node, host-run or http_fn.js"
fi

if command -v spice-fn-http-go >/dev/null; then
	dir=$(mktemp -d)
	http_function go "$dir" "" spice-fn-http-go
	rm -rf "$dir"
else
	skip "go: no spice-fn-http-go (Go was not installed at build time)"
fi

dir=$(mktemp -d)
spice run --snapshot "$dir/no.img" --http "127.0.0.1:$port" -- no-such-function \
	>/dev/null 2>"$dir/err"
[ $? = 1 ] && grep -q "cannot run no-such-function: No such file or directory" "$dir/err"
ok $? "spice run says why a function did not start"
rm -rf "$dir"
echo "1..$n"
exit $fail
