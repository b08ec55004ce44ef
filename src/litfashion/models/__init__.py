from litfashion.models.classifier import ImageClassifier
from litfashion.models.cnn import CNN
from litfashion.models.mlp import MLP
from litfashion.models.torchvision_net import TorchvisionNet

__all__ = ["CNN", "MLP", "ImageClassifier", "TorchvisionNet"]
