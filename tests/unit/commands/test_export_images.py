"""``litfashion export-images``: the PNG + CSV layout, and training on it equals the built-in FashionMNIST path."""

import csv
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.paths import CONFIGS

pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")


def export(out: Path, tiny_source: Path, *extra: str) -> None:
    main(["export-images", str(out), "--source-dir", str(tiny_source), "--data-dir", str(out.parent / "data"), *extra])


def test_subset_layout(tmp_path: Path, tiny_source: Path) -> None:
    export(tmp_path / "png", tiny_source, "--subset", "20", "--seed", "3")
    with (tmp_path / "png" / "train.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["image", "label"]
    assert len(rows) == 21 and rows[1][0] == "train/000000.png"
    assert len(list((tmp_path / "png" / "test").glob("*.png"))) == 20


def test_refuses_a_non_empty_folder(tmp_path: Path, tiny_source: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "png").mkdir()
    (tmp_path / "png" / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        export(tmp_path / "png", tiny_source)
    assert exit_info.value.code == 2
    assert "export-images: error:" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "png").iterdir()] == ["keep.txt"]


def test_training_on_exported_pngs_equals_the_builtin_path(workdir: Path, tiny_source: Path) -> None:
    """Same pixels, labels, seed and shuffled order: the same weights and the same test accuracy."""
    export(workdir / "fashion-png", tiny_source)
    same = ["--trainer.max_epochs", "2", "--data.init_args.shuffle", "true", "--trainer.enable_progress_bar", "false"]
    # The tutorial's optimizer on both sides (csv_images.yaml's own is AdamW).
    same += ["--model.init_args.optimizer", "torch.optim.SGD", "--model.init_args.optimizer.init_args.lr", "0.05"]
    same += ["--model.init_args.optimizer.init_args.weight_decay", "0"]
    main(["fit", "--config", str(CONFIGS / "fashion_mnist.yaml"), *same])
    # On the command line, relative to the working directory (the config's own defaults name the checkout's).
    csvs = [
        f"--data.init_args.{split}_csv=fashion-png/{name}.csv"
        for split, name in [("train", "train"), ("val", "test"), ("test", "test")]
    ]
    main(["fit", "--config", str(CONFIGS / "csv_images.yaml"), *same, *csvs])
    builtin, from_csv = (torch.load(workdir / "lightning_logs" / f"version_{v}" / "checkpoints" / "last.ckpt",
                                    weights_only=True) for v in (0, 1))  # fmt: skip
    # val/acc is measured on the test split in both configs.
    scores = [
        next(s["best_model_score"] for k, s in ckpt["callbacks"].items() if "'monitor': 'val/acc'" in k).item()
        for ckpt in (builtin, from_csv)
    ]
    assert scores[0] > 0.3
    assert abs(scores[0] - scores[1]) <= 0.01
    for name, weights in builtin["state_dict"].items():
        assert torch.equal(weights, from_csv["state_dict"][name]), name
