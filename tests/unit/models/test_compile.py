"""``compile``: the network runs through torch.compile with the same weights; a missing compiler is one error."""

from functools import partial
from types import SimpleNamespace

import pytest
import torch

from litfashion.errors import ConfigError
from litfashion.models import MLP, ImageClassifier
from litfashion.models import compile as compile_module


def classifier(compile: bool) -> ImageClassifier:
    torch.manual_seed(0)
    model = ImageClassifier(net=partial(MLP, hidden_sizes=[8]), compile=compile)
    model.trainer = SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device("cpu")), datamodule=None)
    return model


def test_no_cpu_compiler_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compile_module.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match=r"needs a C\+\+ compiler"):
        compile_module.compile_net(torch.nn.Linear(2, 2), torch.device("cpu"))


def test_the_compiled_network_shares_the_weights_and_the_state_dict_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[torch.nn.Module] = []
    monkeypatch.setattr(compile_module.torch, "compile", lambda net: compiled.append(net) or net)
    model = classifier(True)
    keys = set(model.state_dict())
    model.setup("fit")
    assert compiled == [model.net]
    assert set(model.state_dict()) == keys
    eager = classifier(False)
    images = torch.rand(3, 1, 28, 28)
    assert torch.equal(model(images), eager(images))
