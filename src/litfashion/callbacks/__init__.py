from litfashion.callbacks.prediction_writer import PredictionWriter

__all__ = ["PredictionWriter"]
