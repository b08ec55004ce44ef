"""CSVImageDataModule: every bad CSV row reported at once, mixed folders, decode cache, predict on a folder."""

import csv
from pathlib import Path

import pytest
import torch
from torchvision.io import encode_jpeg, encode_png, write_file

from litfashion.cli import main
from litfashion.data import CSVImageDataModule, CSVImageDataset
from litfashion.errors import ImageDataError
from tests.helpers.paths import CONFIGS

CONFIG = CONFIGS / "csv_images.yaml"
pytestmark = pytest.mark.filterwarnings("ignore:The image decoding and encoding capabilities:DeprecationWarning")


def write_image(path: Path, channels: int = 1, size: tuple[int, int] = (8, 8), value: int = 100) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = torch.full((channels, *size), value, dtype=torch.uint8)
    image[:, : size[0] // 2] = 255 - value
    data = encode_jpeg(image, quality=95) if path.suffix == ".jpg" else encode_png(image)
    write_file(str(path), data)
    return path.name


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or ["image", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Six 8x8 grayscale PNGs, a.png..f.png, with a train.csv naming their classes."""
    for name in "abcdef":
        write_image(tmp_path / f"{name}.png", value=20 * "abcdef".index(name))
    labels = ["cat", "dog", "cat", "bird", "dog", "cat"]
    write_csv(tmp_path / "train.csv", [[f"{n}.png", label] for n, label in zip("abcdef", labels, strict=True)])
    return tmp_path


def test_class_names_are_sorted_and_known_right_after_init(folder: Path) -> None:
    dm = CSVImageDataModule(train_csv=str(folder / "train.csv"), val_fraction=0.5)
    assert dm.class_names == ["bird", "cat", "dog"]
    assert dm.num_classes == 3
    assert dm.input_shape == [1, 8, 8]
    explicit = CSVImageDataModule(train_csv=str(folder / "train.csv"), class_names=["dog", "cat", "bird"])
    assert explicit.targets["train_csv"] == [1, 0, 1, 2, 0, 1]


def test_integer_labels_are_class_indices(folder: Path) -> None:
    write_csv(folder / "ints.csv", [["a.png", "0"], ["b.png", "2"], ["c.png", "1"]])
    dm = CSVImageDataModule(train_csv=str(folder / "ints.csv"), val_fraction=0.5)
    assert dm.class_names == ["0", "1", "2"]
    assert dm.targets["train_csv"] == [0, 2, 1]


def test_tutorial_signature_with_transforms(folder: Path) -> None:
    dataset = CSVImageDataset(
        folder / "train.csv", folder, transform=lambda x: x[:, :4], target_transform=lambda y: y * 10
    )
    image, label = dataset[1]
    assert image.shape == (1, 4, 8) and image.dtype == torch.uint8
    assert label == 20  # "dog" is class 2 of the sorted names
    assert dataset.class_names == ["bird", "cat", "dog"]


def test_every_bad_row_is_reported_at_once_with_its_line(folder: Path) -> None:
    outside = folder.parent / "outside.png"
    write_image(outside)
    write_csv(
        folder / "bad.csv",
        [
            ["a.png", "cat"],
            ["missing.png", "cat"],  # line 3
            ["../outside.png", "dog"],  # line 4
            [str(outside), "dog"],  # line 5
            ["b.png", ""],  # line 6
            ["c.png"],  # line 7
            ["", "cat"],  # line 8
        ],
    )
    with pytest.raises(ImageDataError) as err:
        CSVImageDataModule(train_csv=str(folder / "bad.csv"))
    message = str(err.value)
    assert "bad.csv: 6 problems" in message
    assert "line 3: image 'missing.png' not found under" in message
    assert "line 4: image '../outside.png' is outside the image root" in message
    assert f"line 5: image {str(outside)!r} is outside the image root" in message
    assert "line 6: empty label" in message
    assert "line 7: 1 fields, the header has 2" in message
    assert "line 8: empty image path" in message
    assert "line 2" not in message


def test_unknown_labels_in_val_and_test_are_reported_together(folder: Path) -> None:
    write_csv(folder / "val.csv", [["a.png", "cat"], ["b.png", "cow"]])
    write_csv(folder / "test.csv", [["c.png", "Dog"], ["d.png", "7"]])
    with pytest.raises(ImageDataError) as err:
        CSVImageDataModule(
            train_csv=str(folder / "train.csv"), val_csv=str(folder / "val.csv"), test_csv=str(folder / "test.csv")
        )
    message = str(err.value)
    assert "data.val_csv:" in message and "data.test_csv:" in message
    assert "line 3: label 'cow' is not a known class (bird, cat, dog)" in message
    assert "line 2: label 'Dog' is not a known class" in message
    assert "line 3: label '7' is not a known class" in message


def test_a_stray_name_among_integer_labels_is_reported(folder: Path) -> None:
    write_csv(folder / "ints.csv", [["a.png", "0"], ["b.png", "1"], ["c.png", "one"], ["d.png", "-1"]])
    with pytest.raises(ImageDataError) as err:
        CSVImageDataModule(train_csv=str(folder / "ints.csv"))
    message = str(err.value)
    assert "line 4: label 'one' is not a class index like the other labels" in message
    assert "line 5: label '-1' is not a class index" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "annotations CSV not found"),
        ("", "empty file; the first line must be a header"),
        ("image,label\n", "no rows after the header"),
        ("path,target\na.png,cat\n", "line 1 (header) lacks column(s) image, label; found path, target"),
    ],
)
def test_unusable_csv_files(folder: Path, content: str | None, expected: str) -> None:
    path = folder / "given.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ImageDataError, match=r"given\.csv: ") as err:
        CSVImageDataModule(train_csv=str(path))
    assert expected in str(err.value)


@pytest.mark.parametrize("cache", [False, True])
def test_corrupt_image_names_its_file_and_line(folder: Path, cache: bool) -> None:
    (folder / "e.png").write_bytes(b"not a png")
    dm = CSVImageDataModule(
        train_csv=str(folder / "train.csv"), val_csv=str(folder / "train.csv"), cache=cache, image_size=[8, 8]
    )
    with pytest.raises(ImageDataError) as err:
        dm.setup("fit")
        list(dm.train_dataloader())
    assert f"{folder / 'e.png'} ({folder / 'train.csv'} line 6): cannot decode the image" in str(err.value)


def test_cache_holds_the_same_pixels_as_decoding(folder: Path) -> None:
    args = {"train_csv": str(folder / "train.csv"), "val_csv": str(folder / "train.csv"), "shuffle": False}
    cached, plain = CSVImageDataModule(cache=True, **args), CSVImageDataModule(cache=False, **args)
    cached.setup("fit")
    plain.setup("fit")
    (x1, y1), (x2, y2) = next(iter(cached.train_dataloader())), next(iter(plain.train_dataloader()))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert x1.shape == (6, 1, 8, 8) and x1.dtype == torch.uint8


def test_mixed_folder_is_brought_to_one_size_and_mode(tmp_path: Path) -> None:
    write_image(tmp_path / "gray.png", channels=1, size=(10, 6))
    write_image(tmp_path / "sub" / "rgb.jpg", channels=3, size=(20, 30))
    write_image(tmp_path / "gray.jpg", channels=1, size=(12, 12))
    write_csv(tmp_path / "t.csv", [["gray.png", "a"], ["sub/rgb.jpg", "b"], ["gray.jpg", "a"]])
    dm = CSVImageDataModule(
        train_csv=str(tmp_path / "t.csv"), predict_dir=str(tmp_path), image_size=[16, 16], color_mode="rgb"
    )
    assert dm.input_shape == [3, 16, 16]
    dm.setup("predict")
    assert dm.predict_set.sample_names == ["gray.jpg", "gray.png", "sub/rgb.jpg"]
    batch = next(iter(dm.predict_dataloader()))
    assert batch.shape == (3, 3, 16, 16)
    scaled = dm.on_after_batch_transfer(batch, 0)
    assert scaled.dtype == torch.float32 and scaled.min() >= 0 and scaled.max() <= 1


def test_cli_reports_bad_rows_in_one_line_and_writes_nothing(
    workdir: Path, folder: Path, capsys: pytest.CaptureFixture
) -> None:
    write_csv(folder / "bad.csv", [["a.png", "cat"], ["nope.png", "cat"], ["../x.png", "dog"]])
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "fit",
                "--config",
                str(CONFIG),
                "--data.init_args.train_csv",
                str(folder / "bad.csv"),
                "--data.init_args.val_csv",
                "null",
                "--data.init_args.test_csv",
                "null",
                "--data.init_args.class_names",
                "null",
            ]
        )
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "litfashion: error: data.train_csv:" in stderr
    assert "line 3: image 'nope.png' not found" in stderr
    assert "line 4: image '../x.png' is outside the image root" in stderr
    assert "Traceback" not in stderr
    assert not (workdir / "lightning_logs").exists()


def test_rgb_mixed_size_folder_trains_then_predicts_names_and_probabilities(workdir: Path) -> None:
    images = workdir / "photos"
    rows = []
    for i in range(12):
        channels, size = (3, (20 + i, 14)) if i % 2 else (1, (9, 9 + i))
        suffix = ".jpg" if i % 3 == 0 else ".png"
        name = write_image(images / f"img{i:02d}{suffix}", channels=channels, size=size, value=10 * i)
        rows.append([name, "light" if i >= 6 else "dark"])
    write_csv(images / "all.csv", rows)
    common = ["--config", str(CONFIG), "--data.init_args.class_names", "null", "--data.init_args.test_csv", "null"]
    common += ["--data.init_args.image_size", "[12, 10]", "--data.init_args.color_mode", "rgb"]
    main([
        "fit", *common, "--data.init_args.train_csv", str(images / "all.csv"), "--data.init_args.val_csv",
        str(images / "all.csv"), "--data.init_args.batch_size", "4", "--trainer.max_epochs", "1",
        "--data.init_args.cache", "false", "--trainer.enable_progress_bar", "false",
    ])  # fmt: skip
    ckpt = workdir / "lightning_logs" / "version_0" / "checkpoints" / "best.ckpt"
    hparams = torch.load(ckpt, weights_only=True)["hyper_parameters"]
    assert hparams["input_shape"] == [3, 12, 10]
    assert hparams["class_names"] == ["dark", "light"]
    out = workdir / "predicted.csv"
    main([
        "predict", *common, "--data.init_args.train_csv", str(images / "all.csv"), "--data.init_args.val_csv",
        "null", "--data.init_args.predict_dir", str(images), "--ckpt_path", str(ckpt),
        "--predictions.output", str(out), "--trainer.enable_progress_bar", "false",
    ])  # fmt: skip
    with out.open() as f:
        written = list(csv.DictReader(f))
    assert [row["sample"] for row in written] == sorted(p.name for p in images.iterdir() if p.suffix != ".csv")
    assert {row["class_name"] for row in written} <= {"dark", "light"}
    assert all(0.5 <= float(row["probability"]) <= 1 for row in written)
