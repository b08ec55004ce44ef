"""The confusion matrix and the mistakes grid drawn straight into pixels with PIL.

A matplotlib figure (layout, artists, rasterizing through Agg) costs a large share of a small model's epoch; these
panels are a few coloured cells and short labels, which PIL draws in a few milliseconds. Each function returns an
``[H, W, 3]`` uint8 array for ``SummaryWriter.add_image(..., dataformats="HWC")``.
"""

from collections.abc import Sequence
from functools import cache

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torchvision.utils import make_grid

# Matplotlib's "Blues" at its ends: the colour of an empty cell and of the largest one.
LIGHT = np.array([247, 251, 255], dtype=np.float32)
DARK = np.array([8, 48, 107], dtype=np.float32)
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


@cache
def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled font at ``size`` pixels (a fixed bitmap font where Pillow lacks FreeType)."""
    return ImageFont.load_default(size=size)


def _text_size(draw: ImageDraw.ImageDraw, text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font(size))
    return int(right - left), int(bottom - top)


def confusion_matrix_image(matrix: Tensor, class_names: Sequence[str], title: str) -> np.ndarray:
    """Rows are true classes, columns predicted ones, each cell shaded by its value and labelled with it
    (counts, or fractions when ``matrix`` is floating point); class names on both axes."""
    values = matrix.detach().cpu().double()
    n = len(values)
    fractions = matrix.is_floating_point()
    labels = [[f"{v:.2f}" if fractions else f"{int(v)}" for v in row] for row in values.tolist()]
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    name_w = max(_text_size(scratch, name, 12)[0] for name in class_names)
    cell = max(36, max(_text_size(scratch, label, 11)[0] for row in labels for label in row) + 8)
    margin_left, margin_top = name_w + 34, 30
    width, height = margin_left + n * cell + 10, margin_top + n * cell + name_w + 34
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    draw.text((width // 2, 8), title, fill=BLACK, font=font(13), anchor="mt")
    peak = float(values.max()) or 1.0
    for i, row in enumerate(values.tolist()):
        for j, value in enumerate(row):
            share = value / peak
            colour = tuple(int(c) for c in LIGHT + (DARK - LIGHT) * share)
            x, y = margin_left + j * cell, margin_top + i * cell
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=colour)
            ink = WHITE if share > 0.5 else BLACK
            draw.text((x + cell // 2, y + cell // 2), labels[i][j], fill=ink, font=font(11), anchor="mm")
    grid_bottom = margin_top + n * cell
    for i, name in enumerate(class_names):
        middle = margin_top + i * cell + cell // 2
        draw.text((margin_left - 6, middle), name, fill=BLACK, font=font(12), anchor="rm")
        # Column names run downwards, drawn on their own strip and turned.
        strip = Image.new("RGB", (name_w + 4, 16), WHITE)
        ImageDraw.Draw(strip).text((name_w + 2, 8), name, fill=BLACK, font=font(12), anchor="rm")
        turned = strip.rotate(90, expand=True)
        image.paste(turned, (margin_left + i * cell + cell // 2 - 8, grid_bottom + 4))
    draw.text((margin_left + n * cell // 2, height - 6), "Predicted label", fill=BLACK, font=font(12), anchor="mb")
    axis = Image.new("RGB", (n * cell, 16), WHITE)
    ImageDraw.Draw(axis).text((n * cell // 2, 8), "True label", fill=BLACK, font=font(12), anchor="mm")
    image.paste(axis.rotate(90, expand=True), (4, margin_top))
    return np.asarray(image)


def mistakes_image(
    images: Tensor,
    preds: Sequence[int],
    targets: Sequence[int],
    class_names: Sequence[str],
    ncols: int = 8,
    scale: int = 3,
) -> np.ndarray:
    """All samples in one grid, each cell labelled ``predicted`` (top) and ``true`` (bottom) above its image.

    Images are min-max scaled together for display (inputs may be normalized) and enlarged ``scale`` times, so
    that a label fits over each one.
    """
    pixels = images.detach().float().cpu()
    low, high = pixels.amin(), pixels.amax()
    pixels = (pixels - low) / (high - low if high > low else 1.0)
    band, padding = 10, 2  # pixels above each image for its two-line label, between cells (before enlarging)
    cells = torch.nn.functional.pad(pixels, (0, 0, band, 0), value=1.0)
    grid = make_grid(cells, nrow=ncols, padding=padding, pad_value=1.0)
    # Enlarged as one 8-bit image: a single PIL resize, far cheaper than scaling float tensors.
    grid = (grid.clamp(0, 1) * 255).to(torch.uint8)
    grid = Image.fromarray(grid[0].numpy() if pixels.shape[1] == 1 else grid.permute(1, 2, 0).contiguous().numpy())
    grid = grid.resize((grid.width * scale, grid.height * scale), Image.Resampling.NEAREST)
    title_h = 20
    image = Image.new("RGB", (grid.width, grid.height + title_h), WHITE)
    image.paste(grid, (0, title_h))
    draw = ImageDraw.Draw(image)
    draw.text((4, 4), "misclassified: predicted (top) / true (bottom)", fill=BLACK, font=font(12))
    cell_h, cell_w = (cells.shape[-2] + padding) * scale, (cells.shape[-1] + padding) * scale
    for i, (pred, target) in enumerate(zip(preds, targets, strict=True)):
        x, y = (i % ncols) * cell_w + 2 * scale, title_h + (i // ncols) * cell_h + 2 * scale
        draw.text((x, y), class_names[pred], fill=(180, 0, 0), font=font(11))
        draw.text((x, y + 13), class_names[target], fill=BLACK, font=font(11))
    return np.asarray(image)
