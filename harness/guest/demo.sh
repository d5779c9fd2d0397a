#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest's demo: what this Spice kernel can do today.
echo "# kernel: $(uname -r)"
echo "# \$ spice abi"
spice abi | sed 's/^/# /'
echo "# \$ spice abi --json"
spice abi --json | sed 's/^/# /'
if [ -x /host/usr/bin/python3 ]; then
	echo "# \$ host-run python3 -c 'import json, sys; print(...)'  (the host's python3, in the guest)"
	host-run python3 -c 'import json, sys; print(json.dumps({"python": sys.version.split()[0]}))' |
		sed 's/^/# /'
fi
if [ -d /images ]; then
	echo "# \$ spice-bench-populate -m 8 -r 3: 8 MiB of a snapshot back from the"
	echo "#   virtio-blk disk, page cache dropped, half of it the working set,"
	echo "#   touched once in first-touch order (median of 3; under TCG compare ratios):"
	spice-bench-populate -d /images -m 8 -r 3 2>/dev/null | tr '{' '\n' |
		grep '"access":"sequential","cache":"cold"' |
		sed -E 's/.*"method":"([^"]*)".*"ms_median":([0-9.]+).*"faults_median":([0-9]+).*"read_kib_median":([0-9]+).*/#   \1: \2 ms, \3 faults, \4 KiB read/'
fi
spice-dump-python /images 2>&1
spice-restore-demo /images 2>&1
