"""``litfashion export --ckpt_path CKPT --out DIR``: the trained network without Lightning.

Writes, as the tutorial's "Save and Load the Model" does, ``model_weights.pth`` (the network's ``state_dict``,
for ``Net(**json.load(open("model.json"))["init_args"]).load_state_dict(torch.load(...))`` where ``Net`` is the
class named by ``model.json``'s ``class_path``), ``model.json`` (that class, its constructor arguments, the input
shape and class names) and ``model.pt2`` (a ``torch.export`` program with a dynamic batch size, loadable with
``torch.export.load`` without this package). Inputs are float images scaled to [0, 1] (and standardized when
the data module's ``normalize`` was on). ``model_weights.pth`` is also what ``model.init_weights`` starts from.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from litfashion.atomic import atomic_open, atomic_write_text
from litfashion.checkpoints import load_checkpoint
from litfashion.data.fashion_mnist import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from litfashion.errors import CheckpointError
from litfashion.models.legacy_hparams import upgrade_hparams
from litfashion.models.net_callable import build_net, net_factory

NET_PREFIX = "net."


def net_of(hparams: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The network's ``class_path`` and ``init_args`` (without input shape and class count) in the hparams."""
    spec = upgrade_hparams(hparams).get("net")
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and isinstance(spec.get("class_path"), str):
        return spec["class_path"], dict(spec.get("init_args") or {})
    return "litfashion.models.MLP", {}  # the default network, never named in hparams of a plain ImageClassifier()


def trained_network(ckpt: dict[str, Any], path: str | Path) -> tuple[nn.Module, str, dict[str, Any]]:
    """The network an ``ImageClassifier`` checkpoint trained, built and loaded, in eval mode; with its
    ``class_path`` and ``init_args`` (without input shape and class count). ``litfashion serve`` loads it too."""
    where = f"checkpoint {path}"
    hparams = ckpt.get("hyper_parameters") or {}
    weights = {k.removeprefix(NET_PREFIX): v for k, v in ckpt["state_dict"].items() if k.startswith(NET_PREFIX)}
    if "input_shape" not in hparams or not weights:
        raise CheckpointError(
            f"{where} was written by {hparams.get('_class_path') or 'an unknown model'}, "
            f"not by litfashion.models.ImageClassifier (no {NET_PREFIX}* weights and input_shape to export)"
        )
    class_path, net_args = net_of(hparams)
    factory = net_factory({"class_path": class_path, "init_args": net_args})
    net = build_net(factory, list(hparams["input_shape"]), hparams["num_classes"], class_path)
    try:
        net.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(f"{where}: its weights do not fit {class_path}({net_args}): {err}") from None
    return net.eval(), class_path, net_args


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="litfashion export", description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt_path", required=True, help="checkpoint written by `litfashion fit`")
    parser.add_argument("--out", required=True, help="folder to write model_weights.pth, model.json, model.pt2")
    args = parser.parse_args(argv)

    ckpt = load_checkpoint(args.ckpt_path)
    net, class_path, net_args = trained_network(ckpt, args.ckpt_path)
    hparams = ckpt["hyper_parameters"]
    input_shape, num_classes = list(hparams["input_shape"]), hparams["num_classes"]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_open(out / "model_weights.pth", what="export") as handle:
        torch.save(net.state_dict(), handle)
    data = ckpt.get("datamodule_hyper_parameters") or {}
    meta = {
        "class_path": class_path,
        "init_args": {"input_shape": input_shape, "num_classes": num_classes, **net_args},
        "input_shape": input_shape,
        "class_names": list(hparams.get("class_names") or range(num_classes)),
        "input_scaling": "uint8 / 255"
        + (f", then (x - {FASHION_MNIST_MEAN}) / {FASHION_MNIST_STD}" if data.get("normalize") else ""),
    }
    atomic_write_text(out / "model.json", json.dumps(meta, indent=2) + "\n", what="export")
    example = torch.zeros(2, *input_shape)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    with atomic_open(out / "model.pt2", what="export") as handle:
        torch.export.save(program, handle)
    print(f"Exported {args.ckpt_path} to {out}: model_weights.pth, model.json, model.pt2")
