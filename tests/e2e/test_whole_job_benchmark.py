"""benchmarks/whole_job.py keeps working: the tutorial's program and litfashion, each a process timed start to exit,
on tiny data, one epoch (no timing assertions). The script runs in-process; tests/e2e/test_benchmark.py runs two
other variants, and tests/unit/test_benchmark_scripts.py checks the summary's arithmetic for all of them."""

import json
from pathlib import Path

import pytest

from tests.helpers.benchmarks import load_benchmark


@pytest.mark.slow
def test_whole_job_benchmark_times_processes_and_compares_accuracy(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    whole_job = load_benchmark("whole_job", monkeypatch, source=tiny_source)
    out = tmp_path / "whole_job.json"
    args = ["--repeats", "1", "--epochs", "1", "--limit", "2", "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    whole_job.main([*args, "--variants", "tutorial", "litfashion"])
    printed = capsys.readouterr().out
    assert "| litfashion |" in printed and "| litfashion/tutorial wall |" in printed

    report = json.loads(out.read_text())
    summary, runs = report["summary"], report["runs"]
    assert set(runs) == {"tutorial", "litfashion"}
    for variant in ("tutorial", "litfashion"):
        run = runs[variant][0]
        # Start-up, then one epoch, inside the process's wall time.
        assert 0 < run["startup_s"] < run["startup_s"] + run["first_epoch_s"] < run["wall_s"]
        assert len(run["test_acc"]) == 1 and run["peak_rss_mib"] > 0
    # Same seed, same batches: litfashion learns what the tutorial's loop learns.
    assert summary["accuracy_reference"] == "tutorial" and summary["same_accuracy"] == {"litfashion": True}
    assert summary["ratios_median"]["litfashion/tutorial wall"] == (
        summary["litfashion"]["median_wall_s"] / summary["tutorial"]["median_wall_s"]
    )
