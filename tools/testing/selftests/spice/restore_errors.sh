#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spice verify and spice restore name what a restore fails on: a file the
# process held open that is gone since the dump, a descriptor that only a
# launcher can supply (a pipe from outside the process), a file lock that
# another process holds, a listening socket whose port another holds, and
# a deleted file larger than the launcher's RLIMIT_FSIZE.
# The dumpee is busybox sleep with a file on fd 3 and a pipe's read end on
# fd 4, a file with a flock() lock on fd 3, or a TCP listener on fd 3.
ksft_skip=4
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fail=1; fi; }

echo "TAP version 13"
if ! command -v spice >/dev/null; then
	echo "1..0 # SKIP no spice"
	exit $ksft_skip
fi
dir=$(mktemp -d)

# dumpee IMAGE: dump a sleep holding $dir/held on fd 3 and a pipe on fd 4.
dumpee() {
	echo data >"$dir/held"
	# shellcheck disable=SC2217 # the fds are for the dump, not for sleep
	true | { exec 4<&0; exec sleep 1000 3<"$dir/held" </dev/null >/dev/null 2>&1; } &
	dump_sleep "$1"
}

# locker IMAGE: dump a sleep with a shared flock() lock on $dir/held, fd 3.
locker() {
	echo data >"$dir/held"
	./with_flock sh "$dir/held" sleep 1000 </dev/null >/dev/null 2>&1 &
	dump_sleep "$1"
}

# wait_sleep PID: wait until PID runs sleep (at most 10 s).
wait_sleep() {
	i=0
	while [ "$(cat "/proc/$1/comm" 2>/dev/null)" != sleep ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# dump_sleep IMAGE: dump the sleep just started, once it runs.
dump_sleep() {
	pid=$!
	wait_sleep "$pid"
	spice dump "$pid" -o "$1" >/dev/null 2>"$dir/dump.err"
}

dumpee "$dir/a.img"
ok $? "spice dump of a sleep holding a file and a pipe"
spice verify "$dir/a.img" --files >"$dir/out" 2>"$dir/err"
ok $? "spice verify --files accepts it while the file is there"
grep -q "fd 4: to be supplied by the launcher (--fd 4=N)" "$dir/out"
ok $? "spice verify lists fd 4 as one the launcher supplies"

rm -f "$dir/held"
spice verify "$dir/a.img" --files >/dev/null 2>"$dir/err"
[ $? = 1 ] && grep -q "^spice verify: $dir/a.img: file $dir/held: " "$dir/err"
ok $? "spice verify --files names the file that is gone"
sed 's/^/# /' "$dir/err"
spice restore "$dir/a.img" --fd 4=0 >/dev/null 2>"$dir/err" </dev/null
[ $? = 1 ] && grep -q "^spice restore: $dir/a.img: file $dir/held: " "$dir/err" &&
	grep -q "^spice restore: $dir/a.img: the kernel said: " "$dir/err"
ok $? "spice restore names the file that is gone, then the kernel's error"
sed 's/^/# /' "$dir/err"

dumpee "$dir/b.img"
ok $? "spice dump of a second sleep"
spice restore "$dir/b.img" >/dev/null 2>"$dir/err" </dev/null
[ $? = 1 ] &&
	grep -q "^spice restore: $dir/b.img: fd 4: a pipe or socket from outside" "$dir/err" &&
	grep -q "cannot hold: give one with --fd 4=N$" "$dir/err" &&
	grep -q "the kernel said: Bad file descriptor" "$dir/err"
ok $? "spice restore without fd 4 names it and says how to give it"
sed 's/^/# /' "$dir/err"

locker "$dir/c.img"
ok $? "spice dump of a sleep holding a flock() lock"
./with_flock ex "$dir/held" sleep 1000 </dev/null >/dev/null 2>&1 &
holder=$!
wait_sleep "$holder"
held_by="fd 3: file $dir/held: its flock read lock is held by process $holder"
spice restore "$dir/c.img" </dev/null >/dev/null 2>"$dir/err"
[ $? = 1 ] && grep -q "^spice restore: $dir/c.img: $held_by$" "$dir/err" &&
	grep -q "the kernel said: Resource temporarily unavailable" "$dir/err"
ok $? "spice restore names the lock another process holds, and its holder"
sed 's/^/# /' "$dir/err"
kill "$holder"
wait "$holder" 2>/dev/null

# A listener on 127.0.0.1:$port; the same port held again at restore.
port=$((20000 + $$ % 10000))
./with_listener $port sleep 1000 </dev/null >/dev/null 2>&1 &
dump_sleep "$dir/d.img"
ok $? "spice dump of a sleep holding a TCP listener"
spice inspect --fds "$dir/d.img" >"$dir/out" 2>&1
grep -q "fd 3: socket flags 02 TCPv4 127.0.0.1:$port listening backlog 8$" "$dir/out"
ok $? "spice inspect --fds shows the socket, its address, state and backlog"
sed 's/^/# /' "$dir/out" | grep "fd 3"
./with_listener $port sleep 1000 </dev/null >/dev/null 2>&1 &
holder=$!
wait_sleep "$holder"
in_use="fd 3: TCPv4 127.0.0.1:$port socket: bind: Address already in use"
spice verify "$dir/d.img" >/dev/null 2>"$dir/err"
[ $? = 1 ] && grep -q "^spice verify: $dir/d.img: $in_use" "$dir/err"
ok $? "spice verify names the socket whose port is taken"
spice restore "$dir/d.img" </dev/null >/dev/null 2>"$dir/err"
[ $? = 1 ] && grep -q "^spice restore: $dir/d.img: $in_use" "$dir/err" &&
	grep -q "the kernel said: Address already in use" "$dir/err"
ok $? "spice restore names the socket whose port is taken, then the kernel's error"
sed 's/^/# /' "$dir/err"
kill "$holder"
wait "$holder" 2>/dev/null

# A file deleted while held, made anew at restore: over the launcher's
# RLIMIT_FSIZE, named before the kernel refuses it (EFBIG).
dd if=/dev/urandom of="$dir/big" bs=1024 count=200 2>/dev/null
# shellcheck disable=SC2217 # fd 3 is for the dump, not for sleep
sleep 1000 3<"$dir/big" </dev/null >/dev/null 2>&1 &
pid=$!
wait_sleep "$pid"
rm -f "$dir/big"
spice dump "$pid" -o "$dir/e.img" >/dev/null 2>"$dir/dump.err"
ok $? "spice dump of a sleep holding a deleted file"
too_big="file $dir/big: 204800 bytes, over the launcher's RLIMIT_FSIZE"
(ulimit -f 100 && spice restore "$dir/e.img" </dev/null >/dev/null 2>"$dir/err")
[ $? = 1 ] && grep -q "^spice restore: $dir/e.img: $too_big" "$dir/err" &&
	grep -q "the kernel said: File too large" "$dir/err"
ok $? "spice restore names the deleted file over RLIMIT_FSIZE, then the kernel's error"
sed 's/^/# /' "$dir/err"

rm -rf "$dir"
echo "1..$n"
exit $fail
