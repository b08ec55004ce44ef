"""A checkpoint written before the network was injected (``hidden_sizes``/``activation``/``dropout`` as model
arguments, no ``net``) still tests, validates, predicts and exports.

``tests/helpers/data/mlp_before_net_injection.ckpt`` is real: written by main's code before this change
(commit d337168), ``litfashion fit --config configs/csv_images.yaml --config configs/trainer/cpu.yaml
--trainer.max_epochs 2 --model.init_args.hidden_sizes '[8]' --model.init_args.optimizer.init_args.lr 0.1
--data.init_args.class_names null --data.init_args.batch_size 8 --data.init_args.num_workers 0`` on
``write_png_dataset(folder, size=(4, 4))`` (its ``train.csv``, ``test.csv`` as validation).
"""

import csv
import json
from pathlib import Path

import pytest
import torch

from litfashion.cli import main, make_cli
from litfashion.data.image_decoding import decode_image_file
from litfashion.models import MLP
from litfashion.models.legacy_hparams import upgrade_hparams
from tests.helpers.paths import CONFIGS
from tests.helpers.png_data import write_png_dataset

OLD = Path(__file__).resolve().parents[1] / "helpers" / "data" / "mlp_before_net_injection.ckpt"


@pytest.fixture
def pngs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return write_png_dataset(tmp_path / "pngs", size=(4, 4))


def cli_args(subcommand: str) -> list[str]:
    return [
        subcommand,
        "--config", str(CONFIGS / "csv_images.yaml"),
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--trainer.enable_progress_bar", "false",
        "--data.init_args.train_csv", "pngs/train.csv",
        "--data.init_args.val_csv", "pngs/test.csv",
        "--data.init_args.test_csv", "pngs/test.csv",
        "--data.init_args.class_names", "null",
        "--data.init_args.num_workers", "0",
        "--data.init_args.batch_size", "8",
        "--ckpt_path", str(OLD),
    ]  # fmt: skip


def old_network() -> MLP:
    """The checkpoint's network rebuilt by hand from its old hyperparameters."""
    ckpt = torch.load(OLD, weights_only=True)
    hparams = ckpt["hyper_parameters"]
    assert "net" not in hparams and hparams["hidden_sizes"] == [8]
    net = MLP(hparams["input_shape"], hparams["num_classes"], hparams["hidden_sizes"], hparams["activation"])
    net.load_state_dict({k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k.startswith("net.")})
    return net.eval()


def test_images(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
    with (folder / "test.csv").open() as f:
        rows = list(csv.DictReader(f))
    images = torch.stack([decode_image_file(folder / r["image"]).float() / 255 for r in rows])
    return images, torch.tensor([int(r["label"][1:]) for r in rows])


test_images.__test__ = False  # a helper, not a test


def test_upgrade_moves_the_mlp_settings_into_net() -> None:
    old = {"input_shape": [1, 4, 4], "hidden_sizes": [8], "activation": "GELU", "dropout": 0.1, "label_smoothing": 0}
    assert upgrade_hparams(old) == {
        "input_shape": [1, 4, 4],
        "label_smoothing": 0,
        "net": {
            "class_path": "litfashion.models.MLP",
            "init_args": {"hidden_sizes": [8], "activation": "GELU", "dropout": 0.1},
        },
    }
    new = {"net": {"class_path": "litfashion.models.CNN", "init_args": {}}, "label_smoothing": 0}
    assert upgrade_hparams(new) == new


def test_old_checkpoint_tests_validates_and_predicts_as_its_network(pngs: Path) -> None:
    images, labels = test_images(pngs)
    with torch.no_grad():
        logits = old_network()(images)
    loss = torch.nn.functional.cross_entropy(logits, labels)
    accuracy = (logits.argmax(dim=1) == labels).float().mean()

    tested = make_cli(cli_args("test")).trainer.callback_metrics
    assert torch.allclose(tested["test/loss"], loss) and torch.equal(tested["test/acc"], accuracy)
    validated = make_cli(cli_args("validate")).trainer.callback_metrics
    assert torch.allclose(validated["val/loss"], loss) and torch.equal(validated["val/acc"], accuracy)

    make_cli([*cli_args("predict"), "--data.init_args.predict_csv", "pngs/test.csv", "--predictions.output", "p.csv"])
    with open("p.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["class_name"] for r in rows] == [f"c{i}" for i in logits.argmax(dim=1).tolist()]


def test_old_checkpoint_exports(pngs: Path) -> None:
    main(["export", "--ckpt_path", str(OLD), "--out", "exported"])
    meta = json.loads(Path("exported/model.json").read_text())
    assert meta["class_path"] == "litfashion.models.MLP"
    assert meta["init_args"] == {
        "input_shape": [1, 4, 4], "num_classes": 3, "hidden_sizes": [8], "activation": "ReLU", "dropout": 0.0
    }  # fmt: skip
    plain = MLP(**meta["init_args"])
    plain.load_state_dict(torch.load("exported/model_weights.pth", weights_only=True))
    images, _ = test_images(pngs)
    with torch.no_grad():
        assert torch.equal(plain.eval()(images), old_network()(images))
