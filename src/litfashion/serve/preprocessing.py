"""An uploaded image as the network's input, through the steps ``litfashion predict`` takes for a file.

The CSV data module decodes a file with ``litfashion.data.image_decoding`` into ``uint8 [C, H, W]`` in the
model's color mode, resizes it with ``v2.Resize(antialias=True)`` and, on the device, scales it to [0, 1]
(standardized when the FashionMNIST module had ``normalize: true``). The same helpers do it here, so a served
file gets the prediction ``litfashion predict`` gives it. Only the first step differs: an upload is bytes, and its
header is checked against ``max_pixels`` before the pixels are decompressed.
"""

import io
import re
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image
from torch import Tensor
from torchvision.transforms import v2
from torchvision.transforms.v2.functional import pil_to_tensor

from litfashion.data.fashion_mnist import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from litfashion.data.image_decoding import ColorMode, converted, image_format

# How PIL's DecompressionBombError names the image's size.
PIL_PIXELS = re.compile(r"\((\d+) pixels\)")
# The standardization `litfashion export` writes into model.json's input_scaling: "..., then (x - M) / S".
EXPORTED_STANDARDIZATION = re.compile(r"\(x - ([-+0-9.e]+)\) / ([-+0-9.e]+)")


class UploadRejected(Exception):
    """An upload that is not an image the model can take: its HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Preprocessing:
    """How the model's training data reached the network: color mode, size, and the standardization if any."""

    color_mode: ColorMode
    size: tuple[int, int]
    mean: float | None = None
    std: float | None = None

    @classmethod
    def for_input(cls, input_shape: list[int], standardization: tuple[float, float] | None) -> "Preprocessing":
        """From the model's ``input_shape`` (``[C, H, W]``: 1 channel is grayscale, 3 RGB)."""
        channels, height, width = input_shape
        color_mode: ColorMode = "grayscale" if channels == 1 else "rgb"
        mean, std = standardization if standardization else (None, None)
        return cls(color_mode, (height, width), mean, std)

    @staticmethod
    def standardization_in_checkpoint(data_hparams: dict[str, Any]) -> tuple[float, float] | None:
        """The FashionMNIST module's ``normalize: true`` as its (mean, std); ``None`` when off or not that module."""
        return (FASHION_MNIST_MEAN, FASHION_MNIST_STD) if data_hparams.get("normalize") else None

    @staticmethod
    def standardization_in_export(input_scaling: str) -> tuple[float, float] | None:
        """The (mean, std) written into ``model.json``'s ``input_scaling``; ``None`` for plain ``uint8 / 255``."""
        found = EXPORTED_STANDARDIZATION.search(input_scaling)
        return (float(found[1]), float(found[2])) if found else None

    def decode(self, data: bytes, name: str, max_pixels: int) -> Tensor:
        """The upload as ``uint8 [C, H, W]`` in the model's color mode and size; ``UploadRejected`` says why not."""
        found = image_format(data[:16])
        if found is None:
            raise UploadRejected(415, f"{name}: not a JPEG, PNG, WebP or GIF image")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(data), formats=[found]) as image:
                    width, height = image.size
                    if width * height > max_pixels:
                        raise _too_many_pixels(name, width * height, max_pixels, f" ({width}x{height})")
                    image.load()
                    decoded = pil_to_tensor(converted(image, self.color_mode))
        except Image.DecompressionBombError as err:  # over PIL's own limit, found when the header is read
            found_pixels = PIL_PIXELS.search(str(err))
            raise _too_many_pixels(name, int(found_pixels[1]) if found_pixels else None, max_pixels, "") from None
        except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise UploadRejected(400, f"{name}: the {found} data is corrupt or truncated ({reason})") from None
        return v2.Resize(list(self.size), antialias=True)(decoded)

    def scale(self, images: Tensor) -> Tensor:
        """A ``uint8`` batch to [0, 1] floats, then standardized: ``ImageDataModule.scale`` and ``standardize``."""
        scaled = images.float().div_(255)
        if self.mean is not None and self.std is not None:
            scaled = scaled.sub_(self.mean).div_(self.std)
        return scaled


def _too_many_pixels(name: str, pixels: int | None, max_pixels: int, dims: str) -> UploadRejected:
    size = f"{pixels} pixels{dims}" if pixels is not None else "too many pixels"
    return UploadRejected(413, f"{name}: {size}, over the limit of {max_pixels} (max_pixels)")
