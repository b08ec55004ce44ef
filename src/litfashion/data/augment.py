"""Light augmentation of whole training batches on the device, so the fast batched path stays batched."""

import torch
from torch import Tensor, nn

from litfashion.errors import ConfigError


class BatchAugment(nn.Module):
    """Random horizontal flips and small random shifts, drawn per sample, of ``[B, C, H, W]`` images.

    Fashion-MNIST garments are roughly left-right symmetric and centred, so a mirror image or one shifted by
    a pixel or two is still the same class. Shifted-in pixels are 0 (the black background), so run it on the
    raw images, before any normalization.

    Args:
        flip_p: Probability that a sample is mirrored left to right.
        max_shift: Largest shift in pixels, drawn per sample and axis from ``-max_shift..max_shift``; 0 for none.
    """

    def __init__(self, flip_p: float = 0.5, max_shift: int = 2) -> None:
        super().__init__()
        if not 0.0 <= flip_p <= 1.0:
            raise ConfigError(f"data.train_augment.flip_p must be in [0, 1], got {flip_p}")
        if max_shift < 0:
            raise ConfigError(f"data.train_augment.max_shift must be >= 0, got {max_shift}")
        self.flip_p = flip_p
        self.max_shift = max_shift

    def forward(self, images: Tensor) -> Tensor:
        batch, _, height, width = images.shape
        device = images.device
        if self.flip_p > 0:
            flip = torch.rand(batch, device=device) < self.flip_p
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        if self.max_shift > 0:
            s = self.max_shift
            padded = nn.functional.pad(images, (s, s, s, s))
            channels = images.shape[1]
            offsets = torch.randint(0, 2 * s + 1, (2, batch, 1), device=device)
            rows = offsets[0] + torch.arange(height, device=device)
            cols = offsets[1] + torch.arange(width, device=device)
            rows = rows[:, None, :, None].expand(batch, channels, height, width + 2 * s)
            cols = cols[:, None, None, :].expand(batch, channels, height, width)
            images = padded.gather(2, rows).gather(3, cols)
        return images
