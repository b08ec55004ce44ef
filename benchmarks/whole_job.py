"""The whole job, process start to exit, as a user times it: litfashion against the tutorial and the floor.

    python benchmarks/whole_job.py --repeats 2 --epochs 10 --out benchmarks/results/whole_job.json

Runs, alternately and ``--repeats`` times, each in its own process on the real FashionMNIST with the tutorial's
hyperparameters (the variants of ``benchmarks/throughput.py``):

  import-lightning  ``python -c "import lightning.pytorch"``: the start-up every Lightning program pays
  tutorial          the tutorial's program (torchvision dataset + ``ToTensor`` + ``DataLoader``)
  floor             the same loops over batches sliced from in-memory tensors
  lightning         the floor's model and batches in a bare ``Trainer``, every feature off
  litfashion        ``litfashion fit --config configs/fashion_mnist.yaml``: panels, bar, checkpoints, summary on
  litfashion-lean   the same with the panels, the graph and the bar off

and reports per variant: the process's wall time (median and best over rounds), its start-up (process start to
the first training epoch), its full epoch (from one evaluation's end to the next: training, evaluation and all the
work between epochs; median and best over epochs 2..N of all rounds), peak RSS and the test accuracy after every
epoch; then the ratios the targets of issue 13 name. Markdown on stdout (and ``--markdown``), JSON with ``--out``.

The litfashion runs get one extra callback, ``Marks``, which writes the time of the first training epoch's start
and of each validation's end to a file; everything else is the user's command unchanged.
"""

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

BENCHMARKS = Path(__file__).resolve().parent
VARIANTS = ("import-lightning", "tutorial", "floor", "lightning", "litfashion", "litfashion-lean")
TRAINING = VARIANTS[1:]
# (numerator, denominator, what is compared): the targets of issue 13 and the controls beside them.
RATIOS = (
    ("litfashion", "floor", "wall"),
    ("litfashion", "tutorial", "wall"),
    ("litfashion", "floor", "epoch"),
    ("litfashion-lean", "floor", "wall"),
    ("litfashion-lean", "floor", "epoch"),
    ("lightning", "floor", "wall"),
    ("lightning", "floor", "epoch"),
)
MARKS_ENV = "LITFASHION_BENCHMARK_MARKS"


class Marks(Callback):
    """Appends ``{"first_step_at": t}`` once and ``{"eval_end_at": t}`` after each validation (Unix times)."""

    def __init__(self) -> None:
        self._path = Path(os.environ[MARKS_ENV])
        self._started = False

    def _write(self, key: str) -> None:
        with self._path.open("a") as file:
            file.write(json.dumps({key: time.time()}) + "\n")

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._started:
            self._started = True
            self._write("first_step_at")

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self._write("eval_end_at")


def command_for(variant: str, args: argparse.Namespace, data_dir: Path, workdir: Path) -> list[str]:
    if variant == "import-lightning":
        return [sys.executable, "-c", "import lightning.pytorch"]
    if variant.startswith("litfashion"):
        from throughput import LEAN, run_litfashion

        command, _ = run_litfashion(data_dir, args.epochs, args.limit, args.seed, workdir, [])
        command.remove("--trainer.callbacks+=litfashion.callbacks.EpochTimer")  # the user's command, plus Marks
        return [*command, "--trainer.callbacks+=whole_job.Marks", *(LEAN if variant == "litfashion-lean" else [])]
    command = [sys.executable, str(BENCHMARKS / "throughput.py"), "--worker", variant, "--data-dir", str(data_dir)]
    command += ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    return command + (["--limit", str(args.limit)] if args.limit else [])


