"""The benchmarks keep working: throughput on tiny data and the start-up probes (no timing assertions).

Throughput runs the three variants that tests/e2e/test_whole_job_benchmark.py does not (each is a fresh process);
between the two tests every variant's worker runs once.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

pytestmark = pytest.mark.slow  # each benchmark starts fresh interpreters

VARIANTS = ("floor", "lightning", "litfashion-lean")


def run_benchmark(script: str, *args: str, cwd: Path, timeout: int, **env: str) -> subprocess.CompletedProcess:
    """``python benchmarks/SCRIPT ARGS`` in ``cwd`` with the source tree importable; it must exit cleanly."""
    env = {**os.environ, **env}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def test_throughput_benchmark_runs_its_variants_and_writes_json(tmp_path: Path, tiny_source: Path) -> None:
    out = tmp_path / "results.json"
    args = ["--repeats", "1", "--epochs", "1", "--limit", "4", "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    args += ["--variants", *VARIANTS]
    proc = run_benchmark(
        "throughput.py", *args, cwd=tmp_path, timeout=300,
        LITFASHION_FASHION_MNIST_DIR=str(tiny_source), OMP_NUM_THREADS="1",
    )  # fmt: skip
    assert "| litfashion-lean |" in proc.stdout and "| litfashion-lean/floor |" in proc.stdout
    assert "| tutorial |" not in proc.stdout and "litfashion/floor" not in proc.stdout

    report = json.loads(out.read_text())
    summary = report["summary"]
    assert set(report["runs"]) == set(VARIANTS)
    for variant in VARIANTS:
        run = report["runs"][variant][0]
        assert len(run["epoch_s"]) == 1 and run["epoch_s"][0] > 0
        assert run["train_samples"] == 4 * 64  # --limit 4 batches of the tutorial's 64
        assert run["peak_rss_mib"] > 0
        assert 0 <= summary[variant]["test_acc_per_epoch"][0] <= 1
    # Same seed, same init, same unshuffled batches: the runs learn the same model.
    accuracies = {summary[v]["test_acc_per_epoch"][0] for v in VARIANTS}
    assert len(accuracies) == 1, accuracies
    assert summary["litfashion-lean"]["startup_s"] > 0
    for statistic in ("median", "best"):
        ratios = summary[f"ratios_{statistic}"]
        assert set(ratios) == {"lightning/floor", "litfashion-lean/floor"}
        lean = summary["litfashion-lean"][f"{statistic}_epoch_s"]
        assert ratios["litfashion-lean/floor"] == lean / summary["floor"][f"{statistic}_epoch_s"]
    assert report["machine"]["cpu_model"]
    # The data module unpacked the source into the data dir that the runs shared.
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_startup_benchmark_times_import_and_both_parser_builds(tmp_path: Path) -> None:
    proc = run_benchmark("startup.py", "--repeats", "1", cwd=tmp_path, timeout=120)
    seconds = {name: float(value) for name, value in re.findall(r"^\| (.+?) \| ([0-9.]+) \|$", proc.stdout, re.M)}
    parts = ["import litfashion.cli", "parse, 4 parsers (LightningCLI's default)", "parse, 1 parser (litfashion)"]
    assert list(seconds) == parts, proc.stdout
    assert all(value > 0 for value in seconds.values())
