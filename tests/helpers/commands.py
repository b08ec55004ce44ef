"""Command lines that many tests start from."""

from tests.helpers.paths import CONFIGS


def tutorial_on_cpu(subcommand: str, *extra: str) -> list[str]:
    """``litfashion SUBCOMMAND`` with the tutorial config on the CPU and no progress bar, then ``extra``."""
    return [
        subcommand,
        "--config", str(CONFIGS / "fashion_mnist.yaml"),
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        "--trainer.enable_progress_bar", "false",
        *extra,
    ]  # fmt: skip
