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
