"""``--help`` shows each argument's text from the ``Args:`` section of its class's docstring (jsonargparse reads
Google-style docstrings with ``docstring-parser``): one argument of each model, network, data module and callback."""

import re

import pytest

from litfashion.cli import main

NET = ["--model", "litfashion.models.ImageClassifier", "--model.init_args.net.help"]


@pytest.mark.parametrize(
    ("args", "option", "text"),
    [
        (["--model.help", "litfashion.models.ImageClassifier"], "--model.label_smoothing", "Cross-entropy label"),
        ([*NET, "litfashion.models.MLP"], "--net.hidden_sizes", "Width of each hidden ``Linear`` layer"),
        ([*NET, "litfashion.models.CNN"], "--net.blocks_per_stage", "Conv -> BatchNorm -> ReLU blocks"),
        ([*NET, "litfashion.models.TorchvisionNet"], "--net.name", "A torchvision classification model"),
        (["--data.help", "litfashion.data.FashionMNISTDataModule"], "--data.shuffle", "Reshuffle the training set"),
        (["--help"], "--confusion_matrix.normalize", "Show each true class's row as fractions"),
    ],
    ids=["ImageClassifier", "MLP", "CNN", "TorchvisionNet", "FashionMNISTDataModule", "ConfusionMatrixLogger"],
)
def test_help_shows_the_docstring_of_an_argument(
    args: list[str], option: str, text: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fit", *args])
    assert exited.value.code == 0
    printed = capsys.readouterr().out
    # argparse wraps the help text: compare with the lines after the option joined by single spaces.
    entry = re.search(rf"^  {re.escape(option)}\b.*?(?=^  -)", printed, re.M | re.S)
    assert entry is not None, printed[-2000:]
    assert text in " ".join(entry.group(0).split()), entry.group(0)
