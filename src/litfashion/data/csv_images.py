"""The user's own images, described by annotation CSVs: the tutorial's ``CustomImageDataset`` as a data module.

A CSV names an image (relative to an image root) and a label per row. All CSVs are read and checked when the
data module is built, so bad rows are reported before Lightning creates its log folder or runs a step.
Images are decoded with PIL (``litfashion.data.image_decoding``) into ``uint8`` tensors, brought to one channel
mode and size, and scaled to floats on the device, as for FashionMNIST.
"""

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from litfashion.config_paths import ConfigPath
from litfashion.data.base import ImageDataModule
from litfashion.data.csv_annotations import (
    MAX_LISTED,
    Annotations,
    LabelIndex,
    read_annotations,
    read_image_folder,
)
from litfashion.data.image_decoding import ColorMode, ImageDecodeError, decode_image_file
from litfashion.data.split import holdout_split
from litfashion.errors import ConfigError, ImageDataError


class ImageFiles(Dataset):
    """Images on disk, decoded one at a time; ``targets=None`` yields bare images (a predict folder).

    ``sample_names`` (the paths as the CSV wrote them) name the rows of ``predict`` output.
    """

    def __init__(
        self,
        annotations: Annotations,
        targets: Sequence[int] | None = None,
        transform: Callable[[Tensor], Tensor] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        mode: ColorMode = "unchanged",
    ) -> None:
        self.annotations = annotations
        self.targets = list(targets) if targets is not None else None
        self.transform = transform
        self.target_transform = target_transform
        self.mode = mode
        self.sample_names = annotations.names
        self.unreadable: list[str] = []

    def __len__(self) -> int:
        return len(self.annotations)

    def decode(self, index: int) -> Tensor:
        """The image at ``index`` as ``uint8 [C, H, W]``; a file that cannot be decoded names itself and its row."""
        path = self.annotations.paths[index]
        try:
            return decode_image_file(path, self.mode)
        except (ImageDecodeError, OSError) as err:
            line = self.annotations.lines[index]
            where = f"{self.annotations.source} line {line}" if line else self.annotations.source
            reason = " ".join(str(err).split())
            raise ImageDataError(f"{path} ({where}): cannot decode the image: {reason}") from None

    def __getitem__(self, index: int) -> Any:
        image = self.decode(index)
        if self.transform is not None:
            image = self.transform(image)
        if self.targets is None:
            return image
        label = self.targets[index]
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def subset(self, indices: Sequence[int]) -> "ImageFiles":
        a = self.annotations
        rows = Annotations(
            a.source,
            [a.names[i] for i in indices],
            [a.paths[i] for i in indices],
            [a.labels[i] for i in indices] if a.labels is not None else None,
            [a.lines[i] for i in indices],
        )
        targets = [self.targets[i] for i in indices] if self.targets is not None else None
        return ImageFiles(rows, targets, self.transform, self.target_transform, self.mode)


class DecodeAttempts(Dataset):
    """Each image of ``files`` (transformed), or why it cannot be decoded: a pass that lists every bad image
    instead of stopping at the first, in worker processes as well."""

    def __init__(self, files: ImageFiles) -> None:
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[int, Tensor | None, str | None]:
        try:
            image = self.files.decode(index)
        except ImageDataError as err:
            return index, None, str(err)
        if self.files.transform is not None:
            image = self.files.transform(image)
        return index, image, None


def collate_attempts(batch: list[tuple[int, Tensor | None, str | None]]) -> tuple[list[int], Tensor | None, list[str]]:
    """One tensor of the images that decoded (one shared-memory transfer per batch), their indices, the problems."""
    decoded = [(index, image) for index, image, _ in batch if image is not None]
    images = torch.stack([image for _, image in decoded]) if decoded else None
    return [index for index, _ in decoded], images, [problem for _, _, problem in batch if problem is not None]


def decode_pass(files: ImageFiles, num_workers: int, keep: bool) -> tuple[list[int], list[Tensor], list[str]]:
    """Decode every image once: the indices that decode, their images in batches (with ``keep``), and one line
    per image that does not."""
    # Its own generator: drawing worker seeds from the global RNG would change the training order.
    attempts = DataLoader(
        DecodeAttempts(files),
        batch_size=256,
        num_workers=num_workers,
        collate_fn=collate_attempts,
        generator=torch.Generator(),
    )
    readable: list[int] = []
    images: list[Tensor] = []
    problems: list[str] = []
    for indices, batch, batch_problems in attempts:
        readable += indices
        problems += [" ".join(problem.split()) for problem in batch_problems]
        if keep and batch is not None:
            images.append(batch)
    return readable, images, problems


