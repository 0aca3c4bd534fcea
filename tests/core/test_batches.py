import pytest
import torch

from course_utils import augment
from course_utils.batches import Batches


def test_each_epoch_visits_every_example_once_in_a_new_order():
    X = torch.arange(10).float()[:, None]
    y = torch.arange(10)
    loader = Batches(X, y, batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 4
    orders = []
    for _ in range(2):
        seen = [b for _, b in loader]
        assert [len(b) for b in seen] == [3, 3, 3, 1]
        order = torch.cat(seen)
        assert sorted(order.tolist()) == list(range(10))
        orders.append(order.tolist())
    assert orders[0] != orders[1]
    for xb, yb in loader:
        assert torch.equal(xb[:, 0].long(), yb)  # pairs stay together


def test_no_shuffle_keeps_order_and_drop_last_drops():
    X = torch.arange(10)
    assert torch.equal(torch.cat([b for (b,) in Batches(X, batch_size=4)]), X)
    loader = Batches(X, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(b) for (b,) in loader] == [4, 4]


def test_transform_applies_to_first_tensor_only_and_device():
    X, y = torch.ones(6, 1, 2, 2), torch.ones(6)
    for xb, yb in Batches(X, y, batch_size=4, transform=lambda x: x * 2, device="cpu"):
        assert torch.all(xb == 2) and torch.all(yb == 1) and xb.device.type == "cpu"


def test_seeded_orders_repeat():
    X = torch.arange(50)
    a = [b.tolist() for (b,) in Batches(X, batch_size=10, shuffle=True, seed=5)]
    b = [b.tolist() for (b,) in Batches(X, batch_size=10, shuffle=True, seed=5)]
    assert a == b


def test_bad_inputs():
    with pytest.raises(ValueError, match="same first dimension"):
        Batches(torch.zeros(5), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        Batches(torch.zeros(5), batch_size=0)
    with pytest.raises(TypeError, match="takes tensors"):
        Batches([1, 2, 3])
    with pytest.raises(ValueError, match="at least one tensor"):
        Batches()
    with pytest.raises(ValueError, match="gives no batch"):
        Batches(torch.zeros(3), batch_size=4, drop_last=True)


def test_augmentations():
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 3] = 1.0  # one bright pixel away from the border
    assert torch.equal(augment.random_flip(x, p=1.0), x.flip(-1))
    assert torch.equal(augment.random_flip(x, p=0.0), x)
    shifted = augment.random_shift(x, max_shift=2)
    assert shifted.shape == x.shape
    assert torch.all(shifted.sum((1, 2, 3)) == 1)  # the pixel moved, nothing else appeared
    rows, cols = shifted[:, 0].nonzero()[:, 1], shifted[:, 0].nonzero()[:, 2]
    assert (rows - 4).abs().max() <= 2 and (cols - 3).abs().max() <= 2
    assert len({(r.item(), c.item()) for r, c in zip(rows, cols)}) > 5  # really random per image
    erased = augment.random_erase(torch.ones(32, 1, 12, 12), size=4, p=1.0)
    assert torch.all((erased == 0).sum((1, 2, 3)) > 0)


def test_random_erase_erases_exactly_a_size_by_size_square():
    erased = augment.random_erase(torch.ones(2000, 1, 28, 28), size=8, p=1.0)
    counts = (erased == 0).sum((1, 2, 3))
    assert counts.max() == 64  # inside the image: exactly 8 x 8 (it was 9 x 9)
    assert (counts == 64).float().mean() > 0.3 and counts.min() >= 1  # 21² of 35² corners lie fully inside
    rows = (erased[:, 0] == 0).any(2)  # (B, H): which rows hold erased pixels
    assert rows.sum(1).max() == 8
    coverage = (erased == 0).float().mean(0)[0]  # every pixel about equally likely to be covered
    assert coverage.min() > 0.3 * coverage.max()
    kept = augment.random_erase(torch.ones(500, 1, 28, 28), size=8, p=0.0)
    assert torch.all(kept == 1)
    with pytest.raises(ValueError, match="size must be an int from 1 to 28"):
        augment.random_erase(torch.ones(2, 1, 28, 28), size=40)
    with pytest.raises(ValueError, match="p must be a probability"):
        augment.random_erase(torch.ones(2, 1, 28, 28), p=1.5)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        augment.random_flip(torch.zeros(8, 8))
