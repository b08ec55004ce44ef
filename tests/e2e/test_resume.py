"""Exact resume: a run SIGKILLed mid-training and resumed with ``--ckpt_path last`` ends as an uninterrupted one,
for the MLP (dropout's random state) and the CNN (BatchNorm's running statistics, SGD's momentum buffers)."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.commands import tutorial_on_cpu
from tests.helpers.forked import start
from tests.helpers.in_process import lightning_messages
from tests.helpers.tensorboard_events import scalars_by_step

# 512 samples / batch 64 = 8 steps an epoch; the kill lands in epoch 1, after epoch 0's last.ckpt.
KILL_AT_STEP = 11
ARGS = tutorial_on_cpu(
    "fit",
    "--trainer.max_epochs", "3",
    "--trainer.deterministic", "true",
    "--trainer.log_every_n_steps", "2",
    "--data.init_args.shuffle", "true",
)  # fmt: skip
NETWORKS = {
    "mlp": ["--model.init_args.net.init_args.dropout", "0.2"],
    "cnn": [
        "--model.init_args.net",
        '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8], "dropout": 0.2}}',
        "--model.init_args.optimizer.init_args.lr", "0.05",
        "--model.init_args.optimizer.init_args.momentum", "0.9",
    ],
}  # fmt: skip


def assert_same(expected: object, found: object, where: str = "") -> None:
    """Equal to the bit, tensors included (optimizer states hold momentum buffers)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(found, torch.Tensor) and torch.equal(expected, found), where
    elif isinstance(expected, dict):
        assert isinstance(found, dict) and expected.keys() == found.keys(), where
        for key in expected:
            assert_same(expected[key], found[key], f"{where}/{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(found, (list, tuple)) and len(expected) == len(found), where
        for i, (a, b) in enumerate(zip(expected, found, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert expected == found, where


@pytest.fixture
def restores_determinism(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``trainer.deterministic`` switches torch's deterministic algorithms on for the whole process: switch back."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.mark.slow
@pytest.mark.parametrize("network", NETWORKS)
def test_sigkilled_run_resumes_bit_for_bit(
    network: str,
    tiny_source: Path,
    workdir: Path,
    restores_determinism: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    """The kill is a process's; the straight and the resumed runs need none of their own."""
    args = [*ARGS, *NETWORKS[network]]
    main([*args, "--trainer.logger.init_args.save_dir", "straight"])

    killed = start(
        *args,
        "--trainer.logger.init_args.save_dir", "resumed",
        "--trainer.callbacks+", "tests.helpers.sigkill.SigkillAtStep",
        "--trainer.callbacks.step", str(KILL_AT_STEP),
        cwd=workdir,
        source=tiny_source,
    )  # fmt: skip
    assert killed.wait(timeout=300) == -signal.SIGKILL, killed.communicate()[0]
    run_dir = workdir / "resumed" / "lightning_logs" / "version_0"
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8

    logged = lightning_messages(monkeypatch, caplog)
    main([*args, "--trainer.logger.init_args.save_dir", "resumed", "--ckpt_path", "last"])
    assert f"Resuming from {Path('resumed/lightning_logs/version_0/checkpoints/last.ckpt')}" in logged.text
    assert not [w for w in recwarn if "exists and is not empty" in str(w.message)]  # resuming there is the point
    assert sorted(p.name for p in (workdir / "resumed" / "lightning_logs").iterdir()) == ["version_0"]

    straight = torch.load(workdir / "straight/lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    again = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert again["global_step"] == straight["global_step"] == 24
    if network == "cnn":
        assert "net.features.1.running_var" in straight["state_dict"]
        assert straight["optimizer_states"][0]["state"], "SGD with momentum keeps a buffer per parameter"
    assert_same(straight["state_dict"], again["state_dict"], "state_dict")
    assert_same(straight["optimizer_states"], again["optimizer_states"], "optimizer_states")

    expected = scalars_by_step(workdir / "straight/lightning_logs/version_0")
    assert {"train/loss", "val/acc", "val/acc_best", "train/loss_epoch"} <= expected.keys()
    assert scalars_by_step(run_dir) == expected


CSV_DATA = [
    "--data", "litfashion.data.CSVImageDataModule",
    "--data.init_args.train_csv", "png/train.csv",
    "--data.init_args.val_csv", "png/test.csv",
    "--data.init_args.class_names", "null",
    "--data.init_args.cache", "false",  # decoded from the files at every step, in the main process
    "--data.init_args.num_workers", "0",
]  # fmt: skip
MID_EPOCH = {"mlp": NETWORKS["mlp"], "cnn": NETWORKS["cnn"], "csv-mlp": [*NETWORKS["mlp"], *CSV_DATA]}


@pytest.mark.slow
@pytest.mark.parametrize("network", MID_EPOCH)
def test_sigtermed_mid_epoch_run_resumes_bit_for_bit(
    network: str, workdir: Path, tiny_source: Path, restores_determinism: None
) -> None:
    """SIGTERM in the middle of epoch 1 (step 12 of 8-step epochs): the loader's position and the running epoch's
    training metrics are in interrupted.ckpt, so the resumed run ends as an uninterrupted one, every logged
    value included. In-process: the signal is the process's own."""
    if network.startswith("csv"):
        main(["export-images", "png", "--source-dir", str(tiny_source), "--data-dir", "data"])
    args = [*ARGS, *MID_EPOCH[network]]
    main([*args, "--trainer.logger.init_args.save_dir", "straight"])
    stopped = [*args, "--trainer.logger.init_args.save_dir", "resumed"]
    with pytest.raises(SystemExit) as exited:
        main([*stopped, "--trainer.callbacks+", "tests.helpers.signals.SignalAtStep", "--trainer.callbacks.step", "11"])
    assert exited.value.code == 143
    run_dir = workdir / "resumed" / "lightning_logs" / "version_0"
    interrupted = torch.load(run_dir / "checkpoints" / "interrupted.ckpt", weights_only=True)
    assert interrupted["global_step"] == 12
    assert interrupted["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]["taken"] == 4

    main([*stopped, "--ckpt_path", "last"])  # the newest checkpoint: interrupted.ckpt
    straight = torch.load(workdir / "straight/lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    again = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert again["global_step"] == straight["global_step"] == 24
    assert_same(straight["state_dict"], again["state_dict"], "state_dict")
    assert_same(straight["optimizer_states"], again["optimizer_states"], "optimizer_states")
    assert scalars_by_step(run_dir) == scalars_by_step(workdir / "straight/lightning_logs/version_0")
