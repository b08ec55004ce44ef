"""Undecodable images met while running: a DataLoader worker's error reaches the user unwrapped, and ``predict``
predicts every image it can and accounts for the rest in ``predictions.csv``."""

import csv
from pathlib import Path

import pytest
import torch
from torchvision.io import encode_png

from litfashion.cli import main
from tests.helpers.paths import CONFIGS

pytestmark = pytest.mark.filterwarnings("ignore")

# configs/csv_images.yaml over four 8x8 PNGs in two classes, one short epoch, no TensorBoard panels.
TINY = [
    "--config",
    str(CONFIGS / "csv_images.yaml"),
    "--config",
    str(CONFIGS / "tensorboard_off.yaml"),
    "--data.init_args.train_csv=imgs/train.csv",
    "--data.init_args.val_csv=imgs/train.csv",
    "--data.init_args.test_csv=null",
    "--data.init_args.class_names=null",
    "--data.init_args.batch_size=2",
    "--trainer.max_epochs=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


@pytest.fixture
def images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for name, value in (("a", 10), ("b", 200), ("c", 60), ("d", 140)):
        (folder / f"{name}.png").write_bytes(encode_png(torch.full((1, 8, 8), value, dtype=torch.uint8)).numpy())
    (folder / "train.csv").write_text("image,label\na.png,dark\nb.png,light\nc.png,dark\nd.png,light\n")
    return folder


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if "error:" in line]


def test_a_workers_error_is_the_workers_own_line(images: Path, capsys: pytest.CaptureFixture) -> None:
    """Without the cache, images are decoded in worker processes while training: torch re-raises the worker's
    error as "Caught ImageDataError in DataLoader worker process N" with the worker's traceback."""
    (images / "c.png").write_bytes(b"not a png")
    with pytest.raises(SystemExit) as exited:
        main(["fit", *TINY, "--data.init_args.cache=false", "--data.init_args.num_workers=2"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert error_lines(err) == [
        f"litfashion: error: {images / 'c.png'} ({images / 'train.csv'} line 4): cannot decode the image: "
        "Unsupported image file. Only jpeg, png, webp and gif are currently supported."
    ], err
    assert "Caught" not in err and "Traceback" not in err


def test_predict_lists_the_unreadable_files_and_predicts_the_rest(images: Path, capsys: pytest.CaptureFixture) -> None:
    main(["fit", *TINY, "--data.init_args.num_workers=0"])
    checkpoint = next(Path("lightning_logs").rglob("last.ckpt"))
    shots = Path("shots")
    shots.mkdir()
    for name in ("a.png", "b.png"):
        (shots / name).write_bytes((images / name).read_bytes())
    (shots / "broken.png").write_bytes(b"junk")
    (shots / "sub").mkdir()
    (shots / "sub" / "cut.png").write_bytes((images / "c.png").read_bytes()[:40])
    capsys.readouterr()

    main(["predict", *TINY, "--ckpt_path", str(checkpoint), "--data.init_args.predict_dir=shots"])

    err = capsys.readouterr().err
    assert f"2 of 4 images of {Path.cwd() / 'shots'} cannot be decoded" in err  # parsed paths are absolute
    assert "shots/broken.png" in err and "shots/sub/cut.png" in err and not error_lines(err)
    written = next(Path("lightning_logs").rglob("predictions.csv"))
    with written.open() as f:
        rows = {row["sample"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"a.png", "b.png", "broken.png", "sub/cut.png"}
    for name in ("a.png", "b.png"):
        assert rows[name]["class_name"] in {"dark", "light"} and 0 < float(rows[name]["probability"]) <= 1
    for name in ("broken.png", "sub/cut.png"):
        assert rows[name] == {"sample": name, "class_index": "", "class_name": "unreadable", "probability": ""}
