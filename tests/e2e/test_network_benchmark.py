"""``benchmarks/network_epoch.py`` keeps working: every variant on tiny data, a table and JSON (no timing asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

pytestmark = pytest.mark.slow


def test_network_benchmark_runs_every_variant(tmp_path: Path, tiny_source: Path) -> None:
    out = tmp_path / "network_epoch.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    args = ["--batches", "1", "--repeats", "1", "--batch-size", "8", "--source", str(tiny_source), "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "network_epoch.py"), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"mlp", "cnn", "cnn-channels_last"}
    for variant, figures in results.items():
        assert f"| {variant} |" in proc.stdout
        assert len(figures["samples_per_s"]) == 1 and figures["samples_per_s"][0] > 0
