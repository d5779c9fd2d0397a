# SPDX-License-Identifier: GPL-2.0
"""Unit tests of harness/results.py: how guest output becomes results."""

import os
import tempfile
import unittest

import results

PASSING = """\
# guest kernel: 6.12.117-spice
TAP version 13
1..1
# timeout set to 120
# selftests: spice: abi_test
# TAP version 13
# 1..3
# # Starting 3 tests from 1 test cases.
# #  RUN           mmap_restore_abi.abi_version ...
# #            OK  mmap_restore_abi.abi_version
# ok 1 mmap_restore_abi.abi_version
# ok 2 mmap_restore_abi.unknown_flags
# ok 3 restore_process_abi.capability # SKIP needs CAP_SYS_ADMIN
# # Totals: pass:2 fail:0 xfail:0 xpass:0 skip:1 error:0
ok 1 selftests: spice: abi_test
"""


def statuses(results_list):
    return [r.status for r in results_list]


class ParseKselftest(unittest.TestCase):
    def test_leaf_results_are_counted(self):
        r = results.parse_kselftest(PASSING.splitlines(True))
        self.assertEqual(["pass", "pass", "skip"], statuses(r))
        self.assertEqual("mmap_restore_abi.abi_version", r[0].name)

    def test_failed_subtest(self):
        text = PASSING.replace("# ok 2 mmap", "# not ok 2 mmap").replace(
            "ok 1 selftests", "not ok 1 selftests")
        r = results.parse_kselftest(text.splitlines(True))
        self.assertEqual(["pass", "fail", "skip"], statuses(r))

    def test_program_failing_after_passing_subtests(self):
        text = PASSING.replace("ok 1 selftests: spice: abi_test",
                               "not ok 1 selftests: spice: abi_test # exit=139")
        r = results.parse_kselftest(text.splitlines(True))
        self.assertEqual(["pass", "pass", "skip", "fail"], statuses(r))
        self.assertIn("exit status", r[-1].name)

    def test_crash_mid_program_is_a_failure(self):
        lines = PASSING.splitlines(True)
        cut = [l for l in lines if not l.startswith("# ok 3")
               and not l.startswith("ok 1") and "Totals" not in l]
        r = results.parse_kselftest(cut)
        self.assertIn("fail", statuses(r))

    def test_short_subtest_plan(self):
        text = PASSING.replace("# 1..3", "# 1..4")
        r = results.parse_kselftest(text.splitlines(True))
        self.assertEqual("fail", r[-1].status)
        self.assertIn("plan", r[-1].name)

    def test_missing_plan(self):
        text = PASSING.replace("1..1\n", "")
        r = results.parse_kselftest(text.splitlines(True))
        self.assertIn("kselftest plan", [x.name for x in r if x.status == "fail"])

    def test_program_without_subtests(self):
        text = "TAP version 13\n1..1\nnot ok 1 selftests: spice: abi_test # TIMEOUT 120 seconds\n"
        r = results.parse_kselftest(text.splitlines(True))
        self.assertEqual(["fail"], statuses(r))

    def test_empty_output(self):
        r = results.parse_kselftest([])
        self.assertEqual(["fail"], statuses(r))


class Kunit(unittest.TestCase):
    KTAP = """KTAP version 1
1..1
    KTAP version 1
    # Subtest: spice-regions
    1..3
    ok 1 valid_tables
    not ok 2 region_order
    ok 3 find_interval # SKIP no
not ok 1 spice-regions
"""

    def test_indentation_nests(self):
        with tempfile.TemporaryDirectory() as d:
            raw, out = os.path.join(d, "raw"), os.path.join(d, "out")
            with open(raw, "w") as f:
                f.write(self.KTAP)
            r = results.kunit(raw, out)
            self.assertEqual(["pass", "fail", "skip"], statuses(r))
            self.assertEqual({"pass": 1, "fail": 1, "skip": 1}, results.count([out]))


class ScanConsole(unittest.TestCase):
    def test_clean_boot(self):
        log = ["[    0.000000] Linux version 6.12.117-spice\n",
               "[    1.0] Run /init as init process\n"]
        self.assertEqual([], results.scan_console(log))

    def test_reports(self):
        for line in ("[   3.1] WARNING: CPU: 0 PID: 1 at mm/spice/x.c:10 f+0x1/0x2",
                     "[   3.1] BUG: KASAN: slab-out-of-bounds in f+0x1/0x2",
                     "[   3.1] UBSAN: shift-out-of-bounds in mm/spice/x.c:3:4",
                     "[   3.1] WARNING: possible circular locking dependency detected",
                     "[   3.1] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
                     "[   3.1] Kernel panic - not syncing: Attempted to kill init!"):
            self.assertEqual(1, len(results.scan_console([line])), line)


class Guest(unittest.TestCase):
    def run_guest(self, tap, console):
        with tempfile.TemporaryDirectory() as d:
            paths = [os.path.join(d, n) for n in ("tap", "console", "out")]
            for p, text in zip(paths, (tap, console)):
                with open(p, "w") as f:
                    f.write(text)
            r = results.guest(*paths)
            return r, results.count([paths[2]])

    def test_finished_clean_run(self):
        r, counts = self.run_guest(PASSING + "SPICE-GUEST-DONE\n", "")
        self.assertEqual({"pass": 3, "fail": 0, "skip": 1}, counts)

    def test_another_kernel_fails(self):
        tap = PASSING.replace("6.12.117-spice", "6.1.0-25-amd64")
        r, counts = self.run_guest(tap + "SPICE-GUEST-DONE\n", "")
        self.assertEqual(1, counts["fail"])
        self.assertIn("6.1.0-25-amd64", [x for x in r if x.status == "fail"][0].note)

    def test_unfinished_run_fails(self):
        r, counts = self.run_guest(PASSING, "")
        self.assertEqual(1, counts["fail"])
        self.assertEqual("guest run", r[-1].name)

    def test_sections_are_separate_documents(self):
        section = "SPICE-SECTION libspice\nTAP version 13\n1..2\nok 1 a\nnot ok 2 b\n"
        r, counts = self.run_guest(PASSING + section + "SPICE-GUEST-DONE\n", "")
        self.assertEqual({"pass": 4, "fail": 1, "skip": 1}, counts)
        self.assertIn("libspice: b", [x.name for x in r if x.status == "fail"])

    def test_section_without_plan_fails(self):
        section = "SPICE-SECTION libspice\nok 1 a\n"
        _, counts = self.run_guest(PASSING + section + "SPICE-GUEST-DONE\n", "")
        self.assertEqual(1, counts["fail"])

    def test_kernel_warning_fails_a_passing_run(self):
        _, counts = self.run_guest(PASSING + "SPICE-GUEST-DONE\n",
                                   "[ 2.0] WARNING: CPU: 1 PID: 70 at mm/gup.c:1 x\n")
        self.assertEqual(1, counts["fail"])


if __name__ == "__main__":
    unittest.main()
