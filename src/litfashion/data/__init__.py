from litfashion.data.fashion_mnist import FashionMNISTDataModule

__all__ = ["FashionMNISTDataModule"]
