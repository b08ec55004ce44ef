"""Every kind of network through every subcommand, on RGB 32x32 PNGs read by the CSV data module (a few
batches): fit (with its TensorBoard graph), validate, test, predict from a CSV and from a folder, export, and
fine-tuning from the export."""

import csv
import importlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litfashion.cli import main, make_cli
from litfashion.models import ImageClassifier
from tests.helpers.paths import CONFIGS
from tests.helpers.png_data import write_png_dataset
from tests.unit.test_legacy_checkpoint import test_images

pytestmark = pytest.mark.slow

NETWORKS = {
    "mlp": '{"class_path": "litfashion.models.MLP", "init_args": {"hidden_sizes": [16], "dropout": 0.1}}',
    "cnn": '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8], "dropout": 0.1}}',
    "torchvision": '{"class_path": "litfashion.models.TorchvisionNet", "init_args": {"name": "mobilenet_v3_small"}}',
}


def args(subcommand: str, net: str, save_dir: str, *extra: str) -> list[str]:
    return [
        subcommand,
        "--config", str(CONFIGS / "csv_images.yaml"),
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--trainer.enable_progress_bar", "false",
        "--trainer.max_epochs", "1",
        "--trainer.logger.init_args.save_dir", save_dir,
        "--data.init_args.train_csv", "pngs/train.csv",
        "--data.init_args.val_csv", "pngs/test.csv",
        "--data.init_args.test_csv", "pngs/test.csv",
        "--data.init_args.class_names", "null",
        "--data.init_args.color_mode", "rgb",
        "--data.init_args.num_workers", "0",
        "--data.init_args.batch_size", "8",
        "--model.init_args.net", net,
        "--model.init_args.optimizer.init_args.lr", "0.05",
        *extra,
    ]  # fmt: skip


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("kind", NETWORKS)
def test_every_subcommand(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pngs = write_png_dataset(tmp_path / "pngs", n=24, size=(32, 32), channels=3)
    net = NETWORKS[kind]
    make_cli(args("fit", net, "fit"))
    run = tmp_path / "fit" / "lightning_logs" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    events = EventAccumulator(str(run))
    events.Reload()
    assert events.Tags()["graph"]

    reference = ImageClassifier.load_from_checkpoint(last, weights_only=True).eval()
    assert reference.hparams.input_shape == [3, 32, 32]
    images, labels = test_images(pngs)
    with torch.no_grad():
        logits = reference(images)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    tested = make_cli(args("test", net, "eval", "--ckpt_path", str(last))).trainer.callback_metrics
    assert torch.allclose(tested["test/loss"], loss, atol=1e-6)
    validated = make_cli(args("validate", net, "eval", "--ckpt_path", str(last))).trainer.callback_metrics
    assert torch.allclose(validated["val/loss"], loss, atol=1e-6)

    predict = [*args("predict", net, "eval", "--ckpt_path", str(last))]
    make_cli([*predict, "--data.init_args.predict_csv", "pngs/test.csv", "--predictions.output", "from_csv.csv"])
    assert [r["class_name"] for r in read_rows(tmp_path / "from_csv.csv")] == [
        f"c{i}" for i in logits.argmax(dim=1).tolist()
    ]
    make_cli([*predict, "--data.init_args.predict_dir", "pngs/images", "--predictions.output", "from_dir.csv"])
    assert len(read_rows(tmp_path / "from_dir.csv")) == 24

    main(["export", "--ckpt_path", str(last), "--out", "exported"])
    meta = json.loads((tmp_path / "exported" / "model.json").read_text())
    assert meta["class_path"] == json.loads(net)["class_path"]
    assert meta["init_args"]["input_shape"] == [3, 32, 32] and meta["init_args"]["num_classes"] == 3
    module_name, _, class_name = meta["class_path"].rpartition(".")
    plain = getattr(importlib.import_module(module_name), class_name)(**meta["init_args"])
    plain.load_state_dict(torch.load(tmp_path / "exported" / "model_weights.pth", weights_only=True))
    program = torch.export.load(tmp_path / "exported" / "model.pt2").module()
    with torch.no_grad():
        assert torch.equal(plain.eval()(images), logits)
        assert torch.allclose(program(images), logits, atol=1e-5)
        assert torch.allclose(program(images[:3]), logits[:3], atol=1e-5)

    # Fine-tuning from the export; the checkpoint then holds the weights, so test needs the file no more.
    weights = str(tmp_path / "exported" / "model_weights.pth")
    tune = args("fit", net, "tuned", "--model.init_args.init_weights", weights)
    started = make_cli(tune[1:], run=False).model.net.state_dict()
    assert all(torch.equal(value, started[key]) for key, value in plain.state_dict().items())
    make_cli([*tune, "--trainer.limit_train_batches", "1", "--trainer.limit_val_batches", "1"])
    shutil.rmtree(tmp_path / "exported")
    tuned_last = tmp_path / "tuned" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    make_cli(args("test", net, "eval", "--model.init_args.init_weights", weights, "--ckpt_path", str(tuned_last)))
