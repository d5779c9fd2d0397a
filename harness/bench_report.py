#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a benchmark's guest output into JSON and a table.

  bench_report.py populate RUN_DIR OUT.json
  bench_report.py coldstart RUN_DIR OUT.json

RUN_DIR is run-qemu.sh's --out directory (tap.log, accel).

The guest prints the benchmark's JSON between SPICE-BENCH-BEGIN and
SPICE-BENCH-END.  The report adds, for every run, the ratio of its median
time to mmap_restore's median in the same access pattern and cache state,
all measured in the same guest run.
"""

import json
import os
import re
import sys


def extract(tap_path):
    with open(tap_path, errors="replace") as f:
        text = f.read()
    m = re.search(r"SPICE-BENCH-BEGIN\n(.*?)\nSPICE-BENCH-END", text, re.S)
    if not m:
        raise SystemExit(f"bench_report: no benchmark output in {tap_path}")
    return json.loads(m.group(1).strip())


def clocksource(tap_path):
    with open(tap_path, errors="replace") as f:
        for line in f:
            if line.startswith("# clocksource:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def accelerator(run_dir):
    """What run-qemu.sh used: kvm, or tcg (software emulation)."""
    try:
        with open(os.path.join(run_dir, "accel")) as f:
            return f.read().strip() or "unknown"
    except FileNotFoundError:
        return "unknown"


def populate(doc, accel):
    doc["accelerator"] = accel
    base = {(r["access"], r["cache"]): r["ms_median"]
            for r in doc["runs"] if r["method"] == "mmap_restore"}
    for r in doc["runs"]:
        b = base.get((r["access"], r["cache"]))
        r["ratio_to_mmap_restore"] = round(r["ms_median"] / b, 2) if b else None

    print(f"populate benchmark: {doc['mib']} MiB region, {doc['ws_pages']} of "
          f"{doc['pages']} pages in the working set, {doc['reps']} runs each, "
          f"device {doc['device'] or '?'}, {accel.upper()}"
          + (" (times are emulated: compare ratios)" if accel == "tcg" else ""))
    head = (f"{'access':10} {'cache':5} {'method':22} {'median ms':>10} "
            f"{'min':>8} {'max':>8} {'faults':>7} {'read IOs':>8} {'read KiB':>9} "
            f"{'x mmap_restore':>14}")
    print(head)
    print("-" * len(head))
    for r in doc["runs"]:
        ratio = r["ratio_to_mmap_restore"]
        print(f"{r['access']:10} {r['cache']:5} {r['method']:22} "
              f"{r['ms_median']:10.1f} {r['ms_min']:8.1f} {r['ms_max']:8.1f} "
              f"{r['faults_median']:7.0f} {r['read_ios_median']:8.0f} "
              f"{r['read_kib_median']:9.0f} "
              f"{(f'{ratio:.2f}' if ratio is not None else '-'):>14}")


def coldstart(doc, accel):
    """Per function: time to the first reply in each mode, and ratios."""
    print(f"cold-start benchmark: {len(doc)} functions, {accel.upper()}"
          + (" (times are emulated: compare ratios)" if accel == "tcg" else ""))
    head = (f"{'function':10} {'mode':17} {'median ms':>10} {'min':>8} {'max':>8} "
            f"{'faults':>7} {'read IOs':>8} {'read KiB':>9}")
    print(head)
    print("-" * len(head))
    for fn in doc:
        for name, m in fn["modes"].items():
            print(f"{fn['function']:10} {name:17} {m['ms_median']:10.1f} "
                  f"{m['ms_min']:8.1f} {m['ms_max']:8.1f} {m['faults_median']:7.0f} "
                  f"{m['reads_median']:8.0f} {m['read_kib_median']:9.0f}")
        r = fn["ratios"]
        criu = f", criu/spice {r['criu/spice']:.2f}" if "criu/spice" in r else ""
        print(f"{fn['function']:10} image {fn['image_bytes'] / 2**20:.1f} MiB, "
              f"working set {fn['ws_pages']} pages; cold/spice {r['cold/spice']:.2f}, "
              f"spice/warm {r['spice/warm']:.1f}{criu}")
    return {"accelerator": accel, "functions": doc}


def main(argv):
    if len(argv) != 4 or argv[1] not in ("populate", "coldstart"):
        print(__doc__, file=sys.stderr)
        return 64
    tap = os.path.join(argv[2], "tap.log")
    doc = extract(tap)
    cs = clocksource(tap)
    if cs != "tsc":
        print(f"warning: guest clocksource {cs}: times are coarse", file=sys.stderr)
    if argv[1] == "populate":
        doc["clocksource"] = cs
        populate(doc, accelerator(argv[2]))
    else:
        doc = coldstart(doc, accelerator(argv[2]))
        doc["clocksource"] = cs
    with open(argv[3], "w") as f:
        json.dump(doc, f, indent=1)
    print(f"written: {argv[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
