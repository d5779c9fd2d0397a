#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a benchmark's guest output into JSON and a table.

  bench_report.py populate RUN_DIR OUT.json
  bench_report.py coldstart RUN_DIR OUT.json

RUN_DIR is run-qemu.sh's --out directory (tap.log, accel, machine).

For the cold-start benchmark, OUT.json (build/bench/results.json) holds the
environment (emulation, CPUs, memory, disk settings), one record per
function x mode with every figure measured, the ratios, the scaling and
density measurements, and the guest's raw output; PNG charts made with
gnuplot (coldstart.png, scaling.png, density.png) go beside it.

The guest prints the benchmark's JSON between SPICE-BENCH-BEGIN and
SPICE-BENCH-END.  The report adds, for every run, the ratio of its median
time to mmap_restore's median in the same access pattern and cache state,
all measured in the same guest run.
"""

import json
import os
import re
import shutil
import subprocess
import sys


def extract(tap_path):
    with open(tap_path, errors="replace") as f:
        text = f.read()
    m = re.search(r"SPICE-BENCH-BEGIN\n(.*?)\nSPICE-BENCH-END", text, re.S)
    if m:
        return json.loads(m.group(1).strip())
    m = re.search(r"SPICE-BENCH-BEGIN\n(.*)", text, re.S)
    if not m:
        raise SystemExit(f"bench_report: no benchmark output in {tap_path}")
    return partial_list(m.group(1))


def finished(tap_path):
    """Whether the guest printed the benchmark to its end."""
    with open(tap_path, errors="replace") as f:
        return "SPICE-BENCH-END" in f.read()


def partial_list(text):
    """The complete elements of a JSON list the guest stopped printing."""
    dec, out, i = json.JSONDecoder(), [], text.find("[") + 1
    while i > 0:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        try:
            elem, i = dec.raw_decode(text, i)
        except ValueError:
            break
        out.append(elem)
    print(f"warning: the guest stopped after {len(out)} results; reporting those",
          file=sys.stderr)
    return out


def guest_note(tap_path, key):
    """A '# key: value' line the guest printed before the benchmark."""
    try:
        with open(tap_path, errors="replace") as f:
            for line in f:
                if line.startswith(f"# {key}:"):
                    return line.split(":", 1)[1].strip()
    except FileNotFoundError:
        pass
    return "unknown"


def clocksource(tap_path):
    return guest_note(tap_path, "clocksource")


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


# "spice" restores the recorded image (dump, `spice record`, restore), as
# the issue defines Spice's mode; "spice-dumped" the dump as it was, whose
# working set is every resident page.
MODE_ORDER = ["cold", "criu", "spice", "spice-image-cold", "spice-dumped", "spice-lazy",
              "warm"]
CHART_MODES = [("cold", "cold boot"), ("criu", "CRIU"),
               ("spice-dumped", "Spice, dumped working set"), ("spice", "Spice"),
               ("warm", "warm")]
# Which image a Spice mode restores: the JSON's prefix for its figures.
IMAGE_PREFIX = {"spice": "rec_", "spice-image-cold": "rec_", "spice-lazy": "lazy_",
                "spice-dumped": ""}


def machine(run_dir):
    """run-qemu.sh's DIR/machine: accelerator, CPUs, memory, disk."""
    env = {}
    try:
        with open(os.path.join(run_dir, "machine")) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                env[key] = value
    except FileNotFoundError:
        pass
    return env


def environment(run_dir, fns, cs):
    env = machine(run_dir)
    root = guest_note(os.path.join(run_dir, "tap.log"), "runtime-root")
    accel = env.get("accel") or accelerator(run_dir)
    cpus = fns[0].get("cpus") if fns else None
    return {
        "emulation": {"kvm": "KVM", "tcg": "TCG"}.get(accel, accel),
        "cpus": cpus if cpus is not None else int(env.get("cpus", 0) or 0),
        "memory": env.get("mem", "unknown"),
        "disk": env.get("disk", "unknown"),
        "disk_bytes": int(env.get("disk_bytes", 0) or 0),
        "clocksource": cs,
        # Where python3, node and criu were read from: "disk N MiB" (a
        # copy on the image disk) or "host (9p)".
        "runtime_root": root,
        "reps": fns[0]["reps"] if fns else 0,
    }


def env_label(env):
    """What every chart's title states."""
    return (f"{env['emulation']}, {env['cpus']} vCPUs, {env['memory']}, "
            f"image disk {env['disk']}, runtimes on {env.get('runtime_root', '?')}")


