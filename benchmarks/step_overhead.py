"""What each training loop adds per step to the floor's, with every variant in one process, interleaved.

    python benchmarks/step_overhead.py --rounds 5 --steps 400

``whole_job.py`` and ``throughput.py`` time separate processes minutes apart; on a VM whose speed changes from
minute to minute, a few percent between them is noise. Here every variant runs in this process, one after another
within seconds, for ``--rounds`` rounds (the order rotated each round), on the real FashionMNIST with the
tutorial's hyperparameters. Each times training steps ``--warmup`` to ``--steps`` of its first epoch, in ms a step;
the table gives the median and the best over rounds, and the median of each round's ratio to that round's floor:

  floor                    the tutorial's train loop over batches sliced from tensors scaled once up front
  lightning                the floor's model and batches in a bare LightningModule + Trainer (automatic
                           optimization; no logger, checkpoints, bar or summary)
  lightning-manual         the same with manual optimization through Lightning's optimizer wrapper
  lightning-raw-optimizer  manual optimization stepping the torch optimizer itself: Lightning then counts no
                           optimizer step (``global_step`` stays 0, so checkpoint and logging intervals,
                           schedulers and ``max_steps`` stop working); a reference, not a design
  litfashion-lean          ``litfashion fit`` (tutorial config) with the panels, graph and bar off
  litfashion               the same with the default panels and bar

The litfashion runs skip validation (``limit_val_batches=0``): only what runs every training step is compared.
"""

import argparse
import contextlib
import importlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import lightning.pytorch as pl
import torch
from bare_lightning import Tutorial, bare_trainer
from step_parts import quiet
from throughput import CONFIG, LEAN, REPO, NeuralNetwork, TensorBatches, learning_rate, machine, rotated
from torch import nn

VARIANTS = (
    "floor",
    "lightning",
    "lightning-manual",
    "lightning-raw-optimizer",
    "litfashion-lean",
    "litfashion",
)


class StepTimer(pl.Callback):
    """Appends to ``TIMED`` the ms a step of training steps ``warmup``..the last of the first epoch."""

    TIMED: ClassVar[list[float]] = []

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = self.end = 0.0
        self.steps = 0

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: pl.Trainer, module: pl.LightningModule, out: Any, batch: Any, idx: int
    ) -> None:
        self.end, self.steps = time.perf_counter(), idx + 1 - self.warmup

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == 0:
            StepTimer.TIMED.append((self.end - self.start) / self.steps * 1e3)


@contextlib.contextmanager
def quietly_in(folder: str) -> Iterator[None]:
    """Run in ``folder`` with this process's output captured; shown only if the run fails."""
    before, captured = os.getcwd(), io.StringIO()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            yield
    except BaseException:
        print(captured.getvalue()[-3000:], file=sys.stderr)
        raise
    finally:
        os.chdir(before)


def time_floor(batches: TensorBatches, args: argparse.Namespace) -> float:
    torch.manual_seed(args.seed)
    model, loss_fn = NeuralNetwork(), nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    model.train()
    start = 0.0
    for step, (X, y) in enumerate(batches):
        if step == args.warmup:
            start = time.perf_counter()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step + 1 == args.steps:
            break
    return (time.perf_counter() - start) / (args.steps - args.warmup) * 1e3


def time_lightning(optimization: str, batches: TensorBatches, args: argparse.Namespace) -> float:
    torch.manual_seed(args.seed)
    trainer = bare_trainer([StepTimer(args.warmup)], max_epochs=1, limit_train_batches=args.steps)
    with tempfile.TemporaryDirectory(prefix="step-overhead-") as folder, quietly_in(folder):
        trainer.fit(Tutorial(optimization), train_dataloaders=batches)
    return StepTimer.TIMED.pop()


def time_litfashion(extra: list[str], args: argparse.Namespace) -> float:
    from litfashion.cli import main as litfashion

    timer = {"class_path": f"{__name__}.StepTimer", "init_args": {"warmup": args.warmup}}
    command = [
        "fit",
        f"--config={CONFIG}",
        f"--seed_everything={args.seed}",
        "--trainer.max_epochs=1",
        f"--trainer.limit_train_batches={args.steps}",
        "--trainer.limit_val_batches=0",
        f"--data.init_args.data_dir={args.data_dir.resolve()}",
        f"--trainer.callbacks+={json.dumps(timer)}",
        *extra,
    ]
    with tempfile.TemporaryDirectory(prefix="step-overhead-") as folder, quietly_in(folder):
        litfashion(command)
    if not StepTimer.TIMED:
        raise RuntimeError(f"litfashion {' '.join(command)} did not train")
    return StepTimer.TIMED.pop()


def summarize(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median and best ms a step, and the median over rounds of each round's ratio to the floor."""
    summary = {}
    for variant, values in times.items():
        row = {"median_ms": statistics.median(values), "best_ms": min(values)}
        if "floor" in times:
            row["over_floor"] = statistics.median(v / f for v, f in zip(values, times["floor"], strict=True))
        summary[variant] = row
    return summary


def markdown(summary: dict[str, dict[str, float]]) -> str:
    with_floor = all("over_floor" in row for row in summary.values())
    rows = ["| run | ms a step, median | best |" + (" / floor (median of rounds) |" if with_floor else "")]
    rows.append("|---|---:|---:|" + ("---:|" if with_floor else ""))
    for variant, row in summary.items():
        ratio = f" {row['over_floor']:.3f} |" if with_floor else ""
        rows.append(f"| {variant} | {row['median_ms']:.3f} | {row['best_ms']:.3f} |{ratio}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400, help="training steps per run (the first epoch's)")
    parser.add_argument("--warmup", type=int, default=50, help="steps run before the timing starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS), help="a subset to run")
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args(argv)
    quiet()
    if not 0 <= args.warmup < args.steps:
        parser.error(f"--warmup must be below --steps, got {args.warmup} and {args.steps}")

    from torchvision import datasets

    from litfashion.data import FashionMNISTDataModule

    FashionMNISTDataModule(data_dir=str(args.data_dir.resolve()), download=False).prepare_data()
    train = datasets.FashionMNIST(root=args.data_dir.resolve(), train=True, download=False)
    batches = TensorBatches(train.data, train.targets)
    if len(batches) < args.steps:
        parser.error(f"--steps {args.steps}: the training set has {len(batches)} batches")
    run: dict[str, Callable[[], float]] = {
        "floor": lambda: time_floor(batches, args),
        "lightning": lambda: time_lightning("automatic", batches, args),
        "lightning-manual": lambda: time_lightning("manual", batches, args),
        "lightning-raw-optimizer": lambda: time_lightning("raw-optimizer", batches, args),
        "litfashion-lean": lambda: time_litfashion(LEAN, args),
        "litfashion": lambda: time_litfashion([], args),
    }
    info = machine()
    variants = [v for v in VARIANTS if v in args.variants]
    times: dict[str, list[float]] = {v: [] for v in variants}
    for round_ in range(args.rounds):
        for variant in rotated(variants, round_):
            print(f"[round {round_ + 1}/{args.rounds}] {variant} ...", file=sys.stderr, flush=True)
            times[variant].append(run[variant]())
    info["loadavg_after"] = os.getloadavg()
    summary = summarize(times)
    print(markdown(summary))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        settings = {k: v for k, v in vars(args).items() if k not in ("out", "data_dir")}
        report = {"settings": settings, "machine": info, "summary": summary, "ms_per_step": times}
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"Results written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    # As ``step_overhead``, the module the litfashion runs name their StepTimer by: one StepTimer.TIMED for both.
    importlib.import_module("step_overhead").main()
