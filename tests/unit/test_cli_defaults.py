"""What every config gets from the CLI's defaults, and what a default run prints."""

import warnings
from pathlib import Path

import pytest
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.profilers import SimpleProfiler

from litfashion.callbacks.progress_bar import MetricsProgressBar
from litfashion.cli import TENSORBOARD_CALLBACKS, main, make_cli
from litfashion.no_profiler import NoProfiler
from tests.helpers.paths import CONFIGS

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")


@pytest.fixture
def in_tmp(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    return tmp_path


def test_print_config_shows_the_shared_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--config", TUTORIAL, "--print_config"])
    assert exit_.value.code in (0, None)
    printed = capsys.readouterr().out
    for line in (
        "  num_sanity_val_steps: 0\n",
        "  log_every_n_steps: 50\n",
        "  accelerator: auto\n",
        "progress_bar:\n  refresh_rate: 4\n",
        "checkpoint:\n",
        "  monitor: val/acc\n",
        "last_checkpoint:\n",
        "  filename: last\n",
    ):
        assert line in printed, line


def test_the_bar_is_on_by_default_and_hidden_by_enable_progress_bar_false(in_tmp: Path) -> None:
    bars = [cb for cb in make_cli(["--config", TUTORIAL], run=False).trainer.callbacks if isinstance(cb, ProgressBar)]
    assert len(bars) == 1 and isinstance(bars[0], MetricsProgressBar) and bars[0].refresh_rate == 4

    hidden = make_cli(["--config", TUTORIAL, "--trainer.enable_progress_bar", "false"], run=False)
    assert not any(isinstance(cb, ProgressBar) for cb in hidden.trainer.callbacks)
    assert hidden.trainer.progress_bar_callback is None


def test_no_profiler_unless_the_config_names_one(in_tmp: Path) -> None:
    profiler = make_cli(["--config", TUTORIAL], run=False).trainer.profiler
    assert isinstance(profiler, NoProfiler)
    # One shared no-op context for every hook Lightning profiles: nothing is built per call.
    assert profiler.profile("run_training_batch") is profiler.profile("[Callback]RunSummary.on_train_batch_end")
    with profiler.profile("run_training_batch") as entered:
        assert entered is None
    assert profiler.summary() == ""
    chosen = make_cli(["--config", TUTORIAL, "--trainer.profiler", "simple"], run=False).trainer.profiler
    assert isinstance(chosen, SimpleProfiler)


def test_the_checkpoint_writers_keep_lightnings_state_keys(in_tmp: Path) -> None:
    """Checkpoints store each writer's state under its key: Lightning's own class, so checkpoints of earlier
    versions (a subclass of the same name) resume."""
    writers = make_cli(["--config", TUTORIAL], run=False).trainer.checkpoint_callbacks
    assert [type(writer) for writer in writers] == [ModelCheckpoint, ModelCheckpoint]
    assert all(writer.state_key.startswith("ModelCheckpoint{") for writer in writers)


def test_tensorboard_off_still_switches_every_panel_off(in_tmp: Path) -> None:
    cli = make_cli(["--config", TUTORIAL, "--config", str(CONFIGS / "tensorboard_off.yaml")], run=False)
    attached = {type(cb) for cb in cli.trainer.callbacks}
    assert not attached & set(TENSORBOARD_CALLBACKS.values())
    assert MetricsProgressBar in attached


@pytest.mark.slow
def test_a_default_fit_prints_no_third_party_notices(in_tmp: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The litlogger tip, torch.jit.trace's deprecation (the graph) and the pytree one are not the user's to fix."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        main(["fit", "--config", TUTORIAL, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
              "--trainer.limit_val_batches", "1", "--trainer.enable_model_summary", "false"])  # fmt: skip
    out, err = capfd.readouterr()
    assert "Epoch 0/0" in out + err and "val/acc" in out + err  # the bar and the run summary were printed
    assert "Tip:" not in out + err
    assert "v_num" not in out + err
    assert list(in_tmp.rglob("*.tfevents.*"))  # the graph was traced
    shown = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)]
    assert not [m for m in shown if "torch.jit.trace" in m or "LeafSpec" in m], shown
