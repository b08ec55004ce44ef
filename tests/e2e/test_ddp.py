"""DDP, 2 CPU processes (gloo): exits, syncs metrics, rank zero alone writes, data sharded, a NaN stops all."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from torchvision.datasets import FashionMNIST

from litfashion.cli import main
from litfashion.models import ImageClassifier
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.process import start
from tests.helpers.tensorboard_events import scalars

pytestmark = pytest.mark.slow  # two processes each import, join a process group and train

N_TRAIN, N_TEST = 512, 128  # the tiny_source fixture
# 128 test images split evenly over 2 ranks: the DistributedSampler pads no shard, so no sample counts twice.
DDP_FIT = [
    "fit",
    "--config", str(CONFIGS / "fashion_mnist.yaml"),
    "--config", str(CONFIGS / "trainer" / "ddp_cpu.yaml"),
    "--trainer.enable_progress_bar", "false",
]  # fmt: skip
CNN = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8]}}'
FIT = [
    *DDP_FIT,
    "--model.init_args.net", CNN,  # BatchNorm: its buffers are broadcast from rank zero
    "--trainer.max_epochs", "2",
    "--data.init_args.shuffle", "true",
    "--data.init_args.eval_batch_size", "32",
    "--model.init_args.optimizer.init_args.lr", "0.05",  # a middling accuracy after 2 epochs, not 0 or 1
    "--trainer.callbacks+", "tests.helpers.record_shards.RecordShards",
    "--trainer.callbacks.out", "shards",
]  # fmt: skip
TIMEOUT_S = 240


def run_ddp(*args: str, cwd: Path, source: Path) -> tuple[int, str]:
    """``litfashion ARGS`` in its own process group, so that a hang kills every rank and fails the test."""
    proc = start(*args, cwd=cwd, source=source, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
        deadline = time.monotonic() + 30
        while _group_alive(proc.pid):  # rank 1 is rank 0's child, in the same process group
            assert time.monotonic() < deadline, f"a rank was still running after rank 0 exited:\n{output[-4000:]}"
            time.sleep(0.1)
    except subprocess.TimeoutExpired:
        pytest.fail(f"DDP run did not finish within {TIMEOUT_S} s (hung?)")
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, output


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory, tiny_source: Path) -> tuple[Path, str]:
    """One 2-process ``litfashion fit``, shared by the tests below."""
    cwd = tmp_path_factory.mktemp("ddp")
    returncode, output = run_ddp(*FIT, cwd=cwd, source=tiny_source)
    assert returncode == 0, output[-4000:]
    return cwd, output


def _group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs; zombies (exited, not yet reaped by init) count as gone."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            return True
    return False


def test_ddp_fit_trains_and_exits(ddp_run: tuple[Path, str]) -> None:
    cwd, output = ddp_run
    assert "`Trainer.fit` stopped: `max_epochs=2` reached." in output
    assert output.count("Run summary") == 1  # rank zero's; its log_dir lookup is a broadcast every rank joins
    assert "sync_dist=True" not in output  # Lightning's advice for unsynced epoch metrics: these are synced
    ckpt = torch.load(cwd / "lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 2 * N_TRAIN // (2 * 64)  # 2 epochs of 256 samples a rank, batch 64
    assert ckpt["state_dict"]["net.features.1.num_batches_tracked"] == ckpt["global_step"]


def test_only_rank_zero_writes(ddp_run: tuple[Path, str]) -> None:
    cwd, _ = ddp_run
    written = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*") if p.is_file() and p.parts[-2] != "raw")
    events = [name for name in written if "events.out.tfevents" in name]
    assert len(events) == 1
    assert written == sorted(
        [
            "lightning_logs/version_0/checkpoints/best.ckpt",
            "lightning_logs/version_0/checkpoints/last.ckpt",
            "lightning_logs/version_0/config.yaml",
            "lightning_logs/version_0/hparams.yaml",
            events[0],
            "shards/rank0.json",  # the test callback's own record, one a rank
            "shards/rank1.json",
        ]
    )


def test_logged_val_acc_equals_a_single_process_validate(
    ddp_run: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CNN's BatchNorm buffers are rank zero's and its metrics are synced over both shards, so one process
    measures from the checkpoint what the DDP run logged."""
    cwd, _ = ddp_run
    last = cwd / "lightning_logs/version_0/checkpoints/last.ckpt"
    logged = scalars(cwd / "lightning_logs/version_0")
    in_folder(monkeypatch, tmp_path, source=None)  # the single process need not be a new one
    main([
        "validate",
        "--config", str(CONFIGS / "fashion_mnist.yaml"),
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--data.init_args.data_dir", str(cwd / "data"),
        "--model.init_args.net", CNN,
        "--ckpt_path", str(last),
    ])  # fmt: skip
    single = scalars(tmp_path / "lightning_logs/version_0")
    assert logged["val/acc"][-1] == single["val/acc"][-1]
    assert logged["val/loss"][-1] == pytest.approx(single["val/loss"][-1], rel=1e-6)

    # The same accuracy by hand, over all 128 test images; rank 0's half alone scores otherwise, so an
    # unsynced metric (rank 0 logging its own shard) would have failed the comparison above.
    test_set = FashionMNIST(cwd / "data", train=False)
    assert len(test_set.targets) == N_TEST
    model = ImageClassifier.load_from_checkpoint(last, weights_only=True).eval()
    with torch.no_grad():
        correct = model(test_set.data.unsqueeze(1).float() / 255).argmax(dim=1) == test_set.targets
    assert correct.float().mean().item() == pytest.approx(logged["val/acc"][-1])
    assert correct[0::2].float().mean().item() != pytest.approx(logged["val/acc"][-1])


