"""Faults an unattended run meets, in-process, one row each: what the user sees (exit status, one line) and what is
kept (the last good checkpoint loads; resuming finishes the run). Faults that need a process of their own (SIGTERM
from outside, DDP, SIGKILL during a write) are in tests/e2e/test_preemption.py; the sweep's in its own tests."""

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.commands import tutorial_on_cpu
from tests.helpers.in_process import lightning_messages
from tests.helpers.small_disk import FILLER, can_mount, fill, remount, small_disk

# 512 tiny samples, batch 64: 8 steps an epoch; 3 epochs end at step 24.
FIT = tutorial_on_cpu("fit", "--trainer.max_epochs", "3", "--data.init_args.shuffle", "true")
RUN = Path("lightning_logs/version_0")
SIGTERM_AT = ["--trainer.callbacks+", "tests.helpers.signals.SignalAtStep", "--trainer.callbacks.step", "11"]


@dataclass
class Fault:
    name: str
    args: list[str]
    status: int
    line: list[str]  # what the one line says
    disk: str | None = None  # a tmpfs of this size at ./disk
    kept: Callable[[Path], None] = lambda workdir: None
    resume: list[str] = field(default_factory=list)  # after the fault (and the disk freed): runs to the end


def loads(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def no_temporary_files(folder: Path) -> None:
    assert not [p.name for p in folder.rglob(".*.tmp")], "a temporary file was left behind"


def kept_interrupted(workdir: Path) -> None:
    ckpt = loads(workdir / RUN / "checkpoints/interrupted.ckpt")
    assert ckpt["global_step"] == 12
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]["taken"] == 4  # the loader's position


def kept_epoch_0(folder: Path) -> Callable[[Path], None]:
    def check(workdir: Path) -> None:
        assert loads(workdir / folder / "last.ckpt")["global_step"] == 8
        no_temporary_files(workdir / folder)

    return check


def kept_nothing_partial(path: str) -> Callable[[Path], None]:
    def check(workdir: Path) -> None:
        assert not (workdir / path).exists()
        no_temporary_files(workdir)

    return check


DISK = "disk"
CKPT_ON_DISK = ["--checkpoint.dirpath", f"{DISK}/ckpt"]


def disk_fault_at_step_10(fault: str) -> list[str]:
    callback = ["--trainer.callbacks+", "tests.helpers.small_disk.DiskFaultAtStep", "--trainer.callbacks.folder", DISK]
    return [*callback, "--trainer.callbacks.step", "10", "--trainer.callbacks.fault", fault]


FAULTS = [
    Fault(
        "SIGTERM mid-epoch",
        [*FIT, *SIGTERM_AT],
        143,
        [
            "Interrupted by SIGTERM at step 12 (epoch 1)",
            f"{RUN}/checkpoints/interrupted.ckpt",
            "Resume with: litfashion",
        ],
        kept=kept_interrupted,
        resume=[*FIT, "--ckpt_path", "last"],
    ),
    Fault(
        "SIGTERM during validation",
        [*FIT, *SIGTERM_AT[:2], "--trainer.callbacks.step", "8", "--trainer.callbacks.during", "validation"],
        143,
        ["Interrupted by SIGTERM at step 8", "interrupted.ckpt"],
        kept=lambda workdir: loads(workdir / RUN / "checkpoints/interrupted.ckpt"),
        resume=[*FIT, "--ckpt_path", "last"],
    ),
    Fault(
        "disk full at a checkpoint",
        [*FIT, *CKPT_ON_DISK, *disk_fault_at_step_10("full")],
        2,
        ["cannot write checkpoint /", "/disk/ckpt/", "no space left on the device (ENOSPC)"],
        disk="64m",
        kept=kept_epoch_0(Path(DISK, "ckpt")),
        resume=[*FIT, *CKPT_ON_DISK, "--ckpt_path", "last"],
    ),
    Fault(
        "checkpoint folder turned read-only mid-run",
        [*FIT, *CKPT_ON_DISK, *disk_fault_at_step_10("read_only")],
        2,
        ["cannot write checkpoint /", "/disk/ckpt/", "read-only file system (EROFS)"],
        disk="64m",
        kept=kept_epoch_0(Path(DISK, "ckpt")),
        resume=[*FIT, *CKPT_ON_DISK, "--ckpt_path", "last"],
    ),
    Fault(
        "disk full at TensorBoard's events",
        [
            *FIT,
            "--trainer.logger.init_args.save_dir",
            DISK,
            "--checkpoint.dirpath",
            "ckpt",
            *disk_fault_at_step_10("full"),
        ],
        2,
        ["cannot write a file in disk/lightning_logs/version_0: no space left on the device (ENOSPC)"],
        disk="64m",
        kept=kept_epoch_0(Path("ckpt")),
        resume=[
            *FIT,
            "--trainer.logger.init_args.save_dir",
            DISK,
            "--checkpoint.dirpath",
            "ckpt",
            "--ckpt_path",
            "last",
        ],
    ),
]


