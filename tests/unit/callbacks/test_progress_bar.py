"""The progress bar moves and reads the run's metrics only when it redraws, and always at an epoch's last batch."""

import itertools
from pathlib import Path

import pytest
from lightning.pytorch.callbacks import RichProgressBar

from litfashion.callbacks import progress_bar
from litfashion.cli import make_cli
from tests.helpers.paths import CONFIGS


def test_the_bar_updates_when_a_redraw_is_due_and_at_the_last_batch(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = itertools.count(step=0.1)  # every training step takes 0.1 s by this clock
    monkeypatch.setattr(progress_bar, "monotonic", lambda: next(clock))
    updated: list[int] = []
    original = RichProgressBar.on_train_batch_end

    def spy(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        updated.append(batch_idx)
        original(self, trainer, pl_module, outputs, batch, batch_idx)

    monkeypatch.setattr(RichProgressBar, "on_train_batch_end", spy)
    cli = make_cli(
        [
            "fit",
            "--config", str(CONFIGS / "fashion_mnist.yaml"),
            "--progress_bar.refresh_rate", "4",
            "--trainer.max_epochs", "1",
            "--trainer.limit_train_batches", "8",
            "--trainer.limit_val_batches", "1",
        ]
    )  # fmt: skip
    # 4 redraws a second = one every 0.25 s: batches 0, 3, 6, then the last (7), not all 8.
    assert updated == [0, 3, 6, 7]
    bar = cli.trainer.progress_bar_callback
    assert isinstance(bar, progress_bar.MetricsProgressBar)
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 8  # the bar ends full
