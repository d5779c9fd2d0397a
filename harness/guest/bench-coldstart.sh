#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice-bench-coldstart-all REPS [QUICK]: the cold-start benchmark for every
# function, then the scaling (a C function with 1 to 256 MiB of heap and a
# fixed working set) and density (N instances at once) measurements, as one
# JSON list on stdout.  QUICK=1: one function per language, no scaling or
# density.  SPICE_BENCH_FUNCS, a comma-separated list of names, runs only
# those.  Everything runs in a chroot of the host's root ($SPICE_ROOT: its
# copy on the image disk, else /host), where python3, node and criu are,
# with the image disk at /mnt/images and the Spice tools at /mnt/spice.  A
# function's images are removed after its run, so that the disk holds one
# function's images at a time.
reps=${1:-10}
quick=${2:-0}
sep=
echo "["
root=${SPICE_ROOT:-/host}
run() { # name "options" cmd...
	name=$1
	opts=$2
	shift 2
	case ",${SPICE_BENCH_FUNCS:-$name}," in
	*",$name,"*) ;;
	*) return 0 ;;
	esac
	echo "coldstart: $name" >/dev/console
	out=$(host-run /mnt/spice/spice-bench-coldstart -d /mnt/images -r "$reps" -s \
		-n "$name" $opts -- "$@" 2>/dev/console) ||
		echo "coldstart: $name failed" >/dev/console
	rm -rf /images/"$name".img /images/"$name"-lazy.img /images/"$name"-rec.img \
		/images/"$name".criu
	[ -n "$out" ] || return
	printf '%s%s\n' "$sep" "$out"
	sep=,
}
fn=/mnt/spice/functions
py() { # name script
	[ -x $root/usr/bin/python3 ] && run "$1" "" python3 "$fn/$2"
}
js() { # name script
	[ -x $root/usr/bin/node ] && run "$1" "" node "$fn/$2"
}
# HTTP functions, each on a port of its own: name port runtime [script]
http() {
	name=$1 port=$2
	shift 2
	case $1 in
	python3 | node) [ -x "$root/usr/bin/$1" ] || return 0 ;;
	*) [ -x "$root$1" ] || return 0 ;;
	esac
	run "$name" "-H 127.0.0.1:$port" "$@" 127.0.0.1 "$port"
}
if [ -x $root/mnt/spice/spice-bench-coldstart ]; then
	run c-hello "" /mnt/spice/spice-fn-hello
	py py-hello hello.py
	js node-hello hello.js
	http py-http 8081 python3 "$fn/http_fn.py"
	http node-http 8082 node "$fn/http_fn.js"
	http go-http 8083 /mnt/spice/spice-fn-http-go
	if [ "$quick" = 1 ]; then
		echo "]"
		exit 0
	fi
	py py-json json_fn.py
	py py-asyncio asyncio_fn.py
	py py-pyaes pyaes_fn.py
	py py-chameleon chameleon_fn.py
	py py-image-rotate image_rotate.py
	py py-lr-serving lr_serving.py
	js node-json json_fn.js
	# Scaling: the image grows with the heap, the working set does not.
	for mib in 1 4 16 64 256; do
		run "heap-$mib" "-m cold,spice,spice-dumped,spice-lazy,warm,criu" \
			/mnt/spice/spice-fn-heap "$mib"
	done
	# Density: N restored instances at once against N cold starts.
	[ -x $root/usr/bin/python3 ] &&
		run py-hello-density "-m warm -N 1,2,4,8,16" python3 "$fn/hello.py"
fi
echo "]"
