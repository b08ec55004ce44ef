"""Every bad input ends the same way: exit 2, ONE ``litfashion: error:`` line naming the culprit, no traceback,
no run folder, no file changed. One table across configs, flags, CSVs, images, checkpoints and sweep search
spaces, run in-process.

To add a kind of input, add rows to a table below (or a new table added to ``CASES``): ``args`` are the command
line (``T(...)``, ``CSV(...)``: the configs; paths relative to the test's folder), ``culprits`` the texts the
error line must hold, ``files`` what to write first (name -> bytes or text).
"""

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.paths import CONFIGS
from tests.helpers.png_data import encode_png

pytestmark = pytest.mark.filterwarnings("ignore")

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")
CSV_CONFIG = str(CONFIGS / "csv_images.yaml")
# configs/csv_images.yaml over the tiny PNGs below: classes from the CSV, no worker processes unless a row asks.
TINY_CSV = [
    "--data.init_args.train_csv=imgs/train.csv",
    "--data.init_args.val_csv=imgs/train.csv",
    "--data.init_args.test_csv=null",
    "--data.init_args.class_names=null",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
]


class Unsafe:
    """A pickled object in a checkpoint: what ``weights_only=True`` must refuse."""


def png(value: int) -> bytes:
    image = torch.full((1, 8, 8), value, dtype=torch.uint8)
    return encode_png(image)


def checkpoint(**content: object) -> Callable[[Path], None]:
    """Writes a checkpoint holding ``content`` (a file's writer in ``BadInput.files``)."""
    return lambda path: torch.save(content, path)


@dataclass(frozen=True)
class BadInput:
    name: str
    args: list[str]
    culprits: list[str]
    files: dict[str, bytes | str | Callable[[Path], None]] = field(default_factory=dict)


def T(*args: str) -> list[str]:
    return ["fit", "--config", TUTORIAL, *args]


def CSV(*args: str, command: str = "fit") -> list[str]:
    return [command, "--config", CSV_CONFIG, *TINY_CSV, *args]


BAD_YAML = "trainer:\n  max_epochs: 2\n  devices: [1\nmodel: x\n"

CONFIGS_AND_FLAGS = [
    BadInput("negative max_epochs", T("--trainer.max_epochs", "-5"), ["trainer.max_epochs", "-5"]),
    BadInput("no gpu", T("--trainer.accelerator", "gpu", "--trainer.devices", "3"), ["trainer.devices"]),
    BadInput("limit_train_batches", T("--trainer.limit_train_batches", "-1"), ["trainer.limit_train_batches"]),
    BadInput("validation never due", T("--trainer.check_val_every_n_epoch", "0"), ["trainer.check_val_every_n_epoch"]),
    BadInput("zero validation interval", T("--trainer.val_check_interval", "0"), ["trainer.val_check_interval"]),
    BadInput("zero devices", T("--trainer.devices", "0"), ["trainer.devices"]),
    BadInput("unknown strategy", T("--trainer.strategy", "foo"), ["trainer.strategy", "foo"]),
    BadInput("zero nodes", T("--trainer.strategy", "ddp", "--trainer.num_nodes", "0"), ["trainer.num_nodes"]),
    BadInput("clip algorithm", T("--trainer.gradient_clip_algorithm", "foo"), ["trainer.gradient_clip_algorithm"]),
    BadInput("save_top_k", T("--checkpoint.save_top_k", "-2"), ["checkpoint.save_top_k"]),
    BadInput("checkpoint mode", T("--checkpoint.mode", "foo"), ["checkpoint.mode", "foo"]),
    BadInput(
        "mistyped flag", T("--trainer.max_epoch", "2"), ["--trainer.max_epoch", "did you mean --trainer.max_epochs"]
    ),
    BadInput("max_epochs not a number", T("--trainer.max_epochs", "abc"), ["trainer.max_epochs", "abc"]),
    BadInput("unknown precision", T("--trainer.precision", "7"), ["trainer.precision", "7"]),
    BadInput("missing config", ["fit", "--config", "nowhere.yaml"], ["nowhere.yaml", "does not exist"]),
    BadInput("yaml syntax", ["fit", "--config", "bad.yaml"], ["bad.yaml", "line 4"], {"bad.yaml": BAD_YAML}),
    BadInput(
        "yaml syntax in a second config",
        T("--config", "bad.yaml"),
        ["bad.yaml", "line 4", "column 6"],
        {"bad.yaml": BAD_YAML},
    ),
    BadInput(
        "unknown key in a config",
        T("--config", "extra.yaml"),
        ["hidden_sizez", "did you mean hidden_sizes"],
        {"extra.yaml": "model:\n  init_args:\n    net:\n      init_args:\n        hidden_sizez: [8]\n"},
    ),
    BadInput("unknown subcommand", ["fot", "--config", TUTORIAL], ["fot"]),
    BadInput(
        "unknown network option", T("--model.init_args.net.init_args.hidden_size", "3"), ["hidden_size", "hidden_sizes"]
    ),
    BadInput("optimizer option", T("--model.init_args.optimizer.init_args.lrr", "3"), ["lrr", "did you mean lr"]),
    BadInput("batch_size not a number", T("--data.init_args.batch_size", "x"), ["batch_size", "x"]),
    BadInput("zero batch_size", T("--data.init_args.batch_size", "0"), ["data.batch_size"]),
    BadInput("negative lr", T("--model.init_args.optimizer.init_args.lr", "-1"), ["learning rate", "-1"]),
    BadInput("label smoothing", T("--model.init_args.label_smoothing", "1.5"), ["label_smoothing", "1.5"]),
    BadInput(
        "root dir under a file",
        T("--trainer.default_root_dir", "afile/runs"),
        ["trainer.default_root_dir"],
        {"afile": "x"},
    ),
]

