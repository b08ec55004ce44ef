"""Faults in-process: a NaN loss and an unwritable log directory (Ctrl-C, a signal: tests/e2e/test_ctrl_c.py)."""

from pathlib import Path

import pytest
import torch

from litfashion.callbacks.finite_loss import _is_finite
from litfashion.cli import main
from tests.helpers.commands import tutorial_on_cpu

FIT = tutorial_on_cpu("fit")


@pytest.mark.parametrize("check_every", [[], ["--finite_loss.check_every_n_steps", "4"]], ids=["each-step", "every-4"])
def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(
    check_every: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    # With this learning rate the tiny data's loss overflows at step 7 (measured); validating every 2 steps
    # checkpoints steps 2, 4 and 6: the last good checkpoint is step 6's. Read each step (the default in one CPU
    # process) or folded into a flag read every 4 steps (as under DDP or on a GPU), the step named is the first bad.
    lr = ["--model.init_args.optimizer.init_args.lr", "30"]
    with pytest.raises(SystemExit) as exit_info:
        main([*FIT, *lr, "--trainer.val_check_interval", "2", *check_every])
    last = Path("lightning_logs/version_0/checkpoints/last.ckpt")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"litfashion: error: training stopped: the loss became NaN or infinite at step 7 (epoch 0); "
        f"the last good checkpoint is {last}. Lower the learning rate or check the data."
    )
    ckpt = torch.load(workdir / last, weights_only=True)
    assert ckpt["global_step"] == 6
    assert all(torch.isfinite(t).all() for t in ckpt["state_dict"].values())
    assert not (workdir / last.parent / "interrupted.ckpt").exists()


def test_a_loss_is_finite_only_if_every_element_is() -> None:
    assert _is_finite(torch.tensor(2.3)) and _is_finite(torch.tensor([1.0, 2.0]))
    for bad in (torch.tensor(float("nan")), torch.tensor(float("-inf")), torch.tensor([1.0, float("inf")])):
        assert not _is_finite(bad), bad


def test_unwritable_log_dir_fails_before_training(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    # A file in the way: unwritable even for root, which ignores permission bits.
    (workdir / "blocker").write_text("not a directory")
    with pytest.raises(SystemExit) as exit_info:
        main([*FIT, "--trainer.logger.init_args.save_dir", "blocker/logs"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"litfashion: error: trainer.logger (TensorBoardLogger) save_dir: cannot create {workdir / 'blocker/logs'}: "
        f"{workdir / 'blocker'} is a file, not a directory"
    )
    assert sorted(p.name for p in workdir.iterdir()) == ["blocker"]  # no data unpacked, nothing trained