def records(fns):
    """One record per function x mode, with every figure the run has."""
    out = []
    for fn in fns:
        for mode in sorted(fn["modes"], key=MODE_ORDER.index):
            m = fn["modes"][mode]
            prefix = IMAGE_PREFIX.get(mode, "")
            image = fn.get(prefix + "image_bytes")
            ws = fn.get(prefix + "ws_pages")
            out.append({
                "function": fn["function"],
                "mode": mode,
                "reps": fn["reps"],
                "ms_median": m["ms_median"],
                # Spice modes: launcher start to the end of restore_process();
                # the rest of ms_median is the first request.
                "restore_ms_median": m.get("restore_ms_median"),
                "first_request_ms_median": round(m["ms_median"] - m["restore_ms_median"], 2)
                if m.get("restore_ms_median") else None,
                # The second request to the instance that mode started.
                "next_request_ms_median": m.get("next_ms_median"),
                "ms_min": m["ms_min"],
                "ms_max": m["ms_max"],
                "faults_median": m["faults_median"],
                "faults_min": m.get("faults_min"),
                "faults_max": m.get("faults_max"),
                "read_ios_median": m["reads_median"],
                "read_bytes_median": m["read_kib_median"] * 1024,
                "image_bytes": image if mode.startswith("spice") else None,
                "ws_pages": ws if mode.startswith("spice") else None,
                "ws_bytes": ws * 4096 if mode.startswith("spice") and ws is not None
                else None,
                "image_pages_stored": fn["image_pages_stored"],
                "dump_ms": fn["dump_ms"],
                "syscalls": fn.get("syscalls", {}).get(mode),
            })
    return out


def ratios(fn):
    """Ratios of medians measured in the same run."""
    med = {k: v["ms_median"] for k, v in fn["modes"].items()}
    out = {}
    for name, a, b in (("criu/spice", "criu", "spice"), ("cold/spice", "cold", "spice"),
                       ("spice/warm", "spice", "warm"),
                       ("cold/spice-image-cold", "cold", "spice-image-cold"),
                       ("spice-dumped/spice", "spice-dumped", "spice"),
                       ("spice-lazy/spice", "spice-lazy", "spice"),
                       ("criu/spice-dumped", "criu", "spice-dumped")):
        if a in med and b in med and med[b] > 0:
            out[name] = round(med[a] / med[b], 2)
    return out


def heap_mib(fn):
    m = re.fullmatch(r"heap-(\d+)", fn["function"])
    return int(m.group(1)) if m else None


def scaling(fns):
    out = []
    for fn in fns:
        mib = heap_mib(fn)
        if mib is None:
            continue
        row = {"heap_mib": mib, "image_bytes": fn["image_bytes"],
               "ws_bytes": fn["ws_pages"] * 4096,
               "rec_ws_bytes": fn.get("rec_ws_pages", float("nan")) * 4096}
        for mode, m in fn["modes"].items():
            row[f"{mode}_ms"] = m["ms_median"]
            row[f"{mode}_read_bytes"] = m["read_kib_median"] * 1024
            row[f"{mode}_faults"] = m["faults_median"]
        out.append(row)
    return sorted(out, key=lambda r: r["heap_mib"])


def density(fns):
    out = []
    for fn in fns:
        for d in fn.get("density", []):
            for mode in ("spice", "cold"):
                out.append({"function": fn["function"], "n": d["n"], "mode": mode,
                            "reps": d["reps"], **d[mode]})
    return out


def fmt(x, spec=".1f"):
    return "-" if x is None else format(x, spec)


