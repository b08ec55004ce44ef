"""An upload becomes the tensor ``litfashion predict`` gives the network for the same file; bad uploads are
refused with their status, a too-large image from its header alone."""

import io
import struct
import zlib
from pathlib import Path

import pytest
import torch
from PIL import Image

from litfashion.data import CSVImageDataModule, FashionMNISTDataModule
from litfashion.data.fashion_mnist import FASHION_MNIST_MEAN, FASHION_MNIST_STD
from litfashion.serve.preprocessing import Preprocessing, UploadRejected
from tests.helpers.png_data import write_png_dataset

MAX_PIXELS = 1_000_000


def png_bytes(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG header that claims ``width`` x ``height`` pixels, without the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("color_mode", ["grayscale", "rgb"])
def test_an_upload_is_the_input_the_csv_module_predicts_on(tmp_path: Path, color_mode: str) -> None:
    pngs = write_png_dataset(tmp_path / "pngs", n=4, size=(16, 24), channels=3)
    data = CSVImageDataModule(
        predict_dir=str(pngs / "images"), class_names=["a", "b"], image_size=[12, 20], color_mode=color_mode
    )
    data.setup("predict")
    expected = data.scale(torch.stack([data.predict_set[i] for i in range(4)]))

    preprocessing = Preprocessing.for_input(data.input_shape, None)
    names = data.predict_set.sample_names
    decoded = [preprocessing.decode((pngs / "images" / name).read_bytes(), name, MAX_PIXELS) for name in names]
    assert torch.equal(preprocessing.scale(torch.stack(decoded)), expected)
    assert expected.shape == (4, 1 if color_mode == "grayscale" else 3, 12, 20)


def test_standardized_as_the_fashion_mnist_module_does() -> None:
    images = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    standardization = Preprocessing.standardization_in_checkpoint({"normalize": True})
    preprocessing = Preprocessing.for_input([1, 28, 28], standardization)
    expected = FashionMNISTDataModule(normalize=True).scale(images.clone())
    assert torch.equal(preprocessing.scale(images), expected)
    assert Preprocessing.standardization_in_checkpoint({"normalize": False}) is None
    assert Preprocessing.standardization_in_checkpoint({"color_mode": "rgb"}) is None


def test_the_standardization_read_back_from_an_export() -> None:
    written = f"uint8 / 255, then (x - {FASHION_MNIST_MEAN}) / {FASHION_MNIST_STD}"  # as litfashion export writes it
    assert Preprocessing.standardization_in_export(written) == (FASHION_MNIST_MEAN, FASHION_MNIST_STD)
    assert Preprocessing.standardization_in_export("uint8 / 255") is None


def test_any_size_and_format_is_converted_and_resized() -> None:
    preprocessing = Preprocessing.for_input([1, 28, 28], None)
    jpeg = io.BytesIO()
    Image.new("RGB", (300, 200), (250, 10, 10)).save(jpeg, format="JPEG")
    decoded = preprocessing.decode(jpeg.getvalue(), "photo.jpg", MAX_PIXELS)
    assert decoded.shape == (1, 28, 28) and decoded.dtype == torch.uint8


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"plain text", 415, "x: not a JPEG, PNG, WebP or GIF image"),
        (
            png_bytes(Image.new("L", (40, 40), 7))[:60],
            400,
            "x: the PNG data is corrupt or truncated (image file is truncated)",
        ),
        (header_only_png(2000, 1000), 413, "x: 2000000 pixels (2000x1000), over the limit of 1000000 (max_pixels)"),
        (header_only_png(20_000, 20_000), 413, "x: 400000000 pixels, over the limit of 1000000 (max_pixels)"),
    ],
    ids=["not an image", "truncated", "over max_pixels", "over PIL's own limit"],
)
def test_a_bad_upload_is_refused_with_its_status(data: bytes, status: int, reason: str) -> None:
    with pytest.raises(UploadRejected) as refused:
        Preprocessing.for_input([1, 28, 28], None).decode(data, "x", MAX_PIXELS)
    assert (refused.value.status, str(refused.value)) == (status, reason)
