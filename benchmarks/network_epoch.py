"""Training speed of the networks in ``litfashion.models``: the CNN beside the tutorial's MLP, and the CNN in
channels_last memory format, on the real FashionMNIST training images.

    python benchmarks/network_epoch.py --batches 40 --repeats 5 --out benchmarks/results/network_epoch.json

Each variant trains ``--batches`` batches (after 3 untimed warm-up batches) with SGD (momentum 0.9) over batches
sliced from images scaled to [0, 1] once up front, as the ``floor`` of ``benchmarks/throughput.py``: the cost of
the network's forward, backward and optimizer step alone. Variants run alternately in one process, their order
rotated every round. Reports the median and best samples/s, and the training epoch (60,000 images) they imply.
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from litfashion.models import CNN, MLP

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
EPOCH_SAMPLES = 60_000

# name -> (network factory, channels_last)
VARIANTS: dict[str, tuple[Callable[[], nn.Module], bool]] = {
    "mlp": (lambda: MLP(), False),
    "cnn": (lambda: CNN(), False),
    "cnn-channels_last": (lambda: CNN(), True),
}


def load_images(source: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The 60,000 training images (N x 1 x 28 x 28 floats in [0, 1]) and labels, from the IDX files."""
    with gzip.open(source / TRAIN_IMAGES) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(source / TRAIN_LABELS) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    return torch.from_numpy(images.copy()).float() / 255, torch.from_numpy(labels.astype(np.int64))


def samples_per_s(
    variant: str, images: torch.Tensor, labels: torch.Tensor, batches: int, batch_size: int, seed: int
) -> float:
    factory, channels_last = VARIANTS[variant]
    torch.manual_seed(seed)
    net = factory()
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net = net.to(memory_format=memory_format).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    warmup = 3
    start = 0.0
    for i in range(warmup + batches):
        if i == warmup:
            start = time.perf_counter()
        lo = (i * batch_size) % (len(images) - batch_size)
        x = images[lo : lo + batch_size].contiguous(memory_format=memory_format)
        loss = loss_fn(net(x), labels[lo : lo + batch_size])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return batches * batch_size / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="timed batches per run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all variants")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument(
        "--source", default=os.environ.get("LITFASHION_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    )
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)

    images, labels = load_images(Path(args.source))
    runs: dict[str, list[float]] = {v: [] for v in args.variants}
    for round_ in range(args.repeats):
        order = args.variants[round_ % len(args.variants) :] + args.variants[: round_ % len(args.variants)]
        for variant in order:
            runs[variant].append(samples_per_s(variant, images, labels, args.batches, args.batch_size, seed=round_))
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"batch {args.batch_size}, {args.batches} timed batches x {args.repeats} rounds; load average {load:.2f}")
    print("| network | samples/s (median) | samples/s (best) | epoch s (median) | epoch s (best) |")
    print("|---|---:|---:|---:|---:|")
    report = {}
    for variant, values in runs.items():
        median, best = statistics.median(values), max(values)
        report[variant] = {"samples_per_s": values, "median": median, "best": best}
        print(
            f"| {variant} | {median:,.0f} | {best:,.0f} | {EPOCH_SAMPLES / median:.1f} | {EPOCH_SAMPLES / best:.1f} |"
        )
    if args.out:
        meta = {"batch_size": args.batch_size, "batches": args.batches, "load_average_1min_after": load}
        Path(args.out).write_text(json.dumps({"settings": meta, "results": report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
