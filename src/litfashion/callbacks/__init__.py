from litfashion.callbacks.epoch_timer import EpochTimer
from litfashion.callbacks.prediction_writer import PredictionWriter

__all__ = ["EpochTimer", "PredictionWriter"]
