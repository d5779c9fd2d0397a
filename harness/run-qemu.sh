#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh [options]: boot the Spice kernel in QEMU.
#
#   --kernel FILE    bzImage                    (default: bzImage beside this script)
#   --initrd FILE    initramfs                  (default: initramfs.cpio.gz beside it)
#   --mode MODE      check: run the spice kselftests, print their TAP, exit
#                    demo:  the same, then the demo
#                    shell: an interactive shell on the console
#   --disk FILE      attach FILE as the image disk (virtio-blk, cache=none)
#   --hostroot       export the host's / read-only over virtio-9p (guest: /host)
#   --accel A        auto (default), kvm or tcg
#   --timeout SECS   kill the guest after SECS (check/demo; default 900)
#   --out DIR        where console.log and tap.log go (default: .)
#   --append ARGS    extra kernel command-line words
#   --verdict        check mode: also count the results and exit 1 if a test
#                    failed (for use without the host-side harness)
#
# In check and demo modes the kernel console goes to DIR/console.log, the
# guest's results (second serial port) to stdout and DIR/tap.log, and the
# accelerator used (kvm or tcg) to DIR/accel, and the machine (accelerator,
# CPUs, memory, image disk settings) to DIR/machine, as KEY=VALUE lines,
# for the benchmarks' reports.  The exit
# status is 0 when the guest finished, 2 on a guest timeout, 3 when the guest
# stopped before finishing (panic, crash).
set -euo pipefail

here=$(dirname "$(realpath "$0")")
kernel=$here/bzImage initrd=$here/initramfs.cpio.gz mode=check disk= hostroot=0 verdict=0
accel=auto timeout=900 out=. append= mem=${SPICE_GUEST_MEM:-2G} smp=${SPICE_GUEST_CPUS:-2}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--mode) mode=$2; shift ;;
	--disk) disk=$2; shift ;;
	--hostroot) hostroot=1 ;;
	--accel) accel=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--out) out=$2; shift ;;
	--append) append=$2; shift ;;
	--verdict) verdict=1 ;;
	*) echo "run-qemu.sh: unknown option $1" >&2; exit 64 ;;
	esac
	shift
done

for f in "$kernel" "$initrd"; do
	[ -r "$f" ] || { echo "run-qemu.sh: cannot read $f" >&2; exit 64; }
done
mkdir -p "$out"

bios=()
[ -r /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
cmdline="console=ttyS0 panic=-1 i8042.noaux=1 tsc=reliable"

base_args() {
	echo -machine q35 -m "$mem" -smp "$smp" -display none -no-reboot -nic none
}

# Multi-threaded TCG (QEMU 7.2) lets a vCPU run a stale int3 after the
# kernel patches its text (enabling a tracepoint: static calls and keys),
# and the guest oopses; the tests, which enable tracepoints, run with one
# host thread for all vCPUs.  The benchmarks, which do not, keep one per
# vCPU (SPICE_TCG_THREAD overrides).
tcg_thread=${SPICE_TCG_THREAD:-$(case "$mode" in bench*) echo multi ;; *) echo single ;; esac)}

accel_args() {
	case "$1" in
	kvm) echo -accel kvm -cpu host ;;
	tcg) echo -accel "tcg,thread=$tcg_thread" -cpu max ;;
	esac
}

# KVM is used only after a guest has been seen to boot with it: /dev/kvm can
# exist where nested virtualisation hangs the guest.
probe_kvm() {
	local out

	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	# Captured, not piped into grep -q: its early exit could SIGPIPE QEMU,
	# which pipefail would count as a failed probe.
	out=$(timeout -k 2 20 qemu-system-x86_64 $(base_args) $(accel_args kvm) "${bios[@]}" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "$cmdline SPICE_MODE=probe" \
		-serial null -serial stdio </dev/null 2>/dev/null)
	grep -q SPICE-PROBE-OK <<<"$out"
}

