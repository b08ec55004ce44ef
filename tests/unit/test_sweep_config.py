"""``litfashion sweep``: the sweep YAML, command-line overrides, and bad search spaces refused before any work."""

import sys
from pathlib import Path

import pytest
import torch
import yaml

from litfashion.cli import main
from litfashion.errors import ConfigError
from litfashion.models import CNN
from litfashion.sweep.config import grid_size, parse_sweep_args, short_names
from litfashion.sweep.worker import check_space
from tests.helpers.paths import CONFIGS

TINY = CONFIGS / "sweeps" / "tiny.yaml"
MLP = CONFIGS / "sweeps" / "fashion_mnist_mlp.yaml"
CNN_SWEEP = CONFIGS / "sweeps" / "fashion_mnist_cnn.yaml"
LR = "model.init_args.optimizer.init_args.lr"


def test_the_tiny_sweep_parses_with_its_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # not the checkout: the YAML's paths are relative to its own folder
    settings = parse_sweep_args(["--config", str(TINY)])
    assert settings.fit_configs == [str((CONFIGS / "fashion_mnist.yaml").resolve())]
    assert (settings.metric, settings.direction, settings.n_trials, settings.workers) == ("val/acc", "maximize", 4, 1)
    assert (settings.sampler.type, settings.sampler.seed) == ("grid", 0)
    assert (settings.pruner.type, settings.pruner.n_startup_trials) == ("median", 1)
    assert settings.space[LR].choices == [1e-9, 0.5, 0.3, 0.2]
    # Named after the file, in its own folder; the study is a journal file there.
    assert (settings.study_name, settings.sweep_dir, settings.storage) == ("tiny", "sweeps/tiny", None)
    assert settings.source == str(TINY)


def test_the_shipped_mlp_sweep_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["litfashion"])  # not pytest's arguments, which LightningCLI warns about
    settings = parse_sweep_args(["--config", str(MLP)])
    assert settings.fit_configs == [str((CONFIGS / "fashion_mnist_best.yaml").resolve())]
    assert (settings.sampler.type, settings.pruner.type) == ("tpe", "median")
    assert set(short_names(list(settings.space)).values()) == {
        "max_lr",
        "weight_decay",
        "dropout",
        "batch_size",
        "label_smoothing",
    }
    check_space(settings)  # every path and value fits the fit CLI as it is today


def test_every_width_and_block_count_of_the_shipped_cnn_sweep_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["litfashion"])
    settings = parse_sweep_args(["--config", str(CNN_SWEEP)])
    check_space(settings)
    key = "model.init_args.net.init_args."
    for channels in settings.space[key + "channels"].choices:
        for blocks in settings.space[key + "blocks_per_stage"].choices:
            net = CNN(channels=channels, blocks_per_stage=blocks, pool_before_norm=True)
            assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_command_line_flags_override_the_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CONFIGS.parent)
    settings = parse_sweep_args(
        ["--config", str(TINY), "--n_trials", "3", "--workers", "2", "--storage", "x.journal", "--study_name", "s2"]
    )
    assert (settings.n_trials, settings.workers, settings.storage, settings.study_name) == (3, 2, "x.journal", "s2")
    assert settings.sweep_dir == "sweeps/s2"


