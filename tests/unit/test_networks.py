"""The networks in ``litfashion.models``: the CNN family, and torchvision models adapted to the data."""

from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from litfashion.errors import ConfigError
from litfashion.models import CNN, TorchvisionNet
from litfashion.models.cnn import Conv3x3


def kinds(module: nn.Sequential) -> list[str]:
    return [type(m).__name__ for m in module]


def test_cnn_is_conv_bn_relu_blocks_pooled_between_stages() -> None:
    net = CNN((1, 28, 28), 10, channels=(4, 8, 16), blocks_per_stage=2, dropout=0.25)
    block = ["Conv3x3", "BatchNorm2d", "ReLU"]
    assert kinds(net.features) == [*block, *block, "MaxPool2d", *block, *block, "MaxPool2d", *block, *block]
    assert kinds(net.head) == ["AdaptiveAvgPool2d", "Flatten", "Dropout", "Linear"]
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 4), (4, 4), (4, 8), (8, 8), (8, 16), (16, 16)]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) and c.bias is None for c in convs)
    assert net.head[2].p == 0.25
    assert (net.head[3].in_features, net.head[3].out_features) == (16, 10)
    x = torch.rand(2, 1, 28, 28)
    assert net.features(x).shape == (2, 16, 7, 7)  # 28 -> 14 -> 7
    assert net(x).shape == (2, 10)


def test_cnn_can_pool_each_stage_before_its_last_norm() -> None:
    net = CNN((1, 28, 28), 10, channels=(4, 8, 16), blocks_per_stage=2, pool_before_norm=True)
    block, pooled = ["Conv3x3", "BatchNorm2d", "ReLU"], ["Conv3x3", "MaxPool2d", "BatchNorm2d", "ReLU"]
    assert kinds(net.features) == [*block, *pooled, *block, *pooled, *block, *block]
    assert net.features(torch.rand(2, 1, 28, 28)).shape == (2, 16, 7, 7)
    plain = CNN((1, 28, 28), 10, channels=(4, 8, 16), blocks_per_stage=2)
    assert [t.shape for t in net.state_dict().values()] == [t.shape for t in plain.state_dict().values()]


def test_cnn_takes_a_block_count_per_stage() -> None:
    net = CNN((1, 28, 28), 10, channels=(4, 8, 16), blocks_per_stage=[1, 3, 2], pool_before_norm=True)
    convs = [m for m in net.features if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 4), (4, 8), (8, 8), (8, 8), (8, 16), (16, 16)]
    assert kinds(net.features).count("MaxPool2d") == 2
    assert net(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("size", [1, 3])
def test_conv3x3_on_a_one_pixel_map_is_the_plain_convolution(size: int) -> None:
    """On a 1x1 map the convolution runs as a matrix product: the same output and gradients as ``nn.Conv2d``."""
    torch.manual_seed(0)
    conv, plain = Conv3x3(8, 6), nn.Conv2d(8, 6, kernel_size=3, padding=1, bias=False)
    plain.load_state_dict(conv.state_dict())
    x = torch.randn(4, 8, size, size)
    out, expected = conv(x), plain(x)
    torch.testing.assert_close(out, expected)
    out.square().sum().backward()
    expected.square().sum().backward()
    torch.testing.assert_close(conv.weight.grad, plain.weight.grad)


def test_cnn_takes_rgb_images_of_any_size() -> None:
    net = CNN((3, 64, 64), 5, channels=(4, 8))
    assert net.features[0].in_channels == 3
    assert net.features(torch.rand(2, 3, 64, 64)).shape == (2, 8, 32, 32)
    assert net(torch.rand(2, 3, 64, 64)).shape == (2, 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channels": []}, "channels"),
        ({"channels": [8, 0]}, "channels"),
        ({"blocks_per_stage": 0}, "blocks_per_stage"),
        ({"channels": [8, 16], "blocks_per_stage": [1, 0]}, "blocks_per_stage"),
        ({"channels": [8, 16], "blocks_per_stage": [1, 2, 1]}, r"one count per stage, got \[1, 2, 1\] for 2 stages"),
        ({"dropout": 1.0}, "dropout"),
        ({"input_shape": [784]}, "input_shape"),
    ],
)
def test_cnn_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CNN(**kwargs)


def test_torchvision_net_takes_the_datas_channels_and_classes() -> None:
    gray = TorchvisionNet((1, 28, 28), 7, name="resnet18")
    assert gray.model.conv1.in_channels == 1
    assert gray.model.fc.out_features == 7
    assert gray(torch.rand(2, 1, 28, 28)).shape == (2, 7)
    rgb = TorchvisionNet((3, 32, 32), 4, name="mobilenet_v3_small", model_kwargs={"dropout": 0.5})
    assert rgb.model.features[0][0].in_channels == 3
    assert rgb.model.classifier[2].p == 0.5
    assert rgb.eval()(torch.rand(2, 3, 32, 32)).shape == (2, 4)


def test_unknown_torchvision_name_lists_close_names() -> None:
    with pytest.raises(ConfigError) as err:
        TorchvisionNet(name="resnet81")
    message = str(err.value)
    assert "unknown torchvision classification model 'resnet81'" in message
    assert "resnet18" in message
    assert "fasterrcnn" not in message  # detection models are not offered


def test_pretrained_weights_from_the_local_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision's ``weights`` with the file already in the hub cache (no download): a grayscale first
    convolution gets the RGB filters summed, the head (here a 1x1 convolution) is new, the rest is the file's."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / Path(torchvision.models.SqueezeNet1_1_Weights.DEFAULT.url).name
    cached.parent.mkdir(parents=True)
    torch.manual_seed(1)
    imagenet = torchvision.models.squeezenet1_1()
    torch.save(imagenet.state_dict(), cached)

    net = TorchvisionNet((1, 28, 28), 10, name="squeezenet1_1", weights="DEFAULT")
    ours, theirs = net.model.state_dict(), imagenet.state_dict()
    first, head = "features.0.weight", "classifier.1.weight"
    assert torch.allclose(ours[first], theirs[first].sum(dim=1, keepdim=True))
    assert ours[head].shape == (10, 512, 1, 1)
    for key in theirs.keys() - {first, head, "classifier.1.bias"}:
        assert torch.equal(ours[key], theirs[key]), key
    assert net.eval()(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_weights_that_cannot_be_loaded_say_where_to_put_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="weights 'NOPE' for resnet18"):
        TorchvisionNet(name="resnet18", weights="NOPE")
