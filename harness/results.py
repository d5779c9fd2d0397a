#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn what the guest printed into flat TAP results, and count results.

  results.py guest TAP_LOG CONSOLE_LOG OUT.tap
      Parse the TAP documents that the guest wrote (the kselftests first,
      then one per "SPICE-SECTION name" line; "# "-prefixed subtests nest), and scan the kernel console for BUG, WARNING, KASAN, UBSAN,
      lockdep and kmemleak reports.  Writes one flat TAP line per leaf test,
      plus a failure for each problem: a missing or short plan, a test
      binary that failed after its subtests passed, a guest that did not
      finish, each kernel report.
  results.py kunit RAW_KTAP OUT.tap
      The same for kunit.py's raw KTAP output, nested by indentation.
  results.py summary FILE.tap...
      Print "N passed, N failed, N skipped" over the flat TAP files.
"""

import re
import sys
from dataclasses import dataclass, field

RESULT_RE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*-?\s*([^#]*?)\s*(#\s*(.*))?$")
PLAN_RE = re.compile(r"^1\.\.(\d+)")

# Kernel log lines that mean the run is not clean, whatever the tests said.
KERNEL_PROBLEMS = [
    re.compile(p) for p in (
        r"\bBUG: ",
        r"\bWARNING: ",
        r"\bKASAN: ",
        r"\bUBSAN: ",
        r"\bKFENCE: ",
        r"Kernel panic",
        r"\bOops\b",
        r"general protection fault",
        r"possible (recursive|circular) locking",
        r"inconsistent lock state",
        r"lock held when returning to user space",
        r"suspicious RCU usage",
        r"kmemleak: .*(suspected memory leak|unreferenced object)",
        r"spice-guest: kmemleak reports leaks",
    )
]


@dataclass
class Result:
    status: str  # "pass", "fail" or "skip"
    name: str
    note: str = ""

    def tap(self, num):
        head = "ok" if self.status != "fail" else "not ok"
        tail = " # SKIP " + self.note if self.status == "skip" else ""
        if self.status == "fail" and self.note:
            tail = " # " + self.note
        return f"{head} {num} {self.name}{tail}"


@dataclass
class Block:
    """Results at one nesting depth, between two results of the depth above."""
    plan: int = -1
    results: list = field(default_factory=list)


def strip_depth(line):
    depth = 0
    while line.startswith("# "):
        line = line[2:]
        depth += 1
    if line == "#":
        return depth + 1, ""
    return depth, line


def parse_directive(text):
    text = (text or "").strip()
    word = text.split(" ", 1)[0].upper() if text else ""
    return word, text


def parse_kselftest(lines):
    """Leaf results of nested kselftest TAP, with failures for broken structure."""
    out = []
    blocks = {}  # depth -> Block
    programs = 0  # results at depth 0: one per test program

    def close_children(depth, parent_name, parent_status):
        """Account for the subtests below a result at @depth."""
        child = blocks.pop(depth + 1, None)
        # Deeper blocks cannot outlive their parent.
        for d in [d for d in blocks if d > depth + 1]:
            blocks.pop(d)
        if child is None or not child.results:
            return None
        if child.plan >= 0 and child.plan != len(child.results):
            child.results.append(Result(
                "fail", f"{parent_name}: plan",
                f"planned {child.plan} tests, {len(child.results)} ran"))
        if parent_status == "fail" and all(r.status != "fail" for r in child.results):
            child.results.append(Result("fail", f"{parent_name}: exit status",
                                        "the test program failed"))
        return child.results

    for raw in lines:
        depth, line = strip_depth(raw.rstrip("\n"))
        m = PLAN_RE.match(line)
        if m:
            blocks.setdefault(depth, Block()).plan = int(m.group(1))
            continue
        m = RESULT_RE.match(line)
        if not m:
            continue
        status = "pass" if m.group(1) == "ok" else "fail"
        name = m.group(3).strip() or f"test {m.group(2)}"
        word, note = parse_directive(m.group(5))
        if word == "SKIP" and status == "pass":
            status = "skip"
        elif word == "TODO":
            status = "skip"
        if depth == 0:
            programs += 1
        children = close_children(depth, name, status)
        block = blocks.setdefault(depth, Block())
        if children is not None:
            block.results.extend(children)
        else:
            block.results.append(Result(status, name, note if status != "pass" else ""))

    # What is left at depth 0 holds everything; deeper blocks never closed
    # mean a test program stopped in the middle.
    for d in sorted([d for d in blocks if d > 0], reverse=True):
        orphan = blocks.pop(d)
        out.extend(orphan.results)
        out.append(Result("fail", "unfinished test program",
                          f"{len(orphan.results)} results without a closing line"))
    top = blocks.get(0, Block())
    if top.plan < 0:
        out.append(Result("fail", "kselftest plan", "no TAP plan from the guest"))
    elif top.plan != programs:
        out.append(Result("fail", "kselftest plan",
                          f"planned {top.plan} programs, {programs} reported"))
    return top.results + out


def scan_console(lines):
    problems = []
    for raw in lines:
        line = raw.rstrip("\n")
        if any(p.search(line) for p in KERNEL_PROBLEMS):
            problems.append(Result("fail", "guest kernel log", line.strip()[:200]))
    return problems


def split_sections(lines):
    """The guest's stream is TAP documents, each after "SPICE-SECTION name"."""
    sections, name, current = [], "kselftest", []
    for line in lines:
        if line.startswith("SPICE-SECTION "):
            sections.append((name, current))
            name, current = line.split(None, 1)[1].strip(), []
        else:
            current.append(line)
    sections.append((name, current))
    return [(n, c) for n, c in sections if n != "kselftest" or c or len(sections) == 1]


