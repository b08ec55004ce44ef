"""Reading and checking annotation CSVs (``image,label`` rows) before any image is decoded.

Every problem found in a file is collected with its CSV line number and reported in one error, so a user
fixes the whole file in one pass instead of meeting the problems one run at a time.
"""

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from litfashion.errors import ImageDataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Problems listed in one error; the rest are counted.
MAX_LISTED = 50


@dataclass(frozen=True)
class Annotations:
    """The rows of one CSV: image paths (absolute, checked to exist), raw labels, and CSV line numbers."""

    source: str
    names: list[str]
    paths: list[Path]
    labels: list[str] | None
    lines: list[int]

    def __len__(self) -> int:
        return len(self.paths)


def report(source: str, problems: Sequence[str]) -> ImageDataError:
    """One error listing every problem of ``source``."""
    listed = "\n  ".join(problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    return ImageDataError(f"{source}: {count}:\n  {listed}{more}")


def inside(root: Path, name: str) -> Path | None:
    """``name`` joined to ``root`` if it stays inside ``root`` (no ``..`` escape, no outside absolute path)."""
    path = Path(os.path.normpath(os.path.join(os.path.abspath(root), name)))
    return path if path.is_relative_to(os.path.abspath(root)) else None


def read_annotations(
    csv_path: str | Path,
    image_root: str | Path | None = None,
    image_column: str = "image",
    label_column: str | None = "label",
) -> Annotations:
    """Read ``csv_path``; raise one ``ImageDataError`` listing every bad row. Paths are relative to ``image_root``
    (default: the CSV's folder). ``label_column=None`` reads images only; a predict CSV may lack labels."""
    csv_path = Path(csv_path)
    root = Path(image_root) if image_root is not None else csv_path.parent
    source = str(csv_path)
    if not csv_path.is_file():
        raise ImageDataError(f"{source}: annotations CSV not found")
    if not root.is_dir():
        raise ImageDataError(f"{source}: image root {root} is not a folder")
    with csv_path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ImageDataError(f"{source}: empty file; the first line must be a header such as `image,label`")
        header = [name.strip() for name in header]
        wanted = [image_column] + ([label_column] if label_column else [])
        missing = [name for name in wanted if name not in header]
        if missing:
            raise ImageDataError(
                f"{source}: line 1 (header) lacks column(s) {', '.join(missing)}; found {', '.join(header)}. "
                f"The first line must name the columns, e.g. `{','.join(wanted)}`"
            )
        image_at = header.index(image_column)
        label_at = header.index(label_column) if label_column else None
        names: list[str] = []
        paths: list[Path] = []
        labels: list[str] = []
        lines: list[int] = []
        problems: list[str] = []
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(field.strip() for field in row):
                continue
            if len(row) != len(header):
                problems.append(f"line {line}: {len(row)} fields, the header has {len(header)}")
                continue
            name = row[image_at].strip()
            label = row[label_at].strip() if label_at is not None else ""
            if not name:
                problems.append(f"line {line}: empty image path")
                continue
            path = inside(root, name)
            if path is None:
                problems.append(f"line {line}: image {name!r} is outside the image root {root}")
            elif not path.is_file():
                problems.append(f"line {line}: image {name!r} not found under {root}")
            if label_at is not None and not label:
                problems.append(f"line {line}: empty label")
            names.append(name)
            paths.append(path or Path(name))
            labels.append(label)
            lines.append(line)
    if problems:
        raise report(source, problems)
    if not paths:
        raise ImageDataError(f"{source}: no rows after the header; it needs at least one `{','.join(wanted)}` row")
    return Annotations(source, names, paths, labels if label_column else None, lines)


def read_image_folder(folder: str | Path) -> Annotations:
    """Every PNG/JPEG below ``folder`` (sorted), named by its path relative to ``folder``; no labels."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageDataError(f"{folder}: image folder not found")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise ImageDataError(f"{folder}: no {'/'.join(IMAGE_SUFFIXES)} images in this folder")
    return Annotations(str(folder), [p.relative_to(folder).as_posix() for p in paths], paths, None, [0] * len(paths))


def is_index(label: str) -> bool:
    return label.isascii() and label.isdigit()


class LabelIndex:
    """Maps CSV labels to class indices, in a stable order.

    With ``class_names`` given, a label is one of the names or an index into them. Without, the training CSV
    decides: integer labels are indices (classes ``0..max``); otherwise the sorted distinct labels are the names.
    """

    def __init__(self, class_names: Sequence[str] | None, train: Annotations | None) -> None:
        if class_names is not None:
            duplicated = sorted({n for n in class_names if list(class_names).count(n) > 1})
            if not class_names or duplicated:
                raise ImageDataError(f"data.class_names must be non-empty and distinct; repeated: {duplicated}")
            self.class_names = [str(n) for n in class_names]
            self.by_index = False
            self.accepts_indices = True
        elif train is None or train.labels is None:
            raise ImageDataError("data.class_names is needed when there is no training CSV to read the classes from")
        else:
            numbers = [label for label in train.labels if is_index(label)]
            self.by_index = self.accepts_indices = len(numbers) * 2 >= len(train.labels)
            if self.by_index:
                self.class_names = [str(i) for i in range(max(int(n) for n in numbers) + 1)]
            else:
                self.class_names = sorted({label for label in train.labels if not is_index(label)})
        self._index = {name: i for i, name in enumerate(self.class_names)}

    def indices(self, annotations: Annotations) -> list[int]:
        """Class index of every row; raises one error listing each row whose label is unknown."""
        assert annotations.labels is not None
        found, problems = [], []
        for label, line in zip(annotations.labels, annotations.lines, strict=True):
            index = self._lookup(label)
            if index is None:
                problems.append(f"line {line}: {self._why(label)}")
            found.append(index if index is not None else -1)
        if problems:
            raise report(annotations.source, problems)
        return found

    def _lookup(self, label: str) -> int | None:
        if label in self._index and not self.by_index:
            return self._index[label]
        if self.accepts_indices and is_index(label) and int(label) < len(self.class_names):
            return int(label)
        return None

    def _why(self, label: str) -> str:
        if self.by_index and not is_index(label):
            return (
                f"label {label!r} is not a class index like the other labels (set data.class_names to use class names)"
            )
        if self.accepts_indices and is_index(label):
            return f"label {label!r} is not a known class index (0..{len(self.class_names) - 1})"
        shown = ", ".join(self.class_names[:20]) + (", ..." if len(self.class_names) > 20 else "")
        return f"label {label!r} is not a known class ({shown})"
