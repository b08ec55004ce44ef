"""The CLI as a user runs it: fit, then test and predict a checkpoint in new processes; bad input."""

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litfashion.callbacks import PredictionWriter
from litfashion.callbacks.interrupt_checkpoint import CheckpointOnInterrupt
from litfashion.cli import TENSORBOARD_CALLBACKS, make_cli
from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner, litfashion

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


def scalars(version_dir: Path) -> dict[str, list[float]]:
    events = EventAccumulator(str(version_dir))
    events.Reload()
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_source: Path) -> Path:
    """One short fit shared by the tests below; each later command runs in a new process."""
    workdir = tmp_path_factory.mktemp("trained")
    litfashion("fit", "--config", TUTORIAL, *FAST, cwd=workdir, source=tiny_source)
    return workdir / "lightning_logs" / "version_0"


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


def test_test_in_a_new_process_reproduces_the_best_accuracy(trained: Path, tiny_source: Path) -> None:
    best = trained / "checkpoints" / "best.ckpt"
    proc = litfashion(
        "test", "--config", TUTORIAL, "--ckpt_path", str(best), cwd=trained.parents[1], source=tiny_source
    )
    test_acc = scalars(newest_version(trained.parent))["test/acc"][0]
    assert test_acc == pytest.approx(scalars(trained)["val/acc_best"][-1], abs=1e-6)
    printed = re.search(r"test/acc\W+([0-9.]+)", proc.stdout)
    assert printed, proc.stdout
    assert float(printed.group(1)) == pytest.approx(test_acc, abs=1e-4)


def test_validate_in_a_new_process(trained: Path, tiny_source: Path) -> None:
    last = trained / "checkpoints" / "last.ckpt"
    litfashion("validate", "--config", TUTORIAL, "--ckpt_path", str(last), cwd=trained.parents[1], source=tiny_source)
    assert scalars(newest_version(trained.parent))["val/acc"][0] == pytest.approx(scalars(trained)["val/acc"][-1])


def test_predict_writes_class_index_name_and_probability(run_cli: CliRunner, trained: Path) -> None:
    out = trained.parent / "predictions.csv"
    run_cli(
        "predict", "--config", TUTORIAL, "--ckpt_path", str(trained / "checkpoints" / "best.ckpt"),
        "--predictions.output", str(out),
    )  # fmt: skip
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 128
    assert [r["sample"] for r in rows] == [str(i) for i in range(128)]
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    for row in rows:
        assert row["class_name"] == names[int(row["class_index"])]
        assert 0.1 <= float(row["probability"]) <= 1.0


def _fails_cleanly(run_cli: CliRunner, tmp_path: Path, *args: str, message: str, **kwargs) -> str:
    proc = run_cli(*args, check=False, **kwargs)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert message in proc.stderr, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "lightning_logs").exists()
    return proc.stderr


def attached_types(trainer: Trainer) -> set[type]:
    """The types of the Trainer's callbacks, counting each member of a ``CallbackGroup``."""
    callbacks = [member for cb in trainer.callbacks for member in getattr(cb, "callbacks", [cb])]
    return {type(cb) for cb in callbacks}


