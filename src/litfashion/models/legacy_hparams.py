"""Checkpoints written before the network was injected: their MLP settings become a ``net`` entry."""

from typing import Any

MLP_CLASS_PATH = "litfashion.models.MLP"
MLP_SETTINGS = ("hidden_sizes", "activation", "dropout")


def upgrade_hparams(hparams: dict[str, Any]) -> dict[str, Any]:
    """``ImageClassifier`` hyperparameters in today's form: ``hidden_sizes``, ``activation`` and ``dropout``
    (the model's own arguments until the network was injected) move into ``net: {class_path: MLP, init_args}``.

    The network's weights kept their names (``net.linear_relu_stack.*``), so such a checkpoint loads unchanged.
    Anything else is returned as it is.
    """
    if "net" in hparams or not any(key in hparams for key in MLP_SETTINGS):
        return hparams
    upgraded = {key: value for key, value in hparams.items() if key not in MLP_SETTINGS}
    upgraded["net"] = {
        "class_path": MLP_CLASS_PATH,
        "init_args": {key: hparams[key] for key in MLP_SETTINGS if key in hparams},
    }
    return upgraded