if [ "$accel" = auto ]; then
	cache=${SPICE_ACCEL_CACHE:-}
	if [ -n "$cache" ] && [ -r "$cache" ]; then
		accel=$(cat "$cache")
	elif probe_kvm; then
		accel=kvm
	else
		accel=tcg
	fi
	[ -n "$cache" ] && echo "$accel" >"$cache"
fi
echo "run-qemu.sh: accelerator $accel" >&2

# Under TCG the guest's TSC is the host's (QEMU reads the host's TSC), but
# the guest calibrates it against the emulated PIT, which fails when the
# host is busy: the guest then times with jiffies (4 ms steps).  Tell it the
# host's TSC frequency, as the host's kernel measured it, when it is known.
if [ "$accel" = tcg ]; then
	tsc_mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p;
		s/.*tsc: Detected \([0-9.]*\) MHz processor.*/\1/p' | tail -n 1)
	[ -n "$tsc_mhz" ] && cmdline+=" tsc_early_khz=$(awk -v m="$tsc_mhz" 'BEGIN { printf "%d", m * 1000 }')"
fi

dev_args=()
disk_desc=none
if [ -n "$disk" ]; then
	# cache=none (O_DIRECT on the host): a cold read in the guest really
	# reaches the disk.  Filesystems without O_DIRECT fall back to the
	# host page cache, and say so.
	if dd if="$disk" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
		dev_args+=(-drive "file=$disk,if=virtio,format=raw,cache=none,aio=native")
		disk_desc="virtio-blk raw cache=none aio=native"
	else
		echo "run-qemu.sh: no O_DIRECT on $disk's filesystem; using cache=writeback" >&2
		dev_args+=(-drive "file=$disk,if=virtio,format=raw,cache=writeback")
		disk_desc="virtio-blk raw cache=writeback"
	fi
fi
if [ "$hostroot" = 1 ]; then
	dev_args+=(-fsdev "local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap"
		   -device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot")
fi

qemu=(qemu-system-x86_64 $(base_args) $(accel_args "$accel") "${bios[@]}"
      -kernel "$kernel" -initrd "$initrd" "${dev_args[@]}")

if [ "$mode" = shell ]; then
	exec "${qemu[@]}" -serial mon:stdio -append "$cmdline SPICE_MODE=shell $append"
fi

rm -f "$out/console.log" "$out/tap.log"
echo "$accel" >"$out/accel"
printf 'accel=%s\ncpus=%s\nmem=%s\ndisk=%s\ndisk_bytes=%s\n' "$accel" "$smp" "$mem" \
	"$disk_desc" "$([ -n "$disk" ] && stat -c %s "$disk" || echo 0)" >"$out/machine"
set +e
timeout -k 5 "$timeout" "${qemu[@]}" \
	-serial "file:$out/console.log" -serial stdio \
	-append "$cmdline SPICE_MODE=$mode $append" </dev/null | tee "$out/tap.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run-qemu.sh: guest timed out after ${timeout}s" >&2
	exit 2
fi
if [ "$rc" != 0 ] || ! grep -q '^SPICE-GUEST-DONE' "$out/tap.log"; then
	echo "run-qemu.sh: guest stopped before finishing (qemu status $rc); see $out/console.log" >&2
	exit 3
fi
[ "$verdict" = 1 ] || exit 0

# Leaf results: subtests ("# ok"); a program with no subtests counts as one;
# a program that failed although its subtests passed counts as a failure.
awk '
	/^# (not )?ok / { n++; if ($2 == "not") { f++; pf++ } else if ($0 ~ /# SKIP/) s++; else p++ }
	/^(not )?ok / {
		if (!n) { if ($1 == "not") f++; else if ($0 ~ /# SKIP/) s++; else p++ }
		else if ($1 == "not" && !pf) f++
		n = 0; pf = 0
	}
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0 }
' "$out/tap.log"
