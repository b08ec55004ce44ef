"""Decoding one image file into a ``uint8 [C, H, W]`` tensor with PIL.

torchvision 0.29 deprecates ``torchvision.io``'s decoders (for TorchCodec, not a dependency here); PIL, already a
dependency for the TensorBoard panels, decodes the same formats: JPEG, PNG, WebP and GIF (its first frame).
"""

from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from torch import Tensor
from torchvision.transforms.v2.functional import pil_to_tensor

ColorMode = Literal["unchanged", "grayscale", "rgb"]

# The formats torchvision's decode_image read, by the bytes their files start with.
SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF87a": "GIF", b"GIF89a": "GIF"}
UNSUPPORTED = "Unsupported image file. Only jpeg, png, webp and gif are currently supported."
# Modes that become a tensor as they are; the others are converted to the nearest of them.
PLAIN_MODES = ("L", "LA", "RGB", "RGBA")


class ImageDecodeError(ValueError):
    """Why a file is not a decodable image, in one line (without the path: the caller names the file)."""


def image_format(head: bytes) -> str | None:
    """``JPEG``, ``PNG``, ``GIF`` or ``WEBP`` from a file's first bytes; ``None`` for anything else."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in SIGNATURES.items() if head.startswith(magic)), None)


def to_eight_bits(image: Image.Image) -> Image.Image:
    """16- and 32-bit grayscale (``I;16``, ``I``) keep their top 8 bits, as torchvision's ``to_dtype`` scaling did."""
    if not image.mode.startswith("I"):
        return image
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.int64) >> 8, 0, 255).astype(np.uint8))


def converted(image: Image.Image, mode: ColorMode) -> Image.Image:
    image = to_eight_bits(image)
    if mode == "grayscale":
        return image.convert("L")
    if mode == "rgb":
        return image.convert("RGB")
    if image.mode in PLAIN_MODES:
        return image
    if image.mode in ("P", "PA"):  # palette colours, not indices
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    return image.convert("L" if image.mode == "1" else "RGB")


def decode_image_file(path: str | Path, mode: ColorMode = "unchanged") -> Tensor:
    """The image in ``path`` as ``uint8 [C, H, W]``: 1 channel for ``grayscale``, 3 for ``rgb``, its own
    (gray, gray + alpha, RGB or RGBA) for ``unchanged``. Raises ``ImageDecodeError`` for a file that is not a
    complete JPEG, PNG, WebP or GIF image."""
    with open(path, "rb") as file:
        found = image_format(file.read(16))
        if found is None:
            raise ImageDecodeError(UNSUPPORTED)
        file.seek(0)
        try:
            with Image.open(file, formats=[found]) as image:
                image.load()
                return pil_to_tensor(converted(image, mode))
        except Image.UnidentifiedImageError:
            raise ImageDecodeError(f"the {found} data is corrupt or truncated") from None
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as err:
            reason = " ".join(str(err).split()) or type(err).__name__
            raise ImageDecodeError(f"the {found} data is corrupt or truncated ({reason})") from None