def test_only_the_callbacks_that_act_reach_the_trainer(
    tiny_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lightning calls every callback's hooks at every step: switched-off panels and idle writers stay out."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    panels = set(TENSORBOARD_CALLBACKS.values())

    default = attached_types(make_cli(["--config", TUTORIAL], run=False).trainer)
    assert panels | {ModelCheckpoint, CheckpointOnInterrupt} <= default
    assert PredictionWriter not in default  # it only writes in `predict`

    # `enable_checkpointing: false` used to make Lightning refuse the configured ModelCheckpoints.
    off = ["--config", TUTORIAL, "--config", str(CONFIGS / "tensorboard_off.yaml")]
    cli = make_cli([*off, "--trainer.enable_checkpointing", "false", "--trainer.max_epochs", "1"], run=False)
    attached = attached_types(cli.trainer)
    assert not attached & (panels | {ModelCheckpoint, CheckpointOnInterrupt, PredictionWriter})
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert cli.trainer.global_step == 8  # 512 samples, batch 64
    assert list(tmp_path.rglob("*.tfevents.*")) and not list(tmp_path.rglob("*.ckpt"))


def test_every_subcommand_is_offered_though_only_the_one_run_is_built(run_cli: CliRunner, tmp_path: Path) -> None:
    """Start-up builds the parser of the subcommand given; the help and a typo still see all four."""
    listed = run_cli("--help").stdout
    typo = run_cli("fti", "--config", TUTORIAL, check=False)
    assert typo.returncode == 2 and not (tmp_path / "lightning_logs").exists()
    for subcommand in ("fit", "validate", "test", "predict"):
        assert re.search(rf"^\s+{subcommand}\s", listed, re.MULTILINE), listed
        assert subcommand in typo.stderr, typo.stderr
    assert "--trainer.max_epochs" in run_cli("validate", "--help").stdout


def test_unknown_config_key(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "typo.yaml").write_text("trainer:\n  max_epoch: 1\n")
    _fails_cleanly(run_cli, tmp_path, "fit", "--config", TUTORIAL, "--config", "typo.yaml", message="trainer.max_epoch")


def test_unknown_flag_is_not_taken_for_an_abbreviation(run_cli: CliRunner, tmp_path: Path) -> None:
    _fails_cleanly(run_cli, tmp_path, "fit", "--config", TUTORIAL, "--trainer.max_epoch", "1", message="max_epoch")


def test_wrong_type(run_cli: CliRunner, tmp_path: Path) -> None:
    _fails_cleanly(run_cli, tmp_path, "fit", "--config", TUTORIAL, "--trainer.max_epochs", "many", message="max_epochs")


@pytest.mark.parametrize("lr", ["0", "-0.1"])
def test_learning_rate_must_be_positive(run_cli: CliRunner, tmp_path: Path, lr: str) -> None:
    _fails_cleanly(
        run_cli, tmp_path, "fit", "--config", TUTORIAL, "--model.init_args.optimizer.init_args.lr", lr,
        message="litfashion: error: model.optimizer (torch.optim.SGD)",
    )  # fmt: skip


def test_batch_size_must_be_positive(run_cli: CliRunner, tmp_path: Path) -> None:
    _fails_cleanly(
        run_cli, tmp_path, "fit", "--config", TUTORIAL, "--data.init_args.batch_size", "0",
        message="litfashion: error: data.batch_size must be >= 1, got 0",
    )  # fmt: skip


def test_missing_data_without_network(run_cli: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    stderr = _fails_cleanly(
        run_cli, tmp_path, "fit", "--config", TUTORIAL, "--data.init_args.download", "false",
        message="litfashion: error: FashionMNIST was not found", source=empty,
    )  # fmt: skip
    assert str(empty / "train-images-idx3-ubyte.gz") in stderr


def test_without_a_logger_a_second_run_keeps_the_first_runs_files(run_cli: CliRunner, tmp_path: Path) -> None:
    """With ``trainer.logger false`` runs share one folder: a second run refuses at once; a resume continues there."""
    no_logger = ["fit", "--config", TUTORIAL, *FAST, "--trainer.logger", "false", "--trainer.max_epochs", "1"]
    run_cli(*no_logger)
    first = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert tmp_path / "config.yaml" in first and tmp_path / "checkpoints" / "last.ckpt" in first

    stderr = _fails_cleanly(run_cli, tmp_path, *no_logger, message="litfashion: error: trainer.logger is false")
    assert "trainer.default_root_dir" in stderr
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == first

    run_cli(*no_logger[:-1], "2", "--ckpt_path", "checkpoints/last.ckpt")
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1


# Missing, unsafe and mismatched checkpoints: tests/test_safe_loading.py.


def test_python_module_entry_and_console_script_agree(run_cli: CliRunner, tmp_path: Path) -> None:
    module = run_cli("fit", "--config", TUTORIAL, "--print_config").stdout
    script = subprocess.run(
        [shutil.which("litfashion"), "fit", "--config", TUTORIAL, "--print_config"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "class_path: litfashion.models.ImageClassifier" in module
    assert module == script