def undecodable(files: ImageFiles, problems: Sequence[str], consequence: str = "") -> str:
    """``N of M images of SOURCE cannot be decoded:`` and the images, one a line."""
    listed = "\n  ".join(problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    count = f"{len(problems)} of {len(files)} images of {files.annotations.source} cannot be decoded"
    return f"{count}{f' ({consequence})' if consequence else ''}:\n  {listed}{more}"


class CSVImageDataset(ImageFiles):
    """The tutorial's ``CustomImageDataset``: an annotations CSV, an image folder, ``transform``, ``target_transform``.

    The CSV's first line names its columns (``image,label`` by default). Labels are class indices or class
    names (see ``LabelIndex``); every row is checked when the dataset is built.
    """

    def __init__(
        self,
        annotations_file: str | Path,
        img_dir: str | Path,
        transform: Callable[[Tensor], Tensor] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        *,
        class_names: Sequence[str] | None = None,
        image_column: str = "image",
        label_column: str = "label",
        mode: ColorMode = "unchanged",
    ) -> None:
        annotations = read_annotations(annotations_file, img_dir, image_column, label_column)
        labels = LabelIndex(class_names, annotations)
        self.class_names = labels.class_names
        super().__init__(annotations, labels.indices(annotations), transform, target_transform, mode)


class CSVImageDataModule(ImageDataModule):
    """Training, validation, test and predict data from annotation CSVs and image folders.

    Args:
        train_csv: Rows ``image,label`` for training; the classes are read from it unless ``class_names`` is set.
        val_csv: Validation rows; without it, ``val_fraction`` of ``train_csv`` is held out (seeded).
        test_csv: Rows for ``litfashion test`` (and ``predict`` when neither predict source is set).
        predict_csv: Images to predict, one per row (a label column, if any, is ignored).
        predict_dir: A folder whose PNG/JPEG files (recursively) are predicted, named by relative path.
        image_root: Folder the CSV paths are relative to; default: each CSV's own folder.
        image_column: CSV column with the image paths.
        label_column: CSV column with the labels: class indices (0, 1, ...) or class names.
        class_names: Class names in index order; default: from ``train_csv`` (sorted names, or ``0..max``).
        image_size: ``[height, width]`` every image is resized to; default: the first training image's size.
        color_mode: ``grayscale`` (1 channel) or ``rgb`` (3 channels); every image is converted to it.
        batch_size: Samples per training batch on each device.
        eval_batch_size: Samples per validation/test/predict batch; defaults to ``batch_size``.
        val_fraction: Share of ``train_csv`` held out when ``val_csv`` is not set.
        split_seed: Seed of that held-out split.
        shuffle: Reshuffle the training set every epoch.
        cache: Decode the labelled sets once into one ``uint8`` tensor in memory (the fast path that
            FashionMNIST uses); later epochs decode nothing. Needs ``N x C x H x W`` bytes of memory per set.
        train_transforms: Per-sample transforms on ``uint8 [C, H, W]`` training images (augmentations).
        one_hot_targets: Give the model one-hot float targets.
        num_workers: DataLoader worker processes; they persist across epochs and decode in parallel (and
            decode the cache).
        pin_memory: Pin host memory for faster transfers to a GPU.
    """

    def __init__(
        self,
        train_csv: ConfigPath | None = None,
        val_csv: ConfigPath | None = None,
        test_csv: ConfigPath | None = None,
        predict_csv: ConfigPath | None = None,
        predict_dir: ConfigPath | None = None,
        image_root: ConfigPath | None = None,
        image_column: str = "image",
        label_column: str = "label",
        class_names: list[str] | None = None,
        image_size: list[int] | None = None,
        color_mode: Literal["grayscale", "rgb"] = "grayscale",
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        shuffle: bool = True,
        cache: bool = False,
        train_transforms: list[nn.Module] | None = None,
        one_hot_targets: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        super().__init__(train_transforms)
        self._check_settings()
        self.mode: ColorMode = color_mode

        self.rows = self._read_all()
        self.labels = self._label_index(class_names)
        self.targets = self._check_labels()
        self.class_names = self.labels.class_names
        self.num_classes = len(self.class_names)
        self.image_size = list(image_size) if image_size else self._first_image_size()
        self.input_shape = [1 if color_mode == "grayscale" else 3, *self.image_size]
        self.resize = v2.Resize(self.image_size, antialias=True)
        # Log what was resolved: it must also match the model's linked ``class_names`` when hparams merge.
        self.save_hyperparameters({"class_names": self.class_names, "image_size": self.image_size})

    def _check_settings(self) -> None:
        args = self.hparams
        if args["train_csv"] and not args["val_csv"] and not 0 < args["val_fraction"] < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1) without data.val_csv, got {args['val_fraction']}")
        if args["predict_csv"] and args["predict_dir"]:
            raise ConfigError("set data.predict_csv or data.predict_dir, not both")
        size = args["image_size"]
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ConfigError(f"data.image_size must be [height, width] of positive sizes, got {size}")
        if not any(args[name] for name in ("train_csv", "val_csv", "test_csv", "predict_csv", "predict_dir")):
            raise ConfigError("set at least data.train_csv (or a val/test/predict CSV, or data.predict_dir)")

    def _read_all(self) -> dict[str, Annotations]:
        """Read every configured CSV and folder; one error lists the problems of all of them."""
        args = self.hparams
        rows, errors = {}, []
        for name in ("train_csv", "val_csv", "test_csv", "predict_csv", "predict_dir"):
            if not args[name]:
                continue
            try:
                if name == "predict_dir":
                    rows[name] = read_image_folder(args[name])
                else:
                    label = args["label_column"] if name != "predict_csv" else None
                    rows[name] = read_annotations(args[name], args["image_root"], args["image_column"], label)
            except ImageDataError as err:
                errors.append(f"data.{name}: {err}")
        if errors:
            raise ImageDataError("\n".join(errors))
        return rows

    def _label_index(self, class_names: list[str] | None) -> LabelIndex:
        return LabelIndex(class_names, self.rows.get("train_csv"))

    def _check_labels(self) -> dict[str, list[int]]:
        targets, errors = {}, []
        for name in ("train_csv", "val_csv", "test_csv"):
            if name in self.rows:
                try:
                    targets[name] = self.labels.indices(self.rows[name])
                except ImageDataError as err:
                    errors.append(f"data.{name}: {err}")
        if errors:
            raise ImageDataError("\n".join(errors))
        return targets

    def _first_image_size(self) -> list[int]:
        name = next(iter(self.rows))
        return list(ImageFiles(self.rows[name]).decode(0).shape[-2:])

    def _files(self, name: str, transform: nn.Module | None = None) -> ImageFiles:
        return ImageFiles(self.rows[name], self.targets.get(name), transform or self.resize, mode=self.mode)

    def setup(self, stage: str) -> None:
        if stage in ("fit", "validate") and self.train_set is None and "train_csv" in self.rows:
            train = self._files("train_csv")
            if "val_csv" in self.rows:
                val = self._files("val_csv")
            else:
                val_idx, train_idx = holdout_split(len(train), self.hparams.val_fraction, self.hparams.split_seed)
                val, train = train.subset(val_idx.tolist()), train.subset(train_idx.tolist())
            self.train_set = self._labelled(train, self.train_transform)
            self.val_set = self._labelled(val)
        if stage in ("fit", "validate") and self.val_set is None:
            if "val_csv" not in self.rows:
                raise ConfigError(f"`{stage}` needs data.train_csv or data.val_csv")
            self.val_set = self._labelled(self._files("val_csv"))
        if stage == "test" and self.test_set is None:
            if "test_csv" not in self.rows:
                raise ConfigError("`test` needs data.test_csv")
            self.test_set = self._labelled(self._files("test_csv"))
        if stage == "predict" and self.predict_set is None:
            source = next((n for n in ("predict_csv", "predict_dir", "test_csv") if n in self.rows), None)
            if source is None:
                raise ConfigError("`predict` needs data.predict_dir, data.predict_csv or data.test_csv")
            self.predict_set = self._readable(ImageFiles(self.rows[source], None, self.resize, mode=self.mode))

    def prepare_data(self) -> None:
        """Run the decode passes (``cache``, ``predict``) now: Lightning calls this before it creates the run's
        log folder, so an undecodable image stops the run with nothing written. ``setup`` then reuses the sets."""
        stage = self.trainer.state.fn if self.trainer is not None else None
        if stage is not None and (self.hparams.cache or stage == "predict"):
            self.setup(stage)

    def _readable(self, files: ImageFiles) -> ImageFiles:
        """The images to predict that decode; those that do not are listed, and named in ``files.unreadable``
        for the prediction writer. None decoding is an error."""
        readable, _, problems = decode_pass(files, self.hparams.num_workers, keep=False)
        if not readable:
            raise ImageDataError(undecodable(files, problems))
        if not problems:
            return files
        if self.trainer is None or self.trainer.is_global_zero:
            left_out = "left out of the predictions, and marked unreadable in them"
            print(f"litfashion: warning: {undecodable(files, problems, left_out)}", file=sys.stderr)
        kept = files.subset(readable)
        bad = sorted(set(range(len(files))) - set(readable))
        kept.unreadable = [files.sample_names[i] for i in bad]
        return kept

    def _labelled(self, files: ImageFiles, train_transform: nn.Module | None = None) -> Dataset:
        """The set as files decoded per sample, or (``cache``) decoded once into one uint8 tensor."""
        if not self.hparams.cache:
            if train_transform is not None:
                files.transform = v2.Compose([self.resize, train_transform])
            return files
        return self.in_memory(*self._decode_all(files), train_transform)

    def _decode_all(self, files: ImageFiles) -> tuple[Tensor, Tensor]:
        readable, images, problems = decode_pass(files, self.hparams.num_workers, keep=True)
        if problems:
            raise ImageDataError(undecodable(files, problems))
        return torch.cat(images), torch.as_tensor([files.targets[i] for i in readable])
