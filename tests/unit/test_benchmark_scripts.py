"""The benchmark scripts' own logic, in-process: the workers they time, the arithmetic of their summaries, and the
time-to-accuracy script on the best config (no timing asserted anywhere). The processes they start are tested in
tests/e2e/test_benchmark.py and test_whole_job_benchmark.py."""

import json
import logging
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from litfashion.cli import main, make_cli
from litfashion.data import FashionMNISTDataModule
from tests.helpers.benchmarks import load_benchmark
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS


@pytest.fixture(autouse=True)
def lightning_log_level_kept(caplog: pytest.LogCaptureFixture) -> None:
    """step_overhead's main quiets Lightning's logger for its timings; the tests after these need it as it was."""
    caplog.set_level(logging.getLogger("lightning.pytorch").level, logger="lightning.pytorch")


def test_the_tutorial_floor_and_bare_lightning_workers_learn_the_same_model(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole_job = load_benchmark("whole_job", monkeypatch)
    data_dir = tmp_path / "data"
    FashionMNISTDataModule(data_dir=str(data_dir), source_dir=str(tiny_source)).prepare_data()
    results = {variant: whole_job.run_raw(variant, data_dir, 2, 4, 0) for variant in ("tutorial", "floor")}
    results["lightning"] = whole_job.run_lightning(data_dir, 2, 4, 0)
    for result in results.values():
        assert result["train_samples"] == 4 * 64 and len(result["test_acc"]) == len(result["eval_end_at"]) == 2
        assert result["first_step_at"] <= result["eval_end_at"][0] <= result["eval_end_at"][1]
    # Same seed, same init, same unshuffled batches, after each epoch.
    assert len({tuple(result["test_acc"]) for result in results.values()}) == 1, results


def fake_run(wall: float, startup: float, epochs: list[float], accuracy: list[float]) -> dict:
    return {
        "wall_s": wall,
        "cpu_s": wall,
        "peak_rss_mib": 100.0,
        "startup_s": startup,
        "first_epoch_s": epochs[0],
        "full_epoch_s": epochs[1:],
        "test_acc": accuracy,
    }


def test_whole_job_summary_takes_medians_bests_ratios_and_compares_accuracy(monkeypatch: pytest.MonkeyPatch) -> None:
    whole_job = load_benchmark("whole_job", monkeypatch)
    same, other = [0.5, 0.6], [0.5, 0.61]
    imports = [{"wall_s": wall, "cpu_s": wall, "peak_rss_mib": 90.0} for wall in (4.0, 5.0)]
    runs = {
        "import-lightning": imports,
        "tutorial": [fake_run(30.0, 2.0, [3.0, 3.0, 3.2], same), fake_run(34.0, 2.2, [3.1, 2.9, 3.0], same)],
        "floor": [fake_run(20.0, 2.0, [2.0, 1.8, 2.2], same), fake_run(18.0, 2.0, [2.0, 1.6, 2.0], same)],
        "litfashion": [fake_run(27.0, 4.0, [2.5, 2.4, 2.6], same), fake_run(25.0, 4.4, [2.5, 2.2, 2.4], same)],
        "litfashion-lean": [fake_run(26.0, 4.0, [2.5, 2.0, 2.0], other), fake_run(24.0, 4.2, [2.0, 2.0, 2.0], other)],
    }
    summary = whole_job.summarize(runs)
    assert summary["litfashion"]["median_wall_s"] == 26.0 and summary["litfashion"]["best_wall_s"] == 25.0
    # The full epochs are epochs 2..N of every round; the first one holds the start-up's leftovers.
    assert summary["litfashion"]["median_epoch_s"] == 2.4 and summary["floor"]["best_epoch_s"] == 1.6
    assert summary["ratios_median"]["litfashion/floor wall"] == 26.0 / 19.0
    assert summary["ratios_best"]["litfashion/tutorial wall"] == 25.0 / 30.0
    assert summary["ratios_median"]["litfashion/floor epoch"] == 2.4 / 1.9
    assert summary["startup_beyond_import_lightning_s"]["litfashion"] == pytest.approx(4.2 - 4.5)
    assert summary["accuracy_reference"] == "tutorial"
    assert summary["same_accuracy"] == {"floor": True, "litfashion": True, "litfashion-lean": False}
    assert "61.00% (differs from tutorial)" in whole_job.markdown(summary)


def test_network_epoch_benchmark_runs_every_variant(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    network_epoch = load_benchmark("network_epoch", monkeypatch, source=tiny_source)
    out = tmp_path / "network_epoch.json"
    args = ["--batches", "1", "--repeats", "1", "--batch-size", "8", "--data-dir", str(tmp_path / "data")]
    args += ["--out", str(out)]
    network_epoch.main(args)
    printed = capsys.readouterr().out
    results = json.loads(out.read_text())["results"]
    assert set(results) == set(network_epoch.VARIANTS)
    for variant, figures in results.items():
        assert f"| {variant} |" in printed
        assert len(figures["samples_per_s"]) == 1 and figures["samples_per_s"][0] > 0


def test_step_overhead_parts_time_each_piece_and_lightnings_dispatch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    load_benchmark("step_overhead", monkeypatch).main(["--parts", "--calls", "30"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["| per step | us |", "|---|---:|"]
    rows = dict(re.findall(r"^\| (.+?) \| (-?[0-9.]+) \|$", "\n".join(lines[2:]), re.M))
    assert len(rows) == len(lines) - 2 == 14
    # Every piece timed alone took some time (the per-callback rows are differences, so may be near zero).
    assert all(float(us) > 0 for name, us in rows.items() if "per " not in name)
    assert {name.split(" (")[-1] for name in rows if name.startswith("Lightning")} == {
        "PassThroughProfiler)",
        "NoProfiler)",
    }


def test_step_overhead_times_every_loop_in_this_process(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    step_overhead = load_benchmark("step_overhead", monkeypatch, source=tiny_source)
    out = tmp_path / "step_overhead.json"
    data = ["--data-dir", str(tmp_path / "data")]
    with pytest.raises(SystemExit):  # the tiny training set has 8 batches
        step_overhead.main([*data, "--steps", "9", "--warmup", "2"])
    assert "the training set has 8 batches" in capsys.readouterr().err
    step_overhead.main([*data, "--rounds", "2", "--steps", "5", "--warmup", "2", "--out", str(out)])
    rows = re.findall(r"^\| ([a-z-]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|$", capsys.readouterr().out, re.M)
    assert [row[0] for row in rows] == list(step_overhead.VARIANTS)
    report = json.loads(out.read_text())
    for variant, times in report["ms_per_step"].items():
        assert len(times) == 2 and all(t > 0 for t in times), variant
        ratios = [t / floor for t, floor in zip(times, report["ms_per_step"]["floor"], strict=True)]
        assert report["summary"][variant]["over_floor"] == pytest.approx(sum(ratios) / 2)
    assert report["summary"]["floor"]["over_floor"] == 1.0
    assert not step_overhead.StepTimer.TIMED  # every timing was taken by its run

    step_overhead.main([*data, "--count-calls", "--steps", "5", "--warmup", "2"])
    counts = dict(re.findall(r"^\| ([a-z-]+) \| ([0-9,]+) \|$", capsys.readouterr().out, re.M))
    assert set(counts) == {"litfashion-lean", "litfashion"}
    # The default panels and bar do work every step that the lean run leaves out.
    assert int(counts["litfashion"].replace(",", "")) > int(counts["litfashion-lean"].replace(",", "")) > 100
    assert not step_overhead.StepTimer.TIMED


def test_startup_benchmark_reports_medians_of_its_probes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    startup = load_benchmark("startup", monkeypatch)
    probes = iter([3.0, 0.5, 3.2, 0.3, 3.4, 0.4, 3.6, 0.2])  # import, parse of each probe, in call order
    monkeypatch.setattr(startup, "probe", lambda only: {"import_s": next(probes), "parse_s": next(probes)})
    startup.main(["--repeats", "2"])
    rows = dict(re.findall(r"^\| (.+?) \| ([0-9.]+) \|$", capsys.readouterr().out, re.M))
    # Each round runs the 4-parser (LightningCLI's) probe, then the 1-parser (litfashion) one.
    assert rows == {
        "import litfashion.cli": "3.300",
        "parse, 4 parsers (LightningCLI's default)": "0.450",
        "parse, 1 parser (litfashion)": "0.250",
    }


def test_best_config_fits_and_tests_through_the_time_to_accuracy_script(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The script's fit, run by ``litfashion.cli.main`` here instead of a ``litfashion`` process, then its test of
    every ``--test-every``-th epoch's checkpoint and ``last.ckpt``, the table and the plot."""
    script = load_benchmark("time_to_accuracy", monkeypatch)
    in_folder(monkeypatch, tmp_path, tiny_source)

    def in_process(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        main(command[3:])  # [python, -m, litfashion, fit, ...]
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(script, "subprocess", SimpleNamespace(run=in_process, DEVNULL=subprocess.DEVNULL))
    tested = []

    def recorded_test(args: list[str]) -> object:
        tested.append(Path(args[-1]).name)  # --ckpt_path comes last
        return make_cli(args)

    monkeypatch.setattr(script, "make_cli", recorded_test)
    overlay = tmp_path / "three_epochs.yaml"  # a recipe given as a config and an overlay on it
    overlay.write_text("trainer:\n  max_epochs: 3\n")
    recipe = f"{CONFIGS / 'fashion_mnist_best.yaml'},{overlay}"
    plot = tmp_path / "curve.png"
    args = ["--configs", recipe, "--seeds", "0", "--workdir", "runs", "--plot", str(plot), "--test-every", "2"]
    script.main([*args, "--", "--trainer.limit_val_batches", "1"])
    printed = capsys.readouterr().out
    name = re.escape(f"`configs/fashion_mnist_best.yaml + {overlay}`")
    assert re.search(name + r" \| 0 \| \d+ s \| [\d.]+ / [\d.]+ \| [\d.]+% \|", printed), printed
    assert re.search(name + r" \| mean \|", printed)
    assert plot.stat().st_size > 0

    run = tmp_path / "runs" / "three_epochs" / "seed0" / "checkpoints"
    assert sorted(path.name for path in run.glob("epoch*.ckpt")) == ["epoch001.ckpt"]  # every second epoch
    assert tested == ["epoch001.ckpt", "last.ckpt"]  # and the recipe's own last.ckpt, the third
    ckpt = torch.load(run / "last.ckpt")
    scheduler = ckpt["lr_schedulers"][0]
    assert scheduler["total_steps"] == 3  # 461 training images (512 less the 10% split): one batch, 3 epochs
    assert scheduler["last_epoch"] == 3  # stepped per batch, to the end of the cycle
