"""``model.net`` from the YAML: built with the data's shape, recorded as plain settings, checked before training;
``model.init_weights`` from a local file; each bad input one ``litfashion: error:`` line and nothing written."""

import functools
import io
from pathlib import Path

import pytest
import torch
from torch import nn

from litfashion.cli import main, make_cli
from litfashion.models import CNN, MLP, ImageClassifier, TorchvisionNet
from tests.helpers.paths import CONFIGS
from tests.helpers.png_data import write_png_dataset

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")
SMALL_CNN = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8]}}'


class ThreeLogits(nn.Module):
    """A network that ignores the class count: what the output check is for."""

    def __init__(self, input_shape: list[int], num_classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(input_shape[-1], 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).mean(dim=(1, 2))


@pytest.fixture
def in_tmp(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    monkeypatch.setattr("sys.argv", ["litfashion"])  # not pytest's: LightningCLI warns when both are given
    return tmp_path


def test_a_factory_given_in_python_is_recorded_as_class_path_and_init_args_that_rebuild_it() -> None:
    model = ImageClassifier(net=functools.partial(CNN, channels=[4, 8]))
    assert model.hparams.net == {"class_path": "litfashion.models.cnn.CNN", "init_args": {"channels": [4, 8]}}
    assert ImageClassifier().hparams.net == {"class_path": "litfashion.models.mlp.MLP", "init_args": {}}
    buffer = io.BytesIO()
    torch.save(dict(model.hparams), buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["net"] == model.hparams.net
    again = ImageClassifier(**model.hparams)  # what load_from_checkpoint does with them
    assert [m.out_channels for m in again.net.features if isinstance(m, nn.Conv2d)] == [4, 8]


def test_the_output_check_leaves_batchnorm_statistics_and_training_mode_alone() -> None:
    model = ImageClassifier(net=functools.partial(CNN, channels=[4, 8]))
    assert model.net.training
    fresh = CNN(channels=[4, 8]).state_dict()
    for key, value in model.net.state_dict().items():
        if "running" in key or "num_batches" in key:
            assert torch.equal(value, fresh[key]), key


def test_the_yaml_names_the_network_and_the_data_gives_its_shape(in_tmp: Path) -> None:
    write_png_dataset(in_tmp / "rgb", n=6, size=(64, 64), channels=3)
    cli = make_cli(
        [
            "--config", str(CONFIGS / "csv_images.yaml"),
            "--data.init_args.train_csv", "rgb/train.csv",
            "--data.init_args.val_csv", "rgb/test.csv",
            "--data.init_args.test_csv", "rgb/test.csv",
            "--data.init_args.class_names", "null",
            "--data.init_args.color_mode", "rgb",
            "--model.init_args.net", SMALL_CNN,
        ],
        run=False,
    )  # fmt: skip
    assert isinstance(cli.model.net, CNN)
    assert cli.model.net.features[0].in_channels == 3
    assert cli.model.net.head[-1].out_features == 3
    assert cli.model.hparams.net == {
        "class_path": "litfashion.models.CNN",
        "init_args": {"channels": [4, 8], "blocks_per_stage": 1, "dropout": 0.0, "pool_before_norm": False},
    }


def test_the_tutorial_config_still_builds_the_tutorials_mlp(in_tmp: Path) -> None:
    cli = make_cli(["--config", TUTORIAL], run=False)
    assert isinstance(cli.model.net, MLP)
    assert [k for k in cli.model.state_dict() if k.startswith("net.")] == [
        f"net.linear_relu_stack.{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")
    ]


def fails_cleanly(args: list[str], folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Runs ``litfashion ARGS``, expects exit 2 with one error line, and nothing new in ``folder``."""
    before = set(folder.rglob("*"))
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("litfashion: error: "), lines
    assert set(folder.rglob("*")) == before
    return lines[0]


def test_unknown_torchvision_name(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = '{"class_path": "litfashion.models.TorchvisionNet", "init_args": {"name": "resnet81"}}'
    line = fails_cleanly(["fit", "--config", TUTORIAL, "--model.init_args.net", net], in_tmp, capsys)
    assert "model.net (TorchvisionNet): unknown torchvision classification model 'resnet81'" in line
    assert "resnet18" in line


def test_output_that_does_not_match_the_class_count(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = f"{__name__}.ThreeLogits"
    line = fails_cleanly(["fit", "--config", TUTORIAL, "--model.init_args.net", net], in_tmp, capsys)
    assert line == (
        f"litfashion: error: model.net ({net}) gives outputs of shape [2, 3] for a batch of 2 images of shape "
        "[1, 28, 28]; expected [2, 10] (one logit per class, num_classes=10)"
    )


def test_network_that_fails_on_the_datas_images(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [2, 2, 2, 2, 2, 2]}}'  # 28 -> 0
    line = fails_cleanly(["fit", "--config", TUTORIAL, "--model.init_args.net", net], in_tmp, capsys)
    assert line.startswith(
        "litfashion: error: model.net (litfashion.models.CNN) fails on the data's images (input shape [1, 28, 28]): "
    )


def test_init_weights_that_do_not_fit(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(MLP(hidden_sizes=[8]).state_dict(), in_tmp / "mlp8.pth")
    args = ["fit", "--config", TUTORIAL, "--model.init_args.init_weights", "mlp8.pth"]
    line = fails_cleanly(args, in_tmp, capsys)
    assert line == (
        f"litfashion: error: model.init_weights {in_tmp / 'mlp8.pth'} does not fit the network (MLP): "
        "missing linear_relu_stack.4.weight; missing linear_relu_stack.4.bias; "
        "linear_relu_stack.0.weight: shape [8, 784] in the file, [512, 784] in the network; "
        "linear_relu_stack.0.bias: shape [8] in the file, [512] in the network; "
        "linear_relu_stack.2.weight: shape [10, 8] in the file, [512, 512] in the network; "
        "linear_relu_stack.2.bias: shape [10] in the file, [512] in the network"
    )
    line = fails_cleanly([*args[:-1], "missing.pth"], in_tmp, capsys)
    assert line == f"litfashion: error: model.init_weights {in_tmp / 'missing.pth'}: no such file"
    args = [*args[:-1], "mlp8.pth", "--model.init_args.net", SMALL_CNN]
    assert "missing features.0.weight" in fails_cleanly(args, in_tmp, capsys)


def test_init_weights_start_the_network(tmp_path: Path) -> None:
    torch.manual_seed(3)
    source = CNN(channels=[4, 8])
    source.features[1].running_mean.fill_(0.5)
    torch.save(source.state_dict(), tmp_path / "cnn.pth")
    model = ImageClassifier(net=functools.partial(CNN, channels=[4, 8]), init_weights=str(tmp_path / "cnn.pth"))
    for key, value in source.state_dict().items():
        assert torch.equal(model.net.state_dict()[key], value), key

    torch.save({"state_dict": model.state_dict(), "hyper_parameters": {}}, tmp_path / "run.ckpt")  # a checkpoint
    again = ImageClassifier(net=functools.partial(CNN, channels=[4, 8]), init_weights=str(tmp_path / "run.ckpt"))
    assert torch.equal(again.net.features[0].weight, source.features[0].weight)


def test_init_weights_of_the_torchvision_model_itself(tmp_path: Path) -> None:
    """A state_dict saved from the adapted torchvision model (keys without ``model.``) fits ``TorchvisionNet``."""
    torch.manual_seed(4)
    source = TorchvisionNet((1, 28, 28), 10, name="squeezenet1_1").model
    torch.save(source.state_dict(), tmp_path / "squeezenet.pth")
    net = functools.partial(TorchvisionNet, name="squeezenet1_1")
    model = ImageClassifier(net=net, init_weights=str(tmp_path / "squeezenet.pth"))
    for key, value in source.state_dict().items():
        assert torch.equal(model.net.model.state_dict()[key], value), key


def test_channels_last_changes_the_layout_not_the_outputs() -> None:
    net = functools.partial(CNN, channels=[4, 8])
    torch.manual_seed(0)
    plain = ImageClassifier(net=net)
    torch.manual_seed(0)
    nhwc = ImageClassifier(net=net, channels_last=True)
    conv = nhwc.net.features[4]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.net.features[4].weight.is_contiguous(memory_format=torch.channels_last)
    x, y = torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,))
    assert torch.allclose(plain(x), nhwc(x), atol=1e-5)
    nhwc._step((x, y))[0].backward()
    torch.optim.SGD(nhwc.parameters(), lr=0.1, momentum=0.9).step()
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    nhwc.load_state_dict(plain.state_dict())  # a checkpoint in the plain layout loads into it
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(plain(x), nhwc(x), atol=1e-5)
