"""The tutorial's ``NeuralNetwork``, generalised: any input shape, hidden widths, activation, dropout, BatchNorm."""

import math
from collections.abc import Sequence

from torch import Tensor, nn

from litfashion.errors import ConfigError


class MLP(nn.Module):
    """Flatten [-> Dropout], then ``Linear [-> BatchNorm1d] -> activation [-> Dropout]`` per hidden width, then a
    ``Linear`` to the classes.

    With the defaults it is exactly the tutorial's 784-512-512-10 ReLU network (same layers, same init, same
    ``state_dict`` names). Plain PyTorch: an exported ``state_dict`` loads into it without Lightning.

    Args:
        input_shape: Shape of one input, flattened to ``prod(input_shape)`` features; passed by ``ImageClassifier``
            (linked from the data), so a config names only the rest.
        num_classes: Output logits; passed by ``ImageClassifier``.
        hidden_sizes: Width of each hidden ``Linear`` layer, in order.
        activation: Name of a ``torch.nn`` activation module (``ReLU``, ``GELU``, ...) after each hidden layer.
        dropout: Dropout probability after each hidden activation, in [0, 1).
        input_dropout: Dropout probability on the flattened pixels (the regulariser of the original dropout
            paper's MLPs), in [0, 1).
        batch_norm: Put a ``BatchNorm1d`` after each hidden ``Linear``, which then has no bias (the norm's shift
            replaces it).
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        hidden_sizes: Sequence[int] = (512, 512),
        activation: str = "ReLU",
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        if not hasattr(nn, activation) or not isinstance(getattr(nn, activation), type):
            raise ConfigError(
                f"model.net (MLP): activation must name a torch.nn module such as 'ReLU' or 'GELU', got {activation!r}"
            )
        for name, p in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= p < 1.0:
                raise ConfigError(f"model.net (MLP): {name} must be in [0, 1), got {p}")
        in_features = math.prod(input_shape)
        if any(h < 1 for h in hidden_sizes) or in_features < 1 or num_classes < 1:
            raise ConfigError(
                f"model.net (MLP): sizes must be >= 1, got input_shape={list(input_shape)}, "
                f"hidden_sizes={list(hidden_sizes)}, num_classes={num_classes}"
            )
        layers: list[nn.Module] = [nn.Dropout(input_dropout)] if input_dropout > 0 else []
        width = in_features
        for hidden in hidden_sizes:
            layers.append(nn.Linear(width, hidden, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(getattr(nn, activation)())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_relu_stack(self.flatten(x))
