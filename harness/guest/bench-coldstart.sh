#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-bench-coldstart-all REPS: the cold-start benchmark for every
# function, as one JSON list on stdout.  Python functions run in the
# chroot of the host's root (/host), with the image disk at /mnt/images.
reps=${1:-10}
sep=
echo "["
run() { # name cmd...
	name=$1
	shift
	out=$("$@" 2>/dev/console) || { echo "coldstart: $name failed" >/dev/console; return; }
	printf '%s%s\n' "$sep" "$out"
	sep=,
}
run c-hello spice-bench-coldstart -d /images -r "$reps" -n c-hello -- spice-fn-hello
if [ -x /host/usr/bin/python3 ] && [ -x /host/mnt/spice/spice-bench-coldstart ]; then
	for f in hello json_fn; do
		run "py-$f" host-run /mnt/spice/spice-bench-coldstart -d /mnt/images \
			-r "$reps" -n "py-$f" -- python3 "/mnt/spice/functions/$f.py"
	done
fi
echo "]"