def print_tables(doc):
    env = doc["environment"]
    print(f"cold-start benchmark: {len(doc['functions'])} runs, {env_label(env)}, "
          f"{env['reps']} repetitions"
          + (" (times are emulated: compare ratios)" if env["emulation"] == "TCG" else ""))
    head = (f"{'function':17} {'mode':17} {'median ms':>10} {'min':>8} {'max':>8} "
            f"{'restore':>8} {'next':>7} {'faults':>7} {'read IOs':>8} {'read KiB':>9} "
            f"{'image KiB':>9} {'WS KiB':>8} {'syscalls':>8}")
    print(head)
    print("-" * len(head))
    for r in doc["records"]:
        print(f"{r['function']:17} {r['mode']:17} {r['ms_median']:10.1f} "
              f"{r['ms_min']:8.1f} {r['ms_max']:8.1f} "
              f"{fmt(r['restore_ms_median']):>8} {fmt(r['next_request_ms_median']):>7} "
              f"{r['faults_median']:7.0f} "
              f"{r['read_ios_median']:8.0f} {r['read_bytes_median'] / 1024:9.0f} "
              f"{fmt(r['image_bytes'] and r['image_bytes'] / 1024, '.0f'):>9} "
              f"{fmt(r['ws_bytes'] and r['ws_bytes'] / 1024, '.0f'):>8} "
              f"{fmt(r['syscalls'], 'd'):>8}")
    print()
    head = (f"{'function':17} {'criu/spice':>10} {'cold/spice':>10} {'spice/warm':>10} "
            f"{'dumped/spice':>12} {'criu/dumped':>11}")
    print(head)
    print("-" * len(head))
    for name, r in doc["ratios"].items():
        print(f"{name:17} {fmt(r.get('criu/spice'), '.2f'):>10} "
              f"{fmt(r.get('cold/spice'), '.2f'):>10} {fmt(r.get('spice/warm'), '.2f'):>10} "
              f"{fmt(r.get('spice-dumped/spice'), '.2f'):>12} "
              f"{fmt(r.get('criu/spice-dumped'), '.2f'):>11}")
    if doc["scaling"]:
        print()
        head = (f"{'heap MiB':>8} {'image MiB':>9} {'WS MiB':>7} {'rec WS':>7} "
                f"{'spice ms':>9} {'lazy ms':>8} {'dumped ms':>9} {'criu ms':>8} "
                f"{'cold ms':>8} {'warm ms':>8}")
        print(head)
        print("-" * len(head))
        for r in doc["scaling"]:
            print(f"{r['heap_mib']:8} {r['image_bytes'] / 2**20:9.1f} "
                  f"{r['ws_bytes'] / 2**20:7.1f} {r['rec_ws_bytes'] / 2**20:7.2f} "
                  f"{fmt(r.get('spice_ms')):>9} "
                  f"{fmt(r.get('spice-lazy_ms')):>8} {fmt(r.get('spice-dumped_ms')):>9} "
                  f"{fmt(r.get('criu_ms')):>8} "
                  f"{fmt(r.get('cold_ms')):>8} {fmt(r.get('warm_ms')):>8}")
    if doc["density"]:
        print()
        head = (f"{'function':17} {'N':>3} {'mode':6} {'median ms':>10} {'max ms':>8} "
                f"{'Pss sum MiB':>11}")
        print(head)
        print("-" * len(head))
        for r in doc["density"]:
            print(f"{r['function']:17} {r['n']:3} {r['mode']:6} {r['ms_median']:10.1f} "
                  f"{r['ms_max']:8.1f} {r['pss_kib'] / 1024:11.1f}")


def gnuplot(script, out_dir):
    """Run a gnuplot script; False (with a warning) when gnuplot is missing."""
    if not shutil.which("gnuplot"):
        print("warning: no gnuplot (Debian gnuplot-nox): no charts", file=sys.stderr)
        return False
    subprocess.run(["gnuplot"], input=script, text=True, cwd=out_dir, check=True)
    return True


