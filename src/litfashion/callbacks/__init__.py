from litfashion.callbacks.confusion_matrix import ConfusionMatrixLogger
from litfashion.callbacks.epoch_timer import EpochTimer
from litfashion.callbacks.finite_loss import StopOnNonFiniteLoss
from litfashion.callbacks.hparams import HparamsLogger
from litfashion.callbacks.interrupt_checkpoint import CheckpointOnInterrupt
from litfashion.callbacks.learning_rate import LearningRateLogger
from litfashion.callbacks.prediction_writer import PredictionWriter
from litfashion.callbacks.rng_state import RNGStateCheckpoint
from litfashion.callbacks.run_summary import RunSummary
from litfashion.callbacks.sample_grids import SampleGridLogger

__all__ = [
    "CheckpointOnInterrupt",
    "ConfusionMatrixLogger",
    "EpochTimer",
    "HparamsLogger",
    "LearningRateLogger",
    "PredictionWriter",
    "RNGStateCheckpoint",
    "RunSummary",
    "SampleGridLogger",
    "StopOnNonFiniteLoss",
]
