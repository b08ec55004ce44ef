"""The CLI in-process, as a user runs it: fit, then test, validate and predict its checkpoints; bad input."""

import csv
import re
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint

from litfashion.callbacks import PredictionWriter
from litfashion.callbacks.interrupt_checkpoint import CheckpointOnInterrupt
from litfashion.cli import COMMANDS, TENSORBOARD_CALLBACKS, last_saved_at_epoch_end, main, make_cli
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.tensorboard_events import scalars

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")
# The synthetic data learns in two epochs at this rate; everything else is the tutorial config.
FAST = [
    "--trainer.max_epochs",
    "2",
    "--trainer.log_every_n_steps",
    "4",
    "--model.init_args.optimizer.init_args.lr",
    "0.05",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_source: Path) -> Path:
    """One short fit shared by the tests below, which run later commands beside it."""
    workdir = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as monkeypatch:
        in_folder(monkeypatch, workdir, tiny_source)
        main(["fit", "--config", TUTORIAL, *FAST])
    return workdir / "lightning_logs" / "version_0"


@pytest.fixture
def beside_trained(trained: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The trained run's folder as the current one, where its ``lightning_logs`` are."""
    return in_folder(monkeypatch, trained.parents[1], tiny_source)


def newest_version(logs: Path) -> Path:
    """The log directory of the latest command run beside ``logs`` (versions count up)."""
    return max(logs.glob("version_*"), key=lambda p: int(p.name.split("_")[1]))


def test_fit_writes_config_checkpoints_and_metrics(trained: Path) -> None:
    assert (trained / "config.yaml").is_file()
    assert (trained / "checkpoints" / "best.ckpt").is_file()
    assert (trained / "checkpoints" / "last.ckpt").is_file()
    logged = scalars(trained)
    for tag in ("train/loss", "train/loss_epoch", "train/acc", "val/loss", "val/acc", "val/acc_best"):
        assert tag in logged, tag
    assert len(logged["val/acc"]) == 2
    assert 0.5 < logged["val/acc"][-1] < 1, logged["val/acc"]  # learning, and not saturated
    assert logged["val/acc_best"][-1] == max(logged["val/acc"])


def test_checkpoint_loads_with_weights_only_and_keeps_primitive_hparams(trained: Path) -> None:
    ckpt = torch.load(trained / "checkpoints" / "best.ckpt", weights_only=True)
    hparams = ckpt["hyper_parameters"]
    assert hparams["_class_path"] == "litfashion.models.ImageClassifier"
    assert hparams["num_classes"] == 10 and hparams["class_names"][0] == "T-shirt/top"
    assert hparams["optimizer"]["class_path"] == "torch.optim.SGD"


def test_test_reproduces_the_best_accuracy(trained: Path, beside_trained: Path, capsys: pytest.CaptureFixture) -> None:
    """A new process does the same in tests/e2e/test_real_fashion_mnist.py."""
    capsys.readouterr()
    main(["test", "--config", TUTORIAL, "--ckpt_path", str(trained / "checkpoints" / "best.ckpt")])
    test_acc = scalars(newest_version(trained.parent))["test/acc"][0]
    assert test_acc == pytest.approx(scalars(trained)["val/acc_best"][-1], abs=1e-6)
    stdout = capsys.readouterr().out
    printed = re.search(r"test/acc\W+([0-9.]+)", stdout)
    assert printed, stdout
    assert float(printed.group(1)) == pytest.approx(test_acc, abs=1e-4)


def test_validate_reproduces_the_last_accuracy(trained: Path, beside_trained: Path) -> None:
    main(["validate", "--config", TUTORIAL, "--ckpt_path", str(trained / "checkpoints" / "last.ckpt")])
    assert scalars(newest_version(trained.parent))["val/acc"][0] == pytest.approx(scalars(trained)["val/acc"][-1])


def test_predict_writes_class_index_name_and_probability(trained: Path, workdir: Path) -> None:
    out = trained.parent / "predictions.csv"
    main([
        "predict", "--config", TUTORIAL, "--ckpt_path", str(trained / "checkpoints" / "best.ckpt"),
        "--predictions.output", str(out),
    ])  # fmt: skip
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 128
    assert [r["sample"] for r in rows] == [str(i) for i in range(128)]
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    for row in rows:
        assert row["class_name"] == names[int(row["class_index"])]
        assert 0.1 <= float(row["probability"]) <= 1.0


def _fails_cleanly(capsys: pytest.CaptureFixture, workdir: Path, *args: str, message: str) -> str:
    """``main(args)`` exits 2 with ``message`` on stderr and nothing written; returns stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2, stderr[-3000:]
    assert message in stderr, stderr[-3000:]
    assert "Traceback" not in stderr
    assert not (workdir / "lightning_logs").exists()
    return stderr


def attached_types(trainer: Trainer) -> set[type]:
    """The types of the Trainer's callbacks, counting each member of a ``CallbackGroup``."""
    callbacks = [member for cb in trainer.callbacks for member in getattr(cb, "callbacks", [cb])]
    return {type(cb) for cb in callbacks}


def test_only_the_callbacks_that_act_reach_the_trainer(workdir: Path) -> None:
    """Lightning calls every callback's hooks at every step: switched-off panels and idle writers stay out."""
    panels = set(TENSORBOARD_CALLBACKS.values())

    default = attached_types(make_cli(["--config", TUTORIAL], run=False).trainer)
    assert panels | {ModelCheckpoint, CheckpointOnInterrupt} <= default
    assert PredictionWriter not in default  # it only writes in `predict`

    # `enable_checkpointing: false` used to make Lightning refuse the configured ModelCheckpoints.
    off = ["--config", TUTORIAL, "--config", str(CONFIGS / "tensorboard_off.yaml")]
    cli = make_cli([*off, "--trainer.enable_checkpointing", "false", "--trainer.max_epochs", "1"], run=False)
    attached = attached_types(cli.trainer)
    assert not attached & (panels | {CheckpointOnInterrupt, PredictionWriter})
    assert not any(issubclass(kind, Checkpoint) for kind in attached)  # Lightning's ModelCheckpoint included
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert cli.trainer.global_step == 8  # 512 samples, batch 64
    assert list(workdir.rglob("*.tfevents.*")) and not list(workdir.rglob("*.ckpt"))


def test_every_subcommand_is_offered_though_only_the_one_run_is_built(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    """Start-up builds the parser of the subcommand given; the help and a typo still see all four."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listed = capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["fti", "--config", TUTORIAL])
    typo = capsys.readouterr().err
    assert exit_info.value.code == 2 and not (workdir / "lightning_logs").exists()
    for subcommand in ("fit", "validate", "test", "predict"):
        assert re.search(rf"^\s+{subcommand}\s", listed, re.MULTILINE), listed
        assert subcommand in typo, typo
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "--trainer.max_epochs" in capsys.readouterr().out


def test_unknown_config_key(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    (workdir / "typo.yaml").write_text("trainer:\n  max_epoch: 1\n")
    _fails_cleanly(capsys, workdir, "fit", "--config", TUTORIAL, "--config", "typo.yaml", message="trainer.max_epoch")


def test_unknown_flag_is_not_taken_for_an_abbreviation(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    _fails_cleanly(capsys, workdir, "fit", "--config", TUTORIAL, "--trainer.max_epoch", "1", message="max_epoch")


def test_wrong_type(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    _fails_cleanly(capsys, workdir, "fit", "--config", TUTORIAL, "--trainer.max_epochs", "many", message="max_epochs")


@pytest.mark.parametrize("lr", ["0", "-0.1"])
def test_learning_rate_must_be_positive(workdir: Path, capsys: pytest.CaptureFixture, lr: str) -> None:
    _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, "--model.init_args.optimizer.init_args.lr", lr,
        message="litfashion: error: model.optimizer (torch.optim.SGD)",
    )  # fmt: skip


def test_batch_size_must_be_positive(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, "--data.init_args.batch_size", "0",
        message="litfashion: error: data.batch_size must be >= 1, got 0",
    )  # fmt: skip


def test_a_callback_refusing_its_arguments_is_named_by_where_it_is_configured(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    early_stopping = ["--trainer.callbacks+=EarlyStopping", "--trainer.callbacks.monitor=val/acc"]
    _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, *early_stopping, "--trainer.callbacks.mode=upward",
        message="litfashion: error: trainer.callbacks (EarlyStopping).mode: `mode` can be min, max, got upward",
    )  # fmt: skip
    _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, "--last_checkpoint.save_top_k=-3",
        message="litfashion: error: last_checkpoint.save_top_k: Invalid value for save_top_k=-3",
    )  # fmt: skip


def test_a_device_check_names_the_device_settings_given(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, "--trainer.accelerator=gpu", "--trainer.devices=2",
        message="litfashion: error: trainer.accelerator='gpu', trainer.devices='2': No supported gpu backend found!",
    )  # fmt: skip


def test_missing_data_without_network(workdir: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    empty = workdir / "empty"
    empty.mkdir()
    in_folder(monkeypatch, workdir, empty)
    stderr = _fails_cleanly(
        capsys, workdir, "fit", "--config", TUTORIAL, "--data.init_args.download", "false",
        message="litfashion: error: FashionMNIST was not found",
    )  # fmt: skip
    assert str(empty / "train-images-idx3-ubyte.gz") in stderr


def test_without_a_logger_a_second_run_keeps_the_first_runs_files(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    """With ``trainer.logger false`` runs share one folder: a second run refuses at once; a resume continues there."""
    no_logger = ["fit", "--config", TUTORIAL, *FAST, "--trainer.logger", "false", "--trainer.max_epochs", "1"]
    main(no_logger)
    first = {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()}
    assert workdir / "config.yaml" in first and workdir / "checkpoints" / "last.ckpt" in first

    stderr = _fails_cleanly(capsys, workdir, *no_logger, message="litfashion: error: trainer.logger is false")
    assert "trainer.default_root_dir" in stderr
    assert {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()} == first

    main([*no_logger[:-1], "2", "--ckpt_path", "checkpoints/last.ckpt"])
    assert torch.load(workdir / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1


def test_last_checkpoint_holds_the_last_epoch_when_it_was_not_validated(workdir: Path) -> None:
    """Validated every third epoch, a 2-epoch fit is never validated: last.ckpt still holds its second epoch."""
    cli = make_cli(["fit", "--config", TUTORIAL, *FAST, "--trainer.check_val_every_n_epoch", "3"])
    last = torch.load(workdir / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (1, cli.trainer.global_step)


@pytest.mark.parametrize(
    ("every_n_epochs", "interval", "at_epoch_end"),
    [(3, None, True), (3, 1.0, True), (1, None, None), (None, 100, None), (3, 0.5, None), (3, 1, None)],
)
def test_last_checkpoint_waits_for_validation_only_where_every_epoch_has_one(
    every_n_epochs: int | None, interval: float | int | None, at_epoch_end: bool | None
) -> None:
    """An int ``val_check_interval`` counts steps: 1 is a validation every step, not once an epoch."""
    assert last_saved_at_epoch_end(every_n_epochs, interval) is at_epoch_end


# Missing, unsafe and mismatched checkpoints: test_safe_loading.py; the console script: tests/e2e.


def test_help_lists_every_command_and_each_command_has_its_own_help(capsys: pytest.CaptureFixture) -> None:
    """One entry point, as litgpt's: `litfashion --help` names every command with one line, and each one's own
    `--help` works."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listed = dict(re.findall(r"^  (\S+) +(.+)$", capsys.readouterr().out, re.M))
    assert listed.keys() == COMMANDS.keys()
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        assert exited.value.code == 0, name
        assert "usage:" in capsys.readouterr().out, name


def test_an_unknown_command_is_one_line_with_the_closest(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["swep", "--config", "x.yaml"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "litfashion: error: unknown command 'swep'; did you mean sweep? Commands: fit, validate, test, predict, "
        "export, export-images, sweep, serve"
    )
