"""Any torchvision classification model by name, adapted to the data's channel count and class count."""

import difflib
from collections.abc import Sequence
from typing import Any

import torch
import torchvision
from torch import Tensor, nn

from litfashion.errors import ConfigError

# What torchvision's pretrained classification weights were trained on.
IMAGENET_CHANNELS = 3
IMAGENET_CLASSES = 1000


def classification_models() -> list[str]:
    """The names ``torchvision.models.get_model`` builds that are image classifiers (not detection, video...)."""
    return torchvision.models.list_models(module=torchvision.models)


class TorchvisionNet(nn.Module):
    """``torchvision.models.get_model(name, ...)`` in ``self.model``, with its first convolution taking the
    data's channels and its head giving ``num_classes`` logits.

    Args:
        input_shape: ``[channels, height, width]`` of the images; the first convolution is adapted to the
            channels. Passed by ``ImageClassifier`` (linked from the data).
        num_classes: Logits of the new head; passed by ``ImageClassifier``.
        name: A torchvision classification model (``resnet18``, ``efficientnet_b0``, ...; all of them:
            ``torchvision.models.list_models(module=torchvision.models)``).
        weights: torchvision's weights name (e.g. ``DEFAULT``), loaded from the torch hub cache and downloaded
            only when not there; ``null`` starts from random weights and downloads nothing. With weights, a
            grayscale first convolution gets the RGB filters summed, so the pretrained features still apply,
            and the head is new.
        model_kwargs: More keyword arguments for the model's builder (e.g. ``{dropout: 0.2}`` for an
            EfficientNet).
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        name: str = "resnet18",
        weights: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        known = classification_models()
        if name not in known:
            close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
            hint = f"close names: {', '.join(close)}" if close else f"known: {', '.join(known[:8])}, ..."
            raise ConfigError(
                f"model.net (TorchvisionNet): unknown torchvision classification model {name!r}; {hint} "
                "(all: torchvision.models.list_models(module=torchvision.models))"
            )
        if len(input_shape) != 3:
            raise ConfigError(
                f"model.net (TorchvisionNet): needs images (channels, height, width), got input_shape {input_shape}"
            )
        kwargs = dict(model_kwargs or {})
        if weights is None:
            self.model = torchvision.models.get_model(name, num_classes=num_classes, **kwargs)
        else:
            try:
                self.model = torchvision.models.get_model(name, weights=weights, **kwargs)
            except (ValueError, KeyError) as err:
                raise ConfigError(f"model.net (TorchvisionNet): weights {weights!r} for {name}: {err}") from None
            except OSError as err:
                raise ConfigError(
                    f"model.net (TorchvisionNet): could not load {name} weights {weights!r} ({err}); offline, put "
                    f"the file in {torch.hub.get_dir()}/checkpoints, or start from a local file with model.init_weights"
                ) from None
            self._replace_head(num_classes)
        self._adapt_first_conv(input_shape[0], pretrained=weights is not None)

    def _adapt_first_conv(self, channels: int, pretrained: bool) -> None:
        """The first 3-channel convolution takes ``channels`` instead (pretrained filters averaged, rescaled)."""
        if channels == IMAGENET_CHANNELS:
            return
        found = next(
            ((n, m) for n, m in self.model.named_modules() if isinstance(m, nn.Conv2d) and m.in_channels == 3), None
        )
        if found is None or found[1].groups != 1:
            return  # the dry forward in ImageClassifier reports a network that cannot take these channels
        path, old = found
        new = nn.Conv2d(
            channels,
            old.out_channels,
            old.kernel_size,
            old.stride,
            old.padding,
            old.dilation,
            bias=old.bias is not None,
            padding_mode=old.padding_mode,
        )
        if pretrained:
            with torch.no_grad():
                new.weight.copy_(old.weight.mean(dim=1, keepdim=True).repeat(1, channels, 1, 1) * (3 / channels))
                if old.bias is not None:
                    new.bias.copy_(old.bias)
        self._set(path, new)

    def _replace_head(self, num_classes: int) -> None:
        """A new last layer for ``num_classes``: the last Linear (or 1x1 Conv2d) giving ImageNet's 1000 classes."""
        if num_classes == IMAGENET_CLASSES:
            return
        for path, module in reversed(list(self.model.named_modules())):
            if isinstance(module, nn.Linear) and module.out_features == IMAGENET_CLASSES:
                self._set(path, nn.Linear(module.in_features, num_classes, bias=module.bias is not None))
                return
            if isinstance(module, nn.Conv2d) and module.out_channels == IMAGENET_CLASSES:
                self._set(path, nn.Conv2d(module.in_channels, num_classes, module.kernel_size, module.stride))
                return

    def _set(self, path: str, module: nn.Module) -> None:
        parent, _, attribute = path.rpartition(".")
        setattr(self.model.get_submodule(parent), attribute, module)

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x)
        # GoogLeNet and Inception return (logits, aux logits...) while training: the main logits are trained.
        return out if isinstance(out, Tensor) else out[0]
