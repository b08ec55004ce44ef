"""A ``litfashion export`` folder written by hand (no training): what the serve unit tests load."""

import json
from pathlib import Path

import pytest
import torch

from litfashion.models import MLP

CLASSES = ["cat", "dog", "bird", "fish", "frog", "newt", "owl"]


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """A ``litfashion export`` folder of a 7-class MLP on 8x8 RGB images, written as the command writes it."""
    init_args = {"input_shape": [3, 8, 8], "num_classes": len(CLASSES), "hidden_sizes": [6]}
    torch.manual_seed(0)
    torch.save(MLP(**init_args).state_dict(), tmp_path / "model_weights.pth")
    meta = {"class_path": "litfashion.models.MLP", "init_args": init_args, "input_shape": [3, 8, 8],
            "class_names": CLASSES, "input_scaling": "uint8 / 255"}  # fmt: skip
    (tmp_path / "model.json").write_text(json.dumps(meta))
    return tmp_path