def test_in_memory_batches_are_sharded_and_reshuffled(ddp_run: tuple[Path, str]) -> None:
    cwd, _ = ddp_run
    ranks = [json.loads((cwd / "shards" / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    targets = FashionMNIST(cwd / "data", train=True).targets
    for record in ranks:
        assert record["world_size"] == 2
        assert record["sampler"] == "DistributedSampler"
        assert (record["dataset"], record["collate_fn"]) == ("BatchedInMemoryImages", "keep_batch")  # fast path
        assert len(record["epochs"]) == 2
        for epoch in record["epochs"]:
            assert epoch["labels"] == targets[epoch["indices"]].tolist()  # the batches came from these indices
    for epoch in (0, 1):
        first, second = (set(record["epochs"][epoch]["indices"]) for record in ranks)
        assert len(first) == len(second) == N_TRAIN // 2
        assert first.isdisjoint(second) and first | second == set(range(N_TRAIN))
    for record in ranks:
        epoch0, epoch1 = (epoch["indices"] for epoch in record["epochs"])
        assert set(epoch0) != set(epoch1)  # reshuffled across ranks, not only within each shard


def test_nan_loss_on_one_rank_stops_every_rank(tmp_path: Path, tiny_source: Path) -> None:
    # Rank 1 alone sees a NaN loss at step 2; both ranks check at the same steps (here before validating at
    # step 4), so both stop there instead of one waiting forever in a collective the other left.
    returncode, output = run_ddp(
        *DDP_FIT,
        "--trainer.max_epochs", "1",
        "--trainer.val_check_interval", "2",
        "--trainer.callbacks+", "tests.helpers.nan_on_rank.NaNLossOnRank",
        "--trainer.callbacks.rank", "1",
        "--trainer.callbacks.step", "2",
        cwd=tmp_path,
        source=tiny_source,
    )  # fmt: skip
    last = Path("lightning_logs/version_0/checkpoints/last.ckpt")
    assert returncode == 2, output[-4000:]
    expected = (
        f"litfashion: error: training stopped: the loss became NaN or infinite at step 2 (epoch 0); "
        f"the last good checkpoint is {last}. Lower the learning rate or check the data."
    )
    # Each rank reports it; their lines may interleave in the shared pipe.
    assert output.count("litfashion: error:") == output.count(expected) >= 1
    assert "Traceback" not in output
    assert torch.load(tmp_path / last, weights_only=True)["global_step"] == 2


def test_sigterm_stops_every_rank_at_the_same_step_with_143(tmp_path: Path, tiny_source: Path) -> None:
    """SIGTERM to rank zero (as a launcher or scheduler sends it) at step 5, passed on to rank 1: both stop at the
    start of step 6, write one interrupted.ckpt and exit 143, in every repeat (Lightning's own handler broadcast
    from inside the signal handler and could hang)."""
    returncode, output = run_ddp(
        *DDP_FIT,
        "--trainer.max_epochs", "3",
        "--trainer.callbacks+", "tests.helpers.signals.SignalAtStep",
        "--trainer.callbacks.step", "5",
        cwd=tmp_path,
        source=tiny_source,
    )  # fmt: skip
    assert returncode == 143, output[-4000:]
    interrupted = Path("lightning_logs/version_0/checkpoints/interrupted.ckpt")
    assert output.count(f"Interrupted by SIGTERM at step 6 (epoch 1); checkpoint written to {interrupted}") == 1
    assert "Traceback" not in output
    ckpt = torch.load(tmp_path / interrupted, weights_only=True)
    assert ckpt["global_step"] == 6
    assert ckpt["loops"]["fit_loop"]["state_dict"]["combined_loader"][0]["taken"] == 2  # 4 steps an epoch a rank
