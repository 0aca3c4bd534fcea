"""Image data sets as in-memory tensors, found offline first.

Introduced in chapter 01. ``load_fashion_mnist()`` looks for the data in this order:

1. the cache directory (``COURSE_DATA_DIR``, default ``~/.cache/course_utils``), torchvision's layout
   ``<cache>/FashionMNIST/raw/*-ubyte``;
2. Debian's copy under ``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``),
   decompressed into the cache the first time;
3. torchvision's download, when the machine is online;
4. the small real subset shipped inside this package (4,000 training and 1,000 test images),
   with one warning line when a full-size run has to fall back to it.

Every copy is checked before use: IDX format, 28x28 images, labels 0..9, as many labels as images, and the
SHA-256 of each file; a damaged copy is skipped with a warning and the next source is used.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import socket
import struct
import uuid
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
DATASETS = ("fashion_mnist",)
SYSTEM_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
BUNDLED_DIR = Path(__file__).parent / "_data" / "fashion_mnist_subset"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# SHA-256 of the four decompressed IDX files. Zalando publishes MD5s of its .gz files (torchvision checks those
# when it downloads); Debian's package recompresses them, so the course checks the decompressed bytes, which are
# the same whichever source they came from. Computed from Debian's dataset-fashion-mnist; the label files hold
# 6,000 training and 1,000 test images of each class, as the data set's paper says.
FASHION_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# The same for the subset that ships in course_utils/_data (made by scripts/make_fashion_subset.py).
BUNDLED_SHA256 = {
    "train-images-idx3-ubyte": "bee68911081ead77c91b0fe2d896e615e9872949b1e4d41a33378559096928a7",
    "train-labels-idx1-ubyte": "64e77ccf141b6a83d3b2f896dec2f2ec6d090f6c95d9739e7fe86d1542ff8864",
    "t10k-images-idx3-ubyte": "394104a6f5ba99caebb0b9c904bc9c73c63cdb0ac4ac41ef00c0dc9473ebc6ee",
    "t10k-labels-idx1-ubyte": "18091a5c403ddd87a17a68e601b69d0cdea6196dec556a7d4066367c07acddd4",
}
HOW_TO_GET_FASHION = (
    "get it with `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or run once with a "
    "network connection (torchvision downloads it), or copy the four IDX files into {raw}"
)


class DataNotFoundError(FileNotFoundError):
    """The requested data set is neither on disk nor downloadable."""


class SubsetWarning(UserWarning):
    """A full-size run is using the small bundled subset instead of the full data."""


class DamagedDataWarning(UserWarning):
    """A copy of the data failed its checks and was skipped; the next source is used instead."""


class DataError(ValueError):
    """Data on disk is damaged or is not what it claims to be."""


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
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"root must be a folder path (str or Path), not {type(root).__name__}.")
        return Path(root).expanduser()
    return runtime.cache_dir()


def _read_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, OSError) as err:
        if isinstance(err, (FileNotFoundError, PermissionError)):
            raise
        raise DataError(f"{path} cannot be read ({type(err).__name__}: {err}): the file is truncated or damaged.") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or .gz) of unsigned bytes into a NumPy array of its stored shape."""
    return _parse_idx(_read_bytes(Path(path)), Path(path))


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (its header is {raw[:4]!r}).")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {dims}, found {data.size} bytes of data.")
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


def check_fashion_arrays(X_train, y_train, X_test, y_test, where: str = "the data") -> None:
    """Refuse arrays that are not a Fashion-MNIST-shaped set: (N, 28, 28) uint8 images, N labels in 0..9."""
    for split, X, y in (("training", X_train, y_train), ("test", X_test, y_test)):
        if X.ndim != 3 or X.shape[1:] != (28, 28):
            raise DataError(f"{where}: the {split} images are shaped {X.shape}, not (N, 28, 28).")
        if y.ndim != 1 or len(y) != len(X):
            raise DataError(f"{where}: {len(X)} {split} images but {len(y)} labels.")
        if len(y) == 0 or y.max() > 9:
            raise DataError(f"{where}: {split} labels must be 0..9, found up to {y.max() if len(y) else 'none'}.")


