"""``litfashion export --ckpt_path CKPT --out DIR``: the trained network without Lightning.

Writes, as the tutorial's "Save and Load the Model" does, ``model_weights.pth`` (the plain ``MLP``'s
``state_dict``, for ``MLP(**json.load(open("model.json"))["init_args"]).load_state_dict(torch.load(...))``),
``model.json`` (the constructor arguments, input shape and class names) and ``model.pt2`` (a
``torch.export`` program with a dynamic batch size, loadable with ``torch.export.load`` without this package).
Inputs are float images scaled to [0, 1] (and standardized when the data module's ``normalize`` was on).
"""

import argparse
import json
import math
from pathlib import Path

import torch

from litfashion.checkpoints import load_checkpoint
from litfashion.data.fashion_mnist import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from litfashion.errors import CheckpointError
from litfashion.models.mlp import MLP

NET_PREFIX = "net."


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="litfashion export", description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt_path", required=True, help="checkpoint written by `litfashion fit`")
    parser.add_argument("--out", required=True, help="folder to write model_weights.pth, model.json, model.pt2")
    args = parser.parse_args(argv)

    ckpt = load_checkpoint(args.ckpt_path)
    hparams = ckpt.get("hyper_parameters") or {}
    weights = {k.removeprefix(NET_PREFIX): v for k, v in ckpt["state_dict"].items() if k.startswith(NET_PREFIX)}
    if "input_shape" not in hparams or not weights:
        raise CheckpointError(
            f"checkpoint {args.ckpt_path} was written by {hparams.get('_class_path') or 'an unknown model'}, "
            f"not by litfashion.models.ImageClassifier (no {NET_PREFIX}* weights and input_shape to export)"
        )
    init_args = {
        "in_features": math.prod(hparams["input_shape"]),
        "hidden_sizes": list(hparams["hidden_sizes"]),
        "num_classes": hparams["num_classes"],
        "activation": hparams["activation"],
        "dropout": hparams["dropout"],
    }
    net = MLP(**init_args)
    try:
        net.load_state_dict(weights)
    except RuntimeError as err:
        raise CheckpointError(f"checkpoint {args.ckpt_path}: its weights do not fit {init_args}: {err}") from None
    net.eval()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out / "model_weights.pth")
    data = ckpt.get("datamodule_hyper_parameters") or {}
    meta = {
        "class_path": "litfashion.models.MLP",
        "init_args": init_args,
        "input_shape": list(hparams["input_shape"]),
        "class_names": list(hparams.get("class_names") or range(hparams["num_classes"])),
        "input_scaling": "uint8 / 255"
        + (f", then (x - {FASHION_MNIST_MEAN}) / {FASHION_MNIST_STD}" if data.get("normalize") else ""),
    }
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    example = torch.zeros(2, *hparams["input_shape"])
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(net, (example,), dynamic_shapes=({0: batch},))
    torch.export.save(program, out / "model.pt2")
    print(f"Exported {args.ckpt_path} to {out}: model_weights.pth, model.json, model.pt2")
