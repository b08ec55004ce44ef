"""The PIL-drawn panels: matrix cells shaded by value and labelled, class names on the axes, each mistake labelled."""

import numpy as np
import torch

from litfashion.callbacks.drawing import DARK, LIGHT, confusion_matrix_image, font, mistakes_image

NAMES = ["zero", "one", "two"]


def _ink(image: np.ndarray) -> int:
    """How many pixels are not white."""
    return int((image != 255).any(axis=-1).sum())


def _pixels_of(image: np.ndarray, colour: np.ndarray) -> int:
    return int((image == colour.astype(np.uint8)).all(axis=-1).sum())


def test_confusion_matrix_cells_are_shaded_by_value() -> None:
    one_peak = confusion_matrix_image(torch.tensor([[9, 0, 1], [0, 5, 0], [2, 0, 7]]), NAMES, "title")
    three_peaks = confusion_matrix_image(torch.tensor([[9, 0, 1], [0, 9, 0], [2, 0, 9]]), NAMES, "title")
    assert one_peak.dtype == np.uint8 and one_peak.ndim == 3 and one_peak.shape[-1] == 3
    # The largest value is drawn in the darkest colour, an empty cell in the lightest; labels cover a little of each.
    dark_one, dark_three = _pixels_of(one_peak, DARK), _pixels_of(three_peaks, DARK)
    assert dark_one > 0 and 2.5 * dark_one < dark_three < 3.5 * dark_one
    assert _pixels_of(one_peak, LIGHT) > 3 * dark_one  # four empty cells


def test_confusion_matrix_names_its_axes_with_the_classes() -> None:
    matrix = torch.eye(3, dtype=torch.long)
    short = confusion_matrix_image(matrix, ["a", "b", "c"], "t")
    long = confusion_matrix_image(matrix, ["a much longer class name", "b", "c"], "t")
    # The names are drawn on both axes: a longer name widens the left margin and deepens the bottom one.
    assert long.shape[0] > short.shape[0] and long.shape[1] > short.shape[1]


def test_normalized_matrix_labels_fractions() -> None:
    counts = confusion_matrix_image(torch.tensor([[1, 1], [0, 2]]), NAMES[:2], "t")
    fractions = confusion_matrix_image(torch.tensor([[0.5, 0.5], [0.0, 1.0]]), NAMES[:2], "t")
    # The same shading (each value against the largest), but the darkest cell's label "1.00" covers more of it
    # than the count "2" does.
    assert counts.shape == fractions.shape
    assert 0 < _pixels_of(fractions, DARK) < _pixels_of(counts, DARK)


def test_mistakes_grid_labels_each_sample_above_its_image() -> None:
    images = torch.zeros(3, 1, 28, 28)  # black images: all ink outside them is the labels and the title
    unlabelled = mistakes_image(images, [0, 1, 2], [1, 2, 0], [""] * 3)
    labelled = mistakes_image(images, [0, 1, 2], [1, 2, 0], NAMES)
    assert labelled.shape == unlabelled.shape
    assert _ink(labelled) > _ink(unlabelled)
    assert unlabelled.shape[1] == 3 * (28 + 2) * 3 + 2 * 3  # three enlarged cells in one row
    assert font(11) is font(11)  # the font is loaded once


def test_mistakes_grid_keeps_colour_images_in_colour() -> None:
    images = torch.zeros(1, 3, 8, 8)
    images[:, 0] = 1.0  # pure red
    image = mistakes_image(images, [0], [1], NAMES)
    assert ((image[:, :, 0] == 255) & (image[:, :, 1] == 0) & (image[:, :, 2] == 0)).sum() >= 8 * 8 * 9
