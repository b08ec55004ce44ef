"""What a training step costs: each training loop against the floor's, and the pieces of litfashion's step.

    python -m benchmarks.step_overhead --rounds 7 --steps 500 --out benchmarks/results/step_overhead.json
    python -m benchmarks.step_overhead --parts
    python -m benchmarks.step_overhead --count-calls --steps 200

The loops run in this process, one after another within seconds (processes minutes apart differ by more than a
few percent on a VM whose speed changes), ``--rounds`` rounds in rotated order, on the real FashionMNIST with the
tutorial's hyperparameters: ``floor`` (the tutorial's train loop over in-memory batches), ``lightning`` (its
model and batches in a bare Trainer), ``litfashion-lean`` (``litfashion fit``, tutorial config, panels, graph and
bar off) and ``litfashion`` (the default panels and bar); no validation. Each times steps ``--warmup`` to
``--steps`` of its first epoch. ``--parts`` times the pieces of a step alone (one thread, microseconds), and what
each callback adds to a bare Trainer's step; ``--count-calls`` counts the litfashion runs' Python calls per step
(cProfile), which, unlike timings, do not change with the machine's load.
"""

import contextlib
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

from benchmarks import common
from benchmarks.common import LEAN
from benchmarks.lightning_parts import StepTimer, Tutorial, bare_trainer
from litfashion.quiet import quiet_third_party

VARIANTS = ("floor", "lightning", "litfashion-lean", "litfashion")
CALLBACKS = 20  # per-callback rows: a Trainer with this many, against one with none


@contextlib.contextmanager
def quietly_in(folder: str) -> Iterator[None]:
    """Run in ``folder`` with this process's output and warnings captured; shown only if the run fails."""
    before, captured = os.getcwd(), io.StringIO()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except BaseException:
        print(captured.getvalue()[-3000:], file=sys.stderr)
        raise
    finally:
        os.chdir(before)


def time_floor(batches: common.TensorBatches, steps: int, warmup: int, seed: int) -> float:
    torch.manual_seed(seed)
    model, loss_fn = common.NeuralNetwork(), nn.CrossEntropyLoss()
    optimizer, start = torch.optim.SGD(model.parameters(), lr=common.learning_rate), 0.0
    for step, (X, y) in enumerate(batches):
        if step == warmup:
            start = time.perf_counter()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step + 1 == steps:
            break
    return (time.perf_counter() - start) / (steps - warmup) * 1e3


def time_trainer(module: pl.LightningModule, batches: object, steps: int, warmup: int, **settings: Any) -> float:
    """ms a step of a bare Trainer fitting ``module`` for ``steps`` steps; ``settings`` go to the Trainer."""
    callbacks = [*settings.pop("callbacks", []), StepTimer(warmup)]
    trainer = bare_trainer(callbacks, max_epochs=1, limit_train_batches=steps, **settings)
    with tempfile.TemporaryDirectory(prefix="step-overhead-") as folder, quietly_in(folder):
        trainer.fit(module, train_dataloaders=batches)
    return StepTimer.TIMED.pop()


def time_litfashion(extra: list[str], args: SimpleNamespace, count_calls: bool = False) -> float:
    from litfashion.cli import main as litfashion

    settings = {"warmup": args.warmup, "count_calls": count_calls}
    timer = {"class_path": "benchmarks.lightning_parts.StepTimer", "init_args": settings}
    command = ["fit", f"--config={common.CONFIG}", f"--seed_everything={args.seed}", "--trainer.max_epochs=1"]
    command += [f"--trainer.limit_train_batches={args.steps}", "--trainer.limit_val_batches=0"]
    command += [f"--data.init_args.data_dir={args.data_dir.resolve()}", f"--trainer.callbacks+={json.dumps(timer)}"]
    command += extra
    with tempfile.TemporaryDirectory(prefix="step-overhead-") as folder, quietly_in(folder):
        litfashion(command)
    if not StepTimer.TIMED:
        raise RuntimeError(f"litfashion {' '.join(command)} did not train")
    return StepTimer.TIMED.pop()


