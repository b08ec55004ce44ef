"""Where the repository's configs and scripts are, for tests that run them as a user would."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
