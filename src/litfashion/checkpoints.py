"""Safe checkpoint loading: ``weights_only=True`` always, and one clear error for a file that does not fit."""

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from litfashion.errors import CheckpointError


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a Lightning checkpoint without unpickling arbitrary objects (no code can run on load)."""
    path = Path(path)
    where = f"checkpoint {path}"
    if not path.is_file():
        raise CheckpointError(f"{where}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        message = str(err)
        if "GLOBAL" not in message and "global" not in message:
            # torch reports garbage bytes through the same error as a blocked object: only a blocked global is unsafe.
            raise CheckpointError(f"{where}: not a PyTorch checkpoint (its bytes are not a torch.save file)") from None
        blocked = [line.strip() for line in message.splitlines() if "GLOBAL" in line or "global" in line]
        reason = blocked[0] if blocked else type(err).__name__
        raise CheckpointError(
            f"{where}: refused, it holds pickled Python objects that could run code when loaded, and only "
            f"tensors and plain values are accepted (weights_only=True). Loader said: {reason}"
        ) from None
    except Exception as err:
        raise CheckpointError(f"{where}: not a readable PyTorch checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict):
        raise CheckpointError(f"{where}: not a Lightning checkpoint (it has no 'state_dict')")
    return ckpt


def checkpoint_class(ckpt: dict[str, Any]) -> str | None:
    """The ``class_path`` of the LightningModule that wrote the checkpoint, when the CLI recorded it."""
    return (ckpt.get("hyper_parameters") or {}).get("_class_path")


def check_state_dict_fits(ckpt: dict[str, Any], model: nn.Module, path: str | Path) -> None:
    """Fail before any work if the checkpoint's weights do not fit ``model`` (another model's checkpoint)."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in ckpt["state_dict"].items()}
    problems = [f"missing {k}" for k in expected if k not in found]
    problems += [f"unexpected {k}" for k in found if k not in expected]
    problems += [
        f"{k}: shape {found[k]} in the checkpoint, {shape} in the model"
        for k, shape in expected.items()
        if k in found and found[k] != shape
    ]
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        writer = checkpoint_class(ckpt) or "an unknown model"
        raise CheckpointError(
            f"checkpoint {path} was written by {writer} and does not fit {type(model).__name__}: {shown}"
        )
