"""Light augmentation of whole training batches on the device, so the fast batched path stays batched."""

import math

import torch
from torch import Tensor, nn

from litfashion.errors import ConfigError


class BatchAugment(nn.Module):
    """Random horizontal flips, small random shifts and random erasing, drawn per sample, of ``[B, C, H, W]``
    images.

    Fashion-MNIST garments are roughly left-right symmetric and centred, so a mirror image or one shifted by
    a pixel or two is still the same class. Shifted-in and erased pixels are 0 (the black background), so run it
    on the raw images, before any normalization. Erasing (Zhong et al., 2017, "Random Erasing Data
    Augmentation") hides a random rectangle, so the network cannot lean on one part of the garment: a
    regularizer for long schedules. torchvision's ``v2.RandomErasing`` draws one rectangle for a whole batch;
    here each sample gets its own.

    Args:
        flip_p: Probability that a sample is mirrored left to right.
        max_shift: Largest shift in pixels, drawn per sample and axis from ``-max_shift..max_shift``; 0 for none.
        erase_p: Probability that a sample has a rectangle erased; 0 for none.
        erase_scale: The smallest and largest area of that rectangle, as fractions of the image's.
        erase_ratio: The smallest and largest aspect ratio (height / width) of that rectangle, drawn
            log-uniformly between them.
    """

    def __init__(
        self,
        flip_p: float = 0.5,
        max_shift: int = 2,
        erase_p: float = 0.0,
        erase_scale: tuple[float, float] = (0.02, 0.25),
        erase_ratio: tuple[float, float] = (0.3, 3.3),
    ) -> None:
        super().__init__()
        if not 0.0 <= flip_p <= 1.0:
            raise ConfigError(f"data.train_augment.flip_p must be in [0, 1], got {flip_p}")
        if max_shift < 0:
            raise ConfigError(f"data.train_augment.max_shift must be >= 0, got {max_shift}")
        if not 0.0 <= erase_p <= 1.0:
            raise ConfigError(f"data.train_augment.erase_p must be in [0, 1], got {erase_p}")
        if len(erase_scale) != 2 or not 0.0 < erase_scale[0] <= erase_scale[1] <= 1.0:
            raise ConfigError(
                f"data.train_augment.erase_scale must be [smallest, largest] with 0 < smallest <= largest <= 1, "
                f"got {list(erase_scale)}"
            )
        if len(erase_ratio) != 2 or not 0.0 < erase_ratio[0] <= erase_ratio[1]:
            raise ConfigError(
                f"data.train_augment.erase_ratio must be [smallest, largest] with 0 < smallest <= largest, "
                f"got {list(erase_ratio)}"
            )
        self.flip_p = flip_p
        self.max_shift = max_shift
        self.erase_p = erase_p
        self.erase_scale = tuple(erase_scale)
        self.erase_ratio = tuple(erase_ratio)

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
        if self.erase_p > 0:
            images = images.masked_fill(self.erase_masks(batch, height, width, device), 0)
        return images

    def erase_masks(self, batch: int, height: int, width: int, device: torch.device) -> Tensor:
        """``[B, 1, H, W]``, True inside each erased sample's rectangle (which lies wholly inside the image)."""
        draw = lambda low, high: low + (high - low) * torch.rand(batch, device=device)  # noqa: E731
        area = height * width * draw(*self.erase_scale)
        log_ratio = draw(math.log(self.erase_ratio[0]), math.log(self.erase_ratio[1]))
        rect_h = (area * log_ratio.exp()).sqrt().round().clamp(1, height)
        rect_w = (area / log_ratio.exp()).sqrt().round().clamp(1, width)
        top = (torch.rand(batch, device=device) * (height - rect_h + 1)).floor()
        left = (torch.rand(batch, device=device) * (width - rect_w + 1)).floor()
        rows = torch.arange(height, device=device)[None, :]
        cols = torch.arange(width, device=device)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + rect_h)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + rect_w)[:, None])
        erased = torch.rand(batch, device=device) < self.erase_p
        return (in_rows[:, :, None] & in_cols[:, None, :] & erased[:, None, None])[:, None]
