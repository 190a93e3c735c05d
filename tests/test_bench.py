"""The benchmarks the README quotes still run: each in its smallest form, for no figure —
speed is measured by running them, never asserted in a test."""

from __future__ import annotations

import subprocess
import sys

import pytest

RUNS = {
    "refusals": ["--repeat", "1"],
    "durability": ["--count", "3"],
    "run": ["--sizes", "10", "--repeat", "1", "--pollers", "2", "--seconds", "0.5"],
    "load": ["--sizes", "300", "--seconds", "1", "--writes", "1", "--pollers", "2"],
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_the_benchmark_runs_and_prints_its_table(name, tmp_path):
    out = tmp_path / "table.md"
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *RUNS[name], "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert table.count("\n| ") >= 3, table
