"""The views of an image batch that test-time augmentation scores: the images, their mirrors, small shifts."""

from torch import Tensor, nn


def shifted(images: Tensor, rows: int, cols: int) -> Tensor:
    """``[B, C, H, W]`` images moved ``rows`` down and ``cols`` right, the edge pixels replicated into the gap.

    Replicating the edge fills the gap with the background whatever the normalization, where zeros would not.
    """
    pad = max(abs(rows), abs(cols))
    if pad == 0:
        return images
    height, width = images.shape[-2:]
    padded = nn.functional.pad(images, (pad, pad, pad, pad), mode="replicate")
    top, left = pad - rows, pad - cols
    return padded[..., top : top + height, left : left + width]


def test_time_views(images: Tensor, flip: bool, shift: int) -> list[Tensor]:
    """The images; with ``flip`` their mirror images; with ``shift`` each of those moved ``shift`` pixels
    down-right and up-left (the two diagonal translations airbench scores).

    Args:
        images: A ``[B, C, H, W]`` batch.
        flip: Add each image's left-right mirror.
        shift: Pixels of the diagonal shifts; 0 for none.
    """
    views = [images, images.flip(-1)] if flip else [images]
    if shift > 0:
        views += [shifted(view, d, d) for view in list(views) for d in (shift, -shift)]
    return views
