#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-guest.sh TAPFILE RUNDIR RUN-QEMU-ARGS...
#
# Boot the guest in check mode (the kselftest TAP streams to stdout), then
# turn its TAP and kernel log into flat results in TAPFILE.
set -uo pipefail

here=$(dirname "$(realpath "$0")")
tap=$1 rundir=$2
shift 2

echo "  guest        (console: ${rundir#"$PWD"/}/console.log)"
"$here/run-qemu.sh" "$@" --mode check --out "$rundir" --timeout "${SPICE_GUEST_TIMEOUT:-1500}"
rc=$?
case $rc in
0) ;;
2) echo "spice: step 'guest' timed out; see ${rundir#"$PWD"/}/console.log" ;;
3) echo "spice: step 'guest' stopped before finishing; see ${rundir#"$PWD"/}/console.log" ;;
*) echo "spice: step 'guest' could not start QEMU (exit $rc)"; : >"$rundir/tap.log" ;;
esac
python3 "$here/results.py" guest "$rundir/tap.log" "$rundir/console.log" "$tap"
