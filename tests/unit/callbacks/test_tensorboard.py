"""What a run shows in TensorBoard, read back with TensorBoard's own reader (a real server: tests/e2e)."""

from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from litfashion.cli import main
from tests.helpers.paths import CONFIGS
from tests.helpers.tensorboard_events import read_run

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")
# Tiny synthetic data, every step logged: every panel gets at least one entry per epoch.
QUICK = ("--data.data_dir", "data", "--trainer.log_every_n_steps", "1")
FIT_SCALARS = {"train/loss", "train/loss_epoch", "train/acc", "val/loss", "val/acc", "val/acc_best", "lr-SGD"}
IMAGES = {"train/batch", "val/confusion_matrix", "val/misclassified"}


def hparams_data(events: EventAccumulator) -> dict[str, plugin_data_pb2.HParamsPluginData]:
    """The hparams plugin's records (experiment, session start and end), by tag."""
    return {
        tag: plugin_data_pb2.HParamsPluginData.FromString(content)
        for tag, content in events.PluginTagToContent("hparams").items()
    }


def test_fit_and_test_fill_scalars_hparams_images_and_graph(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    every_second = ("--sample_grids.every_n_epochs", "2")
    main(["fit", "--config", TUTORIAL, *QUICK, "--trainer.max_epochs", "2", *every_second])
    fit_stdout = capsys.readouterr().out
    events = read_run(workdir / "lightning_logs" / "version_0")
    tags = events.Tags()

    assert set(tags["scalars"]) >= FIT_SCALARS
    assert "hp_metric" not in tags["scalars"]
    assert len(events.Scalars("val/acc_best")) == 2
    assert events.Scalars("lr-SGD")[0].value == pytest.approx(1e-3)
    assert set(tags["images"]) >= IMAGES
    assert len(events.Images("train/batch")) == 1
    assert len(events.Images("val/confusion_matrix")) == 2
    second_epoch = events.Images("val/confusion_matrix")[1].step
    assert [image.step for image in events.Images("val/misclassified")] == [second_epoch]
    assert events.Images("val/confusion_matrix")[0].encoded_image_string.startswith(b"\x89PNG")
    assert tags["graph"]

    records = hparams_data(events)
    assert set(records) == {"_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    experiment = records["_hparams_/experiment"].experiment
    metrics = [info.name.tag for info in experiment.metric_infos]
    assert metrics == ["val/acc_best", "val/acc", "val/loss", "train/acc", "train/loss_epoch"]
    hparams = records["_hparams_/session_start_info"].session_start_info.hparams
    assert hparams["model"].string_value == "ImageClassifier"
    assert hparams["net/init_args/hidden_sizes"].string_value == "[512, 512]"
    assert hparams["data"].string_value == "FashionMNISTDataModule"
    assert hparams["batch_size"].number_value == 64
    assert hparams["shuffle"].string_value == "False"
    assert hparams["optimizer"].string_value == "SGD"
    assert hparams["optimizer/lr"].number_value == 1e-3
    assert hparams["optimizer/momentum"].number_value == 0

    assert "Run summary" in fit_stdout
    assert "best val/acc" in fit_stdout
    assert "lightning_logs/version_0/checkpoints/best.ckpt" in fit_stdout
    assert "lightning_logs/version_0/checkpoints/last.ckpt" in fit_stdout
    assert "tensorboard --logdir ./lightning_logs" in fit_stdout

    main(["test", "--config", TUTORIAL, *QUICK, "--ckpt_path", "lightning_logs/version_0/checkpoints/best.ckpt"])
    events = read_run(workdir / "lightning_logs" / "version_1")
    assert {"test/acc", "test/loss"} <= set(events.Tags()["scalars"])
    assert not events.Tags()["graph"]  # the graph is the fit's
    experiment = hparams_data(events)["_hparams_/experiment"].experiment
    assert [info.name.tag for info in experiment.metric_infos] == ["test/acc", "test/loss"]


def test_each_panel_switches_off_in_the_config(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    off = str(CONFIGS / "tensorboard_off.yaml")
    main(["fit", "--config", TUTORIAL, "--config", off, *QUICK, "--trainer.max_epochs", "1"])
    events = read_run(workdir / "lightning_logs" / "version_0")
    tags = events.Tags()
    assert {"train/loss", "val/acc", "val/acc_best"} <= set(tags["scalars"])
    assert "lr-SGD" not in tags["scalars"]
    assert tags["images"] == []
    assert not tags["graph"]
    with pytest.raises(KeyError, match="hparams"):
        events.PluginTagToContent("hparams")
    assert "Run summary" not in capsys.readouterr().out

    # Without a logger the callbacks stand aside (Lightning's LearningRateMonitor alone would raise).
    main(["fit", "--config", TUTORIAL, *QUICK, "--trainer.max_epochs", "1", "--trainer.logger", "false"])


def test_bad_sample_count_is_one_clear_error(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", TUTORIAL, *QUICK, "--sample_grids.max_samples", "0"])
    assert exit_info.value.code == 2
    assert "litfashion: error: sample_grids.max_samples must be >= 1, got 0" in capsys.readouterr().err
    assert not (workdir / "lightning_logs").exists()
