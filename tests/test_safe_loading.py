"""Checkpoints load with ``weights_only=True``: pickled code is refused before it runs; bad files fail clearly."""

from pathlib import Path

import torch

from litfashion.models import ImageClassifier
from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner

TEST = ["test", "--config", str(CONFIGS / "fashion_mnist.yaml"), "--config", str(CONFIGS / "trainer" / "cpu.yaml")]


class WritesAFile:
    """Unpickling this calls ``open(path, "w")``: what a malicious checkpoint would do."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (self.path, "w"))


def test_pickle_payload_is_refused_and_never_runs(run_cli: CliRunner, tmp_path: Path) -> None:
    marker = tmp_path / "pwned.txt"
    torch.save({"state_dict": {}, "payload": WritesAFile(str(marker))}, tmp_path / "evil.ckpt")
    assert not marker.exists()
    proc = run_cli(*TEST, "--ckpt_path", "evil.ckpt", check=False)
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(
        "litfashion: error: checkpoint evil.ckpt: refused, it holds pickled Python objects that could run code "
        "when loaded, and only tensors and plain values are accepted (weights_only=True)."
    )
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.ckpt"]


def test_missing_checkpoint(run_cli: CliRunner) -> None:
    proc = run_cli(*TEST, "--ckpt_path", "nowhere.ckpt", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "litfashion: error: checkpoint nowhere.ckpt: no such file"


def test_checkpoint_of_another_model(run_cli: CliRunner, tmp_path: Path) -> None:
    other = {"state_dict": {"encoder.weight": torch.zeros(4, 3)}, "hyper_parameters": {"_class_path": "other.Net"}}
    torch.save(other, tmp_path / "other.ckpt")
    proc = run_cli(*TEST, "--ckpt_path", "other.ckpt", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "litfashion: error: checkpoint other.ckpt was written by other.Net, but the config's model is "
        "litfashion.models.ImageClassifier"
    )
    # Same class, a first layer that does not fit (another input size).
    other["hyper_parameters"] = {"_class_path": "litfashion.models.ImageClassifier"}
    other["state_dict"] = ImageClassifier().state_dict()
    other["state_dict"]["net.linear_relu_stack.0.weight"] = torch.zeros(512, 100)
    torch.save(other, tmp_path / "other.ckpt")
    proc = run_cli(*TEST, "--ckpt_path", "other.ckpt", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "litfashion: error: checkpoint other.ckpt was written by litfashion.models.ImageClassifier and does not "
        "fit ImageClassifier: net.linear_relu_stack.0.weight: shape (512, 100) in the checkpoint, (512, 784) in "
        "the model"
    )
