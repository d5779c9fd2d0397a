#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-dump-python [DIR]: dump the host's python3 after `import json`,
# waiting for input, to DIR/python-json.img (default /images); print what
# spice dump and spice inspect say, as JSON lines prefixed with "# ".
dir=${1:-/images}
[ -x /host/usr/bin/python3 ] || { echo "# no python3 at /host"; exit 0; }
fifo=/tmp/python-in.$$
rm -f "$fifo" && mkfifo "$fifo"
host-run python3 -c 'import json, sys
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()' <"$fifo" >/tmp/python-out.$$ &
pid=$!
exec 9>"$fifo"
i=0
while ! grep -q ready /tmp/python-out.$$ 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "# \$ spice dump $pid -o $dir/python-json.img --json  (python3, import json)"
spice dump "$pid" -o "$dir/python-json.img" --json | sed 's/^/# /'
echo "# \$ spice inspect $dir/python-json.img --json"
spice inspect "$dir/python-json.img" --json | sed 's/^/# /'
exec 9>&-
wait "$pid" 2>/dev/null
rm -f "$fifo" /tmp/python-out.$$
