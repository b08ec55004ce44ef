"""The whole job, process start to exit, as a user times it: litfashion against the tutorial and the floor.

    python -m benchmarks.whole_job --repeats 4 --epochs 10 --out benchmarks/results/whole_job.json

Each variant in its own process, alternately, ``--repeats`` rounds in rotated order, on the real FashionMNIST
with the tutorial's hyperparameters (MLP 784-512-512-10, SGD lr 1e-3, batch 64, no shuffling, seed 0):
``import-lightning`` (``python -c "import lightning.pytorch"``), ``tutorial`` (the tutorial's program),
``floor`` (its loops over batches sliced from in-memory tensors), ``lightning`` (the floor's model and batches in a
bare ``Trainer``), ``litfashion`` (``litfashion fit --config configs/fashion_mnist.yaml`` plus the
``lightning_parts.Marks`` callback) and ``litfashion-lean`` (the same, panels, graph and bar off). Reports each
one's wall time, start-up (to the first training epoch), full epoch (one evaluation's end to the next; epochs
2..N), peak RSS and test accuracy after every epoch, and the ratios to the floor and the tutorial.
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from benchmarks import common
from benchmarks.common import batch_size

VARIANTS = ("import-lightning", "tutorial", "floor", "lightning", "litfashion", "litfashion-lean")
TRAINING = VARIANTS[1:]
# (numerator, denominator, what is compared): each Lightning run against the floor, and litfashion's wall against
# the tutorial's.
RATIOS = [(a, "floor", what) for a in ("litfashion", "litfashion-lean", "lightning") for what in ("wall", "epoch")]
RATIOS.insert(1, ("litfashion", "tutorial", "wall"))


# The tutorial's loops, as the seed writes them; test_loop also returns its accuracy.
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


# --- Workers: one variant in this process, its result written to $RESULT_ENV. --------------------------------------


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
        train_dataloader = common.TensorBatches(training_data.data[:n_train], training_data.targets[:n_train])
        test_dataloader = common.TensorBatches(test_data.data, test_data.targets)

    torch.manual_seed(seed)
    model = common.NeuralNetwork()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=common.learning_rate)
    accuracy, eval_end_at = [], []
    first_step_at = time.time()
    for t in range(epochs):
        print(f"Epoch {t + 1}\n-------------------------------")
        train_loop(train_dataloader, model, loss_fn, optimizer)
        accuracy.append(test_loop(test_dataloader, model, loss_fn))
        eval_end_at.append(time.time())
    return {"train_samples": n_train, "test_acc": accuracy, "first_step_at": first_step_at, "eval_end_at": eval_end_at}


def run_lightning(data_dir: Path, epochs: int, limit: int | None, seed: int) -> dict[str, Any]:
    """The floor's model, loss, optimizer and batches, trained by a bare ``Trainer`` (automatic optimization)."""
    import lightning.pytorch as pl

    from benchmarks.lightning_parts import Tutorial, bare_trainer

    images, targets = common.fashion_mnist(data_dir, train=True)
    n_train = min(limit * batch_size, len(targets)) if limit else len(targets)
    test_batches = common.TensorBatches(*common.fashion_mnist(data_dir, train=False))
    result: dict[str, Any] = {"train_samples": n_train, "test_acc": [], "first_step_at": None, "eval_end_at": []}

    class Evaluate(pl.Callback):
        """The tutorial's ``test_loop`` after each training epoch."""

        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            result["first_step_at"] = result["first_step_at"] or time.time()

        def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            result["test_acc"].append(test_loop(test_batches, module.model, module.loss_fn))
            result["eval_end_at"].append(time.time())
            module.train()

    torch.manual_seed(seed)
    trainer = bare_trainer([Evaluate()], max_epochs=epochs)
    trainer.fit(Tutorial(), train_dataloaders=common.TensorBatches(images[:n_train], targets[:n_train]))
    return result


def command_for(variant: str, args: argparse.Namespace, data_dir: Path) -> list[str]:
    if variant == "import-lightning":
        return [sys.executable, "-c", "import lightning.pytorch"]
    limit = [f"--limit={args.limit}"] if args.limit else []
    if variant.startswith("litfashion"):
        command = [sys.executable, "-m", "litfashion", "fit", "--config", str(common.CONFIG)]
        command += [f"--seed_everything={args.seed}", f"--trainer.max_epochs={args.epochs}"]
        command += [f"--data.init_args.data_dir={data_dir}", "--trainer.callbacks+=benchmarks.lightning_parts.Marks"]
        command += [f"--trainer.limit_train_batches={args.limit}"] if args.limit else []
        return command + (common.LEAN if variant == "litfashion-lean" else [])
    command = [sys.executable, "-m", "benchmarks.whole_job", "--worker", variant, "--data-dir", str(data_dir)]
    return [*command, f"--epochs={args.epochs}", f"--seed={args.seed}", *limit]


