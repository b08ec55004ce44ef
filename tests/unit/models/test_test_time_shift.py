"""``test_time_shift``: evaluation also scores diagonal shifts of each view; the option stays out of checkpoints."""

from functools import partial

import pytest
import torch

from litfashion.errors import ConfigError
from litfashion.models import MLP, ImageClassifier
from litfashion.models import test_time_views as tta


def model(flip: bool, shift: int) -> ImageClassifier:
    torch.manual_seed(0)
    return ImageClassifier(net=partial(MLP, hidden_sizes=[16]), test_time_flip=flip, test_time_shift=shift)


def test_a_shift_moves_the_image_and_replicates_the_edge() -> None:
    images = torch.arange(16.0).reshape(1, 1, 4, 4)
    down_right = tta.shifted(images, 1, 1)
    assert torch.equal(down_right[0, 0, 1:, 1:], images[0, 0, :3, :3])
    assert torch.equal(down_right[0, 0, 0, 1:], images[0, 0, 0, :3])  # the top row replicated
    up_left = tta.shifted(images, -1, -1)
    assert torch.equal(up_left[0, 0, :3, :3], images[0, 0, 1:, 1:])
    assert torch.equal(tta.shifted(images, 0, 0), images)


def test_the_views_are_the_image_its_mirror_and_their_two_shifts() -> None:
    images = torch.rand(2, 1, 6, 6)
    assert len(tta.test_time_views(images, flip=False, shift=0)) == 1
    assert len(tta.test_time_views(images, flip=True, shift=0)) == 2
    views = tta.test_time_views(images, flip=True, shift=1)
    assert len(views) == 6
    assert torch.equal(views[1], images.flip(-1))
    assert torch.equal(views[4], tta.shifted(images.flip(-1), 1, 1))


def test_evaluation_scores_the_mean_softmax_of_the_views() -> None:
    images = torch.rand(5, 1, 28, 28)
    augmented, plain = model(True, 2).eval(), model(False, 0).eval()
    with torch.no_grad():
        expected = torch.stack([plain(v).softmax(1) for v in tta.test_time_views(images, True, 2)]).mean(0)
        assert torch.allclose(augmented._logits(images).softmax(1), expected, atol=1e-6)
        assert torch.allclose(augmented.predict_step(images, 0)["probabilities"], expected, atol=1e-6)
        augmented.train()
        assert torch.equal(augmented._logits(images), plain.train()._logits(images))


def test_it_is_left_out_of_the_hyperparameters_and_checked() -> None:
    assert "test_time_shift" not in model(False, 1).hparams
    assert "compile" not in model(False, 1).hparams
    with pytest.raises(ConfigError, match="test_time_shift must be >= 0"):
        model(False, -1)
