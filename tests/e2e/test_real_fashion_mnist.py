"""End to end on the real FashionMNIST, found as a user's run finds it (Debian's dataset-fashion-mnist, which
.ci/run installs, else a download): the tutorial's first epoch in its own process, then its checkpoint tested here,
in another process than the one that wrote it."""

import re
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litfashion.cli import main
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.process import litfashion


@pytest.mark.slow
def test_one_tutorial_epoch_matches_the_tutorial_and_the_checkpoint_reproduces_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    config = str(CONFIGS / "fashion_mnist.yaml")
    litfashion("fit", "--config", config, "--trainer.max_epochs", "1", cwd=tmp_path, source=None)
    run = tmp_path / "lightning_logs" / "version_0"
    events = EventAccumulator(str(run))
    events.Reload()
    (val_acc,) = [e.value for e in events.Scalars("val/acc")]
    # The tutorial prints 50.9% after its first epoch (same model, optimizer, batch size and data order).
    assert 0.459 <= val_acc <= 0.559, val_acc
    assert len((tmp_path / "data" / "FashionMNIST" / "raw" / "train-labels-idx1-ubyte").read_bytes()) == 60_008

    in_folder(monkeypatch, tmp_path, source=None)
    main(["test", "--config", config, "--ckpt_path", str(run / "checkpoints" / "best.ckpt")])
    printed = re.search(r"test/acc\W+([0-9.]+)", capsys.readouterr().out)
    assert printed
    assert float(printed.group(1)) == pytest.approx(val_acc, abs=1e-4)
