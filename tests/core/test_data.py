import gzip
import shutil
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


def _fake_system_copy(folder):
    """A system-style folder of .gz IDX files (made from the bundled subset)."""
    folder.mkdir()
    for f in data.BUNDLED_DIR.glob("*.gz"):
        shutil.copy(f, folder / f.name)
    return folder


def test_system_copy_is_decompressed_into_cache_then_cache_is_used(offline_data, monkeypatch):
    system = _fake_system_copy(offline_data / "system")
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

    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", _fake_system_copy(offline_data / "system"))
    ds = data.load_fashion_mnist()
    tv = FashionMNIST(str(offline_data / "cache"), train=False, download=False)
    assert torch.equal(tv.data.float().div(255), ds.X_test[:, 0])


def test_nothing_found_says_how_to_get_it(offline_data):
    with pytest.raises(data.DataNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(allow_subset=False)


def test_mnist_and_cifar_offline_errors_are_clear(offline_data):
    for name in ("mnist", "CIFAR10"):
        with pytest.raises(data.DataNotFoundError, match="network connection"):
            data.load_dataset(name)


def test_unknown_name(offline_data):
    with pytest.raises(ValueError, match="Unknown dataset name 'svhn'; choose one of fashion_mnist, mnist, cifar10"):
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
