import gzip
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from course_utils import data


def test_bundled_subset_is_balanced_real_images(offline_data, monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    ds = data.load_fashion_mnist()
    assert ds.source.startswith("bundled subset")
    assert ds.X_train.shape == (4000, 1, 28, 28) and ds.X_test.shape == (1000, 1, 28, 28)
    assert ds.X_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert 0.0 <= ds.X_train.min() and ds.X_train.max() <= 1.0
    assert torch.bincount(ds.y_train).tolist() == [400] * 10
    assert torch.bincount(ds.y_test).tolist() == [100] * 10
    assert ds.classes[9] == "Ankle boot"
    # real pictures, not noise: mean pixel near Fashion-MNIST's 0.286 and many exact-zero background pixels
    assert abs(ds.X_train.mean().item() - 0.286) < 0.02
    assert (ds.X_train == 0).float().mean() > 0.4


def test_full_mode_on_subset_warns_once_with_the_fix(offline_data, monkeypatch):
    monkeypatch.delenv("COURSE_SMOKE", raising=False)
    with pytest.warns(data.SubsetWarning, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist()


def test_smoke_mode_on_subset_is_silent(offline_data, monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data.load_fashion_mnist(n_train=500, n_test=100)


def _fake_system_copy(folder, monkeypatch=None):
    """A system-style folder of .gz IDX files (made from the bundled subset, whose digests become the expected ones)."""
    folder.mkdir()
    for f in data.BUNDLED_DIR.glob("*.gz"):
        shutil.copy(f, folder / f.name)
    if monkeypatch is not None:
        monkeypatch.setattr(data, "FASHION_SHA256", dict(data.BUNDLED_SHA256))
    return folder


def test_system_copy_is_decompressed_into_cache_then_cache_is_used(offline_data, monkeypatch):
    system = _fake_system_copy(offline_data / "system", monkeypatch)
    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", system)
    first = data.load_fashion_mnist()
    raw = offline_data / "cache" / "FashionMNIST" / "raw"
    assert "system copy" in first.source
    assert sorted(p.name for p in raw.iterdir()) == sorted(data.IDX_FILES.values())
    shutil.rmtree(system)  # now only the cache has it
    second = data.load_fashion_mnist()
    assert second.source.startswith("cache")
    assert torch.equal(first.X_train, second.X_train) and torch.equal(first.y_test, second.y_test)


def test_torchvision_reads_the_decompressed_cache(offline_data, monkeypatch):
    from torchvision.datasets import FashionMNIST

    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", _fake_system_copy(offline_data / "system", monkeypatch))
    ds = data.load_fashion_mnist()
    tv = FashionMNIST(str(offline_data / "cache"), train=False, download=False)
    assert torch.equal(tv.data.float().div(255), ds.X_test[:, 0])


def test_nothing_found_says_how_to_get_it(offline_data):
    with pytest.raises(data.DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(allow_subset=False)


def test_other_data_sets_are_refused_by_name(offline_data):
    for name in ("mnist", "CIFAR10"):
        with pytest.raises(ValueError, match=f"Unknown dataset name '{name}'"):
            data.load_dataset(name)


def test_unknown_name(offline_data):
    with pytest.raises(ValueError, match=r"Unknown dataset name 'svhn'; choose one of fashion_mnist\."):
        data.load_dataset("svhn")


def test_subsets_are_fixed_and_checked(offline_data, monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    a = data.load_fashion_mnist(n_train=300, n_test=50, seed=3)
    b = data.load_fashion_mnist(n_train=300, n_test=50, seed=3)
    c = data.load_fashion_mnist(n_train=300, n_test=50, seed=4)
    assert a.X_train.shape[0] == 300 and a.X_test.shape[0] == 50
    assert torch.equal(a.X_train, b.X_train) and not torch.equal(a.X_train, c.X_train)
    with pytest.raises(ValueError, match="n_train=5000 but only 4000 images"):
        data.load_fashion_mnist(n_train=5000)
    with pytest.raises(ValueError, match="positive int"):
        data.load_fashion_mnist(n_test=0)


def test_idx_round_trip_and_bad_files(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        data.write_idx(arr, tmp_path / name)
        assert np.array_equal(data.read_idx(tmp_path / name), arr)
    (tmp_path / "bad").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")
    with gzip.open(tmp_path / "short.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(ValueError, match="truncated"):
        data.read_idx(tmp_path / "short.gz")


@pytest.mark.skipif(not data.SYSTEM_FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_bundled_subset_is_taken_from_the_real_data():
    full_X = data.read_idx(data.SYSTEM_FASHION_DIR / "train-images-idx3-ubyte.gz")
    full_y = data.read_idx(data.SYSTEM_FASHION_DIR / "train-labels-idx1-ubyte.gz")
    sub_X = data.read_idx(data.BUNDLED_DIR / "train-images-idx3-ubyte.gz")
    sub_y = data.read_idx(data.BUNDLED_DIR / "train-labels-idx1-ubyte.gz")
    index = {img.tobytes(): lab for img, lab in zip(full_X, full_y)}
    assert all(index.get(img.tobytes()) == lab for img, lab in zip(sub_X, sub_y))


# ---------------------------------------------------------------- damaged copies are refused, never used

def _cache_from_subset(offline_data, monkeypatch):
    """A cache in torchvision's layout holding the (decompressed) bundled subset, accepted as 'full' data."""
    raw = offline_data / "cache" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.IDX_FILES.values():
        data.write_idx(data.read_idx(data.BUNDLED_DIR / (name + ".gz")), raw / name)
    monkeypatch.setattr(data, "FASHION_SHA256", dict(data.BUNDLED_SHA256))
    return raw


def test_an_intact_cache_is_used(offline_data, monkeypatch):
    _cache_from_subset(offline_data, monkeypatch)
    ds = data.load_fashion_mnist()
    assert ds.source.startswith("cache") and len(ds.X_train) == 4000


def _flip_a_byte(path, offset=-1):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", ["flipped pixel", "fewer labels", "labels up to 249", "32x32 images", "not idx"])
def test_a_damaged_cache_is_skipped_with_one_warning(offline_data, monkeypatch, damage):
    raw = _cache_from_subset(offline_data, monkeypatch)
    images, labels = raw / data.IDX_FILES["train_images"], raw / data.IDX_FILES["train_labels"]
    if damage == "flipped pixel":
        _flip_a_byte(images)
    elif damage == "fewer labels":
        data.write_idx(data.read_idx(labels)[:150], labels)
    elif damage == "labels up to 249":
        y = data.read_idx(labels).copy()
        y[0] = 249
        data.write_idx(y, labels)
    elif damage == "32x32 images":
        data.write_idx(np.zeros((4000, 32, 32), np.uint8), images)
    else:
        images.write_bytes(b"PK\x03\x04 not an idx file")
    # With the digests checked, every damage is caught by its SHA-256; without them, by the structure checks.
    for digests in (dict(data.BUNDLED_SHA256), None):
        monkeypatch.setattr(data, "FASHION_SHA256", digests) if digests else None
        with pytest.warns(data.DamagedDataWarning, match="Skipping the cached Fashion-MNIST") as caught:
            ds = data.load_fashion_mnist(allow_subset=True)
        assert ds.source.startswith("bundled subset")  # the next source, not the damaged cache
        assert len([w for w in caught if issubclass(w.category, data.DamagedDataWarning)]) == 1
        if digests is None:
            break


def test_structure_checks_name_the_problem():
    X, y = np.zeros((200, 28, 28), np.uint8), np.zeros(150, np.uint8)
    with pytest.raises(data.DataError, match="200 training images but 150 labels"):
        data.check_fashion_arrays(X, y, X[:10], y[:10])
    with pytest.raises(data.DataError, match="labels must be 0..9, found up to 249"):
        data.check_fashion_arrays(X, np.full(200, 249, np.uint8), X[:10], y[:10])
    with pytest.raises(data.DataError, match=r"shaped \(200, 32, 32\)"):
        data.check_fashion_arrays(np.zeros((200, 32, 32), np.uint8), np.zeros(200, np.uint8), X[:10], y[:10])


def test_a_truncated_gz_system_copy_is_skipped(offline_data, monkeypatch):
    system = _fake_system_copy(offline_data / "system", monkeypatch)
    gz = system / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", system)
    with pytest.warns(data.DamagedDataWarning, match="truncated or damaged"):
        ds = data.load_fashion_mnist()
    assert ds.source.startswith("bundled subset")
    with pytest.raises(data.DataError, match="truncated or damaged"):
        data.read_idx(gz)


def test_an_unwritable_cache_falls_back_to_reading_the_system_copy(offline_data, monkeypatch):
    if os.geteuid() == 0:  # root can write anywhere: make the cache path a file instead, which nobody can write into
        blocker = offline_data / "blocked"
        blocker.write_text("a file where the cache folder should be")
        monkeypatch.setenv("COURSE_DATA_DIR", str(blocker))
    else:
        ro = offline_data / "ro"
        ro.mkdir(mode=0o500)
        monkeypatch.setenv("COURSE_DATA_DIR", str(ro))
    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", _fake_system_copy(offline_data / "system", monkeypatch))
    with pytest.warns(UserWarning, match="Cannot write the data cache.*COURSE_DATA_DIR"):
        ds = data.load_fashion_mnist()
    assert "not cached" in ds.source and len(ds.X_train) == 4000


_FILL = """
import sys
from pathlib import Path
from course_utils import data
data.SYSTEM_FASHION_DIR = Path(sys.argv[1])
data.FASHION_SHA256 = dict(data.BUNDLED_SHA256)
ds = data.load_fashion_mnist()
print(len(ds.X_train), ds.source.split()[0])
"""


def test_two_processes_filling_an_empty_cache_at_once_both_succeed(offline_data, monkeypatch):
    system = _fake_system_copy(offline_data / "system")
    env = {**os.environ, "COURSE_DATA_DIR": str(offline_data / "cache"), "COURSE_OFFLINE": "1"}
    for _ in range(3):
        shutil.rmtree(offline_data / "cache", ignore_errors=True)
        procs = [subprocess.Popen([sys.executable, "-c", _FILL, str(system)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
        assert all(o[0].split()[0] == "4000" for o in outs)
        raw = offline_data / "cache" / "FashionMNIST" / "raw"
        assert sorted(p.name for p in raw.iterdir()) == sorted(data.IDX_FILES.values())  # no temporary left over