@pytest.fixture
def mountable(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not can_mount(tmp_path_factory.mktemp("probe")):
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")


def run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        main(args)
    err = capsys.readouterr().err
    return exited.value.code, [line for line in err.splitlines() if "error:" in line]


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_a_fault_stops_with_one_line_and_keeps_the_last_good_checkpoint(
    fault: Fault,
    workdir: Path,
    capsys: pytest.CaptureFixture,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    logged = lightning_messages(monkeypatch, caplog)
    if fault.disk:
        request.getfixturevalue("mountable")
    with small_disk(workdir / DISK, fault.disk) if fault.disk else contextlib.nullcontext():
        status, errors = run(fault.args, capsys)
        assert status == fault.status
        text = errors[0] if fault.status != 143 else logged.text
        if fault.status != 143:
            assert len(errors) == 1, errors
        for words in fault.line:
            assert words in text, text
        fault.kept(workdir)
        if fault.resume:
            if fault.disk:
                remount(workdir / DISK, "rw")  # the disk writable again,
                (workdir / DISK / FILLER).unlink(missing_ok=True)  # space freed
            main(fault.resume)
            folder = (
                fault.resume[fault.resume.index("--checkpoint.dirpath") + 1]
                if "--checkpoint.dirpath" in fault.resume
                else RUN / "checkpoints"
            )
            assert loads(workdir / folder / "last.ckpt")["global_step"] == 24


def test_predictions_on_a_full_disk_leave_no_partial_file(
    workdir: Path, capsys: pytest.CaptureFixture, mountable: None
) -> None:
    main([*FIT, "--trainer.max_epochs", "1"])
    ckpt = str(RUN / "checkpoints/last.ckpt")
    with small_disk(workdir / DISK, "1m"):
        fill(workdir / DISK)
        output = workdir / DISK / "predictions.csv"
        status, errors = run(
            [*tutorial_on_cpu("predict"), "--ckpt_path", ckpt, "--predictions.output", str(output)], capsys
        )
        assert status == 2 and len(errors) == 1
        assert f"cannot write predictions {output}: no space left on the device (ENOSPC)" in errors[0]
        assert os.listdir(workdir / DISK) == [FILLER]


def test_export_to_a_full_disk_names_the_file(workdir: Path, capsys: pytest.CaptureFixture, mountable: None) -> None:
    main([*FIT, "--trainer.max_epochs", "1"])
    with small_disk(workdir / DISK, "1m"):
        fill(workdir / DISK)
        status, errors = run(["export", "--ckpt_path", str(RUN / "checkpoints/last.ckpt"), "--out", DISK], capsys)
        assert status == 2 and len(errors) == 1
        assert errors[0].startswith("litfashion export: error: cannot write export disk/model_weights.pth: no space")
        assert os.listdir(workdir / DISK) == [FILLER]


def test_config_yaml_on_a_full_disk_is_not_written_half(
    workdir: Path, capsys: pytest.CaptureFixture, mountable: None
) -> None:
    # Without a logger, config.yaml is the run's first file in its root folder.
    with small_disk(workdir / DISK, "1m"):
        fill(workdir / DISK)
        status, errors = run([*FIT, "--trainer.logger", "false", "--trainer.default_root_dir", DISK], capsys)
        assert status == 2 and len(errors) == 1
        assert "cannot write config disk/config.yaml: no space left on the device (ENOSPC)" in errors[0]
        assert os.listdir(workdir / DISK) == [FILLER]
