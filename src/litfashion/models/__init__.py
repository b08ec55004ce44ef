from litfashion.models.classifier import ImageClassifier
from litfashion.models.mlp import MLP

__all__ = ["MLP", "ImageClassifier"]