def test_paths_are_relative_to_the_yaml_that_names_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The YAML's paths resolve under its folder, wherever the command starts; the command line's stay relative
    to the working folder."""
    folder = tmp_path / "project" / "sweeps"
    folder.mkdir(parents=True)
    (folder / "fit.yaml").write_text("{}\n")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "extra.yaml").write_text("{}\n")
    (folder / "url.txt").write_text("  sqlite:///here.db\n")
    space = {LR: {"type": "float", "low": 0.1, "high": 0.2}}
    fields = {"fit_configs": ["fit.yaml"], "space": space, "sweep_dir": "../runs", "storage": "db/study.journal"}
    (folder / "s.yaml").write_text(yaml.safe_dump(fields))
    monkeypatch.chdir(tmp_path / "work")
    settings = parse_sweep_args(["--config", str(folder / "s.yaml"), "--fit_configs+=extra.yaml"])
    assert settings.fit_configs == [str(folder / "fit.yaml"), "extra.yaml"]
    assert settings.sweep_dir == str(tmp_path / "project" / "runs")
    assert settings.storage == str(folder / "db" / "study.journal")
    (folder / "s.yaml").write_text(yaml.safe_dump({**fields, "storage": "sqlite:///s.db"}))
    assert parse_sweep_args(["--config", str(folder / "s.yaml")]).storage == f"sqlite:///{folder / 's.db'}"
    flags = ["--config", str(folder / "s.yaml"), "--sweep_dir", "out", "--storage", "null", "--storage_file", "u.txt"]
    with pytest.raises(ConfigError, match=r"storage_file u.txt: cannot read: no such file or directory \(ENOENT\)"):
        parse_sweep_args(flags)
    (tmp_path / "work" / "u.txt").write_text("work.journal")
    on_the_command_line = parse_sweep_args(flags)
    assert (on_the_command_line.sweep_dir, on_the_command_line.storage) == ("out", "work.journal")
    (folder / "s.yaml").write_text(yaml.safe_dump({**fields, "storage": None, "storage_file": "url.txt"}))
    assert parse_sweep_args(["--config", str(folder / "s.yaml")]).storage == "sqlite:///here.db"  # the file's text


def test_grid_size_and_short_names() -> None:
    settings = parse_sweep_args(
        [
            f"--fit_configs=[{CONFIGS / 'fashion_mnist.yaml'}]",
            "--space={a.init_args.lr: {type: int, low: 1, high: 3}, b.init_args.lr: {type: categorical, "
            "choices: [[1], [2, 2]]}, c.dropout: {type: float, low: 0.0, high: 0.5, step: 0.25}}",
        ]
    )
    assert grid_size(settings.space) == 3 * 2 * 3
    names = short_names(list(settings.space))
    assert names == {"a.init_args.lr": "a.lr", "b.init_args.lr": "b.lr", "c.dropout": "dropout"}


def sweep_yaml(folder: Path, space: dict, **extra: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump({"fit_configs": [str(CONFIGS / "fashion_mnist.yaml")], "space": space, **extra}))
    return path


BAD = {
    "unknown path": (
        {"model.init_args.optimizer.init_args.lrr": {"type": "float", "low": 0.1, "high": 0.2}},
        "space entry model.init_args.optimizer.init_args.lrr",
        "'lrr' is not accepted",
    ),
    "unknown top-level path": (
        {"trainer.max_epochz": {"type": "int", "low": 1, "high": 2}},
        "space entry trainer.max_epochz",
        "max_epochz",
    ),
    "low above high": (
        {LR: {"type": "float", "low": 0.1, "high": 0.01}},
        f"space entry {LR}",
        "low (0.1) is greater than high (0.01)",
    ),
    "log with low 0": ({LR: {"type": "float", "low": 0.0, "high": 0.1, "log": True}}, f"space entry {LR}", "low > 0"),
    "float for an int": (
        {"data.init_args.batch_size": {"type": "float", "low": 16, "high": 64}},
        "space entry data.init_args.batch_size (value 16.0)",
        "data.batch_size: Expected a int. Got value: 16.0",
    ),
    "string choice for a list": (
        {"model.init_args.net.init_args.hidden_sizes": {"type": "categorical", "choices": [[256], "wide"]}},
        "space entry model.init_args.net.init_args.hidden_sizes (value 'wide')",
        "hidden_sizes",
    ),
    "fractional int": ({"data.init_args.batch_size": {"type": "int", "low": 1.5, "high": 8}}, "batch_size", "whole"),
    "categorical without choices": ({LR: {"type": "categorical"}}, f"space entry {LR}", "choices"),
    "unknown type": ({LR: {"type": "normal", "low": 0.1, "high": 0.2}}, "bad.yaml", "type"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_search_space_is_one_error_before_anything_is_written(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    space, entry, problem = BAD[case]
    config = sweep_yaml(tmp_path / "in", space)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--config", str(config)])
    assert exit_info.value.code == 2
    error = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(error) == 1, error
    assert error[0].startswith("litfashion sweep: error: ")
    assert str(config) in error[0] and entry in error[0] and problem in error[0], error[0]
    assert list(work.iterdir()) == []


def test_a_grid_needs_a_step_for_floats(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = sweep_yaml(tmp_path, {LR: {"type": "float", "low": 0.1, "high": 0.2}}, sampler={"type": "grid"})
    with pytest.raises(SystemExit):
        main(["sweep", "--config", str(config)])
    assert "the grid sampler needs a step" in capsys.readouterr().err


def test_an_unknown_sweep_key_and_a_wrong_type_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = sweep_yaml(tmp_path, {LR: {"type": "float", "low": 0.1, "high": 0.2}}, n_trail=3)
    with pytest.raises(SystemExit):
        main(["sweep", "--config", str(config)])
    assert capsys.readouterr().err.strip() == f"litfashion sweep: error: {config}: Option 'n_trail' is not accepted"
    with pytest.raises(SystemExit):
        main(["sweep", "--config", str(config).replace("bad", "none")])
    with pytest.raises(SystemExit):
        main(["sweep", "--config", str(sweep_yaml(tmp_path, {}, n_trials="many"))])
    assert "n_trials" in capsys.readouterr().err
