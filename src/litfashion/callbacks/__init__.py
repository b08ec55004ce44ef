from litfashion.callbacks.confusion_matrix import ConfusionMatrixLogger
from litfashion.callbacks.epoch_timer import EpochTimer
from litfashion.callbacks.hparams import HparamsLogger
from litfashion.callbacks.learning_rate import LearningRateLogger
from litfashion.callbacks.prediction_writer import PredictionWriter
from litfashion.callbacks.run_summary import RunSummary
from litfashion.callbacks.sample_grids import SampleGridLogger

__all__ = [
    "ConfusionMatrixLogger",
    "EpochTimer",
    "HparamsLogger",
    "LearningRateLogger",
    "PredictionWriter",
    "RunSummary",
    "SampleGridLogger",
]