class OneWeight(pl.LightningModule):
    """A model whose own step costs next to nothing, so that a Trainer's step is mostly Lightning's."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1))

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return (self.weight * batch).sum()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.0)


def per_callback(make: Callable[[int], pl.Callback], profiler: object, steps: int) -> float:
    """Microseconds that each callback made by ``make`` adds to a training step of a bare Trainer (public API):
    the best of three alternating runs with and without them, ``steps // 3`` steps each."""
    steps = max(steps // 3, 10)
    batches, warmup = torch.utils.data.DataLoader(torch.ones(steps), batch_size=1), steps // 10

    def step_ms(callbacks: list[pl.Callback]) -> float:
        checkpointing = any(isinstance(callback, pl.callbacks.ModelCheckpoint) for callback in callbacks)
        settings = {"callbacks": callbacks, "profiler": profiler, "enable_checkpointing": checkpointing}
        return time_trainer(OneWeight(), batches, steps, warmup, **settings)

    full, empty = zip(*((step_ms([make(i) for i in range(CALLBACKS)]), step_ms([])) for _ in range(3)), strict=True)
    return (min(full) - min(empty)) / CALLBACKS * 1e3


def parts(n: int) -> list[tuple[str, float]]:
    """Each piece of a training step timed alone, in microseconds."""
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.profilers import PassThroughProfiler

    from litfashion.callbacks import StopOnNonFiniteLoss
    from litfashion.callbacks.finite_loss import NO_BAD_STEP
    from litfashion.data.in_memory import BatchedInMemoryImages, make_loader
    from litfashion.models import ImageClassifier
    from litfashion.models.running_metrics import LossAndAccuracy
    from litfashion.no_profiler import NoProfiler

    torch.set_num_threads(1)
    logits, target, loss = torch.randn(64, 10), torch.randint(0, 10, (64,)), torch.tensor(2.3)
    running = LossAndAccuracy()
    images, index = torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8), torch.arange(6400, 6464)
    loader = make_loader(BatchedInMemoryImages(images, torch.zeros(len(images), dtype=torch.int64)), 64, False)
    batches = iter(loader)

    def next_batch() -> object:
        nonlocal batches
        return next(batches, None) or next(batches := iter(loader))

    def nan_check(read_each_loss: bool) -> Callable[[], None]:
        check = StopOnNonFiniteLoss()
        check._read_each_loss, check._every, check._first_bad = read_each_loss, 1 << 62, torch.tensor(NO_BAD_STEP)
        return lambda: check.on_train_batch_end(SimpleNamespace(global_step=1), None, loss, None, 0)

    def set_hook_name(model: pl.LightningModule) -> Callable[[], None]:
        return lambda: setattr(model, "_current_fx_name", "on_before_backward")

    pieces: dict[str, Callable[[], object]] = {
        "training loss + accuracy: LossAndAccuracy (a torchmetrics Metric)": lambda: running.update(
            loss, logits, target
        ),
        "gather 64 uint8 images: images[index]": lambda: images[index],
        "gather 64 uint8 images: images.index_select(0, index)": lambda: images.index_select(0, index),
        "64 uint8 images in order: slices (views)": lambda: images[6400:6464],
        "DataLoader: the next 64 in-memory images in order": next_batch,
        "scaling 64 uint8 images: float().div_(255)": lambda: images[6400:6464].float().div_(255),
        "NaN check: isfinite folded into a flag tensor": nan_check(False),
        "NaN check: math.isfinite(loss.item())": nan_check(True),
        "hook-name bookkeeping, one set: nn.Module.__setattr__": set_hook_name(pl.LightningModule()),
        "hook-name bookkeeping, one set: ImageClassifier.__setattr__": set_hook_name(ImageClassifier()),
    }
    rows = [(name, common.microseconds(piece, n)) for name, piece in pieces.items()]
    callbacks: dict[str, Callable[[int], pl.Callback]] = {
        "Callback that does nothing": lambda i: pl.Callback(),
        "Lightning ModelCheckpoint": lambda i: ModelCheckpoint(monitor=f"m{i}"),
    }
    for name, make in callbacks.items():
        for profiler in (PassThroughProfiler(), NoProfiler()):
            label = f"Lightning's hook dispatch, per {name} ({type(profiler).__name__})"
            rows.append((label, per_callback(make, profiler, n)))
    return rows


def summarize(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Median and best ms a step, and the median over rounds of each round's ratio to the floor."""
    ratios = {v: [t / floor for t, floor in zip(ts, times["floor"], strict=True)] for v, ts in times.items()}
    return {
        v: {"median_ms": statistics.median(ts), "best_ms": min(ts), "over_floor": statistics.median(ratios[v])}
        for v, ts in times.items()
    }


def markdown(summary: dict[str, dict[str, float]]) -> str:
    rows = [[v, *(f"{r[k]:.3f}" for k in ("median_ms", "best_ms", "over_floor"))] for v, r in summary.items()]
    return common.table(["run", "ms a step, median", "best", "/ floor (median of rounds)"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = common.variant_parser(__doc__, VARIANTS)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400, help="training steps per run (the first epoch's)")
    parser.add_argument("--warmup", type=int, default=50, help="steps run before the timing starts")
    parser.add_argument("--parts", action="store_true", help="time the pieces of a step instead of the loops")
    parser.add_argument("--calls", type=int, default=3000, help="with --parts: timed calls (or steps) per row")
    parser.add_argument("--count-calls", action="store_true", help="count the litfashion runs' calls per step")
    args = parser.parse_args(argv)
    quiet_third_party()  # litfashion's filters for third-party notices, and no "GPU available" line per Trainer
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    if args.parts:
        print(common.table(["per step", "us"], [[name, f"{us:.1f}"] for name, us in parts(args.calls)]))
        return
    if not 0 <= args.warmup < args.steps:
        parser.error(f"--warmup must be below --steps, got {args.warmup} and {args.steps}")
    common.prepare_data(args.data_dir.resolve())
    batches = common.TensorBatches(*common.fashion_mnist(args.data_dir.resolve(), train=True))
    if len(batches) < args.steps:
        parser.error(f"--steps {args.steps}: the training set has {len(batches)} batches")

    if args.count_calls:
        runs = {"litfashion-lean": LEAN, "litfashion": []}
        counts = [[v, f"{time_litfashion(extra, args, True):,.0f}"] for v, extra in runs.items()]
        print(common.table(["run", "Python calls per training step"], counts))
        return

    def lightning() -> float:
        torch.manual_seed(args.seed)
        return time_trainer(Tutorial(), batches, args.steps, args.warmup)

    run: dict[str, Callable[[], float]] = {
        "floor": lambda: time_floor(batches, args.steps, args.warmup, args.seed),
        "lightning": lightning,
        "litfashion-lean": lambda: time_litfashion(LEAN, args),
        "litfashion": lambda: time_litfashion([], args),
    }
    info = common.machine()
    variants = [v for v in VARIANTS if v in args.variants or v == "floor"]  # the ratios need the floor
    times = common.interleaved(variants, args.rounds, lambda v: run[v]())
    info["loadavg_after"] = os.getloadavg()
    summary = summarize(times)
    print(markdown(summary))
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "data_dir", "parts", "calls", "count_calls")}
    common.write_json(args.out, {"settings": settings, "machine": info, "summary": summary, "ms_per_step": times})


if __name__ == "__main__":
    main()
