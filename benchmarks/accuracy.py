"""Test accuracy and fit time of configs over seeds, run through the CLI as a user would; prints a table.

    python -m benchmarks.accuracy                       # both configs, seeds 0 1 2
    python -m benchmarks.accuracy --configs configs/fashion_mnist_best.yaml --seeds 0

Each (config, seed): ``litfashion fit --config C --seed_everything S``, timed from the outside, then
``litfashion test`` on the official test set with the run's ``last.ckpt`` (no checkpoint is chosen by test
accuracy). Arguments after ``--`` go to every ``fit`` (e.g. ``-- --trainer.max_epochs 1``).
"""

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import REPO, table


def litfashion(args: list[str], workdir: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "litfashion", *args], cwd=workdir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"litfashion {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def run_seed(config: Path, seed: int, workdir: Path, fit_args: list[str]) -> tuple[float, float]:
    """(test accuracy, fit seconds) of one seed."""
    run_dir = workdir / config.stem / f"seed{seed}"
    common = ["--config", str(config), "--seed_everything", str(seed), "--trainer.enable_progress_bar", "false"]
    start = time.perf_counter()
    litfashion(["fit", *common, "--checkpoint.dirpath", str(run_dir / "checkpoints"), *fit_args], workdir)
    seconds = time.perf_counter() - start
    logger = ["--trainer.logger", "lightning.pytorch.loggers.CSVLogger", "--trainer.logger.init_args.name", "test"]
    logger += ["--trainer.logger.init_args.save_dir", str(run_dir)]
    litfashion(["test", *common, *logger, "--ckpt_path", str(run_dir / "checkpoints" / "last.ckpt")], workdir)
    with next((run_dir / "test").rglob("metrics.csv")).open() as f:
        rows = [row for row in csv.DictReader(f) if row.get("test/acc")]
    return float(rows[-1]["test/acc"]), seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    configs = [REPO / "configs" / "fashion_mnist.yaml", REPO / "configs" / "fashion_mnist_best.yaml"]
    parser.add_argument("--configs", nargs="+", type=Path, default=configs)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("accuracy_runs"), help="runs, data and logs go here")
    parser.add_argument("fit_args", nargs="*", help="extra arguments for every fit, after --")
    args = parser.parse_args(argv)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for config in (path.resolve() for path in args.configs):
        accs, fits = [], []
        for seed in args.seeds:
            acc, seconds = run_seed(config, seed, workdir, args.fit_args)
            print(f"{config.name} seed {seed}: test/acc {acc:.4f}, fit {seconds:.1f} s", flush=True)
            accs, fits = [*accs, 100 * acc], [*fits, seconds]
        std = statistics.stdev(accs) if len(accs) > 1 else 0.0
        name = config.relative_to(REPO) if config.is_relative_to(REPO) else config
        command = f"`python -m benchmarks.accuracy --configs {name} --seeds {' '.join(map(str, args.seeds))}`"
        accuracy = f"{statistics.mean(accs):.2f}% ± {std:.2f} ({len(accs)} seeds)"
        rows.append([f"`{name}`", accuracy, f"{statistics.mean(fits):.0f} s", command])
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n")
    print(table(["Model", "Test accuracy (mean ± std)", "Fit wall time (mean)", "Command"], rows, text=range(4)))


if __name__ == "__main__":
    main()
