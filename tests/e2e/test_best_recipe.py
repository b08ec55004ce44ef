"""configs/fashion_mnist_best.yaml runs through the accuracy script, and OneCycleLR gets the run's length.

The script starts ``litfashion`` fit and test processes; the scheduler rule alone: tests/unit/models/test_schedulers.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers.paths import CONFIGS, REPO


@pytest.mark.slow
def test_best_config_fits_and_tests_through_the_accuracy_script(tmp_path: Path, tiny_source: Path) -> None:
    env = {**os.environ, "LITFASHION_FASHION_MNIST_DIR": str(tiny_source)}
    script = REPO / "benchmarks" / "accuracy.py"
    best = CONFIGS / "fashion_mnist_best.yaml"
    fit_args = ["--trainer.max_epochs", "1", "--trainer.limit_val_batches", "1"]
    proc = subprocess.run(
        [sys.executable, str(script), "--configs", str(best), "--seeds", "0", "--workdir", "runs", "--", *fit_args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert "fashion_mnist_best.yaml seed 0: test/acc" in proc.stdout
    assert "| `configs/fashion_mnist_best.yaml` |" in proc.stdout

    ckpt = torch.load(tmp_path / "runs" / "fashion_mnist_best" / "seed0" / "checkpoints" / "last.ckpt")
    scheduler = ckpt["lr_schedulers"][0]
    assert scheduler["total_steps"] == 2  # 461 training images (512 less the 10% split), batches of 256
    assert scheduler["last_epoch"] == 2  # stepped per batch, to the end of the cycle
