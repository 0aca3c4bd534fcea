"""Image data sets as in-memory tensors, found offline first.

Introduced in chapter 01. ``load_fashion_mnist()`` looks for the data in this order:

1. the cache directory (``COURSE_DATA_DIR``, default ``~/.cache/course_utils``), torchvision's layout
   ``<cache>/FashionMNIST/raw/*-ubyte``;
2. Debian's copy under ``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``),
   decompressed into the cache the first time;
3. torchvision's download, when the machine is online;
4. the small real subset shipped inside this package (4,000 training and 1,000 test images),
   with one warning line when a full-size run has to fall back to it.

MNIST and CIFAR-10 are selectable by name through ``load_dataset`` (cache, then download).
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

from . import runtime

FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
MNIST_CLASSES = [str(i) for i in range(10)]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

DATASETS = ("fashion_mnist", "mnist", "cifar10")
SYSTEM_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
BUNDLED_DIR = Path(__file__).parent / "_data" / "fashion_mnist_subset"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET_FASHION = (
    "get it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or run once with a "
    "network connection (torchvision downloads it), or copy the four IDX files into {raw}"
)


class DataNotFoundError(FileNotFoundError):
    """The requested data set is neither on disk nor downloadable."""


class SubsetWarning(UserWarning):
    """A full-size run is using the small bundled subset instead of the full data."""


@dataclass
class ImageData:
    """Train and test images (N, C, H, W) float32 in [0, 1] with int64 labels and class names."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    classes: list
    name: str
    source: str

    def __repr__(self) -> str:
        return (
            f"ImageData({self.name}: train {tuple(self.X_train.shape)}, test {tuple(self.X_test.shape)}, "
            f"{len(self.classes)} classes, source: {self.source})"
        )


