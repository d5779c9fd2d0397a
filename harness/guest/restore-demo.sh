#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-restore-demo [DIR]: start the C function, dump it to DIR/hello.img
# (default /images), restore it with `spice restore` and ask it a request
# through pipes from the fd map.
dir=${1:-/images}
rm -f /tmp/req.$$ /tmp/rep.$$
mkfifo /tmp/req.$$ /tmp/rep.$$
exec 3<>/tmp/req.$$ 4<>/tmp/rep.$$
spice-fn-hello <&3 >&4 3>&- 4>&- &
pid=$!
read -t 60 -r line <&4
echo "# function $pid: $line"
echo '{"n":1}' >&3
read -t 60 -r line <&4
echo "# warm reply: $line"
echo "# \$ spice dump $pid -o $dir/hello.img"
spice dump "$pid" -o "$dir/hello.img" | sed 's/^/# /'
wait "$pid" 2>/dev/null
echo "# \$ spice restore $dir/hello.img --fd 0=3 --fd 1=4 &"
spice restore "$dir/hello.img" --fd 0=3 --fd 1=4 &
pid=$!
echo '{"n":2}' >&3
read -t 60 -r line <&4
echo "# restored reply (pid $pid): $line"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exec 3>&- 4>&-
rm -f /tmp/req.$$ /tmp/rep.$$
