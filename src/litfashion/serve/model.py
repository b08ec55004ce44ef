"""What ``litfashion serve`` serves: a checkpoint of ``litfashion fit`` or a ``litfashion export`` folder, as the
network, its class names and its preprocessing.

The description is read (and the network loaded once, to fail before the server starts) in the command's process;
LitServe's inference workers are separate processes, and each loads the network again from the file, with
``weights_only=True``.
"""

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from litfashion.checkpoints import load_checkpoint
from litfashion.commands.export_model import trained_network
from litfashion.errors import CheckpointError
from litfashion.serve.preprocessing import Preprocessing

EXPORT_FILES = ("model.json", "model_weights.pth")


@dataclass(frozen=True)
class ServedModel:
    """A trained classifier on disk: ``kind`` is ``checkpoint`` (``path`` a ``.ckpt``) or ``export`` (a folder)."""

    kind: str
    path: str
    class_names: list[str]
    preprocessing: Preprocessing
    class_path: str

    @classmethod
    def from_checkpoint(cls, path: str) -> "ServedModel":
        ckpt = load_checkpoint(path)
        _, class_path, _ = trained_network(ckpt, path)
        hparams = ckpt["hyper_parameters"]
        standardization = Preprocessing.standardization_in_checkpoint(ckpt.get("datamodule_hyper_parameters") or {})
        preprocessing = Preprocessing.for_input(list(hparams["input_shape"]), standardization)
        names = hparams.get("class_names") or range(hparams["num_classes"])
        return cls("checkpoint", path, [str(name) for name in names], preprocessing, class_path)

    @classmethod
    def from_export_dir(cls, folder: str) -> "ServedModel":
        where = Path(folder)
        missing = [name for name in EXPORT_FILES if not (where / name).is_file()]
        if missing:
            raise CheckpointError(
                f"export folder {folder}: no {' or '.join(missing)} (write it with `litfashion export --out {folder}`)"
            )
        meta = _read_model_json(where / "model.json")
        standardization = Preprocessing.standardization_in_export(str(meta.get("input_scaling", "")))
        preprocessing = Preprocessing.for_input(list(meta["input_shape"]), standardization)
        served = cls("export", folder, [str(name) for name in meta["class_names"]], preprocessing, meta["class_path"])
        served.load_network()
        return served

    def load_network(self) -> nn.Module:
        """The network in eval mode, its weights loaded with ``weights_only=True``."""
        if self.kind == "checkpoint":
            net, _, _ = trained_network(load_checkpoint(self.path), self.path)
            return net
        folder = Path(self.path)
        meta = _read_model_json(folder / "model.json")
        net = _network_class(meta["class_path"], folder)(**meta["init_args"])
        try:
            net.load_state_dict(torch.load(folder / "model_weights.pth", map_location="cpu", weights_only=True))
        except Exception as err:
            reason = " ".join(str(err).split())[:300]
            raise CheckpointError(f"export folder {folder}: model_weights.pth does not load ({reason})") from None
        return net.eval()


def _read_model_json(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path}: not readable JSON ({err})") from None
    missing = [key for key in ("class_path", "init_args", "input_shape", "class_names") if key not in meta]
    if missing:
        raise CheckpointError(f"{path}: no {', '.join(missing)} (not a model.json of `litfashion export`)")
    return meta


def _network_class(class_path: str, folder: Path) -> type[nn.Module]:
    """The ``nn.Module`` class ``model.json`` names; anything else is refused."""
    module_name, _, name = class_path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        found = None
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise CheckpointError(f"export folder {folder}: model.json's class_path {class_path} is not a torch network")
    return found
