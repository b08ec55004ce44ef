"""MLP and ImageClassifier: the tutorial's network, targets, and predict outputs."""

from pathlib import Path

import pytest
import torch
from torch import nn

from litfashion.cli import main
from litfashion.errors import ConfigError
from litfashion.models import MLP, ImageClassifier
from litfashion.models.batch_norm_batches import check_last_training_batch
from tests.helpers.paths import CONFIGS


def tutorial_network() -> nn.Module:
    """The seed's ``NeuralNetwork``, verbatim."""

    class NeuralNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.linear_relu_stack(self.flatten(x))

    return NeuralNetwork()


def test_default_mlp_is_the_tutorials_network() -> None:
    torch.manual_seed(0)
    ours = MLP()
    torch.manual_seed(0)
    theirs = tutorial_network()
    assert ours.state_dict().keys() == theirs.state_dict().keys()
    for key, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value), key
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(ours(x), theirs(x))
    assert sum(p.numel() for p in ours.parameters()) == 669_706


def test_mlp_options() -> None:
    net = MLP(input_shape=(3, 4), hidden_sizes=(8, 4), num_classes=3, activation="GELU", dropout=0.5)
    kinds = [type(m).__name__ for m in net.linear_relu_stack]
    assert kinds == ["Linear", "GELU", "Dropout", "Linear", "GELU", "Dropout", "Linear"]
    assert net(torch.rand(2, 3, 4)).shape == (2, 3)


def test_mlp_with_batch_norm_and_input_dropout() -> None:
    net = MLP(input_shape=(3, 4), hidden_sizes=(8, 4), num_classes=3, batch_norm=True, input_dropout=0.2)
    kinds = [type(m).__name__ for m in net.linear_relu_stack]
    assert kinds == ["Dropout", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    hidden = [m for m in net.linear_relu_stack if isinstance(m, torch.nn.Linear)][:-1]
    assert all(m.bias is None for m in hidden)  # BatchNorm's shift is the bias
    assert net.linear_relu_stack[-1].bias is not None
    net.train()
    net(torch.rand(16, 3, 4))
    assert net.linear_relu_stack[2].num_batches_tracked == 1  # statistics learned in training
    x = torch.rand(2, 3, 4)
    net.eval()
    assert torch.equal(net(x), net(x))  # no dropout, running statistics: deterministic in eval


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "Nope"}, "activation"),
        ({"dropout": 1.0}, "dropout"),
        ({"input_dropout": -0.1}, "input_dropout"),
        ({"hidden_sizes": [0]}, "sizes"),
    ],
)
def test_mlp_rejects_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        MLP(**kwargs)


def test_one_hot_targets_give_the_same_loss_and_accuracy_as_indices() -> None:
    model = ImageClassifier()
    x = torch.rand(16, 1, 28, 28)
    y = torch.randint(0, 10, (16,))
    loss_idx, _, target_idx = model._step((x, y))
    loss_hot, _, target_hot = model._step((x, nn.functional.one_hot(y, 10).float()))
    assert torch.allclose(loss_idx, loss_hot)
    assert torch.equal(target_idx, target_hot)


def test_label_smoothing_changes_the_loss() -> None:
    x, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    torch.manual_seed(0)
    plain = ImageClassifier()._step((x, y))[0]
    torch.manual_seed(0)
    smoothed = ImageClassifier(label_smoothing=0.1)._step((x, y))[0]
    assert not torch.allclose(plain, smoothed)


def test_predict_step_gives_index_name_and_probability() -> None:
    names = [f"c{i}" for i in range(10)]
    model = ImageClassifier(class_names=names)
    out = model.predict_step((torch.rand(5, 1, 28, 28), torch.zeros(5)), 0)
    assert out["class_index"].shape == (5,)
    assert out["class_name"] == [names[i] for i in out["class_index"].tolist()]
    assert torch.allclose(out["probability"], out["probabilities"].max(dim=1).values)
    assert torch.allclose(out["probabilities"].sum(dim=1), torch.ones(5))


def test_class_names_must_match_num_classes() -> None:
    with pytest.raises(ConfigError, match="class_names"):
        ImageClassifier(num_classes=3, class_names=["a", "b"])


def test_a_batch_norm_network_refuses_a_last_batch_of_one_image(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    """The tiny dataset's 461 training images (512 less the 10% split) in batches of 230 end each epoch with one."""
    fit = ["fit", "--config", str(CONFIGS / "fashion_mnist.yaml"), "--trainer.enable_progress_bar", "false"]
    bn = ["--model.init_args.net.init_args.batch_norm", "true", "--data.init_args.validation", "split"]
    with pytest.raises(SystemExit) as exited:
        main([*fit, *bn, "--data.init_args.batch_size", "230"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (
        "litfashion: error: model.net has BatchNorm layers and each training epoch would end with a batch of 1 " in err
    )
    assert "(461 training images, data.init_args.batch_size 230)" in err and "Traceback" not in err
    assert not list(workdir.rglob("*.ckpt"))  # refused before the first step

    check_last_training_batch(MLP(batch_norm=True), 461, 116, world_size=4)  # 116 a process: one full batch
    with pytest.raises(ConfigError, match=r"116 training images per process \(4 processes\)"):
        check_last_training_batch(MLP(batch_norm=True), 461, 23, world_size=4)  # 116 = 5 x 23 + 1
    check_last_training_batch(MLP(), 461, 230)  # no BatchNorm: a batch of one trains


def test_attributes_are_set_as_nn_module_sets_them() -> None:
    """``ImageClassifier.__setattr__`` takes a short cut for strings and ``None`` over plain attributes only."""
    model, reference = ImageClassifier(), nn.Module()
    for module in (model, reference):
        module.note = "a"
        module.note = None
        module.note = "hook"
        module.loss_fn = nn.CrossEntropyLoss()
        module.loss_fn = None  # a submodule set to None stays a registered submodule
        module.register_buffer("scale", torch.ones(1))
        module.scale = None
        module.weight = nn.Parameter(torch.zeros(1))
        module.weight = None
        with pytest.raises(TypeError, match="cannot assign 'str' as parameter 'weight'"):
            module.weight = "not a parameter"
    for store in ("_parameters", "_buffers"):
        assert getattr(model, store)["weight" if store == "_parameters" else "scale"] is None
    assert model._modules["loss_fn"] is None and reference._modules["loss_fn"] is None
    assert model.note == reference.note == "hook" and "note" in model.__dict__
    model._current_fx_name = "training_step"  # what Lightning sets around each hook
    assert model._current_fx_name == "training_step"
