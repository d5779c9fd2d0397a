#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# step.sh NAME LOG CMD...: run CMD with its output in LOG.  On failure show
# the end of LOG and one line naming the step and the log, and fail.
name=$1 log=$2
shift 2
mkdir -p "$(dirname "$log")"
printf '  %-12s (log: %s)\n' "$name" "${log#"$PWD"/}"
"$@" >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] && exit 0
tail -n 25 "$log" | sed 's/^/    | /'
echo "spice: step '$name' failed (exit $rc); see ${log#"$PWD"/}"
exit 1
