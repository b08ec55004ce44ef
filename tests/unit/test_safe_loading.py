"""Checkpoints load with ``weights_only=True``: pickled code is refused before it runs; bad files fail clearly."""

from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from litfashion.models import ImageClassifier
from tests.helpers.paths import CONFIGS

TEST = ["test", "--config", str(CONFIGS / "fashion_mnist.yaml"), "--config", str(CONFIGS / "trainer" / "cpu.yaml")]


class WritesAFile:
    """Unpickling this calls ``open(path, "w")``: what a malicious checkpoint would do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


def last_error_line(capsys: pytest.CaptureFixture, *args: str) -> str:
    """``main(args)`` exits 2; the last line it wrote to stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_pickle_payload_is_refused_and_never_runs(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    marker = workdir / "pwned.txt"
    torch.save({"state_dict": {}, "payload": WritesAFile(str(marker))}, workdir / "evil.ckpt")
    assert not marker.exists()
    line = last_error_line(capsys, *TEST, "--ckpt_path", "evil.ckpt")
    assert line.startswith(
        "litfashion: error: checkpoint evil.ckpt: refused, it holds pickled Python objects that could run code "
        "when loaded, and only tensors and plain values are accepted (weights_only=True)."
    )
    assert not marker.exists()
    assert sorted(p.name for p in workdir.iterdir()) == ["evil.ckpt"]


def test_missing_checkpoint(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    line = last_error_line(capsys, *TEST, "--ckpt_path", "nowhere.ckpt")
    assert line == "litfashion: error: checkpoint nowhere.ckpt: no such file"


def test_checkpoint_of_another_model(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    other = {"state_dict": {"encoder.weight": torch.zeros(4, 3)}, "hyper_parameters": {"_class_path": "other.Net"}}
    torch.save(other, workdir / "other.ckpt")
    assert last_error_line(capsys, *TEST, "--ckpt_path", "other.ckpt") == (
        "litfashion: error: checkpoint other.ckpt was written by other.Net, but the config's model is "
        "litfashion.models.ImageClassifier"
    )
    # Same class, a first layer that does not fit (another input size).
    other["hyper_parameters"] = {"_class_path": "litfashion.models.ImageClassifier"}
    other["state_dict"] = ImageClassifier().state_dict()
    other["state_dict"]["net.linear_relu_stack.0.weight"] = torch.zeros(512, 100)
    torch.save(other, workdir / "other.ckpt")
    assert last_error_line(capsys, *TEST, "--ckpt_path", "other.ckpt") == (
        "litfashion: error: checkpoint other.ckpt was written by litfashion.models.ImageClassifier and does not "
        "fit ImageClassifier: net.linear_relu_stack.0.weight: shape (512, 100) in the checkpoint, (512, 784) in "
        "the model"
    )
