"""The LightningModule: an injected network with its loss, optimizer/scheduler injection, steps and torchmetrics."""

from collections.abc import Sequence
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn
from torchmetrics import MaxMetric, MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from litfashion.config_paths import ConfigPath
from litfashion.errors import ConfigError
from litfashion.lightning_compat import HookNameMixin, logs_this_step
from litfashion.models.batch_norm_batches import check_last_training_batch
from litfashion.models.compile import compile_net
from litfashion.models.init_weights import load_init_weights
from litfashion.models.mlp import MLP
from litfashion.models.net_callable import NetCallable, build_net, net_factory, net_spec
from litfashion.models.running_metrics import LossAndAccuracy
from litfashion.models.schedulers import build_scheduler
from litfashion.models.test_time_views import test_time_views

# Where a checkpoint keeps the running epoch's training metric states (mid-epoch checkpoints).
TRAIN_METRICS_KEY = "litfashion_train_metrics"


class ImageClassifier(HookNameMixin, LightningModule):
    """Classifies images with ``net``; targets may be class indices or class probabilities (one-hot).

    The network, optimizer and scheduler are injected from the YAML by ``class_path``, so any of them works
    without code; the data's shape and classes are linked from the data module by the CLI, so they are typed once.

    Args:
        input_shape: ``[channels, height, width]`` of the images; linked from the data module.
        num_classes: Number of classes (logits); linked from the data module.
        class_names: Class names in index order, written to predictions and checkpoints; linked from the data.
        net: The network (``class_path: litfashion.models.CNN``, ...), its ``init_args`` without the input shape
            and class count, which are passed here.
        init_weights: A local ``state_dict`` file (an earlier run's ``litfashion export`` ``model_weights.pth``)
            the network starts from, to fine-tune; loaded with ``weights_only=True``.
        channels_last: Store convolution weights and image batches as NHWC, the layout in which the CPU
            convolutions here ran faster (BENCHMARKS.md, "Networks").
        test_time_flip: Also score each evaluated image's mirror image (validate, test, predict): twice the
            evaluation cost.
        test_time_shift: Also score each evaluated image (and its mirror, with ``test_time_flip``) moved by this
            many pixels down-right and up-left, edges replicated: a small translation the network saw in
            training (``BatchAugment(max_shift=...)``) is averaged out. 0 for none; each shift adds two
            forward passes per view. Not saved in checkpoints: how to evaluate is the run's choice.
        compile: Run the network through ``torch.compile`` (inductor) in training and evaluation; the weights and
            checkpoints are the plain network's. Needs a C++ compiler on the CPU, checked when the run starts.
            Not saved in checkpoints.
        label_smoothing: Cross-entropy label smoothing, in [0, 1).
        optimizer: Any ``torch.optim`` optimizer by ``class_path`` (``torch.optim.SGD``, ...).
        scheduler: Any learning-rate scheduler by ``class_path``; one that needs the run's length
            (``OneCycleLR``'s ``total_steps``) gets the Trainer's count of optimizer steps.
        scheduler_interval: Step the scheduler every ``epoch`` or every optimizer ``step``.
        scheduler_monitor: Metric that ``ReduceLROnPlateau`` watches.
    """

    def __init__(
        self,
        input_shape: Sequence[int] = (1, 28, 28),
        num_classes: int = 10,
        class_names: Sequence[str] | None = None,
        net: NetCallable = MLP,
        init_weights: ConfigPath | None = None,
        channels_last: bool = False,
        test_time_flip: bool = False,
        test_time_shift: int = 0,
        compile: bool = False,
        label_smoothing: float = 0.0,
        optimizer: OptimizerCallable = torch.optim.SGD,
        scheduler: LRSchedulerCallable | None = None,
        scheduler_interval: Literal["epoch", "step"] = "epoch",
        scheduler_monitor: str = "val/loss",
    ) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ConfigError(f"model.label_smoothing must be in [0, 1), got {label_smoothing}")
        if class_names is not None and len(class_names) != num_classes:
            raise ConfigError(f"{len(class_names)} class_names for num_classes={num_classes}")
        if test_time_shift < 0:
            raise ConfigError(f"model.test_time_shift must be >= 0, got {test_time_shift}")
        # How to evaluate and whether to compile are the run's choice, not the trained model's: left out of the
        # checkpoint, so a test of any checkpoint takes them from its own config.
        self.save_hyperparameters(ignore=["test_time_shift", "compile"])
        self.test_time_shift = test_time_shift
        self.use_compile = compile  # not ``self.compile``: that is nn.Module's own method
        if callable(self.hparams.net):
            self.hparams.net = net_spec(self.hparams.net)
        for key in ("optimizer", "scheduler"):
            # The CLI records these as plain {class_path, init_args}; called directly they are Python callables,
            # which would make the checkpoint unloadable with weights_only=True: keep their name instead.
            if callable(self.hparams[key]):
                self.hparams[key] = getattr(self.hparams[key], "__qualname__", repr(self.hparams[key]))
        self.net = build_net(net_factory(net), input_shape, num_classes, self.hparams.net["class_path"])
        if init_weights is not None:
            load_init_weights(self.net, init_weights)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        # The factories themselves: ``hparams`` holds only their names (above).
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.example_input_array = torch.zeros(1, *input_shape)
        # The compiled callable, kept outside the module's children so the state_dict keys stay the network's.
        self._compiled_net: Any = None

        self.train_metrics = LossAndAccuracy()
        self.val_loss = MeanMetric()
        self.val_acc = MulticlassAccuracy(num_classes, average="micro")
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # saved in checkpoints: a resumed run keeps the best so far
        self.test_loss = MeanMetric()
        self.test_acc = MulticlassAccuracy(num_classes, average="micro")

    @property
    def class_names(self) -> list[str]:
        """The class names in index order (``0``, ``1``, ... when none were given)."""
        names = self.hparams.class_names
        return list(names) if names else [str(i) for i in range(self.hparams.num_classes)]

    def setup(self, stage: str) -> None:
        if self.use_compile and self._compiled_net is None:
            # The strategy's device: the module itself is only moved there after this hook.
            object.__setattr__(self, "_compiled_net", compile_net(self.net, self.trainer.strategy.root_device))
        datamodule = self.trainer.datamodule
        train_set = getattr(datamodule, "train_set", None)
        if stage == "fit" and train_set is not None and datamodule.hparams.get("batch_size"):
            check_last_training_batch(self.net, len(train_set), datamodule.hparams.batch_size, self.trainer.world_size)

    def forward(self, x: Tensor) -> Tensor:
        if self.hparams.channels_last and x.ndim == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        if self._compiled_net is not None and not torch.jit.is_tracing():  # TensorBoard's graph traces the plain net
            return self._compiled_net(x)
        return self.net(x)

    def _logits(self, x: Tensor) -> Tensor:
        """The network's logits; when evaluating with ``test_time_flip`` or ``test_time_shift``, the log of the
        mean softmax over the views of each image (garments are left-right symmetric and roughly centred), one
        forward pass a view."""
        if self.training or not (self.hparams.test_time_flip or self.test_time_shift):
            return self(x)
        views = test_time_views(x, self.hparams.test_time_flip, self.test_time_shift)
        return torch.stack([self(view).softmax(dim=1) for view in views]).mean(dim=0).log()

    def _step(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Loss, logits and class-index targets; probability targets (one-hot) are scored by their argmax."""
        x, y = batch
        logits = self._logits(x)
        loss = self.loss_fn(logits, y)
        return loss, logits, (y if y.ndim == 1 else y.argmax(dim=1))

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        loss, logits, target = self._step(batch)
        self.train_metrics.update(loss, logits, target)
        # `self.log` is costly per call (see BENCHMARKS.md): call it only on the steps the logger writes, as
        # Lightning's own LearningRateMonitor does; the progress bar shows the loss as of the last one.
        if logs_this_step(self.trainer):
            self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def on_train_epoch_end(self) -> None:
        if self.train_metrics.update_called:
            loss, accuracy = self.train_metrics.compute()
            # Epoch values come from torchmetrics, already reduced over ranks: sync_dist averages equal values
            # (no change) and keeps Lightning from warning under DDP that they were not synced.
            self.log("train/loss_epoch", loss, sync_dist=True)
            self.log("train/acc", accuracy, sync_dist=True)
        self.train_metrics.reset()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """The epoch's training loss and accuracy so far, so an epoch resumed mid-way reports all its batches."""
        checkpoint[TRAIN_METRICS_KEY] = {name: state.clone() for name, state in self.train_metrics.metric_state.items()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        for name, state in (checkpoint.get(TRAIN_METRICS_KEY) or {}).items():
            if name in self.train_metrics.metric_state:
                setattr(self.train_metrics, name, state.to(getattr(self.train_metrics, name).device))

    def on_train_start(self) -> None:
        if self.trainer.ckpt_path is None:
            self.val_acc_best.reset()

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """Returns the predictions for the callbacks that draw them (confusion matrix, misclassified samples)."""
        loss, logits, target = self._step(batch)
        self.val_loss.update(loss, weight=len(target))
        preds = logits.argmax(dim=1)
        self.val_acc.update(preds, target)
        return {"preds": preds, "target": target}

    def on_validation_epoch_end(self) -> None:
        acc = self.val_acc.compute()
        self.log("val/loss", self.val_loss.compute(), prog_bar=True, sync_dist=True)
        self.log("val/acc", acc, prog_bar=True, sync_dist=True)
        self.val_loss.reset()
        self.val_acc.reset()
        if not self.trainer.sanity_checking:
            self.val_acc_best.update(acc)
            self.log("val/acc_best", self.val_acc_best.compute(), sync_dist=True)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        loss, logits, target = self._step(batch)
        self.test_loss.update(loss, weight=len(target))
        self.test_acc.update(logits, target)

    def on_test_epoch_end(self) -> None:
        self.log("test/loss", self.test_loss.compute(), sync_dist=True)
        self.log("test/acc", self.test_acc.compute(), sync_dist=True)
        self.test_loss.reset()
        self.test_acc.reset()

    def predict_step(self, batch: Any, batch_idx: int) -> dict[str, Any]:
        """Per sample: the class index, its name and its softmax probability (and all probabilities)."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        probs = self._logits(x).softmax(dim=1)
        prob, index = probs.max(dim=1)
        return {
            "class_index": index,
            "class_name": [self.class_names[i] for i in index.tolist()],
            "probability": prob,
            "probabilities": probs,
        }

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer(self.parameters())
        if self.scheduler is None:
            return optimizer
        scheduler = build_scheduler(self.scheduler, optimizer, self.trainer.estimated_stepping_batches)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": scheduler,
                "interval": self.hparams.scheduler_interval,
                "monitor": self.hparams.scheduler_monitor,
            },
        }
