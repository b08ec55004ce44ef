"""The tutorial's ``NeuralNetwork``, generalised: any input size, hidden widths, activation and dropout."""

from collections.abc import Sequence

from torch import Tensor, nn

from litfashion.errors import ConfigError


class MLP(nn.Module):
    """Flatten, then ``Linear -> activation [-> Dropout]`` per hidden width, then a ``Linear`` to the classes.

    With the defaults it is exactly the tutorial's 784-512-512-10 ReLU network (same layers, same init).
    Plain PyTorch: a ``state_dict`` exported from a checkpoint loads into it without Lightning.
    """

    def __init__(
        self,
        in_features: int = 28 * 28,
        hidden_sizes: Sequence[int] = (512, 512),
        num_classes: int = 10,
        activation: str = "ReLU",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not hasattr(nn, activation) or not isinstance(getattr(nn, activation), type):
            raise ConfigError(
                f"model.activation must name a torch.nn module such as 'ReLU' or 'GELU', got {activation!r}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {dropout}")
        if any(h < 1 for h in hidden_sizes) or in_features < 1 or num_classes < 1:
            raise ConfigError(
                f"model sizes must be >= 1, got in_features={in_features}, hidden_sizes={list(hidden_sizes)}, "
                f"num_classes={num_classes}"
            )
        layers: list[nn.Module] = []
        width = in_features
        for hidden in hidden_sizes:
            layers += [nn.Linear(width, hidden), getattr(nn, activation)()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_relu_stack(self.flatten(x))
