"""``litfashion export``: the plain state_dict and the torch.export program predict as the checkpoint does."""

import json
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from litfashion.models import MLP, ImageClassifier
from tests.helpers.commands import tutorial_on_cpu


def test_export_predicts_as_the_checkpoint(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    main(tutorial_on_cpu(
        "fit",
        "--trainer.max_epochs", "1",
        "--model.init_args.net.init_args.hidden_sizes", "[32, 16]",
        "--model.init_args.optimizer.init_args.lr", "0.1",
    ))  # fmt: skip
    ckpt = workdir / "lightning_logs/version_0/checkpoints/last.ckpt"
    capsys.readouterr()
    main(["export", "--ckpt_path", str(ckpt), "--out", "exported"])
    out = workdir / "exported"
    assert f"Exported {ckpt} to exported" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.pt2", "model_weights.pth"]

    meta = json.loads((out / "model.json").read_text())
    assert meta["init_args"] == {
        "input_shape": [1, 28, 28], "hidden_sizes": [32, 16], "num_classes": 10, "activation": "ReLU", "dropout": 0.0,
        "input_dropout": 0.0, "batch_norm": False,
    }  # fmt: skip
    assert meta["class_names"][0] == "T-shirt/top"

    # The tutorial's way: build the model, then load_state_dict(torch.load(..., weights_only=True)).
    plain = MLP(**meta["init_args"])
    plain.load_state_dict(torch.load(out / "model_weights.pth", weights_only=True))
    plain.eval()
    program = torch.export.load(out / "model.pt2").module()
    reference = ImageClassifier.load_from_checkpoint(ckpt, weights_only=True).eval()

    images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = reference(images)
        assert not torch.equal(expected, torch.zeros_like(expected))
        assert torch.equal(plain(images), expected)
        assert torch.allclose(program(images), expected, atol=1e-6)
        assert torch.allclose(program(images[:3]), expected[:3], atol=1e-6)  # any batch size


def test_export_refuses_another_models_checkpoint(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    torch.save({"state_dict": {"encoder.weight": torch.zeros(2, 2)}, "hyper_parameters": {}}, workdir / "other.ckpt")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--ckpt_path", "other.ckpt", "--out", "exported"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "litfashion export: error: checkpoint other.ckpt was written by an unknown model, not by "
        "litfashion.models.ImageClassifier (no net.* weights and input_shape to export)"
    )
    assert not (workdir / "exported").exists()
