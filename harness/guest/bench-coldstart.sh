#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-bench-coldstart-all REPS: the cold-start benchmark for every
# function, as one JSON list on stdout.  Everything runs in the chroot of
# the host's root (/host), where python3 and criu are, with the image disk
# at /mnt/images and the Spice tools at /mnt/spice.  A function's images
# are removed after its run, so that the disk holds one function's images
# at a time.
reps=${1:-10}
sep=
echo "["
run() { # name cmd...
	name=$1
	shift
	echo "coldstart: $name" >/dev/console
	out=$(host-run /mnt/spice/spice-bench-coldstart -d /mnt/images -r "$reps" \
		-n "$name" -- "$@" 2>/dev/console) ||
		echo "coldstart: $name failed" >/dev/console
	rm -rf /images/"$name".img /images/"$name".criu
	[ -n "$out" ] || return
	printf '%s%s\n' "$sep" "$out"
	sep=,
}
fn=/mnt/spice/functions
py() { # name script
	[ -x /host/usr/bin/python3 ] && run "$1" python3 "$fn/$2"
}
if [ -x /host/mnt/spice/spice-bench-coldstart ]; then
	run c-hello /mnt/spice/spice-fn-hello
	py py-hello hello.py
	py py-json json_fn.py
	py py-pyaes pyaes_fn.py
	py py-chameleon chameleon_fn.py
	py py-image-rotate image_rotate.py
	py py-lr-serving lr_serving.py
fi
echo "]"