def charts(doc, out_dir):
    """PNG charts: the modes per function, scaling, density."""
    label = env_label(doc["environment"])
    made = []
    fns = [f for f in doc["functions"] if heap_mib(f) is None and
           not f["function"].endswith("-density")]
    if fns:
        with open(os.path.join(out_dir, "coldstart.dat"), "w") as f:
            f.write("# function " + " ".join(m for m, _ in CHART_MODES) + "\n")
            for fn in fns:
                f.write(fn["function"] + " " + " ".join(
                    str(fn["modes"][m]["ms_median"]) if m in fn["modes"] else "NaN"
                    for m, _ in CHART_MODES) + "\n")
        # A mode no function has (CRIU failed) would stop gnuplot.
        shown = [(i, t) for i, (m, t) in enumerate(CHART_MODES)
                 if any(m in fn["modes"] for fn in fns)]
        plots = ", ".join(f"'coldstart.dat' using {i + 2}"
                          + (":xtic(1)" if k == 0 else "") + f" title '{t}'"
                          for k, (i, t) in enumerate(shown))
        if gnuplot(f"""set terminal pngcairo size 1300,650 noenhanced
set output 'coldstart.png'
set xtics rotate by -20
set title "Time to the first reply, per function (median)\\n{label}"
set ylabel 'ms (log scale)'
set logscale y
set yrange [0.5:*]
set grid ytics
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top left Left reverse
plot {plots}
""", out_dir):
            made.append("coldstart.png")
    if doc["scaling"]:
        with open(os.path.join(out_dir, "scaling.dat"), "w") as f:
            f.write("# heap_mib image_mib ws_mib spice lazy criu cold warm "
                    "spice_read_mib lazy_read_mib dumped dumped_read_mib rec_ws_mib\n")
            for r in doc["scaling"]:
                f.write(" ".join(str(x) for x in (
                    r["heap_mib"], r["image_bytes"] / 2**20, r["ws_bytes"] / 2**20,
                    r.get("spice_ms", "NaN"), r.get("spice-lazy_ms", "NaN"),
                    r.get("criu_ms", "NaN"), r.get("cold_ms", "NaN"),
                    r.get("warm_ms", "NaN"),
                    r.get("spice_read_bytes", float("nan")) / 2**20,
                    r.get("spice-lazy_read_bytes", float("nan")) / 2**20,
                    r.get("spice-dumped_ms", "NaN"),
                    r.get("spice-dumped_read_bytes", float("nan")) / 2**20,
                    r["rec_ws_bytes"] / 2**20)) + "\n")
        if gnuplot(f"""set terminal pngcairo size 1400,600 noenhanced
set output 'scaling.png'
set multiplot layout 1,2 title "Scaling: heap of 1 to 256 MiB, 64 pages read per request (median)\\n{label}"
set logscale xy
set grid
set key top left Left reverse
set xlabel 'heap MiB (log scale)'
set ylabel 'ms to the first reply (log scale)'
set title 'time to the first reply'
plot 'scaling.dat' using 1:4 with linespoints title 'Spice (recorded working set)', \\
     '' using 1:5 with linespoints title 'Spice, no working set (lazy)', \\
     '' using 1:11 with linespoints title 'Spice, dumped working set (resident pages)', \\
     '' using 1:6 with linespoints title 'CRIU', \\
     '' using 1:7 with linespoints title 'cold boot', \\
     '' using 1:8 with linespoints title 'warm'
set ylabel 'MiB (log scale)'
set title 'image and what a restore reads'
plot 'scaling.dat' using 1:2 with linespoints title 'image', \\
     '' using 1:3 with linespoints title 'working set (as dumped)', \\
     '' using 1:9 with linespoints title 'read from disk: Spice', \\
     '' using 1:10 with linespoints title 'read from disk: Spice lazy', \\
     '' using 1:12 with linespoints title 'read from disk: Spice dumped', \\
     '' using 1:13 with linespoints title 'working set (recorded)'
unset multiplot
""", out_dir):
            made.append("scaling.png")
    if doc["density"]:
        by_n = {}
        for r in doc["density"]:
            by_n.setdefault(r["n"], {})[r["mode"]] = r
        with open(os.path.join(out_dir, "density.dat"), "w") as f:
            f.write("# n spice_ms cold_ms spice_pss_mib cold_pss_mib\n")
            for n in sorted(by_n):
                s, c = by_n[n]["spice"], by_n[n]["cold"]
                f.write(f"{n} {s['ms_median']} {c['ms_median']} "
                        f"{s['pss_kib'] / 1024} {c['pss_kib'] / 1024}\n")
        fn = doc["density"][0]["function"].removesuffix("-density")
        if gnuplot(f"""set terminal pngcairo size 1000,600 noenhanced
set output 'density.png'
set title "Density: N instances of {fn} started at once (median per instance)\\n{label}"
set xlabel 'N instances'
set ylabel 'ms to each reply'
set y2label 'Pss sum, MiB'
set logscale x 2
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left Left reverse
plot 'density.dat' using 1:2 with linespoints title 'Spice: latency', \
     '' using 1:3 with linespoints title 'cold boot: latency', \
     '' using 1:4 axes x1y2 with linespoints dashtype 2 title 'Spice: Pss sum (right)', \
     '' using 1:5 axes x1y2 with linespoints dashtype 2 title 'cold boot: Pss sum (right)'
""", out_dir):
            made.append("density.png")
    return made


def coldstart(fns, run_dir, cs, out_dir):
    """Per function: time to the first reply in each mode, and ratios."""
    doc = {"environment": environment(run_dir, fns, cs),
           "records": records(fns),
           "ratios": {fn["function"]: ratios(fn) for fn in fns if len(fn["modes"]) > 1},
           "scaling": scaling(fns),
           "density": density(fns),
           "functions": fns}
    print_tables(doc)
    for png in charts(doc, out_dir):
        print(f"chart: {os.path.join(out_dir, png)}")
    return doc


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
        doc = coldstart(doc, argv[2], cs, os.path.dirname(os.path.abspath(argv[3])))
        doc["environment"]["finished"] = finished(tap)
    with open(argv[3], "w") as f:
        json.dump(doc, f, indent=1)
    print(f"written: {argv[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
