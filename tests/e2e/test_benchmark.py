"""The benchmarks that time processes keep working: whole_job.py's floor and litfashion-lean processes on tiny
data, and a start-up probe (no timing assertions). The scripts run in-process; the processes they time are real.

tests/e2e/test_whole_job_benchmark.py runs whole_job.py's tutorial and litfashion processes, and
tests/unit/test_benchmark_scripts.py checks every worker's training in-process. The bare-Lightning worker and the
``import-lightning`` probe run as processes only in the benchmark itself.
"""

import json
from pathlib import Path

import pytest

from tests.helpers.benchmarks import load_benchmark

pytestmark = pytest.mark.slow  # each variant is a fresh interpreter

VARIANTS = ("floor", "litfashion-lean")


def test_whole_job_times_the_floor_and_lean_litfashion_and_writes_json(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    whole_job = load_benchmark("whole_job", monkeypatch, source=tiny_source)
    out = tmp_path / "results.json"
    args = ["--repeats", "1", "--epochs", "1", "--limit", "4", "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    whole_job.main([*args, "--variants", *VARIANTS])
    printed = capsys.readouterr().out
    assert "| litfashion-lean |" in printed and "| litfashion-lean/floor wall |" in printed
    assert "| tutorial |" not in printed and "litfashion/floor" not in printed

    report = json.loads(out.read_text())
    summary = report["summary"]
    assert set(report["runs"]) == set(VARIANTS)
    for variant in VARIANTS:
        run = report["runs"][variant][0]
        assert len(run["test_acc"]) == 1 and run["first_epoch_s"] > 0
        assert run["peak_rss_mib"] > 0
        assert 0 <= summary[variant]["test_acc_per_epoch"][0] <= 1
    assert report["runs"]["floor"][0]["train_samples"] == 4 * 64  # --limit 4 batches of the tutorial's 64
    # Same seed, same init, same unshuffled batches: the runs learn the same model.
    assert summary["accuracy_reference"] == "floor" and summary["same_accuracy"] == {"litfashion-lean": True}
    assert summary["litfashion-lean"]["median_startup_s"] > 0
    for statistic in ("median", "best"):
        ratios = summary[f"ratios_{statistic}"]
        assert set(ratios) == {"litfashion-lean/floor wall", "litfashion-lean/floor epoch"}
        lean = summary["litfashion-lean"][f"{statistic}_epoch_s"]
        assert ratios["litfashion-lean/floor epoch"] == lean / summary["floor"][f"{statistic}_epoch_s"]
    assert report["machine"]["cpu_model"]
    # The data module unpacked the source into the data dir that the runs shared.
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_a_startup_probe_imports_and_parses_in_a_fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seconds = load_benchmark("startup", monkeypatch).probe("fit")
    assert set(seconds) == {"import_s", "parse_s"} and all(value > 0 for value in seconds.values())
