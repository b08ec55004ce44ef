"""Where start-up goes before the first training step: importing, and building the CLI's parsers.

    python -m benchmarks.startup --repeats 5

Medians over fresh processes (a module is imported once per process, and jsonargparse caches what it reads from
signatures) of ``import litfashion.cli``, then ``litfashion fit --config configs/fashion_mnist.yaml
--print_config`` with LightningCLI's parser for each of its four subcommands, or with only the parser of the
subcommand being run, as ``litfashion`` builds it. The whole start-up is ``whole_job.py``'s start-up column.
"""

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks.common import CONFIG, table


def probe(only_subcommand: str | None) -> dict[str, float]:
    """Seconds spent importing and parsing in a fresh process, with the given ``only_subcommand``."""
    code = f"""
import contextlib, io, json, sys, time
start = time.perf_counter()
import litfashion.cli as cli
imported = time.perf_counter()
original = cli.LitFashionCLI
cli.LitFashionCLI = lambda *args, **kwargs: original(*args, **{{**kwargs, "only_subcommand": {only_subcommand!r}}})
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    try:
        cli.make_cli(["fit", "--config", {str(CONFIG)!r}, "--print_config"])
    except SystemExit as exit:
        if exit.code:
            raise
if "class_path: litfashion.models.ImageClassifier" not in printed.getvalue():
    raise SystemExit("--print_config printed no config")
print(json.dumps({{"import_s": imported - start, "parse_s": time.perf_counter() - imported}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the start-up probe failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    runs: dict[str | None, list[dict[str, float]]] = {None: [], "fit": []}
    for _ in range(args.repeats):
        for only in runs:
            runs[only].append(probe(only))
    imports = statistics.median(r["import_s"] for rs in runs.values() for r in rs)
    parses = {only: statistics.median(r["parse_s"] for r in rs) for only, rs in runs.items()}
    names = {None: "parse, 4 parsers (LightningCLI's default)", "fit": "parse, 1 parser (litfashion)"}
    rows = [["import litfashion.cli", f"{imports:.3f}"], *([names[k], f"{v:.3f}"] for k, v in parses.items())]
    print(table(["start-up part (fresh process, median)", "s"], rows))


if __name__ == "__main__":
    main()
