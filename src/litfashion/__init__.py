"""litfashion: the PyTorch basics tutorial as a LightningCLI training project."""

__version__ = "0.1.0"
