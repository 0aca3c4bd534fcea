"""Sequence data for the recurrent chapters: images as token sequences, and memory tasks.

Introduced in chapter 02 (recurrent networks and BPTT); chapter 03 reruns its memory task.

- ``fit_row_codebook`` / ``rows_to_tokens`` / ``tokens_to_images``: read a 28x28 image as a sequence of
  28 rows and replace each row by the index of its nearest prototype row (k-means), so a sequence
  model with an embedding layer can classify real images.
- ``recall_task``: sequences of random tokens whose label is the *first* token; the number of tokens
  after it (``distance``) sets how long the network must remember.
- ``echo_stream``: long streams whose target at every step is the token ``lag`` steps earlier, for
  truncated backpropagation through time.
- ``adding_problem``: the classic long-range regression task (Hochreiter & Schmidhuber 1997): add the
  two numbers marked in a sequence of ``length`` steps; ``ADDING_BASELINE_MSE`` is what always answering
  1.0 scores.
"""

from __future__ import annotations

import torch

IGNORE_INDEX = -100  # the target of steps that have no label (F.cross_entropy skips it by default)


def _check_images(images, fn: str) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{fn} expects grey images shaped (N, 1, H, W), got {shape}.")
    return images[:, 0].float()


def fit_row_codebook(images: torch.Tensor, num_tokens: int = 256, iters: int = 15, sample: int = 50_000,
                     seed: int = 0) -> torch.Tensor:
    """k-means over image rows: ``num_tokens`` prototype rows, shaped (num_tokens, W).

    Uses a random ``sample`` of all rows; a prototype that loses all its rows is moved to the row
    that is worst explained by the current prototypes, so no token is wasted on duplicates.
    """
    x = _check_images(images, "fit_row_codebook")
    if not isinstance(num_tokens, int) or num_tokens < 2:
        raise ValueError(f"num_tokens must be an int >= 2, not {num_tokens!r}.")
    rows = x.reshape(-1, x.shape[-1])
    g = torch.Generator().manual_seed(seed)
    rows = rows[torch.randperm(len(rows), generator=g)[:sample]]
    if len(rows) < num_tokens:
        raise ValueError(f"{len(rows)} rows cannot make {num_tokens} prototypes; pass more images or fewer tokens.")
    codebook = rows[torch.randperm(len(rows), generator=g)[:num_tokens]].clone()
    for _ in range(iters):
        dist = torch.cdist(rows, codebook)  # (R, K)
        nearest, assign = dist.min(1)
        counts = torch.bincount(assign, minlength=num_tokens)
        sums = torch.zeros_like(codebook).index_add_(0, assign, rows)
        codebook = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], codebook)
        empty = (counts == 0).nonzero()[:, 0]
        if len(empty):
            codebook[empty] = rows[nearest.topk(len(empty)).indices]
    return codebook


def rows_to_tokens(images: torch.Tensor, codebook: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Each image row replaced by the index of its nearest prototype: (N, 1, H, W) -> (N, H) int64."""
    x = _check_images(images, "rows_to_tokens")
    if codebook.dim() != 2 or codebook.shape[1] != x.shape[-1]:
        raise ValueError(f"codebook must be shaped (num_tokens, {x.shape[-1]}) for these images, got {tuple(codebook.shape)}.")
    rows = x.reshape(-1, x.shape[-1])
    tokens = torch.cat([torch.cdist(rows[i : i + chunk], codebook).argmin(1) for i in range(0, len(rows), chunk)])
    return tokens.view(len(x), x.shape[1])


def tokens_to_images(tokens: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """The images a token sequence stands for: (N, H) -> (N, 1, H, W), each row its prototype."""
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.int64:
        shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"tokens must be an int64 tensor shaped (N, H), got {shape}.")
    if tokens.numel() and (tokens.min() < 0 or tokens.max() >= len(codebook)):
        raise ValueError(f"tokens must lie in [0, {len(codebook) - 1}] for a codebook of {len(codebook)} rows.")
    return codebook[tokens][:, None]


def recall_task(num_sequences: int, distance: int, vocab_size: int = 8,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random token sequences of length ``distance + 1``; the label is the first token.

    Every later token is drawn from the same vocabulary, so the network cannot tell the signal from
    the distractors by its value, only by its position. Chance accuracy is ``1 / vocab_size``.
    Returns ``X`` (num_sequences, distance + 1) int64 and ``y`` (num_sequences,) int64.
    """
    if not isinstance(distance, int) or distance < 0:
        raise ValueError(f"distance must be an int >= 0 (tokens between the signal and the answer), not {distance!r}.")
    if not isinstance(num_sequences, int) or num_sequences < 1:
        raise ValueError(f"num_sequences must be a positive int, not {num_sequences!r}.")
    if not isinstance(vocab_size, int) or vocab_size < 2:
        raise ValueError(f"vocab_size must be an int >= 2, not {vocab_size!r}.")
    X = torch.randint(0, vocab_size, (num_sequences, distance + 1), generator=generator)
    return X, X[:, 0].clone()


def echo_stream(num_streams: int, length: int, lag: int, vocab_size: int = 8,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Parallel random token streams whose target at step t is the token at step t - lag.

    Returns ``X`` and ``Y``, both (num_streams, length) int64; the first ``lag`` targets have no
    answer yet and hold ``IGNORE_INDEX``.
    """
    if not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be an int >= 1, not {lag!r}.")
    if not isinstance(length, int) or length <= lag:
        raise ValueError(f"length must be an int larger than lag={lag}, not {length!r}.")
    if not isinstance(num_streams, int) or num_streams < 1:
        raise ValueError(f"num_streams must be a positive int, not {num_streams!r}.")
    X = torch.randint(0, vocab_size, (num_streams, length), generator=generator)
    Y = torch.full_like(X, IGNORE_INDEX)
    Y[:, lag:] = X[:, :-lag]
    return X, Y


ADDING_BASELINE_MSE = 1 / 6  # Var(u1 + u2) for u1, u2 ~ U(0, 1): the MSE of always predicting the mean, 1.0


def adding_problem(num_sequences: int, length: int,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: each step holds (value, marker); the target is the sum of the two marked values.

    Values are uniform in [0, 1]; exactly one marker falls in the first half of the sequence and one in
    the second half, so the network must carry the first value for up to ``length`` steps. Predicting
    1.0 every time scores an MSE of ``ADDING_BASELINE_MSE`` (about 0.167).
    Returns ``X`` (num_sequences, length, 2) float32 and ``y`` (num_sequences,) float32.
    """
    if not isinstance(length, int) or length < 2:
        raise ValueError(f"length must be an int >= 2 (one marker in each half), not {length!r}.")
    if not isinstance(num_sequences, int) or num_sequences < 1:
        raise ValueError(f"num_sequences must be a positive int, not {num_sequences!r}.")
    half = length // 2
    values = torch.rand(num_sequences, length, generator=generator)
    first = torch.randint(0, half, (num_sequences,), generator=generator)
    second = torch.randint(half, length, (num_sequences,), generator=generator)
    markers = torch.zeros(num_sequences, length)
    rows = torch.arange(num_sequences)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return torch.stack([values, markers], dim=-1), y
