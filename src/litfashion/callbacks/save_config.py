"""LightningCLI's ``config.yaml`` of each run, written atomically."""

from pathlib import Path

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import SaveConfigCallback

from litfashion.atomic import atomic_write_text


class AtomicSaveConfig(SaveConfigCallback):
    """``SaveConfigCallback`` writing through ``litfashion.atomic``: ``litfashion fit --config`` re-runs a run from its
    ``config.yaml``, so a full disk must leave no half-written one. Same checks and ranks as Lightning's."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        log_dir = trainer.log_dir  # broadcast from rank zero
        assert log_dir is not None
        path = Path(log_dir) / self.config_filename
        exists = trainer.strategy.broadcast(path.is_file() if trainer.is_global_zero else False)
        if exists and not self.overwrite:
            raise RuntimeError(
                f"{type(self).__name__} expected {path} to NOT exist. Aborting to avoid overwriting the results of a "
                "previous run."
            )
        if trainer.is_global_zero:
            atomic_write_text(path, self.parser.dump(self.config, skip_none=False), what="config")
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True
        self.already_saved = trainer.strategy.broadcast(self.already_saved)