def _load_idx_set(paths: dict, digests: dict | None) -> tuple:
    """The four arrays of an IDX set, each file's decompressed bytes checked against ``digests`` (name -> sha256)."""
    arrays = {}
    for key, path in paths.items():
        raw = _read_bytes(path)
        if digests is not None:
            actual = hashlib.sha256(raw).hexdigest()
            if actual != digests[IDX_FILES[key]]:
                raise DataError(f"{path} has SHA-256 {actual[:12]}…, expected {digests[IDX_FILES[key]][:12]}…: "
                                "it is damaged or not the Fashion-MNIST file of that name.")
        arrays[key] = _parse_idx(raw, path)
    X_train, y_train, X_test, y_test = (arrays[k] for k in ("train_images", "train_labels", "test_images", "test_labels"))
    check_fashion_arrays(X_train, y_train, X_test, y_test, where=str(next(iter(paths.values())).parent))
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


def _skip(what: str, err: Exception) -> None:
    warnings.warn(f"Skipping {what}: {err}", DamagedDataWarning, stacklevel=4)


def _fill_cache(raw: Path, gz_paths: dict) -> None:
    """Decompress the .gz set into ``raw``; each file through a temporary name, renamed when complete, so two
    processes filling the cache at once never see (or leave) half a file."""
    raw.mkdir(parents=True, exist_ok=True)
    for key, gz in gz_paths.items():
        tmp = raw / f".{IDX_FILES[key]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.part"
        try:
            with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(tmp, raw / IDX_FILES[key])
        finally:
            tmp.unlink(missing_ok=True)


def find_fashion(root: Path, download: bool) -> tuple[tuple | None, str]:
    """The full Fashion-MNIST as four uint8 arrays and a description of where it came from, or ``(None, why)``.

    Looks in the cache, then Debian's copy (decompressed into the cache), then downloads (if ``download`` and
    online). Every copy is checked (IDX format, 28x28 images, labels 0..9, equal counts, SHA-256); a damaged one
    is skipped with one ``DamagedDataWarning`` and the next source is tried.
    """
    raw = Path(root) / "FashionMNIST" / "raw"
    paths = _idx_set_in(raw, "")
    if paths:
        try:
            return _load_idx_set(paths, FASHION_SHA256), f"cache ({raw})"
        except DataError as err:
            _skip(f"the cached Fashion-MNIST in {raw} (delete that folder to rebuild it)", err)
    system = _idx_set_in(SYSTEM_FASHION_DIR, ".gz")
    if system:
        try:
            arrays = _load_idx_set(system, FASHION_SHA256)
        except DataError as err:
            _skip(f"the system copy in {SYSTEM_FASHION_DIR}", err)
        else:
            try:
                _fill_cache(raw, system)
                return arrays, f"system copy {SYSTEM_FASHION_DIR}, decompressed into {raw}"
            except OSError as err:
                warnings.warn(f"Cannot write the data cache {raw} ({type(err).__name__}: {err}); reading "
                              f"{SYSTEM_FASHION_DIR} directly each time. Set COURSE_DATA_DIR to a writable folder "
                              "to cache it.", stacklevel=3)
                return arrays, f"system copy {SYSTEM_FASHION_DIR} (not cached: {raw} is not writable)"
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
                try:
                    return _load_idx_set(paths, FASHION_SHA256), f"downloaded by torchvision into {raw}"
                except DataError as err:
                    _skip("the downloaded copy", err)
    return None, f"not in {raw}, not in {SYSTEM_FASHION_DIR}, download unavailable"


def _bundled_fashion() -> tuple | None:
    paths = _idx_set_in(BUNDLED_DIR, ".gz")
    return _load_idx_set(paths, BUNDLED_SHA256) if paths else None


def _take(X: np.ndarray, y: np.ndarray, n: int | None, what: str, source: str, seed: int):
    if n is None:
        return X, y
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
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
    """Load a data set by name (the course uses one: 'fashion_mnist') as in-memory tensors.

    ``n_train``/``n_test`` keep a fixed random subset (same ``seed``, same images). For Fashion-MNIST,
    when no full copy is found and ``allow_subset`` is true, the bundled subset is used.
    """
    key = name.lower().replace("-", "_") if isinstance(name, str) else name
    if key not in DATASETS:
        raise ValueError(f"Unknown dataset name {name!r}; choose one of {', '.join(DATASETS)}.")
    if not isinstance(download, bool) or not isinstance(allow_subset, bool):
        raise TypeError(f"download and allow_subset must be True or False, not {download!r} and {allow_subset!r}.")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed!r}.")
    root = data_dir(root)
    if key == "fashion_mnist":
        arrays, source = find_fashion(root, download)
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
