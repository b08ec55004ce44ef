"""What the benchmark scripts share, none of it importing Lightning (so that the tutorial's and the floor's
processes start as the tutorial does): the tutorial's network, hyperparameters and in-memory batches, timing,
child processes, the machine's description and Markdown tables. Lightning's side is ``lightning_parts.py``."""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "fashion_mnist.yaml"
# litfashion-lean: the TensorBoard panels, the graph and the progress bar off, to separate their cost.
LEAN = ["--config", str(REPO / "configs" / "tensorboard_off.yaml"), "--trainer.enable_progress_bar=false"]

# Where a benchmark's child process writes its result (JSON), read by the parent when it exits.
RESULT_ENV = "LITFASHION_BENCHMARK_RESULT"
T = TypeVar("T")

# The tutorial's hyperparameters; configs/fashion_mnist.yaml sets the same for litfashion.
learning_rate = 1e-3
batch_size = 64


class NeuralNetwork(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


class TensorBatches:
    """Batches sliced (as views) from tensors scaled once up front: the floor, with no data pipeline at all;
    shaped like a DataLoader for the tutorial's loops."""

    def __init__(self, images: torch.Tensor, targets: torch.Tensor) -> None:
        self.images = images.unsqueeze(1).float().div(255)  # what ToTensor does, once for all images
        self.targets = self.dataset = targets

    def __len__(self) -> int:
        return -(-len(self.targets) // batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in range(0, len(self.targets), batch_size):
            yield self.images[start : start + batch_size], self.targets[start : start + batch_size]


def fashion_mnist(data_dir: Path, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The uint8 images ``[N, 28, 28]`` and labels of a split, from ``data_dir`` as the data module unpacks it."""
    from torchvision import datasets

    split = datasets.FashionMNIST(root=data_dir, train=train, download=False)
    return split.data, split.targets


def microseconds(function: Callable[[], object], n: int) -> float:
    """CPU microseconds a call, over ``n`` calls after ``n // 10`` warm-up calls."""
    for _ in range(max(n // 10, 1)):
        function()
    start = time.process_time()
    for _ in range(n):
        function()
    return (time.process_time() - start) / n * 1e6


def interleaved(
    variants: Sequence[str], rounds: int, run: Callable[[str], T], after_round: Callable[[int], object] | None = None
) -> dict[str, list[T]]:
    """``run(variant)`` for every variant once a round, the order rotated each round so that no variant always
    runs first; ``after_round(rounds_done)`` after each."""
    results: dict[str, list[T]] = {variant: [] for variant in variants}
    for round_ in range(rounds):
        shift = round_ % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            print(f"[round {round_ + 1}/{rounds}] {variant} ...", file=sys.stderr, flush=True)
            results[variant].append(run(variant))
        if after_round is not None:
            after_round(round_ + 1)
    return results


def write_json(path: Path | None, document: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"Results written to {path}", file=sys.stderr)


def timed_process(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[str, float, Any]:
    """Output, wall seconds and resource usage (``wait4``: peak RSS, CPU time) of ``command`` run to its end."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({os.waitstatus_to_exitcode(status)}):\n{output[-3000:]}")
    return output, wall, usage


def with_repo_importable(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a child started in a temporary folder, with the repository root on ``PYTHONPATH`` so that it
    can import ``benchmarks`` (its workers, and the callbacks a litfashion run is given)."""
    path = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}


def cpu_model() -> str:
    """The CPU's name from ``/proc/cpuinfo`` (Linux); ``processor`` in ``machine()`` says the architecture."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.is_file() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def machine() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "loadavg_before": os.getloadavg(),
    }


def table(header: Sequence[str], rows: Sequence[Sequence[object]], text: Sequence[int] = (0,)) -> str:
    """A Markdown table: the columns ``text`` (indices) left-aligned, the figures right-aligned."""
    align = "|".join("---" if i in text else "---:" for i in range(len(header)))
    lines = [f"| {' | '.join(map(str, line))} |" for line in (header, *rows)]
    return "\n".join([lines[0], f"|{align}|", *lines[1:]])


def variant_parser(doc: str, variants: Sequence[str]) -> argparse.ArgumentParser:
    """The options every multi-variant benchmark takes: a subset of variants, the seed, the data, the JSON."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", choices=variants, default=list(variants), help="a subset to run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    return parser


def prepare_data(data_dir: Path) -> None:
    """FashionMNIST unpacked into ``data_dir`` by the data module's own resolution (``source_dir``,
    ``$LITFASHION_FASHION_MNIST_DIR``, /usr/share/datasets/fashion-mnist), never downloaded."""
    from litfashion.data import FashionMNISTDataModule

    FashionMNISTDataModule(data_dir=str(data_dir), download=False).prepare_data()
