"""train/loss_epoch and train/acc, summed per step by LossAndAccuracy, are the epoch's true mean and accuracy."""

import torch
from lightning.pytorch import Trainer
from torch.utils.data import DataLoader, TensorDataset

from litfashion.models import ImageClassifier


def test_epoch_loss_and_accuracy_match_a_direct_computation() -> None:
    torch.manual_seed(0)
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))  # 100 = batches of 32, 32, 32 and 4
    model = ImageClassifier(optimizer=lambda params: torch.optim.SGD(params, lr=0.0))  # weights stay put
    with torch.no_grad():
        logits = model(x)
        expected_loss = torch.nn.functional.cross_entropy(logits, y)
        expected_acc = (logits.argmax(dim=1) == y).float().mean()

    trainer = Trainer(
        max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False
    )
    trainer.fit(model, DataLoader(TensorDataset(x, y), batch_size=32))

    metrics = trainer.callback_metrics
    assert torch.allclose(metrics["train/loss_epoch"], expected_loss, atol=1e-5)
    assert torch.allclose(metrics["train/acc"], expected_acc)
    states = model.train_metrics.metric_state.values()
    assert not model.train_metrics.update_called and not any(states)  # reset for the next epoch
