#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run the host-side unit tests of the harness and write flat TAP.

  run.py OUT.tap
"""

import sys
import unittest
from pathlib import Path


class TapResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = []

    def _add(self, test, ok, note=""):
        head = "ok" if ok else "not ok"
        self.lines.append(f"{head} {len(self.lines) + 1} {test.id()}{note}")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._add(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._add(test, False, " # failed")

    def addError(self, test, err):
        super().addError(test, err)
        self._add(test, False, " # error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._add(test, True, f" # SKIP {reason}")


def main(out):
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here.parent))
    suite = unittest.defaultTestLoader.discover(str(here), pattern="test_*.py")
    runner = unittest.TextTestRunner(resultclass=TapResult, verbosity=2)
    result = runner.run(suite)
    Path(out).write_text("".join(line + "\n" for line in result.lines))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