def run_variant(variant: str, args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """One process, start to exit; its peak RSS is the kernel's accounting of that child (``wait4``)."""
    from throughput import RESULT_PREFIX, read_scalars

    with tempfile.TemporaryDirectory(prefix=f"whole-job-{variant}-") as tmp:
        workdir = Path(tmp)
        marks = workdir / "marks.jsonl"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", MARKS_ENV: str(marks)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(BENCHMARKS), env.get("PYTHONPATH")]))
        command = command_for(variant, args, data_dir, workdir)
        started_at, start = time.time(), time.perf_counter()
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{variant} failed: {' '.join(command)}\n{output[-3000:]}")
        # ru_maxrss is in KiB; the CPU seconds (user + system, all threads) change less with other jobs than wall.
        result: dict[str, Any] = {
            "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024,
        }
        if variant == "import-lightning":
            return result
        if variant.startswith("litfashion"):
            lines = [json.loads(line) for line in marks.read_text().splitlines()]
            first_step_at = next(line["first_step_at"] for line in lines if "first_step_at" in line)
            eval_end_at = [line["eval_end_at"] for line in lines if "eval_end_at" in line]
            test_acc = read_scalars(workdir / "lightning_logs")["val/acc"]
        else:
            line = next(x for x in reversed(output.splitlines()) if x.startswith(RESULT_PREFIX))
            worker = json.loads(line[len(RESULT_PREFIX) :])
            first_step_at, eval_end_at, test_acc = worker["first_step_at"], worker["eval_end_at"], worker["test_acc"]
    return {
        **result,
        "startup_s": first_step_at - started_at,
        "first_epoch_s": eval_end_at[0] - first_step_at,
        "full_epoch_s": [b - a for a, b in itertools.pairwise(eval_end_at)],
        "test_acc": test_acc,
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
    rows = [
        "| run | wall, median (s) | wall, best (s) | start-up (s) | full epoch, median (s) | full epoch, best (s) "
        "| peak RSS (MiB) | test accuracy after the last epoch |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    reference = summary["accuracy_reference"]
    for variant in (v for v in VARIANTS if v in summary):
        s = summary[variant]
        if variant in TRAINING:
            same = summary["same_accuracy"].get(variant, True)
            accuracy = f"{100 * s['test_acc_per_epoch'][-1]:.2f}%" + ("" if same else f" (differs from {reference})")
            cells = f"{s['median_startup_s']:.2f} | {s['median_epoch_s']:.3f} | {s['best_epoch_s']:.3f}"
        else:
            accuracy, cells = "-", f"{s['median_wall_s']:.2f} | - | -"
        rows.append(
            f"| {variant} | {s['median_wall_s']:.2f} | {s['best_wall_s']:.2f} | {cells} | "
            f"{s['peak_rss_mib']:.0f} | {accuracy} |"
        )
    rows += ["", "| ratio | of medians | of bests |", "|---|---:|---:|"]
    for name, median in summary["ratios_median"].items():
        rows.append(f"| {name} | {median:.3f} | {summary['ratios_best'][name]:.3f} |")
    if "startup_beyond_import_lightning_s" in summary:
        rows += ["", "| start-up beyond `import lightning.pytorch` (medians) | s |", "|---|---:|"]
        rows += [f"| {v} | {s:+.2f} |" for v, s in summary["startup_beyond_import_lightning_s"].items()]
    same = [v for v, ok in summary["same_accuracy"].items() if ok]
    rows += ["", f"Same test accuracy as the {reference} after every epoch: {', '.join(same) or 'none'}."]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    from throughput import benchmark_parser, machine, rotated

    args = benchmark_parser(__doc__, VARIANTS, repeats=2, epochs=10).parse_args(argv)
    data_dir = args.data_dir.resolve()

    from litfashion.data import FashionMNISTDataModule

    FashionMNISTDataModule(data_dir=str(data_dir), download=False).prepare_data()
    info = machine()
    variants = [v for v in VARIANTS if v in args.variants]
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_ in range(args.repeats):
        for variant in rotated(variants, round_):
            print(f"[round {round_ + 1}/{args.repeats}] {variant} ...", file=sys.stderr, flush=True)
            runs[variant].append(run_variant(variant, args, data_dir))
        report(runs, info, args, argv, rounds=round_ + 1)


def report(
    runs: dict[str, list[dict[str, Any]]],
    info: dict[str, Any],
    args: argparse.Namespace,
    argv: list[str] | None,
    rounds: int,
) -> None:
    """Print and write the results of the rounds done so far (after each round: a long run leaves partial results)."""
    info = {**info, "loadavg_after": os.getloadavg()}
    summary = summarize(runs)
    table = markdown(summary)
    print(table, flush=True)
    if args.markdown:
        command = " ".join(["python benchmarks/whole_job.py", *(argv if argv is not None else sys.argv[1:])])
        load = ", ".join(f"{a:.2f}" for a in info["loadavg_before"])
        after = ", ".join(f"{a:.2f}" for a in info["loadavg_after"])
        args.markdown.write_text(
            f"`{command}`: {rounds} of {args.repeats} round(s) x {args.epochs} epoch(s); {info['cpus']} CPUs "
            f"({info['cpu_model']}), torch {info['torch']} with {info['torch_threads']} threads; "
            f"load average before: {load}, after: {after}; {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n{table}\n"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        settings = {k: v for k, v in vars(args).items() if k not in ("out", "markdown", "data_dir")}
        document = {"settings": settings, "rounds_done": rounds, "machine": info, "summary": summary, "runs": runs}
        args.out.write_text(json.dumps(document, indent=2, default=str) + "\n")
        print(f"Results written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
