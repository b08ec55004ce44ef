"""``litfashion serve``'s settings and up-front checks: every problem is one ``litfashion serve: error:`` line,
before any worker or socket is started."""

import socket
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
import yaml

from litfashion.cli import main
from litfashion.serve.settings import ServeConfig
from tests.helpers.paths import CONFIGS


def error_line(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_the_default_yaml_lists_the_defaults() -> None:
    listed = yaml.safe_load((CONFIGS / "serve" / "default.yaml").read_text())
    defaults = {key: value for key, value in asdict(ServeConfig()).items() if key not in ("ckpt_path", "export_dir")}
    assert listed == defaults
    overlay = yaml.safe_load((CONFIGS / "serve" / "no_batching.yaml").read_text())
    assert overlay == {"max_batch_size": 1, "batch_timeout": 0.0}


def test_a_checkpoint_that_does_not_load(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "garbage.ckpt").write_bytes(b"\x00not a checkpoint")
    assert error_line(["--ckpt_path", str(tmp_path / "garbage.ckpt")], capsys) == (
        f"litfashion serve: error: checkpoint {tmp_path / 'garbage.ckpt'}: not a PyTorch checkpoint "
        "(its bytes are not a torch.save file)"
    )
    torch.save({"state_dict": {"encoder.weight": torch.zeros(2)}, "hyper_parameters": {}}, tmp_path / "other.ckpt")
    assert error_line(["--ckpt_path", str(tmp_path / "other.ckpt")], capsys).endswith(
        "was written by an unknown model, not by litfashion.models.ImageClassifier "
        "(no net.* weights and input_shape to export)"
    )


def test_an_export_folder_without_its_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert error_line(["--export_dir", str(tmp_path)], capsys) == (
        f"litfashion serve: error: export folder {tmp_path}: no model.json or model_weights.pth "
        f"(write it with `litfashion export --out {tmp_path}`)"
    )


def test_an_export_whose_weights_do_not_fit(exported: Path, capsys: pytest.CaptureFixture) -> None:
    torch.save({"layers.0.weight": torch.zeros(1)}, exported / "model_weights.pth")
    assert error_line(["--export_dir", str(exported)], capsys).startswith(
        f"litfashion serve: error: export folder {exported}: model_weights.pth does not load (Error(s) in loading"
    )


def test_a_port_in_use(exported: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert error_line(["--export_dir", str(exported), "--port", str(port)], capsys) == (
            f"litfashion serve: error: port {port} on 127.0.0.1 is in use by another process: pick another with --port"
        )


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        ([], "give --ckpt_path CKPT (from `litfashion fit`) or --export_dir DIR (from `litfashion export`)"),
        (["--ckpt_path", "a", "--export_dir", "b"], "give --ckpt_path CKPT"),
        (["--export_dir", "x", "--port", "80"], "port must be in 1024..65535 (LitServe's range), got 80"),
        (["--export_dir", "x", "--batch_timeout", "40"], "batch_timeout must be >= 0 and below timeout (30.0), got 40"),
        (["--export_dir", "x", "--max_batch_size", "0"], "max_batch_size must be >= 1, got 0"),
        (
            ["--export_dir", "x", "--host", "example.org"],
            "host: Expected a Literal['127.0.0.1', '0.0.0.0', '::']. Got value: example.org",
        ),
        (["--export_dir", "x", "--max_batch", "4"], "unrecognized arguments: --max_batch 4"),
    ],
    ids=["no model", "two models", "port", "batch_timeout", "max_batch_size", "host", "unknown flag"],
)
def test_bad_settings(argv: list[str], line: str, capsys: pytest.CaptureFixture) -> None:
    found = error_line(argv, capsys)
    assert found.startswith("litfashion serve: error: ")
    assert line in found


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without a CUDA device")
def test_an_accelerator_that_is_not_there(exported: Path, capsys: pytest.CaptureFixture) -> None:
    assert error_line(["--export_dir", str(exported), "--accelerator", "cuda"], capsys) == (
        "litfashion serve: error: accelerator cuda: no cuda device on this machine (use cpu or auto)"
    )
