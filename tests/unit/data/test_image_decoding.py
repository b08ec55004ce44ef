"""PIL decoding of one image file: channel modes, 16-bit and palette PNGs, and the reason a bad file gives."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from litfashion.data.image_decoding import UNSUPPORTED, ImageDecodeError, decode_image_file


def saved(tmp_path: Path, image: Image.Image, name: str = "x.png", **options: object) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


def test_each_mode_gives_its_channels_and_grayscale_is_the_luma(tmp_path: Path) -> None:
    rgba = saved(tmp_path, Image.new("RGBA", (5, 3), (200, 100, 50, 128)))
    assert decode_image_file(rgba).shape == (4, 3, 5)
    assert decode_image_file(rgba, "rgb")[:, 0, 0].tolist() == [200, 100, 50]
    gray = decode_image_file(rgba, "grayscale")
    assert gray.shape == (1, 3, 5) and gray.dtype == torch.uint8 and gray[0, 0, 0] == 124  # ITU-R 601-2 luma
    gray_file = saved(tmp_path, Image.new("L", (2, 2), 77), "g.jpg", quality=95)
    assert decode_image_file(gray_file, "rgb").shape == (3, 2, 2)


def test_sixteen_bit_grayscale_keeps_its_top_eight_bits(tmp_path: Path) -> None:
    pixels = (np.arange(4, dtype=np.uint16) * 20000).reshape(2, 2)
    path = saved(tmp_path, Image.fromarray(pixels))
    assert decode_image_file(path)[0].flatten().tolist() == [v >> 8 for v in pixels.flatten().tolist()]


def test_a_palette_png_gives_its_colours(tmp_path: Path) -> None:
    palette = Image.new("P", (2, 2), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    assert decode_image_file(saved(tmp_path, palette))[:, 0, 0].tolist() == [255, 0, 0]


def test_bad_files_say_why(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 60).save(buffer, format="PNG")
    (tmp_path / "junk.png").write_bytes(b"not a png")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:40])
    (tmp_path / "bmp.png").write_bytes(b"BM" + bytes(60))
    for name, reason in (("junk", UNSUPPORTED), ("cut", "the PNG data is corrupt or truncated"), ("bmp", UNSUPPORTED)):
        with pytest.raises(ImageDecodeError) as err:
            decode_image_file(tmp_path / f"{name}.png")
        assert str(err.value).startswith(reason), (name, err.value)
