"""``test_time_flip``: evaluation averages the softmax of each image and its mirror; training is unchanged."""

from functools import partial
from pathlib import Path

import torch

from litfashion.cli import main, make_cli
from litfashion.models import MLP, ImageClassifier
from tests.helpers.paths import CONFIGS

QUICK = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.enable_progress_bar", "false"]


def model(flip: bool) -> ImageClassifier:
    torch.manual_seed(0)
    return ImageClassifier(net=partial(MLP, hidden_sizes=[16]), test_time_flip=flip)


def test_evaluation_scores_the_mean_softmax_of_the_image_and_its_mirror() -> None:
    images = torch.rand(5, 1, 28, 28)
    flipped, plain = model(True).eval(), model(False).eval()
    with torch.no_grad():
        expected = (plain(images).softmax(1) + plain(images.flip(-1)).softmax(1)) / 2
        logits = flipped._logits(images)
        predicted = flipped.predict_step(images, 0)["probabilities"]
    assert torch.allclose(logits.softmax(1), expected, atol=1e-6)
    assert torch.allclose(predicted, expected, atol=1e-6)
    assert not torch.allclose(plain._logits(images).softmax(1), expected, atol=1e-3)


def test_training_sees_only_the_image() -> None:
    images, targets = torch.rand(5, 1, 28, 28), torch.arange(5)
    flipped, plain = model(True).train(), model(False).train()
    torch.manual_seed(1)
    loss_flipped, _, _ = flipped._step((images, targets))
    torch.manual_seed(1)
    loss_plain, _, _ = plain._step((images, targets))
    assert torch.equal(loss_flipped, loss_plain)


def test_a_checkpoint_trained_without_it_is_tested_with_it(workdir: Path) -> None:
    """The checkpoint's hyperparameters override the config, except how to evaluate: that stays the user's."""
    tutorial = str(CONFIGS / "fashion_mnist.yaml")
    main(["fit", "--config", tutorial, *QUICK, "--trainer.limit_val_batches", "1"])
    last = "lightning_logs/version_0/checkpoints/last.ckpt"
    assert torch.load(last, weights_only=True)["hyper_parameters"]["test_time_flip"] is False
    flag = ["--model.init_args.test_time_flip", "true", "--trainer.limit_test_batches", "1"]
    cli = make_cli(["test", "--config", tutorial, *QUICK, "--ckpt_path", last, *flag])
    assert cli.model.hparams.test_time_flip is True
