"""Test accuracy against wall time over seeds, through the CLI: a Markdown table and a PNG. Each (config, seed):
``litfashion fit`` timed from process start to exit, keeping every epoch's checkpoint, then ``litfashion test`` of
each on the test set at its write time (the last is ``last.ckpt``'s weights), beside published figures (``ANCHORS``).

    python -m benchmarks.time_to_accuracy --configs configs/fashion_mnist_cnn.yaml --seeds 0 1 2 --plot t.png
    python -m benchmarks.time_to_accuracy --configs configs/fashion_mnist_cnn.yaml,configs/fashion_mnist_strong.yaml \
        --test-every 5"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from benchmarks.common import REPO, table
from litfashion.cli import make_cli

THRESHOLDS = (90.0, 92.0, 93.0, 94.0)
ANCHORS = {"2-conv CNN": 93.2, "ResNet-18": 94.9, "ResNet-20, 300 epochs": 95.6, "best reported": 96.9}
# `checkpoint` keeps every Nth epoch, validated or not, for the test points (beside the recipe's own last.ckpt).
KEEP_EPOCHS = [
    *("--checkpoint.monitor", "null", "--checkpoint.save_top_k", "-1", "--checkpoint.filename", "epoch{epoch:03d}"),
    *("--checkpoint.save_on_train_epoch_end", "true"),
]


def run_seed(configs: list[Path], seed: int, fit_args: list[str], test_every: int = 1) -> dict:
    """The fit's wall seconds, the load average before and after, and (seconds, test %) after every
    ``test_every``-th epoch and the last."""
    run_dir = Path.cwd() / configs[-1].stem / f"seed{seed}"
    given = [arg for config in configs for arg in ("--config", str(config))]
    common = [*given, "--seed_everything", str(seed), "--trainer.enable_progress_bar", "false"]
    keep = [*KEEP_EPOCHS, "--checkpoint.every_n_epochs", str(test_every)]
    fit = ["fit", *common, "--checkpoint.dirpath", str(run_dir / "checkpoints"), *keep, *fit_args]
    load, start = os.getloadavg()[0], time.time()
    subprocess.run([sys.executable, "-m", "litfashion", *fit], check=True, stdout=subprocess.DEVNULL)  # stderr shown
    run = {"seed": seed, "fit_s": time.time() - start, "load": [load, os.getloadavg()[0]], "points": []}
    last = run_dir / "checkpoints" / "last.ckpt"
    last_epoch = torch.load(last, map_location="cpu", mmap=True, weights_only=False)["epoch"]  # our own file
    kept = sorted((run_dir / "checkpoints").glob("epoch*.ckpt"))
    for ckpt in [*(path for path in kept if path.stem != f"epoch{last_epoch:03d}"), last]:
        cli = make_cli(["test", *common, "--trainer.logger.init_args.save_dir", str(run_dir), "--ckpt_path", str(ckpt)])
        acc = round(100 * float(cli.trainer.callback_metrics["test/acc"]), 2)  # float32: 9400 of 10,000 is 93.99999
        run["points"].append((ckpt.stat().st_mtime - start, acc))
    return run


def plot(results: dict[str, list[dict]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5), layout="tight")
    for (name, runs), color in zip(results.items(), ["C0", "C1", "C2", "C3", "C4"], strict=False):
        for i, run in enumerate(runs):
            ax.plot(*zip(*run["points"], strict=True), marker=".", color=color, label=None if i else name)
    for (label, acc), style in zip(ANCHORS.items(), [":", "--", "-.", (0, (1, 3))], strict=True):
        ax.axhline(acc, color="gray", linestyle=style, linewidth=1, label=f"{label} (published) {acc}%")
    ax.set(xlabel="seconds since the fit started", ylabel="test accuracy (%)", ylim=(88, 97.5))
    ax.legend(loc="upper left", fontsize=8)
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    resolved = lambda path: Path(path).resolve()  # noqa: E731  (the runs happen in --workdir)
    recipe = lambda text: [resolved(path) for path in text.split(",")]  # noqa: E731  (a config and its overlays)
    default = [[REPO / "configs" / "fashion_mnist_cnn.yaml"]]
    parser.add_argument("--configs", nargs="+", type=recipe, default=default, help="recipes: A.yaml or A.yaml,B.yaml")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("accuracy_runs"), help="runs, data and logs go here")
    parser.add_argument("--plot", type=resolved, help="PNG of test accuracy against wall time")
    parser.add_argument("--test-every", type=int, default=1, help="keep and test every Nth epoch, and last.ckpt")
    parser.add_argument("fit_args", nargs="*", help="extra arguments for every fit, after --")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(args.workdir)  # the fits and the tests in this process find the same data and runs
    results, rows = {}, []
    for configs in args.configs:
        name = " + ".join(str(c.relative_to(REPO) if c.is_relative_to(REPO) else c) for c in configs)
        runs = results[name] = [run_seed(configs, seed, args.fit_args, args.test_every) for seed in args.seeds]
        for r in runs:
            times = [next((f"{t:.0f} s" for t, a in r["points"] if a >= x), "-") for x in THRESHOLDS]
            load = "{:.1f} / {:.1f}".format(*r["load"])
            rows.append([f"`{name}`", r["seed"], f"{r['fit_s']:.0f} s", load, f"{r['points'][-1][1]:.2f}%", *times])
        accs, fits = [r["points"][-1][1] for r in runs], [r["fit_s"] for r in runs]
        std, fit = statistics.stdev(accs) if len(accs) > 1 else 0, f"{min(fits):.0f}-{max(fits):.0f} s"
        rows.append([f"`{name}`", "mean", fit, "", f"**{statistics.mean(accs):.2f}% ± {std:.2f}**", "", "", "", ""])
    header = ["config", "seed", "fit wall", "load before / after", "test acc", *(f"to {x:.0f}%" for x in THRESHOLDS)]
    print(table(header, rows, text=range(5)))
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
