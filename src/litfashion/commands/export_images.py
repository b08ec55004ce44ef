"""``litfashion export-images DIR``: FashionMNIST (or a subset) as PNG files plus ``train.csv``/``test.csv``.

The output is the layout ``CSVImageDataModule`` reads, so users see it work before bringing their own images:
``DIR/train/000000.png``, ..., ``DIR/train.csv`` with rows ``train/000000.png,Ankle boot``, and the same for test.
"""

import argparse
import csv
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torchvision.datasets import FashionMNIST

from litfashion.data import FashionMNISTDataModule
from litfashion.errors import ConfigError


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="litfashion export-images",
        description="Write FashionMNIST as PNG files plus train.csv and test.csv (columns image,label).",
    )
    parser.add_argument("dir", type=Path, help="output folder; must be empty or not exist yet")
    parser.add_argument("--subset", type=int, default=None, help="at most N images from each split, at random")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --subset choice")
    parser.add_argument("--labels", choices=["names", "indices"], default="names", help="label column contents")
    parser.add_argument("--data-dir", default="data", help="where FashionMNIST is kept, as data.data_dir")
    parser.add_argument("--source-dir", default=None, help="folder with the *-ubyte.gz files, as data.source_dir")
    parser.add_argument("--no-download", action="store_true", help="never try to download")
    return parser.parse_args(argv)


def chosen(count: int, subset: int | None, seed: int) -> list[int]:
    """Indices to export, in dataset order: all, or ``subset`` of them drawn with ``seed``."""
    if subset is None or subset >= count:
        return list(range(count))
    return sorted(torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:subset].tolist())


def write_split(out: Path, split: str, images: Tensor, targets: Tensor, labels: list[str]) -> None:
    (out / split).mkdir(parents=True)
    with (out / f"{split}.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "label"])
        for i, (image, target) in enumerate(zip(images, targets.tolist(), strict=True)):
            name = f"{split}/{i:06d}.png"
            Image.fromarray(image.numpy()).save(out / name, format="PNG")
            writer.writerow([name, labels[target]])


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if args.subset is not None and args.subset < 1:
        raise ConfigError(f"--subset must be >= 1, got {args.subset}")
    if args.dir.exists() and (not args.dir.is_dir() or any(args.dir.iterdir())):
        raise ConfigError(f"{args.dir} exists and is not an empty folder; choose a new one")
    data = FashionMNISTDataModule(data_dir=args.data_dir, source_dir=args.source_dir, download=not args.no_download)
    data.prepare_data()
    labels = data.class_names if args.labels == "names" else [str(i) for i in range(data.num_classes)]
    for split, train in (("train", True), ("test", False)):
        dataset = FashionMNIST(args.data_dir, train=train, download=False)
        keep = chosen(len(dataset), args.subset, args.seed)
        write_split(args.dir, split, dataset.data[keep], dataset.targets[keep], labels)
        print(f"{args.dir / split}.csv: {len(keep)} images in {args.dir / split}/")
    print(f"class_names (index order): {data.class_names}")
