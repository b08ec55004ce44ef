"""benchmarks/whole_job.py keeps working: three variants on tiny data, one epoch (no timing assertions); the other
variants run in tests/e2e/test_benchmark.py (throughput.py, whose workers whole_job.py starts)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO


@pytest.mark.slow
def test_whole_job_benchmark_times_processes_and_compares_accuracy(tmp_path: Path, tiny_source: Path) -> None:
    out = tmp_path / "whole_job.json"
    env = {**os.environ, "LITFASHION_FASHION_MNIST_DIR": str(tiny_source), "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    args = ["--repeats", "1", "--epochs", "1", "--limit", "2", "--data-dir", str(tmp_path / "data"), "--out", str(out)]
    args += ["--variants", "import-lightning", "tutorial", "litfashion"]
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "whole_job.py"), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| litfashion |" in proc.stdout and "| litfashion/tutorial wall |" in proc.stdout

    report = json.loads(out.read_text())
    summary, runs = report["summary"], report["runs"]
    assert set(runs) == {"import-lightning", "tutorial", "litfashion"}
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
    assert "litfashion" in summary["startup_beyond_import_lightning_s"]