def data_dir(root: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``root`` if given, else ``$COURSE_DATA_DIR``, else ``~/.cache/course_utils``."""
    if root is not None:
        return Path(root).expanduser()
    return runtime.cache_dir()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or .gz) of unsigned bytes into a NumPy array of its stored shape."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (its header is {raw[:4]!r}).")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {data.size} bytes of data.")
    return data.reshape(dims)


def write_idx(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write a uint8 array as an IDX file (gzip-compressed when the name ends in .gz)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    path = Path(path)
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:  # same bytes each run
            f.write(header + array.tobytes())
    else:
        path.write_bytes(header + array.tobytes())


def _idx_set_in(folder: Path, suffix: str) -> dict | None:
    paths = {k: folder / (v + suffix) for k, v in IDX_FILES.items()}
    return paths if all(p.is_file() for p in paths.values()) else None


def _arrays_from_idx(paths: dict) -> tuple:
    X_train, y_train = read_idx(paths["train_images"]), read_idx(paths["train_labels"])
    X_test, y_test = read_idx(paths["test_images"]), read_idx(paths["test_labels"])
    return X_train[:, None], y_train, X_test[:, None], y_test


def _online(url: str, timeout: float = 3.0) -> bool:
    """Whether the host of ``url`` answers quickly; always False when ``COURSE_OFFLINE=1``."""
    if runtime.offline():
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _find_fashion(root: Path, download: bool) -> tuple[tuple | None, str]:
    raw = root / "FashionMNIST" / "raw"
    paths = _idx_set_in(raw, "")
    if paths:
        return _arrays_from_idx(paths), f"cache ({raw})"
    system = _idx_set_in(SYSTEM_FASHION_DIR, ".gz")
    if system:
        raw.mkdir(parents=True, exist_ok=True)
        for key, gz in system.items():
            tmp = raw / (IDX_FILES[key] + ".part")
            with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            tmp.replace(raw / IDX_FILES[key])
        return _arrays_from_idx(_idx_set_in(raw, "")), f"system copy {SYSTEM_FASHION_DIR}, decompressed into {raw}"
    if download:
        from torchvision.datasets import FashionMNIST

        mirror = FashionMNIST.mirrors[0]
        if _online(mirror):
            try:
                FashionMNIST(str(root), train=True, download=True)
                FashionMNIST(str(root), train=False, download=True)
            except Exception as err:  # noqa: BLE001 - any download failure means "not available"
                warnings.warn(f"Fashion-MNIST download failed ({err}); trying the bundled subset.", stacklevel=3)
            paths = _idx_set_in(raw, "")
            if paths:
                return _arrays_from_idx(paths), f"downloaded by torchvision into {raw}"
    return None, f"not in {raw}, not in {SYSTEM_FASHION_DIR}, download unavailable"


def _bundled_fashion() -> tuple | None:
    paths = _idx_set_in(BUNDLED_DIR, ".gz")
    return _arrays_from_idx(paths) if paths else None


def _torchvision_set(name: str, root: Path, download: bool) -> tuple[tuple, str]:
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "cifar10": datasets.CIFAR10}[name]
    pretty = {"mnist": "MNIST", "cifar10": "CIFAR-10"}[name]
    try:
        train, test = cls(str(root), train=True), cls(str(root), train=False)
        source = f"cache ({root})"
    except RuntimeError:
        url = cls.mirrors[0] if hasattr(cls, "mirrors") else cls.url
        if not (download and _online(url)):
            raise DataNotFoundError(
                f"{pretty} is not in {root} and cannot be downloaded here (offline, or download=False): "
                f"run once with a network connection so torchvision downloads it into {root}, "
                f"or use name='fashion_mnist', which works offline."
            ) from None
        train = cls(str(root), train=True, download=True)
        test = cls(str(root), train=False, download=True)
        source = f"downloaded by torchvision into {root}"

    def arrays(ds):
        X = np.asarray(ds.data)
        X = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)
        return X, np.asarray(ds.targets)

    return (*arrays(train), *arrays(test)), source


def _take(X: np.ndarray, y: np.ndarray, n: int | None, what: str, source: str, seed: int):
    if n is None:
        return X, y
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"{what} must be a positive int or None, not {n!r}.")
    if n > len(X):
        raise ValueError(f"{what}={n} but only {len(X)} images are available from {source}.")
    idx = np.random.default_rng(seed).permutation(len(X))[:n]
    return X[np.sort(idx)], y[np.sort(idx)]


def load_dataset(
    name: str = "fashion_mnist",
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    root: str | os.PathLike | None = None,
    download: bool = True,
    allow_subset: bool = True,
    seed: int = 0,
) -> ImageData:
    """Load a data set by name ('fashion_mnist', 'mnist', 'cifar10') as in-memory tensors.

    ``n_train``/``n_test`` keep a fixed random subset (same ``seed``, same images). For Fashion-MNIST,
    when no full copy is found and ``allow_subset`` is true, the bundled subset is used.
    """
    key = name.lower().replace("-", "_")
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; choose one of {', '.join(DATASETS)}.")
    root = data_dir(root)
    if key == "fashion_mnist":
        arrays, source = _find_fashion(root, download)
        if arrays is None:
            raw = root / "FashionMNIST" / "raw"
            bundled = _bundled_fashion() if allow_subset else None
            if bundled is None:
                raise DataNotFoundError(
                    f"Fashion-MNIST not found ({source}): " + HOW_TO_GET_FASHION.format(raw=raw) + "."
                )
            arrays = bundled
            source = "bundled subset (course_utils/_data)"
            if not runtime.smoke_mode() and n_train is None:
                warnings.warn(
                    "Full Fashion-MNIST not found, so this run uses the bundled 4,000-image subset and its "
                    "results will be below the ones in the text; " + HOW_TO_GET_FASHION.format(raw=raw) + ".",
                    SubsetWarning,
                    stacklevel=2,
                )
        classes = FASHION_CLASSES
    else:
        arrays, source = _torchvision_set(key, root, download)
        classes = MNIST_CLASSES if key == "mnist" else CIFAR10_CLASSES
    X_train, y_train, X_test, y_test = arrays
    X_train, y_train = _take(X_train, y_train, n_train, "n_train", source, seed)
    X_test, y_test = _take(X_test, y_test, n_test, "n_test", source, seed + 1)

    def images(X):
        return torch.from_numpy(np.array(X, dtype=np.float32)).div_(255.0)

    def labels(y):
        return torch.from_numpy(np.asarray(y, dtype=np.int64).copy())

    return ImageData(images(X_train), labels(y_train), images(X_test), labels(y_test), list(classes), key, source)


def load_fashion_mnist(**kwargs) -> ImageData:
    """Fashion-MNIST as tensors: X (N, 1, 28, 28) in [0, 1], y (N,) int64, ten class names."""
    return load_dataset("fashion_mnist", **kwargs)