def guest(tap_path, console_path, out_path):
    with open(tap_path, errors="replace") as f:
        tap = f.readlines()
    try:
        with open(console_path, errors="replace") as f:
            console = f.readlines()
    except FileNotFoundError:
        console = []
    results = []
    for name, lines in split_sections(tap):
        for r in parse_kselftest(lines):
            if name != "kselftest":
                r.name = f"{name}: {r.name}"
            results.append(r)
    kernels = [line.split(":", 1)[1].strip() for line in tap
               if line.startswith("# guest kernel:")]
    if kernels and kernels[0].endswith("-spice"):
        results.append(Result("pass", f"guest runs the Spice kernel ({kernels[0]})"))
    else:
        results.append(Result("fail", "guest runs the Spice kernel",
                              f"uname -r: {kernels[0] if kernels else 'not reported'}"))
    if not any(line.startswith("SPICE-GUEST-DONE") for line in tap):
        results.append(Result("fail", "guest run", "the guest did not finish"))
    results += scan_console(console)
    with open(out_path, "w") as f:
        for i, r in enumerate(results, 1):
            f.write(r.tap(i) + "\n")
    return results


def kunit(raw_path, out_path):
    """KTAP from kunit.py --raw_output: nesting by 4-space indentation."""
    lines = []
    with open(raw_path, errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            stripped = line.lstrip(" ")
            depth = (len(line) - len(stripped)) // 4
            lines.append("# " * depth + stripped + "\n")
    results = parse_kselftest(lines)
    with open(out_path, "w") as f:
        for i, r in enumerate(results, 1):
            f.write(r.tap(i) + "\n")
    return results


def count(paths):
    totals = {"pass": 0, "fail": 0, "skip": 0}
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = RESULT_RE.match(line.rstrip("\n"))
                if not m:
                    continue
                word, _ = parse_directive(m.group(5))
                if m.group(1) == "not ok":
                    totals["fail"] += 1
                elif word == "SKIP":
                    totals["skip"] += 1
                else:
                    totals["pass"] += 1
    return totals


def main(argv):
    if len(argv) == 5 and argv[1] == "guest":
        results = guest(argv[2], argv[3], argv[4])
        for r in results:
            if r.status == "fail":
                print(f"FAIL: {r.name}" + (f": {r.note}" if r.note else ""))
        return 0
    if len(argv) == 4 and argv[1] == "kunit":
        for r in kunit(argv[2], argv[3]):
            if r.status == "fail":
                print(f"FAIL: {r.name}" + (f": {r.note}" if r.note else ""))
        return 0
    if len(argv) >= 2 and argv[1] == "summary":
        t = count(argv[2:])
        print(f"{t['pass']} passed, {t['fail']} failed, {t['skip']} skipped")
        return 1 if t["fail"] else 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
