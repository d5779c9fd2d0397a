#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-bench-coldstart-all REPS: the cold-start benchmark for every
# function, as one JSON list on stdout.  Everything runs in the chroot of
# the host's root (/host), where python3 and criu are, with the image disk
# at /mnt/images and the Spice tools at /mnt/spice.
reps=${1:-10}
sep=
echo "["
run() { # name cmd...
	name=$1
	shift
	out=$(host-run /mnt/spice/spice-bench-coldstart -d /mnt/images -r "$reps" \
		-n "$name" -- "$@" 2>/dev/console) ||
		{ echo "coldstart: $name failed" >/dev/console; return; }
	printf '%s%s\n' "$sep" "$out"
	sep=,
}
if [ -x /host/mnt/spice/spice-bench-coldstart ]; then
	run c-hello /mnt/spice/spice-fn-hello
	if [ -x /host/usr/bin/python3 ]; then
		run py-hello python3 /mnt/spice/functions/hello.py
		run py-json python3 /mnt/spice/functions/json_fn.py
	fi
fi
echo "]"