def run_variant(variant: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """One process, start to exit; its peak RSS is the kernel's accounting of that child (``wait4``)."""
    with tempfile.TemporaryDirectory(prefix=f"whole-job-{variant}-") as tmp:
        written = Path(tmp) / "result.json"
        env = common.with_repo_importable({**os.environ, common.RESULT_ENV: str(written)})
        started_at = time.time()
        _, wall, usage = common.timed_process(command_for(variant, args, data_dir), Path(tmp), env)
        # ru_maxrss is in KiB; the CPU seconds (user + system, all threads) change less with other jobs than wall.
        result = {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}
        if variant == "import-lightning":
            return result
        marks = json.loads(written.read_text())
    first_step_at, eval_end_at = marks.pop("first_step_at"), marks.pop("eval_end_at")
    return {
        **result,
        **marks,
        "startup_s": first_step_at - started_at,
        "first_epoch_s": eval_end_at[0] - first_step_at,
        "full_epoch_s": [b - a for a, b in itertools.pairwise(eval_end_at)],
    }


def summarize(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for variant, results in runs.items():
        walls = [r["wall_s"] for r in results]
        s: dict[str, Any] = {
            "median_wall_s": statistics.median(walls),
            "best_wall_s": min(walls),
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in results),
        }
        if variant in TRAINING:
            accuracies = [r["test_acc"] for r in results]
            epochs = [e for r in results for e in r["full_epoch_s"]] or [r["first_epoch_s"] for r in results]
            s |= {
                "median_startup_s": statistics.median(r["startup_s"] for r in results),
                "median_epoch_s": statistics.median(epochs),
                "best_epoch_s": min(epochs),
                "test_acc_per_epoch": [statistics.median(e) for e in zip(*accuracies, strict=True)],
            }
        summary[variant] = s
    for statistic in ("median", "best"):
        summary[f"ratios_{statistic}"] = {
            f"{a}/{b} {what}": summary[a][f"{statistic}_{what}_s"] / summary[b][f"{statistic}_{what}_s"]
            for a, b, what in RATIOS
            if a in runs and b in runs
        }
    if "import-lightning" in runs:
        summary["startup_beyond_import_lightning_s"] = {
            v: summary[v]["median_startup_s"] - summary["import-lightning"]["median_wall_s"]
            for v in ("litfashion", "litfashion-lean", "lightning")
            if v in runs
        }

    # Accuracies are counts over the test set; TensorBoard stores them as float32, the workers as float64.
    def counts(variant: str) -> list[float]:
        return [round(a, 5) for a in summary[variant]["test_acc_per_epoch"]]

    reference = next(v for v in ("tutorial", "floor") if v in runs)
    summary["accuracy_reference"] = reference
    summary["same_accuracy"] = {v: counts(v) == counts(reference) for v in TRAINING if v in runs and v != reference}
    return summary


def markdown(summary: dict[str, Any]) -> str:
    reference, rows = summary["accuracy_reference"], []
    for variant in (v for v in VARIANTS if v in summary):
        s = summary[variant]
        cells = [variant, f"{s['median_wall_s']:.2f}", f"{s['best_wall_s']:.2f}"]
        if variant in TRAINING:
            same = summary["same_accuracy"].get(variant, True)
            accuracy = f"{100 * s['test_acc_per_epoch'][-1]:.2f}%" + ("" if same else f" (differs from {reference})")
            cells += [f"{s['median_startup_s']:.2f}", f"{s['median_epoch_s']:.3f}", f"{s['best_epoch_s']:.3f}"]
        else:
            accuracy, cells = "-", [*cells, f"{s['median_wall_s']:.2f}", "-", "-"]
        rows.append([*cells, f"{s['peak_rss_mib']:.0f}", accuracy])
    header = ["run", "wall, median (s)", "wall, best (s)", "start-up (s)", "full epoch, median (s)"]
    header += ["full epoch, best (s)", "peak RSS (MiB)", "test accuracy after the last epoch"]
    parts = [common.table(header, rows, text=(0, 7))]
    ratios = [[name, f"{m:.3f}", f"{summary['ratios_best'][name]:.3f}"] for name, m in summary["ratios_median"].items()]
    parts.append(common.table(["ratio", "of medians", "of bests"], ratios))
    if "startup_beyond_import_lightning_s" in summary:
        beyond = [[v, f"{s:+.2f}"] for v, s in summary["startup_beyond_import_lightning_s"].items()]
        parts.append(common.table(["start-up beyond `import lightning.pytorch` (medians)", "s"], beyond))
    same = [v for v, ok in summary["same_accuracy"].items() if ok]
    parts.append(f"Same test accuracy as the {reference} after every epoch: {', '.join(same) or 'none'}.")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = common.variant_parser(__doc__, VARIANTS)
    parser.add_argument("--repeats", type=int, default=2, help="rounds; each runs every variant once")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N batches only (smoke tests)")
    parser.add_argument("--worker", choices=("tutorial", "floor", "lightning"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    if args.worker:
        settings = (data_dir, args.epochs, args.limit, args.seed)
        result = run_lightning(*settings) if args.worker == "lightning" else run_raw(args.worker, *settings)
        Path(os.environ[common.RESULT_ENV]).write_text(json.dumps(result))
        return

    common.prepare_data(data_dir)
    info = common.machine()
    settings = {k: v for k, v in vars(args).items() if k not in ("out", "data_dir", "worker")}

    def report(rounds: int) -> None:
        """The results of the rounds done so far (after each round: a long run leaves partial results)."""
        summary = summarize(runs)
        print(markdown(summary), flush=True)
        machine_now = {**info, "loadavg_after": os.getloadavg()}
        document = {"settings": settings, "rounds_done": rounds, "machine": machine_now, "summary": summary}
        common.write_json(args.out, {**document, "runs": runs})

    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS if v in args.variants}
    common.interleaved(list(runs), args.repeats, lambda v: runs[v].append(run_variant(v, args, data_dir)), report)


if __name__ == "__main__":
    main()
