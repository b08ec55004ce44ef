"""The installed console script: ``litfashion`` on PATH is the same program as ``python -m litfashion``."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")


@pytest.mark.slow
def test_python_module_entry_and_console_script_agree(run_cli: CliRunner, tmp_path: Path) -> None:
    module = run_cli("fit", "--config", TUTORIAL, "--print_config").stdout
    script = subprocess.run(
        [shutil.which("litfashion"), "fit", "--config", TUTORIAL, "--print_config"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "class_path: litfashion.models.ImageClassifier" in module
    assert module == script
