"""The up-front checks of litfashion.preflight, on parsed configs and real files in tmp_path."""

import os
from functools import partial
from pathlib import Path

import pytest
import torch
from jsonargparse import Namespace

from litfashion import preflight
from litfashion.errors import CheckpointError, ConfigError
from litfashion.models import MLP, ImageClassifier

CLASSIFIER = "litfashion.models.ImageClassifier"


def parsed(
    save_dir: Path | None = None, dirpath: Path | None = None, ckpt_path: str | None = None, **trainer: object
) -> Namespace:
    """A fit config as LightningCLI parses it: the logger still ``{class_path, init_args}``."""
    logger = (
        Namespace(
            class_path="lightning.pytorch.loggers.TensorBoardLogger",
            init_args=Namespace(save_dir=str(save_dir), name="lightning_logs", version=None),
        )
        if save_dir is not None
        else False
    )
    return Namespace(
        trainer=Namespace(logger=logger, default_root_dir=None, **trainer),
        checkpoint=Namespace(dirpath=str(dirpath) if dirpath else None),
        model=Namespace(class_path=CLASSIFIER, init_args=Namespace()),
        ckpt_path=ckpt_path,
    )


def write_checkpoint(path: Path, model: torch.nn.Module, class_path: str = CLASSIFIER, mtime: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": {"_class_path": class_path}}, path)
    if mtime:
        os.utime(path, ns=(mtime, mtime))
    return path


def test_last_resolves_to_the_newest_version_and_continues_it(tmp_path: Path) -> None:
    model = ImageClassifier(net=partial(MLP, hidden_sizes=[4]))
    runs = tmp_path / "lightning_logs"
    write_checkpoint(runs / "version_0/checkpoints/last.ckpt", model, mtime=2_000_000_000)
    newest = write_checkpoint(runs / "version_3/checkpoints/last.ckpt", model, mtime=3_000_000_000)
    write_checkpoint(runs / "version_5/checkpoints/last.ckpt", model, mtime=1_000_000_000)
    config = parsed(save_dir=tmp_path, ckpt_path="last")

    assert preflight.resolve_last_checkpoint(config) == newest
    assert config.ckpt_path == str(newest)
    assert config.trainer.logger.init_args.version == 3


def test_last_with_a_checkpoint_dirpath_looks_only_there(tmp_path: Path) -> None:
    model = ImageClassifier(net=partial(MLP, hidden_sizes=[4]))
    write_checkpoint(tmp_path / "lightning_logs/version_0/checkpoints/last.ckpt", model)
    config = parsed(save_dir=tmp_path, dirpath=tmp_path / "ckpts", ckpt_path="last")
    assert preflight.resolve_last_checkpoint(config) is None
    assert config.ckpt_path == "last" and config.trainer.logger.init_args.version is None

    found = write_checkpoint(tmp_path / "ckpts/last.ckpt", model)
    assert preflight.resolve_last_checkpoint(config) == found
    assert config.trainer.logger.init_args.version is None  # a fixed dirpath: the new run keeps its own version


def test_last_without_logger_or_dirpath_is_left_to_lightning(tmp_path: Path) -> None:
    config = parsed(ckpt_path="last")
    assert preflight.resolve_last_checkpoint(config) is None
    assert config.ckpt_path == "last"


def test_a_given_checkpoint_is_loaded_and_checked_against_the_model(tmp_path: Path) -> None:
    small = ImageClassifier(net=partial(MLP, hidden_sizes=[4]))
    path = write_checkpoint(tmp_path / "small.ckpt", small)
    assert preflight.load_given_checkpoint(parsed(ckpt_path="last"), "fit") is None
    assert preflight.load_given_checkpoint(parsed(), "test") is None

    config = parsed(ckpt_path=str(path))
    ckpt = preflight.load_given_checkpoint(config, "test")
    assert ckpt is not None
    preflight.check_checkpoint_fits(ckpt, ImageClassifier(net=partial(MLP, hidden_sizes=[4])), config)
    with pytest.raises(CheckpointError, match=r"does not fit ImageClassifier: net\..*shape \(4, 784\)"):
        preflight.check_checkpoint_fits(ckpt, ImageClassifier(net=partial(MLP, hidden_sizes=[8])), config)

    other = write_checkpoint(tmp_path / "other.ckpt", small, class_path="my.OtherModel")
    with pytest.raises(CheckpointError, match=f"written by my.OtherModel, but the config's model is {CLASSIFIER}"):
        preflight.load_given_checkpoint(parsed(ckpt_path=str(other)), "validate")


def test_unwritable_log_and_checkpoint_dirs_are_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    preflight.check_log_dirs(parsed(save_dir=tmp_path / "new" / "logs", dirpath=tmp_path / "ckpts"))
    with pytest.raises(ConfigError, match=r"trainer.logger \(TensorBoardLogger\) save_dir: cannot create"):
        preflight.check_log_dirs(parsed(save_dir=blocker / "logs"))
    with pytest.raises(ConfigError, match=r"checkpoint\.dirpath: cannot create"):
        preflight.check_log_dirs(parsed(save_dir=tmp_path, dirpath=blocker / "ckpts"))
    with pytest.raises(ConfigError, match=r"trainer\.default_root_dir: cannot create"):
        config = parsed()
        config.trainer.default_root_dir = str(blocker / "root")
        preflight.check_log_dirs(config)


def test_without_a_logger_a_second_run_may_not_share_the_root_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert preflight.check_shared_root_dir(parsed(), "fit") is False  # no earlier run
    (tmp_path / "config.yaml").write_text("seed_everything: 0\n")
    assert preflight.check_shared_root_dir(parsed(save_dir=tmp_path), "fit") is False  # runs get versions
    default_logger = parsed()
    default_logger.trainer.logger = True
    assert preflight.check_shared_root_dir(default_logger, "fit") is False
    with pytest.raises(ConfigError, match=r"trainer\.logger is false.*over an earlier run's"):
        preflight.check_shared_root_dir(parsed(), "fit")
    assert preflight.check_shared_root_dir(parsed(ckpt_path="checkpoints/last.ckpt"), "fit") is True  # a resume

    elsewhere = parsed()
    elsewhere.trainer.default_root_dir = str(tmp_path / "new_run")
    assert preflight.check_shared_root_dir(elsewhere, "fit") is False


def optimizer_config(class_path: str, scheduler: str | None = None) -> Namespace:
    config = parsed()
    config.model.init_args = Namespace(
        optimizer=Namespace(class_path=class_path), scheduler=Namespace(class_path=scheduler) if scheduler else None
    )
    return config


def test_optimizer_dry_run_refuses_a_learning_rate_at_or_below_zero() -> None:
    config = optimizer_config("torch.optim.SGD")
    preflight.check_optimizer(ImageClassifier(optimizer=lambda p: torch.optim.SGD(p, lr=0.1)), config)
    zero = ImageClassifier(optimizer=lambda p: torch.optim.SGD(p, lr=0.0))
    with pytest.raises(
        ConfigError, match=r"model.optimizer \(torch.optim.SGD\): the learning rate must be > 0, got 0.0"
    ):
        preflight.check_optimizer(zero, config)
    negative = ImageClassifier(optimizer=lambda p: torch.optim.SGD(p, lr=-0.1))  # torch itself refuses this one
    with pytest.raises(ConfigError, match=r"model.optimizer \(torch.optim.SGD\): .*-0.1"):
        preflight.check_optimizer(negative, config)


def test_optimizer_and_scheduler_errors_name_their_config_key() -> None:
    bad_optimizer = ImageClassifier(optimizer=lambda p: torch.optim.Adam(p, betas=(2.0, 0.9)))
    with pytest.raises(ConfigError, match=r"model.optimizer \(torch.optim.Adam\): Invalid beta"):
        preflight.check_optimizer(bad_optimizer, optimizer_config("torch.optim.Adam"))

    bad_scheduler = ImageClassifier(
        optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
        scheduler=lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=2.0),
    )
    config = optimizer_config("torch.optim.SGD", "torch.optim.lr_scheduler.LinearLR")
    with pytest.raises(
        ConfigError, match=r"model.scheduler \(torch.optim.lr_scheduler.LinearLR\): Starting multiplicative factor"
    ):
        preflight.check_optimizer(bad_scheduler, config)
