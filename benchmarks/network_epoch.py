"""Training speed of the networks in ``litfashion.models``: the CNN beside the tutorial's MLP, the CNN in
channels_last memory format, and the recipes' networks (``configs/fashion_mnist_cnn.yaml``'s five-stage CNN,
``configs/fashion_mnist_best.yaml``'s 3x1024 MLP) one speed-up at a time: pooling before BatchNorm, bfloat16
autocast (the Trainer's ``precision: bf16-mixed``), the plain convolution on the CNN's 1x1 map instead of
``Conv3x3``'s matrix product, and a 16-channel first stage (the recipe's network now); the strong overlay's
network (a second convolution at 14x14) beside three narrower ones there (``strong-48x3``); on the real
FashionMNIST training images.

    python -m benchmarks.network_epoch --batches 20 --repeats 5 --out benchmarks/results/network_epoch.json
    python -m benchmarks.network_epoch --batch-size 128 --variants cnn5 cnn5-pool_before_norm ...

Each variant trains ``--batches`` batches (after 3 untimed warm-up batches) with SGD (momentum 0.9) over batches
sliced from images scaled to [0, 1] once up front, as ``whole_job.py``'s floor: the cost of the network's
forward, backward and optimizer step alone. Variants run alternately in one process, their order rotated every
round. Reports the median and best samples/s, and the training epoch (60,000 images) they imply.
"""

import argparse
import os
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch
from torch import nn

from benchmarks import common
from litfashion.models import CNN, MLP
from litfashion.models.cnn import Conv3x3

EPOCH_SAMPLES = 60_000
FIVE_STAGES = (32, 64, 128, 256, 512)
THIN_FIRST = (16, 64, 128, 256, 512)  # configs/fashion_mnist_cnn.yaml's network since 2026-12-07
TWO_AT_14 = (1, 2, 1, 1, 1)  # configs/fashion_mnist_strong.yaml's blocks since 2026-12-08


def plain_convolutions(net: nn.Module) -> nn.Module:
    """``net`` with every ``Conv3x3`` running ``nn.Conv2d``'s forward, also on a 1x1 map."""
    for conv in net.modules():
        if isinstance(conv, Conv3x3):
            conv.forward = partial(nn.Conv2d.forward, conv)
    return net


cnn5 = partial(CNN, channels=FIVE_STAGES)
mlp3x1024 = partial(MLP, hidden_sizes=(1024,) * 3, batch_norm=True, dropout=0.1)
# name -> (network factory, channels_last, bfloat16 autocast)
VARIANTS: dict[str, tuple[Callable[[], nn.Module], bool, bool]] = {
    "mlp": (MLP, False, False),
    "cnn": (CNN, False, False),
    "cnn-channels_last": (CNN, True, False),
    "cnn5": (cnn5, True, False),
    "cnn5-pool_before_norm": (partial(cnn5, pool_before_norm=True), True, False),
    "cnn5-pool_before_norm-bf16": (partial(cnn5, pool_before_norm=True), True, True),
    "cnn5-pool_before_norm-bf16-plain_conv": (lambda: plain_convolutions(cnn5(pool_before_norm=True)), True, True),
    "cnn5-pool_before_norm-bf16-thin16": (partial(CNN, channels=THIN_FIRST, pool_before_norm=True), True, True),
    "strong": (partial(CNN, channels=THIN_FIRST, blocks_per_stage=TWO_AT_14, pool_before_norm=True), True, True),
    "strong-48x3": (
        partial(CNN, channels=(16, 48, 128, 256, 512), blocks_per_stage=(1, 3, 1, 1, 1), pool_before_norm=True),
        True,
        True,
    ),
    "mlp3x1024": (mlp3x1024, False, False),
    "mlp3x1024-bf16": (mlp3x1024, False, True),
}


def samples_per_s(variant: str, images: torch.Tensor, labels: torch.Tensor, args: argparse.Namespace) -> float:
    network, channels_last, bf16 = VARIANTS[variant]
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    net = network().to(memory_format=memory_format).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn, warmup, size, start = nn.CrossEntropyLoss(), 3, args.batch_size, 0.0
    for i in range(warmup + args.batches):
        if i == warmup:
            start = time.perf_counter()
        lo = (i * size) % (len(images) - size)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = net(images[lo : lo + size].contiguous(memory_format=memory_format))
        loss = loss_fn(logits.float(), labels[lo : lo + size])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return args.batches * size / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = common.variant_parser(__doc__, list(VARIANTS))
    parser.add_argument("--batches", type=int, default=40, help="timed batches per run")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5, help="rounds over all variants")
    args = parser.parse_args(argv)
    common.prepare_data(args.data_dir.resolve())
    images, labels = common.fashion_mnist(args.data_dir.resolve(), train=True)
    images = images.unsqueeze(1).float() / 255
    torch.manual_seed(args.seed)
    runs = common.interleaved(args.variants, args.repeats, lambda v: samples_per_s(v, images, labels, args))
    load = os.getloadavg()[0]
    threads, rounds = torch.get_num_threads(), f"{args.batches} timed batches x {args.repeats} rounds"
    print(f"torch {torch.__version__}, {threads} threads; batch {args.batch_size}, {rounds}; load average {load:.2f}")
    report = {v: {"samples_per_s": s, "median": statistics.median(s), "best": max(s)} for v, s in runs.items()}
    rows = [
        [v, *(f"{r[k]:,.0f}" for k in ("median", "best")), *(f"{EPOCH_SAMPLES / r[k]:.1f}" for k in ("median", "best"))]
        for v, r in report.items()
    ]
    header = ["network", "samples/s (median)", "samples/s (best)", "epoch s (median)", "epoch s (best)"]
    print(common.table(header, rows))
    meta = {"batch_size": args.batch_size, "batches": args.batches, "load_average_1min_after": load}
    common.write_json(args.out, {"settings": meta, "results": report})


if __name__ == "__main__":
    main()
