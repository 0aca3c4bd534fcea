"""Mini-batches straight from in-memory tensors (``Batches``), or freshly generated ones (``FreshBatches``).

Introduced in chapter 01. Replaces a ``DataLoader`` with per-item ``ToTensor``: the whole data set
already sits in memory as one tensor, so a batch is one indexing operation (see the
data-path benchmark in the README: several times faster on a 2-core CPU).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch


class Batches:
    """Iterate over ``(X[idx], y[idx], ...)`` batches of equally long tensors.

    Args:
        *tensors: one or more tensors with the same first dimension (e.g. images and labels).
        batch_size: examples per batch.
        shuffle: draw a new random order every epoch.
        drop_last: skip the final, smaller batch.
        device: where each batch is moved (``None`` leaves it where it is).
        transform: applied to the first tensor of each batch (e.g. augmentation), on the batch device.
        seed: seed of this iterator's own random order; ``None`` draws it from torch's global generator.
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int = 128,
        shuffle: bool = False,
        drop_last: bool = False,
        device: torch.device | str | None = None,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
        seed: int | None = None,
    ):
        if not tensors:
            raise ValueError("Batches needs at least one tensor, e.g. Batches(X, y, batch_size=128).")
        for t in tensors:
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"Batches takes tensors, got {type(t).__name__}; convert with torch.as_tensor first.")
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"All tensors must have the same first dimension; got lengths {[len(t) for t in tensors]}.")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}.")
        self.tensors = tensors
        self.n = sizes.pop()
        if drop_last and self.n < batch_size:
            raise ValueError(f"drop_last=True with {self.n} examples and batch_size={batch_size} gives no batch at all.")
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.device = torch.device(device) if device is not None else None
        self.transform = transform
        seed = int(torch.randint(0, 2**62, (1,)).item()) if seed is None else seed
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full if (self.drop_last or rest == 0) else full + 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        order = torch.randperm(self.n, generator=self.generator) if self.shuffle else None
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, self.n)
            if order is None:
                batch = [t[lo:hi] for t in self.tensors]
            else:
                idx = order[lo:hi]
                batch = [t[idx] for t in self.tensors]
            if self.device is not None:
                batch = [t.to(self.device, non_blocking=True) for t in batch]
            if self.transform is not None:
                batch[0] = self.transform(batch[0])
            yield tuple(batch)


class FreshBatches:
    """``num_batches`` new batches per pass, each made by ``make_batch(generator)`` (a tuple of tensors).

    For tasks that generate their data (chapter 02's recall task, chapter 03's adding problem): every batch is
    new, and the stream repeats exactly for the same ``seed``. One pass is one "epoch" of ``train.fit``.

    >>> stream = FreshBatches(lambda g: tasks.adding_problem(64, 50, generator=g), num_batches=100, seed=0)
    """

    def __init__(self, make_batch: Callable[[torch.Generator], tuple], num_batches: int, *, seed: int = 0,
                 device: torch.device | str | None = None):
        if not callable(make_batch):
            raise TypeError(f"make_batch must be a function generator -> (X, y), not {type(make_batch).__name__}.")
        if not isinstance(num_batches, int) or isinstance(num_batches, bool) or num_batches < 1:
            raise ValueError(f"num_batches must be a positive int, not {num_batches!r}.")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, not {seed!r}.")
        self.make_batch, self.num_batches = make_batch, num_batches
        self.device = torch.device(device) if device is not None else None
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        for _ in range(self.num_batches):
            batch = self.make_batch(self.generator)
            if not isinstance(batch, tuple) or not all(isinstance(t, torch.Tensor) for t in batch):
                raise TypeError(f"make_batch must return a tuple of tensors, got {type(batch).__name__}.")
            yield tuple(t.to(self.device) for t in batch) if self.device is not None else batch
