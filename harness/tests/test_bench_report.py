# SPDX-License-Identifier: GPL-2.0
"""Unit tests of harness/bench_report.py: the cold-start report's records."""

import contextlib
import io
import json
import os
import tempfile
import unittest
from unittest import mock

import bench_report


def mode(ms, faults=0, kib=0, reads=0):
    return {"ms_median": ms, "ms_min": ms * 0.9, "ms_max": ms * 1.2,
            "faults_median": faults, "faults_min": faults, "faults_max": faults,
            "read_kib_median": kib, "reads_median": reads}


def function(name, modes, density=()):
    return {"function": name, "reps": 3, "cpus": 2, "image_bytes": 8 << 20,
            "image_pages_stored": 2048, "ws_pages": 3000, "dump_ms": 100.0,
            "lazy_image_bytes": 8 << 20, "lazy_ws_pages": 0,
            "rec_image_bytes": 6 << 20, "rec_ws_pages": 1000,
            "modes": modes, "density": list(density),
            "syscalls": {"cold": 700, "spice": 5, "criu": 860}}


PY = function("py-hello", {"cold": mode(400, 1300),
                           "spice": dict(mode(50, 24, 4500, 11), next_ms_median=1.5),
                           "spice-dumped": mode(100, 20, 12000, 12),
                           "warm": mode(2), "criu": mode(400, 1300, 4600, 21)})
HEAP = function("heap-16", {"spice": mode(60, 23, 16500, 23),
                            "spice-lazy": mode(70, 110, 4000, 70), "warm": mode(1)})
DENSITY = function("py-hello-density", {"warm": mode(2)}, [
    {"n": 2, "reps": 3, "spice": {"ms_median": 60, "ms_max": 70, "pss_kib": 9000},
     "cold": {"ms_median": 500, "ms_max": 600, "pss_kib": 18000}}])


class PartialOutput(unittest.TestCase):
    def test_complete_elements_of_a_cut_list(self):
        with contextlib.redirect_stderr(io.StringIO()) as err:
            got = bench_report.partial_list('[\n{"a": 1}\n,{"b": [1, 2]}\n,{"c": ')
        self.assertEqual(got, [{"a": 1}, {"b": [1, 2]}])
        self.assertIn("after 2 results", err.getvalue())

    def test_nothing_printed(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(bench_report.partial_list(""), [])


class ColdstartReport(unittest.TestCase):
    def report(self, fns, machine="accel=tcg\ncpus=2\nmem=2G\ndisk=virtio-blk raw cache=none\n",
               tap="# runtime-root: disk 612 MiB\n"):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "machine"), "w") as f:
                f.write(machine)
            with open(os.path.join(d, "tap.log"), "w") as f:
                f.write(tap)
            with mock.patch.object(bench_report, "charts", return_value=[]), \
                    contextlib.redirect_stdout(io.StringIO()) as out:
                doc = bench_report.coldstart(fns, d, "tsc", d)
        return doc, out.getvalue()

    def test_one_record_per_function_and_mode(self):
        doc, _ = self.report([PY, HEAP])
        self.assertEqual([(r["function"], r["mode"]) for r in doc["records"]],
                         [("py-hello", "cold"), ("py-hello", "criu"), ("py-hello", "spice"),
                          ("py-hello", "spice-dumped"), ("py-hello", "warm"),
                          ("heap-16", "spice"), ("heap-16", "spice-lazy"),
                          ("heap-16", "warm")])
        # Spice restores the recorded image; spice-dumped the dump itself.
        spice, dumped = doc["records"][2], doc["records"][3]
        self.assertEqual(spice["read_bytes_median"], 4500 * 1024)
        self.assertEqual(spice["next_request_ms_median"], 1.5)
        self.assertIsNone(doc["records"][0]["next_request_ms_median"])
        self.assertEqual(spice["ws_bytes"], 1000 * 4096)
        self.assertEqual(spice["image_bytes"], 6 << 20)
        self.assertEqual(dumped["ws_bytes"], 3000 * 4096)
        self.assertEqual(dumped["image_bytes"], 8 << 20)
        self.assertIsNone(doc["records"][0]["image_bytes"])
        self.assertEqual(doc["records"][6]["ws_bytes"], 0)
        self.assertEqual([r["syscalls"] for r in doc["records"][:5]],
                         [700, 860, 5, None, None])
        json.dumps(doc)

    def test_restore_and_first_request_apart(self):
        spice = dict(mode(50, 24, 4500, 11), restore_ms_median=42.5)
        doc, _ = self.report([function("py-hello", {"spice": spice, "cold": mode(400)})])
        cold, spice = doc["records"]
        self.assertEqual(spice["restore_ms_median"], 42.5)
        self.assertEqual(spice["first_request_ms_median"], 7.5)
        self.assertIsNone(cold["restore_ms_median"])
        self.assertIsNone(cold["first_request_ms_median"])

    def test_ratios_of_medians(self):
        doc, out = self.report([PY])
        self.assertEqual(doc["ratios"]["py-hello"],
                         {"criu/spice": 8.0, "cold/spice": 8.0, "spice/warm": 25.0,
                          "spice-dumped/spice": 2.0, "criu/spice-dumped": 4.0})
        self.assertIn("criu/spice", out)

    def test_environment_is_stated(self):
        doc, out = self.report([PY])
        env = doc["environment"]
        self.assertEqual((env["emulation"], env["cpus"], env["memory"]), ("TCG", 2, "2G"))
        self.assertEqual(env["disk"], "virtio-blk raw cache=none")
        self.assertIn("TCG, 2 vCPUs", bench_report.env_label(env))
        self.assertIn("compare ratios", out)
        self.assertEqual(env["runtime_root"], "disk 612 MiB")
        self.assertIn("runtimes on disk 612 MiB", bench_report.env_label(env))
        doc, _ = self.report([PY], tap="")
        self.assertEqual(doc["environment"]["runtime_root"], "unknown")

    def test_chart_leaves_out_a_mode_no_function_has(self):
        doc, _ = self.report([function("py-hello", {"spice": mode(50), "cold": mode(400)})])
        scripts = []
        with tempfile.TemporaryDirectory() as d, \
                mock.patch.object(bench_report, "gnuplot",
                                  side_effect=lambda s, _: scripts.append(s) or True):
            self.assertIn("coldstart.png", bench_report.charts(doc, d))
        self.assertIn("title 'Spice'", scripts[0])
        self.assertNotIn("title 'CRIU'", scripts[0])

    def test_scaling_and_density(self):
        doc, _ = self.report([PY, HEAP, DENSITY])
        self.assertEqual(len(doc["scaling"]), 1)
        row = doc["scaling"][0]
        self.assertEqual((row["heap_mib"], row["spice_ms"], row["spice-lazy_ms"]),
                         (16, 60, 70))
        self.assertEqual([(r["n"], r["mode"], r["pss_kib"]) for r in doc["density"]],
                         [(2, "spice", 9000), (2, "cold", 18000)])


if __name__ == "__main__":
    unittest.main()
