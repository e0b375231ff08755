"""Fashion-MNIST, offline first.

One loader for the grader, the tests, the experiment and the notebooks. It
looks for the four original files, in this order:

1. the directory named by the ``FASHION_MNIST_DIR`` environment variable;
2. Keras's cache (``$KERAS_HOME/datasets/fashion-mnist`` or
   ``~/.keras/datasets/fashion-mnist``);
3. where Debian's ``dataset-fashion-mnist`` package installs them
   (``/usr/share/datasets/fashion-mnist``);

and verifies each file's decompressed content against a SHA-256 checksum.
Only when no directory holds the files does it fall back to
``keras.datasets.fashion_mnist.load_data()``, which downloads them.
A corrupt or truncated file raises :class:`DatasetError` naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: SHA-256 of each file's *decompressed* bytes, and that size. Checking the
#: decompressed content accepts Keras's download and Debian's recompressed
#: copy alike, while catching any change to the data.
FILES = {
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        60008,
    ),
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        47040016,
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        10008,
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        7840016,
    ),
}


class DatasetError(RuntimeError):
    """A Fashion-MNIST file is missing, truncated or corrupt."""


def keras_cache_dir() -> Path:
    """Directory where ``keras.datasets.fashion_mnist`` caches its files."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "fashion-mnist"


def candidate_dirs() -> list[Path]:
    """Directories searched for the files, in order of preference."""
    dirs = []
    if os.environ.get(ENV_VAR):
        dirs.append(Path(os.environ[ENV_VAR]))
    dirs += [keras_cache_dir(), DEBIAN_DIR]
    return dirs


def find_local_dir() -> Path | None:
    """First candidate directory holding all four files, or None.

    When ``FASHION_MNIST_DIR`` is set, it must hold them: a missing file there
    is an error rather than a silent fall-through to another copy.
    """
    for index, directory in enumerate(candidate_dirs()):
        present = [(directory / name).is_file() for name in FILES]
        if all(present):
            return directory
        if index == 0 and os.environ.get(ENV_VAR):
            missing = [name for name, ok in zip(FILES, present) if not ok]
            raise DatasetError(f"{ENV_VAR}={directory} lacks {', '.join(missing)}")
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read and verify one gzip-compressed IDX file.

    Args:
        path: one of the four Fashion-MNIST files.

    Returns:
        uint8 array: labels of shape (n,) or images of shape (n, 28, 28).

    Raises:
        DatasetError: the file is unreadable, truncated or does not match
            its checksum.
    """
    expected_sha, expected_size = FILES[path.name]
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: unreadable or truncated gzip file ({exc})") from exc
    if len(raw) != expected_size:
        raise DatasetError(f"{path}: {len(raw)} bytes once decompressed, expected {expected_size}")
    if hashlib.sha256(raw).hexdigest() != expected_sha:
        raise DatasetError(f"{path}: checksum mismatch, the file is corrupt")
    if "labels" in path.name:
        return np.frombuffer(raw, np.uint8, offset=8).copy()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28).copy()


def load_from_dir(directory: Path):
    """Load the four verified arrays from ``directory``."""
    directory = Path(directory)
    for name in FILES:
        if not (directory / name).is_file():
            raise DatasetError(f"{directory / name}: file not found")
    y_train = read_idx(directory / "train-labels-idx1-ubyte.gz")
    x_train = read_idx(directory / "train-images-idx3-ubyte.gz")
    y_test = read_idx(directory / "t10k-labels-idx1-ubyte.gz")
    x_test = read_idx(directory / "t10k-images-idx3-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)


def load_fashion_mnist():
    """Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` returns it.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 arrays of shapes
        (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).
    """
    directory = find_local_dir()
    if directory is not None:
        return load_from_dir(directory)
    from tensorflow import keras  # the download path only

    return keras.datasets.fashion_mnist.load_data()
