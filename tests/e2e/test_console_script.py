"""The installed console script: ``litfashion`` on PATH is the same program as ``litfashion.cli.main``.

``python -m litfashion`` is what every other process test runs, so the script is compared with ``main`` itself.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from litfashion.cli import main
from tests.helpers.paths import CONFIGS

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")


@pytest.mark.slow
def test_console_script_and_main_agree(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fit", "--config", TUTORIAL, "--print_config"])
    assert exited.value.code in (0, None)
    in_process = capsys.readouterr().out
    script = subprocess.run(
        [shutil.which("litfashion"), "fit", "--config", TUTORIAL, "--print_config"],
        cwd=workdir, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "class_path: litfashion.models.ImageClassifier" in script
    assert script == in_process
