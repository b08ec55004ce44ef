"""Tiny labelled PNG folders with annotation CSVs, for the CSV data module (any size, grayscale or RGB)."""

import csv
import io
from pathlib import Path

import torch
from PIL import Image


def encode_png(image: torch.Tensor) -> bytes:
    """A ``uint8 [C, H, W]`` tensor (1 or 3 channels) as PNG bytes, with PIL (torchvision.io's encoders are
    deprecated)."""
    pixels = image.permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels[:, :, 0] if image.shape[0] == 1 else pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def write_png_dataset(
    folder: Path, n: int = 24, size: tuple[int, int] = (8, 8), channels: int = 1, num_classes: int = 3
) -> Path:
    """``n`` PNGs under ``folder/images`` whose bright column band depends on the class (learnable), with
    ``train.csv`` (all of them) and ``test.csv`` (every other one); labels are class names ``c0``, ``c1``..."""
    generator = torch.Generator().manual_seed(0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        label = i % num_classes
        image = torch.randint(0, 40, (channels, *size), dtype=torch.uint8, generator=generator)
        band = size[1] // num_classes
        image[:, :, label * band : (label + 1) * band] = 250
        (folder / "images" / f"{i:03d}.png").write_bytes(encode_png(image))
        rows.append([f"images/{i:03d}.png", f"c{label}"])
    for name, chosen in (("train.csv", rows), ("test.csv", rows[::2])):
        with (folder / name).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image", "label"])
            writer.writerows(chosen)
    return folder