GOOD_IMAGES = {"imgs/a.png": png(10), "imgs/b.png": png(200), "imgs/c.png": png(60), "imgs/d.png": png(140)}
TRAIN_ROWS = "image,label\na.png,Bag\nb.png,Trouser\nc.png,Bag\nd.png,Trouser\n"

CSVS_AND_IMAGES = [
    BadInput("csv not found", CSV("--data.init_args.train_csv=imgs/nope.csv"), ["imgs/nope.csv", "not found"]),
    BadInput(
        "csv rows",
        CSV(),
        ["imgs/train.csv", "line 3", "line 4"],
        {**GOOD_IMAGES, "imgs/train.csv": "image,label\na.png,Bag\nzz.png,Bag\nb.png\n"},
    ),
    BadInput(
        "csv header",
        CSV(),
        ["imgs/train.csv", "line 1", "label"],
        {**GOOD_IMAGES, "imgs/train.csv": "image,class\na.png,Bag\n"},
    ),
    BadInput("empty csv", CSV(), ["imgs/train.csv", "empty"], {**GOOD_IMAGES, "imgs/train.csv": ""}),
    BadInput(
        "unknown label in val",
        CSV("--data.init_args.val_csv=imgs/val.csv"),
        ["imgs/val.csv", "line 2", "Sock"],
        {**GOOD_IMAGES, "imgs/train.csv": TRAIN_ROWS, "imgs/val.csv": "image,label\na.png,Sock\n"},
    ),
    BadInput(
        "zero image size",
        CSV("--data.init_args.image_size=[0,8]"),
        ["data.image_size"],
        {**GOOD_IMAGES, "imgs/train.csv": TRAIN_ROWS},
    ),
    BadInput(
        "undecodable images, cache, 2 workers",
        CSV("--data.init_args.cache=true", "--data.init_args.num_workers=2"),
        ["2 of 4 images", "imgs/train.csv line 3", "imgs/train.csv line 5", "b.png", "d.png"],
        {**GOOD_IMAGES, "imgs/b.png": b"not a png", "imgs/d.png": png(1)[:40], "imgs/train.csv": TRAIN_ROWS},
    ),
    BadInput(
        "predict folder with no readable image",
        CSV("--data.init_args.predict_dir=shots", command="predict"),
        # Paths are absolute once parsed (a run's config.yaml re-runs from anywhere): the folder, named whole.
        ["2 of 2 images of /", "/shots cannot be decoded", "x.png", "y.jpg"],
        {**GOOD_IMAGES, "imgs/train.csv": TRAIN_ROWS, "shots/x.png": "junk", "shots/y.jpg": "junk"},
    ),
    BadInput(
        "predict folder missing",
        CSV("--data.init_args.predict_dir=shots", command="predict"),
        ["shots", "not found"],
        {**GOOD_IMAGES, "imgs/train.csv": TRAIN_ROWS},
    ),
]

