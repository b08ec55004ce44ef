from litfashion.data.csv_images import CSVImageDataModule, CSVImageDataset
from litfashion.data.fashion_mnist import FashionMNISTDataModule

__all__ = ["CSVImageDataModule", "CSVImageDataset", "FashionMNISTDataModule"]
