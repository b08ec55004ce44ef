"""The tutorial's linear-regression walk-through as a LightningModule: gradients, and the fit through the CLI."""

import re
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from litfashion.data.linear_regression import LinearRegressionData
from litfashion.models.linear_regression import LinearRegression
from tests.helpers.in_process import lightning_messages
from tests.helpers.paths import CONFIGS


def test_autograd_gradients_equal_the_walk_through_s_analytic_ones() -> None:
    torch.manual_seed(88)
    data = LinearRegressionData()
    model = LinearRegression()
    x, y = next(iter(data.train_dataloader()))
    assert len(x) == 80 and len(data.val_set) == 20

    model.loss((x, y)).backward()

    error = y - (model.a + model.b * x).detach()
    torch.testing.assert_close(model.a.grad, (-2 * error.mean()).reshape(1))
    torch.testing.assert_close(model.b.grad, (-2 * (x * error).mean()).reshape(1))


def test_data_are_seeded_and_follow_the_line() -> None:
    first, second = LinearRegressionData(seed=3), LinearRegressionData(seed=3)
    torch.testing.assert_close(first.train_set.tensors, second.train_set.tensors)
    x, y = first.train_set.tensors
    noise = y - (1.0 + 2.0 * x)
    assert noise.abs().max() < 0.5 and 0.05 < noise.std() < 0.15


@pytest.mark.slow  # the shipped config's whole fit
def test_cli_fit_recovers_a_and_b(
    workdir: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged = lightning_messages(monkeypatch, caplog)
    main(["fit", "--config", str(CONFIGS / "linear_regression.yaml"), "--checkpoint.dirpath", "ckpts"])

    printed = re.search(r"fitted a = (-?[\d.]+), b = (-?[\d.]+)", logged.text)
    assert printed, logged.text[-2000:]
    assert float(printed[1]) == pytest.approx(1.0, abs=0.05)
    assert float(printed[2]) == pytest.approx(2.0, abs=0.05)
    state = torch.load(workdir / "ckpts" / "last.ckpt", weights_only=True)["state_dict"]
    assert state["a"].item() == pytest.approx(float(printed[1]), abs=1e-4)
    assert state["b"].item() == pytest.approx(float(printed[2]), abs=1e-4)
    assert (workdir / "ckpts" / "best.ckpt").is_file()  # chosen by val/loss: the regression has no accuracy
