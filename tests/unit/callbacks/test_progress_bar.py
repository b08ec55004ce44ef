"""The progress bar moves and reads the run's metrics only when it redraws, and catches up before a validation and
at an epoch's end."""

import itertools
from pathlib import Path
from typing import Any

import pytest
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar

from litfashion.callbacks import progress_bar
from litfashion.cli import make_cli
from tests.helpers.paths import CONFIGS


def fit_with_a_clock(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[list[int], progress_bar.MetricsProgressBar]:
    """Fit 8 training batches, each taking 0.1 s by the bar's clock; the batches whose end the bar showed."""
    clock = itertools.count(step=0.1)
    monkeypatch.setattr(progress_bar, "monotonic", lambda: next(clock))
    shown: list[int] = []
    original = RichProgressBar.on_train_batch_end

    def spy(self: RichProgressBar, trainer: Trainer, pl_module: LightningModule, *rest: Any) -> None:
        shown.append(rest[-1])
        original(self, trainer, pl_module, *rest)

    monkeypatch.setattr(RichProgressBar, "on_train_batch_end", spy)
    cli = make_cli(
        [
            "fit",
            "--config", str(CONFIGS / "fashion_mnist.yaml"),
            "--progress_bar.refresh_rate", "4",
            "--trainer.max_epochs", "1",
            "--trainer.limit_train_batches", "8",
            "--trainer.limit_val_batches", "1",
            *args,
        ]
    )  # fmt: skip
    bar = cli.trainer.progress_bar_callback
    assert isinstance(bar, progress_bar.MetricsProgressBar)
    return shown, bar


def test_the_bar_updates_when_a_redraw_is_due_and_at_the_last_batch(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, bar = fit_with_a_clock(monkeypatch)
    # 4 redraws a second = one every 0.25 s: batches 0, 3, 6, then the last (7), not all 8.
    assert shown == [0, 3, 6, 7]
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 8  # the bar ends full


def test_the_bar_catches_up_before_a_validation_inside_the_epoch_and_at_max_steps(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown, _ = fit_with_a_clock(monkeypatch, "--trainer.val_check_interval", "5")
    assert shown == [0, 3, 4, 6, 7]  # batch 4 shown when the validation after 5 batches starts

    shown, bar = fit_with_a_clock(monkeypatch, "--trainer.max_steps", "6")
    assert shown == [0, 3, 5]  # the run stops after 6 batches: the epoch's end shows the sixth
    assert bar.progress.tasks[bar.train_progress_bar_id].completed == 6
