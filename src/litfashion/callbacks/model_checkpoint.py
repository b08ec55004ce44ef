"""Lightning's ``ModelCheckpoint``, with its ``state_key`` built once."""

from functools import cached_property

from lightning.pytorch.callbacks import ModelCheckpoint as LightningModelCheckpoint


class ModelCheckpoint(LightningModelCheckpoint):
    """Lightning formats a callback's ``state_key`` (here a ``repr`` of the monitor, mode and save triggers) to name
    every hook it calls on it, several at every training step; those settings never change after ``__init__``, so
    the key is built at its first use. The class keeps Lightning's name, so the key, and with it checkpoints
    written with either class, are the same."""

    @cached_property
    def state_key(self) -> str:  # type: ignore[override]
        return super().state_key
