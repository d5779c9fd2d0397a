#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest's demo: what this Spice kernel can do today.
echo "# kernel: $(uname -r)"
echo "# \$ spice abi"
spice abi | sed 's/^/# /'
echo "# \$ spice abi --json"
spice abi --json | sed 's/^/# /'