CHECKPOINTS = [
    BadInput("missing checkpoint", T("--ckpt_path", "gone.ckpt"), ["gone.ckpt", "no such file"]),
    BadInput("garbage checkpoint", T("--ckpt_path", "junk.ckpt"), ["junk.ckpt"], {"junk.ckpt": "x"}),
    BadInput(
        "random bytes as a checkpoint",
        T("--ckpt_path", "noise.ckpt"),
        ["noise.ckpt", "not a PyTorch checkpoint"],
        {"noise.ckpt": bytes(range(256)) * 8},
    ),
    BadInput(
        "checkpoint with pickled code",
        T("--ckpt_path", "unsafe.ckpt"),
        ["unsafe.ckpt", "refused"],
        {"unsafe.ckpt": checkpoint(state_dict={}, extra=Unsafe())},
    ),
    BadInput(
        "checkpoint of another model",
        T("--ckpt_path", "other.ckpt"),
        ["other.ckpt", "litfashion.models.LinearRegression"],
        {
            "other.ckpt": checkpoint(
                state_dict={}, hyper_parameters={"_class_path": "litfashion.models.LinearRegression"}
            )
        },
    ),
    BadInput(
        "checkpoint that does not fit",
        T("--ckpt_path", "small.ckpt"),
        ["small.ckpt", "does not fit"],
        {"small.ckpt": checkpoint(state_dict={"model.layer.weight": torch.zeros(2, 2)})},
    ),
]


def SWEEP(space: str, extra: str = "") -> dict[str, str]:
    """A sweep YAML around the tutorial config with the given ``space`` block (``files`` of a row)."""
    return {"sweep.yaml": f"fit_configs: [{TUTORIAL}]\nn_trials: 2\n{extra}space:\n{space}"}


LR = "model.init_args.optimizer.init_args.lr"
SWEEPS = [
    BadInput(
        "sweep: unknown path",
        ["sweep", "--config", "sweep.yaml"],
        ["sweep.yaml", "model.init_args.net.init_args.widht"],
        SWEEP("  model.init_args.net.init_args.widht: {type: int, low: 1, high: 4}\n"),
    ),
    BadInput(
        "sweep: low above high",
        ["sweep", "--config", "sweep.yaml"],
        ["sweep.yaml", LR, "greater than high"],
        SWEEP(f"  {LR}: {{type: float, low: 0.1, high: 0.01}}\n"),
    ),
    BadInput(
        "sweep: float for an int",
        ["sweep", "--config", "sweep.yaml"],
        ["sweep.yaml", "data.init_args.batch_size"],
        SWEEP("  data.init_args.batch_size: {type: float, low: 16, high: 64}\n"),
    ),
    BadInput(
        "sweep: unknown key",
        ["sweep", "--config", "sweep.yaml"],
        ["sweep.yaml", "n_trails"],
        SWEEP(f"  {LR}: {{type: float, low: 0.01, high: 0.1}}\n", extra="n_trails: 3\n"),
    ),
]

CASES = CONFIGS_AND_FLAGS + CSVS_AND_IMAGES + CHECKPOINTS + SWEEPS


def snapshot(folder: Path) -> dict[str, tuple[int, str] | None]:
    """Every file's mtime and hash, and every folder, under ``folder``."""
    found: dict[str, tuple[int, str] | None] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        found[key] = None if path.is_dir() else (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def test_the_table_covers_every_kind_of_input() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_error_line(
    case: BadInput, tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
    before = snapshot(tmp_path)

    with pytest.raises(SystemExit) as exited:
        main(case.args)

    out, err = capsys.readouterr()
    assert exited.value.code == 2, err
    lines = err.splitlines()
    errors = [i for i, line in enumerate(lines) if "error:" in line]
    assert len(errors) == 1 and "error:" not in out, err
    assert re.match(r"litfashion( sweep)?: error: ", lines[errors[0]]), lines[errors[0]]
    # The error line, and the indented lines that list the rest of its problems (every bad CSV row or image).
    report = [lines[errors[0]], *itertools.takewhile(lambda line: line.startswith("  "), lines[errors[0] + 1 :])]
    for culprit in case.culprits:
        assert culprit in "\n".join(report), f"{culprit!r} not in:\n{err}"
    assert "Traceback" not in out + err
    assert not (tmp_path / "lightning_logs").exists()
    assert snapshot(tmp_path) == before
