"""Training throughput of litfashion against the PyTorch tutorial's loop and the raw in-memory floor.

    python benchmarks/throughput.py --repeats 7 --epochs 2 --out benchmarks/results/throughput.json

Runs, alternately and ``--repeats`` times, each in its own process on the real FashionMNIST, with the tutorial's
hyperparameters (MLP 784-512-512-10, SGD lr 1e-3, batch 64, no shuffling, seed 0):

  tutorial  the tutorial's ``train_loop``/``test_loop`` over ``datasets.FashionMNIST`` + ``ToTensor`` + ``DataLoader``
  floor     the same loops over batches sliced from tensors scaled once up front: the floor for this model here
  lightning the floor's model and batches in a bare LightningModule + Trainer with every feature off (no logger,
            checkpoints, bar, summary or callbacks): the cost of Lightning's loop alone, for reference
  litfashion  ``litfashion fit --config configs/fashion_mnist.yaml`` with the ``EpochTimer`` callback added
  litfashion-lean  the same, plus ``--config configs/tensorboard_off.yaml --trainer.enable_progress_bar=false``

and reports the median and the best training-epoch seconds, samples/s, test accuracy per epoch, peak RSS, and the
ratios litfashion/tutorial and litfashion/floor (and lightning/floor, litfashion-lean/floor), as Markdown and as
JSON. The data come from the data module's own resolution (``$LITFASHION_FASHION_MNIST_DIR``, else
/usr/share/datasets/fashion-mnist) into ``--data-dir``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "fashion_mnist.yaml"
VARIANTS = ("tutorial", "floor", "lightning", "litfashion", "litfashion-lean")
# Each litfashion run against the tutorial's pipeline and the floor; the bare Trainer against the floor.
RATIOS = (
    ("litfashion", "tutorial"),
    ("litfashion", "floor"),
    ("lightning", "floor"),
    ("litfashion-lean", "floor"),
)
# litfashion-lean: the same command with the TensorBoard panels (images, hparams, graph, learning rate, summary) and
# the progress bar switched off, so that the table separates their cost from the loop's.
LEAN = ["--config", str(REPO / "configs" / "tensorboard_off.yaml"), "--trainer.enable_progress_bar=false"]
RESULT_PREFIX = "BENCHMARK_RESULT "

# The tutorial's hyperparameters; configs/fashion_mnist.yaml sets the same for litfashion.
learning_rate = 1e-3
batch_size = 64


# --- The tutorial's loops, as the seed writes them; test_loop also returns its accuracy. ---------------------


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)

        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 100 == 0:
            loss, current = loss.item(), batch * batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0

    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()

    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


# --- Workers: one variant in this process, result as one JSON line. ------------------------------------------


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
    """Batches sliced (as views) from tensors scaled once up front; shaped like a DataLoader for the loops."""

    def __init__(self, images: torch.Tensor, targets: torch.Tensor) -> None:
        self.images = images.unsqueeze(1).float().div(255)  # what ToTensor does, once for all images
        self.targets = self.dataset = targets

    def __len__(self) -> int:
        return -(-len(self.targets) // batch_size)

    def __iter__(self) -> Any:
        for start in range(0, len(self.targets), batch_size):
            yield self.images[start : start + batch_size], self.targets[start : start + batch_size]


def run_raw(variant: str, data_dir: Path, epochs: int, limit: int | None, seed: int) -> dict[str, Any]:
    """The tutorial's program (``tutorial``), or its loops over ``TensorBatches`` (``floor``)."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets
    from torchvision.transforms import ToTensor

    training_data = datasets.FashionMNIST(root=data_dir, train=True, download=True, transform=ToTensor())
    test_data = datasets.FashionMNIST(root=data_dir, train=False, download=True, transform=ToTensor())
    n_train = min(limit * batch_size, len(training_data)) if limit else len(training_data)
    if variant == "tutorial":
        if limit:
            training_data = Subset(training_data, range(n_train))
        train_dataloader = DataLoader(training_data, batch_size=batch_size)
        test_dataloader = DataLoader(test_data, batch_size=batch_size)
    else:
        train_dataloader = TensorBatches(training_data.data[:n_train], training_data.targets[:n_train])
        test_dataloader = TensorBatches(test_data.data, test_data.targets)

    torch.manual_seed(seed)
    model = NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    epoch_s, accuracy, eval_end_at = [], [], []
    first_step_at = time.time()
    for t in range(epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        start = time.perf_counter()
        train_loop(train_dataloader, model, loss_fn, optimizer)
        epoch_s.append(time.perf_counter() - start)
        accuracy.append(test_loop(test_dataloader, model, loss_fn))
        eval_end_at.append(time.time())
    return {
        "epoch_s": epoch_s,
        "train_samples": n_train,
        "test_acc": accuracy,
        "first_step_at": first_step_at,
        "eval_end_at": eval_end_at,
    }


def run_lightning(data_dir: Path, epochs: int, limit: int | None, seed: int) -> dict[str, Any]:
    """The floor's model, loss, optimizer and batches, trained by a bare ``Trainer`` (automatic optimization)."""
    import lightning.pytorch as pl
    from bare_lightning import Tutorial, bare_trainer
    from torchvision import datasets

    training_data = datasets.FashionMNIST(root=data_dir, train=True, download=False)
    test_data = datasets.FashionMNIST(root=data_dir, train=False, download=False)
    n_train = min(limit * batch_size, len(training_data)) if limit else len(training_data)
    train_batches = TensorBatches(training_data.data[:n_train], training_data.targets[:n_train])
    test_batches = TensorBatches(test_data.data, test_data.targets)

    class Timer(pl.Callback):
        """Epoch start to the end of its last batch, as ``EpochTimer``; then the tutorial's ``test_loop``."""

        def __init__(self) -> None:
            self.start = self.end = 0.0
            self.epoch_s: list[float] = []
            self.test_acc: list[float] = []
            self.first_step_at: float | None = None
            self.eval_end_at: list[float] = []

        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            self.first_step_at = self.first_step_at or time.time()
            self.start = time.perf_counter()

        def on_train_batch_end(self, *args: Any) -> None:
            self.end = time.perf_counter()

        def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            self.epoch_s.append(self.end - self.start)
            self.test_acc.append(test_loop(test_batches, module.model, module.loss_fn))
            self.eval_end_at.append(time.time())
            module.train()

    torch.manual_seed(seed)
    module, timer = Tutorial(), Timer()
    trainer = bare_trainer([timer], max_epochs=epochs)
    trainer.fit(module, train_dataloaders=train_batches)
    return {
        "epoch_s": timer.epoch_s,
        "train_samples": n_train,
        "test_acc": timer.test_acc,
        "first_step_at": timer.first_step_at,
        "eval_end_at": timer.eval_end_at,
    }


def run_litfashion(
    data_dir: Path, epochs: int, limit: int | None, seed: int, workdir: Path, extra: list[str]
) -> tuple[list[str], Path]:
    """The command line, and where its TensorBoard events will be."""
    command = [
        sys.executable,
        "-m",
        "litfashion",
        "fit",
        "--config",
        str(CONFIG),
        f"--seed_everything={seed}",
        f"--trainer.max_epochs={epochs}",
        "--trainer.callbacks+=litfashion.callbacks.EpochTimer",
        f"--data.init_args.data_dir={data_dir}",
        *extra,
    ]
    if limit:
        command.append(f"--trainer.limit_train_batches={limit}")
    return command, workdir / "lightning_logs"


def read_scalars(log_dir: Path) -> dict[str, list[float]]:
    """Every scalar in the run's TensorBoard events, by tag, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted(log_dir.rglob("events.out.tfevents.*"))
    if not events:
        raise RuntimeError(f"no TensorBoard events under {log_dir}")
    accumulator = EventAccumulator(str(events[-1].parent), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [e.value for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def run_variant(variant: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Run one variant in a child process; its peak RSS comes from the kernel's accounting of that child."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as workdir:
        if variant.startswith("litfashion"):
            extra = LEAN if variant == "litfashion-lean" else []
            command, log_dir = run_litfashion(data_dir, args.epochs, args.limit, args.seed, Path(workdir), extra)
        else:
            command = [sys.executable, __file__, "--worker", variant, "--data-dir", str(data_dir)]
            command += ["--epochs", str(args.epochs), "--seed", str(args.seed)]
            command += ["--limit", str(args.limit)] if args.limit else []
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{variant} failed ({proc.returncode}): {' '.join(command)}\n{output[-3000:]}")
        if variant.startswith("litfashion"):
            scalars = read_scalars(log_dir)
            epoch_s = scalars["time/epoch_s"]
            samples = [s * e for s, e in zip(scalars["time/train_samples_per_s"], epoch_s, strict=True)]
            result = {
                "epoch_s": epoch_s,
                "train_samples": round(statistics.median(samples)),
                "test_acc": scalars["val/acc"],
                "startup_s": scalars.get("time/startup_s", [None])[0],
            }
        else:
            line = next(x for x in reversed(output.splitlines()) if x.startswith(RESULT_PREFIX))
            result = json.loads(line[len(RESULT_PREFIX) :])
    # ru_maxrss is in KiB on Linux.
    return {**result, "peak_rss_mib": usage.ru_maxrss / 1024, "process_wall_s": wall}


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for variant, results in runs.items():
        epoch_s = [s for r in results for s in r["epoch_s"]]
        median_s = statistics.median(epoch_s)
        accuracy = [statistics.median(epoch) for epoch in zip(*(r["test_acc"] for r in results), strict=True)]
        summary[variant] = {
            "median_epoch_s": median_s,
            "best_epoch_s": min(epoch_s),
            "samples_per_s": results[0]["train_samples"] / median_s,
            "test_acc_per_epoch": accuracy,
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in results),
            "process_wall_s": statistics.median(r["process_wall_s"] for r in results),
            "epoch_s_all": epoch_s,
        }
        startups = [r["startup_s"] for r in results if r.get("startup_s") is not None]
        if startups:
            summary[variant]["startup_s"] = statistics.median(startups)
    # The best epoch is the one least disturbed by other work on a shared host (why timeit reports the minimum).
    for statistic in ("median", "best"):
        summary[f"ratios_{statistic}"] = {
            f"{a}/{b}": summary[a][f"{statistic}_epoch_s"] / summary[b][f"{statistic}_epoch_s"]
            for a, b in RATIOS
            if a in runs and b in runs
        }
    return summary


def markdown(summary: dict[str, Any]) -> str:
    rows = [
        "| run | median train epoch (s) | best epoch (s) | samples/s (median) | test accuracy per epoch "
        "| peak RSS (MiB) | process wall (s) |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for variant in (v for v in VARIANTS if v in summary):
        s = summary[variant]
        accuracy = ", ".join(f"{100 * a:.1f}%" for a in s["test_acc_per_epoch"])
        rows.append(
            f"| {variant} | {s['median_epoch_s']:.3f} | {s['best_epoch_s']:.3f} | {s['samples_per_s']:,.0f} | "
            f"{accuracy} | {s['peak_rss_mib']:.0f} | {s['process_wall_s']:.1f} |"
        )
    rows += ["", "| ratio | of medians | of best epochs |", "|---|---:|---:|"]
    for name, median in summary["ratios_median"].items():
        rows.append(f"| {name} | {median:.3f} | {summary['ratios_best'][name]:.3f} |")
    for variant in (v for v in ("litfashion", "litfashion-lean") if "startup_s" in summary.get(v, {})):
        startup = summary[variant]["startup_s"]
        rows += ["", f"{variant} start-up, process start to the first training epoch (median): {startup:.2f} s"]
    return "\n".join(rows)


def cpu_model() -> str:
    """The CPU's name from ``/proc/cpuinfo`` (Linux); ``processor`` in the report says the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


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


def benchmark_parser(doc: str, variants: Sequence[str], repeats: int, epochs: int) -> argparse.ArgumentParser:
    """The options of both pipeline benchmarks (this one and ``whole_job.py``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=repeats, help="rounds; each runs every variant once")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N batches only (smoke tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", choices=variants, default=list(variants), help="a subset to run")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, default=None, help="write the Markdown report here")
    return parser


def rotated(variants: list[str], round_: int) -> list[str]:
    """Every variant once, the order rotated each round so that no variant always runs first."""
    shift = round_ % len(variants)
    return variants[shift:] + variants[:shift]


def main(argv: list[str] | None = None) -> None:
    parser = benchmark_parser(__doc__, VARIANTS, repeats=3, epochs=2)
    parser.add_argument("--worker", choices=("tutorial", "floor", "lightning"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()

    if args.worker == "lightning":
        result = run_lightning(data_dir, args.epochs, args.limit, args.seed)
        print(RESULT_PREFIX + json.dumps(result))
        return
    if args.worker:
        result = run_raw(args.worker, data_dir, args.epochs, args.limit, args.seed)
        print(RESULT_PREFIX + json.dumps(result))
        return

    from litfashion.data import FashionMNISTDataModule

    FashionMNISTDataModule(data_dir=str(data_dir), download=False).prepare_data()
    info = machine()
    variants = [v for v in VARIANTS if v in args.variants]
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_ in range(args.repeats):
        for variant in rotated(variants, round_):
            print(f"[round {round_ + 1}/{args.repeats}] {variant} ...", file=sys.stderr, flush=True)
            runs[variant].append(run_variant(variant, args, data_dir))
    info["loadavg_after"] = os.getloadavg()
    summary = summarize(runs)
    report = {
        "settings": {k: v for k, v in vars(args).items() if k not in ("worker", "out", "markdown", "data_dir")},
        "machine": info,
        "summary": summary,
        "runs": runs,
    }
    table = markdown(summary)
    print(table)
    if args.markdown:
        command = " ".join(["python benchmarks/throughput.py", *(argv if argv is not None else sys.argv[1:])])
        load = ", ".join(f"{a:.2f}" for a in info["loadavg_before"])
        args.markdown.write_text(
            f"`{command}`: {args.repeats} round(s) x {args.epochs} epoch(s); {info['cpus']} CPUs "
            f"({info['cpu_model']}), "
            f"torch {info['torch']} with {info['torch_threads']} threads; load average before: {load}\n\n{table}\n"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Results written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
