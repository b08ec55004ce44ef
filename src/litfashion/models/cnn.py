"""A small, fast convolutional network: BatchNorm conv blocks, pooling between stages, a global-pool head."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from litfashion.errors import ConfigError


class Conv3x3(nn.Conv2d):
    """A 3x3 convolution (padding 1) that runs on a 1x1 map, where only its centre weights see the input, as the
    matrix product it then is: the same result and gradients, without oneDNN's slow path for a kernel larger than
    its input (the last stage of a five-stage CNN on 28x28 images; BENCHMARKS.md, "Networks"). TensorBoard's
    graph (a trace) shows the plain convolution."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size=3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        if not torch.jit.is_tracing() and x.shape[-2:] == (1, 1):
            return F.linear(x.flatten(1), self.weight[:, :, 1, 1])[:, :, None, None]
        return super().forward(x)


class CNN(nn.Module):
    """Per stage ``blocks_per_stage`` x [3x3 conv (no bias) -> BatchNorm -> ReLU], then a 2x2 max-pool after
    every stage but the last (28 -> 14 -> 7 with three stages), then global average pool -> dropout -> linear.
    With ``pool_before_norm`` a stage's last block pools its convolution's output before the BatchNorm and ReLU,
    as airbench does: max-pooling commutes with ReLU and with a per-channel increasing affine map, so the network
    computes nearly the same function (BatchNorm's statistics are taken over the pooled map) with a quarter of
    the normalization and activation work (what that saves a step: BENCHMARKS.md, "Networks").

    The global pool makes the head independent of the image size, so the same network takes 28x28 FashionMNIST
    and, through the CSV data module, images at their own size and channel count.

    Args:
        input_shape: ``[channels, height, width]`` of the images; passed by ``ImageClassifier`` (linked from the
            data).
        num_classes: Output logits; passed by ``ImageClassifier``.
        channels: Output channels of each stage, one stage each, with a 2x2 max-pool between stages.
        blocks_per_stage: Conv -> BatchNorm -> ReLU blocks in each stage, or one count per stage (e.g.
            ``[1, 2, 1, 1, 1]``: a second convolution at 14x14, as ``configs/fashion_mnist_strong.yaml``).
        dropout: Dropout probability before the final linear layer, in [0, 1).
        pool_before_norm: Pool each stage's last convolution output before its BatchNorm and ReLU (above).
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        channels: Sequence[int] = (32, 64, 128),
        blocks_per_stage: int | Sequence[int] = 1,
        dropout: float = 0.0,
        pool_before_norm: bool = False,
    ) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ConfigError(f"model.net (CNN): needs images (channels, height, width), got input_shape {input_shape}")
        blocks = [blocks_per_stage] * len(channels) if isinstance(blocks_per_stage, int) else list(blocks_per_stage)
        if not channels or min(*channels, *blocks, num_classes) < 1:
            raise ConfigError(
                f"model.net (CNN): channels, blocks_per_stage and num_classes must be >= 1, got "
                f"channels={list(channels)}, blocks_per_stage={blocks_per_stage}, num_classes={num_classes}"
            )
        if len(blocks) != len(channels):
            raise ConfigError(
                f"model.net (CNN): blocks_per_stage needs one count per stage, got {blocks} for {len(channels)} "
                f"stages (channels={list(channels)})"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model.net (CNN): dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = input_shape[0]
        for stage, (out_channels, stage_blocks) in enumerate(zip(channels, blocks, strict=True)):
            for _ in range(stage_blocks):
                layers += [Conv3x3(width, out_channels), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]
                width = out_channels
            if stage < len(channels) - 1:  # after the stage, or between its last conv and that block's norm
                layers.insert(len(layers) - 2 if pool_before_norm else len(layers), nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(width, num_classes)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))
