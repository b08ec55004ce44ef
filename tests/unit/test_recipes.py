"""The shipped recipes build what their YAML files say; the strong overlay changes only the schedule and one stage."""

from pathlib import Path

import pytest

from litfashion.cli import LitFashionCLI, make_cli
from litfashion.models import CNN, MLP
from litfashion.models.cnn import Conv3x3
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS

CNN_RECIPE = ["--config", str(CONFIGS / "fashion_mnist_cnn.yaml")]


def conv_widths(cli: LitFashionCLI) -> list[tuple[int, int]]:
    return [(m.in_channels, m.out_channels) for m in cli.model.net.features if isinstance(m, Conv3x3)]


@pytest.fixture
def here(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return in_folder(monkeypatch, tmp_path, tiny_source)


def test_the_cnn_recipe_pools_before_its_norms_in_bf16_mixed(here: Path) -> None:
    cli = make_cli(CNN_RECIPE, run=False)
    assert isinstance(cli.model.net, CNN)
    kinds = [type(m).__name__ for m in cli.model.net.features]
    assert kinds[:4] == ["Conv3x3", "MaxPool2d", "BatchNorm2d", "ReLU"]
    assert cli.trainer.precision == "bf16-mixed"
    assert (cli.trainer.max_epochs, cli.trainer.check_val_every_n_epoch) == (16, 8)


def test_the_strong_overlay_deepens_the_14x14_stage_stretches_the_schedule_and_changes_nothing_else(here: Path) -> None:
    recipe = make_cli(CNN_RECIPE, run=False)
    strong = make_cli([*CNN_RECIPE, "--config", str(CONFIGS / "fashion_mnist_strong.yaml")], run=False)
    assert strong.trainer.max_epochs > recipe.trainer.max_epochs
    assert strong.trainer.max_epochs % strong.trainer.check_val_every_n_epoch == 0
    assert conv_widths(strong) == [*conv_widths(recipe)[:2], (64, 64), *conv_widths(recipe)[2:]]

    def without_blocks(cli: LitFashionCLI) -> dict:
        net = {**cli.model.hparams.net, "init_args": dict(cli.model.hparams.net["init_args"])}
        net["init_args"].pop("blocks_per_stage")
        return {**cli.model.hparams, "net": net}

    assert without_blocks(strong) == without_blocks(recipe)
    assert strong.datamodule.hparams == recipe.datamodule.hparams


def test_the_mlp_recipe_trains_in_bf16_mixed_and_validates_its_last_epoch_with_the_flip(here: Path) -> None:
    cli = make_cli(["--config", str(CONFIGS / "fashion_mnist_best.yaml")], run=False)
    assert isinstance(cli.model.net, MLP)
    assert cli.trainer.precision == "bf16-mixed"
    assert cli.trainer.max_epochs % cli.trainer.check_val_every_n_epoch == 0
    assert cli.model.hparams.test_time_flip
