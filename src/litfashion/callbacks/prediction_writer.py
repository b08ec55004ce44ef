"""Writes ``predict`` results to a CSV file: one row per sample with class index, name and probability."""

import contextlib
import csv
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter

from litfashion.atomic import atomic_open, describe
from litfashion.errors import WriteError

# The class_name of a row whose file could not be decoded.
UNREADABLE = "unreadable"


class PredictionWriter(BasePredictionWriter):
    """Streams predictions to ``output`` (default: ``predictions.csv`` in the run's log directory).

    Rows name each sample by its dataset index, or by its file when the dataset has ``sample_names``.
    Files the dataset could not decode (its ``unreadable`` names) get a row with class ``unreadable`` and no
    index or probability, so the CSV accounts for every input. Under DDP each rank writes its own ``-rank{N}``
    file, since samples are sharded across ranks (the unreadable rows go to rank 0's). The file appears when
    prediction ends (written atomically): an earlier ``predictions.csv`` stays whole until then, and a run that fails
    leaves no partial one.

    Args:
        output: the CSV file to write; default ``predictions.csv`` in the run's log directory.
    """

    def __init__(self, output: str | None = None) -> None:
        super().__init__(write_interval="batch")
        self.output = output
        self.path: Path | None = None
        self._file: contextlib.ExitStack | None = None
        self._writer: Any = None

    def on_predict_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        path = Path(self.output) if self.output else Path(trainer.log_dir or ".") / "predictions.csv"
        if trainer.world_size > 1:
            path = path.with_name(f"{path.stem}-rank{trainer.global_rank}{path.suffix}")
        self.path = path
        self._file = contextlib.ExitStack()
        handle = self._file.enter_context(atomic_open(path, "w", what="predictions", newline=""))
        self._writer = csv.writer(handle)
        self._write([["sample", "class_index", "class_name", "probability"]])

    def write_on_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        prediction: dict[str, Any],
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        dataset = self._loaders(trainer)[dataloader_idx].dataset
        names = getattr(dataset, "sample_names", None)
        indices = batch_indices if batch_indices is not None else range(len(prediction["class_index"]))
        rows = zip(
            indices,
            prediction["class_index"].tolist(),
            prediction["class_name"],
            prediction["probability"].tolist(),
            strict=True,
        )
        self._write(
            [names[index] if names else index, class_index, class_name, f"{prob:.6f}"]
            for index, class_index, class_name, prob in rows
        )

    def on_predict_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._file is not None and trainer.is_global_zero:
            for loader in self._loaders(trainer):
                self._write([name, "", UNREADABLE, ""] for name in getattr(loader.dataset, "unreadable", []))
        if self._file is not None:
            self._file.close()
            self._file = None
            print(f"Predictions written to {self.path}")

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        """A failed run leaves no partial file: the temporary one is removed, an earlier CSV kept."""
        if self._file is not None:
            with contextlib.suppress(BaseException):
                self._file.__exit__(type(exception), exception, exception.__traceback__)
            self._file = None

    def _write(self, rows: Any) -> None:
        try:
            self._writer.writerows(rows)
        except OSError as err:
            raise WriteError(f"cannot write predictions {self.path}: {describe(err)}") from err

    @staticmethod
    def _loaders(trainer: Trainer) -> list[Any]:
        loaders = trainer.predict_dataloaders
        return loaders if isinstance(loaders, list) else [loaders]
