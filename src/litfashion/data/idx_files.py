"""Finding the FashionMNIST IDX files offline first, and checking them before use.

Debian's ``dataset-fashion-mnist`` ships the four ``*-ubyte.gz`` files recompressed, so torchvision's md5 of
the ``.gz`` fails on them even though the content is the same. We check the decompressed files instead: the
IDX magic number, the dimensions, and that the file holds exactly as many bytes as its header promises.
"""

import gzip
import math
import os
import shutil
import struct
from pathlib import Path

from litfashion.errors import DataNotFoundError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_ENV = "LITFASHION_FASHION_MNIST_DIR"
FILES = {
    "train-images-idx3-ubyte": 3,
    "train-labels-idx1-ubyte": 1,
    "t10k-images-idx3-ubyte": 3,
    "t10k-labels-idx1-ubyte": 1,
}
_UBYTE = 0x08


def raw_dir(data_dir: str | Path) -> Path:
    """Where torchvision's ``FashionMNIST(root=data_dir)`` reads the decompressed files."""
    return Path(data_dir) / "FashionMNIST" / "raw"


def idx_problem(path: Path, ndim: int) -> str | None:
    """Why ``path`` is not a complete IDX file of ``ndim`` dimensions, or None if it is."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(4 + 4 * ndim)
    except OSError as err:
        return err.strerror or str(err)
    if len(header) < 4 + 4 * ndim:
        return "truncated header"
    zero, dtype, dims = struct.unpack(">HBB", header[:4])
    if zero != 0 or dtype != _UBYTE or dims != ndim:
        return f"not an IDX uint8 file of {ndim} dimension(s)"
    shape = struct.unpack(f">{ndim}I", header[4:])
    count = math.prod(shape)
    if size != len(header) + count:
        return f"holds {size} bytes, its header {shape} promises {len(header) + count}"
    return None


def dataset_problems(folder: Path) -> list[str]:
    """Problems with the decompressed files in ``folder``; empty when all four are sound."""
    problems = []
    for name, ndim in FILES.items():
        why = idx_problem(folder / name, ndim)
        if why:
            problems.append(f"{folder / name}: {why}")
    return problems


def resolve_source(source_dir: str | Path | None) -> Path:
    """The folder to take the ``*-ubyte.gz`` files from: the one named in the config, else the one named by
    the environment, else Debian's. Only the first that is set is used, so a wrong setting is reported, not
    silently replaced by another copy."""
    chosen = source_dir or os.environ.get(SOURCE_ENV) or DEBIAN_DIR
    return Path(chosen).expanduser()


def unpack_from(source: Path, target: Path) -> list[str]:
    """Decompress the four ``.gz`` files of ``source`` into ``target``; return problems (empty on success)."""
    missing = [f"{source / (name + '.gz')}: missing" for name in FILES if not (source / (name + ".gz")).is_file()]
    if missing:
        return missing
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        # One partial file per process: parallel runs (sweep workers) unpacking at once each replace the
        # file whole, instead of writing into, and renaming away, one shared partial file.
        partial = target / f"{name}.{os.getpid()}.partial"
        try:
            with gzip.open(source / (name + ".gz"), "rb") as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError) as err:
            partial.unlink(missing_ok=True)
            return [f"{source / (name + '.gz')}: cannot decompress ({err})"]
        partial.replace(target / name)
    return dataset_problems(target)


def not_found(data_dir: Path, tried: list[str]) -> DataNotFoundError:
    lines = "\n  ".join(tried)
    return DataNotFoundError(
        f"FashionMNIST was not found.\n  {lines}\n"
        f"Get it with `apt-get install dataset-fashion-mnist` (Debian), or put the four *-ubyte.gz files in a "
        f"folder and name it with `--data.init_args.source_dir DIR` or the {SOURCE_ENV} environment variable, "
        f"or allow a download with network access (`--data.init_args.download true`). Data dir: {data_dir}"
    )
