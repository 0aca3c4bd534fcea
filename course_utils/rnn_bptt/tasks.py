"""Chapter 02's sequence data: images read as token sequences, and the memory tasks.

Introduced in chapter 02 (recurrent networks and BPTT); chapter 03 reruns its memory tasks
(``recall_task``, ``adding_problem``). Nothing here trains a model.

- ``fit_row_codebook`` / ``rows_to_tokens`` / ``tokens_to_images``: read a 28x28 image as a sequence of
  28 rows and replace each row by the index of its nearest prototype row (k-means), so a sequence
  model with an embedding layer can classify real images (02_rnn_bptt §9).
- ``recall_task``: sequences of random tokens whose label is the *first* token; the number of tokens
  after it (``distance``) sets how long the network must remember (02_rnn_bptt §7 and §10).
- ``echo_stream``: long streams whose target at every step is the token ``lag`` steps earlier, for
  truncated backpropagation through time (02_rnn_bptt §8).
- ``adding_problem``: the classic long-range regression task (Hochreiter & Schmidhuber 1997): add the
  two numbers marked in a sequence of ``length`` steps; ``ADDING_BASELINE_MSE`` is what always answering
  1.0 scores (03_lstm_gru §4).
"""

from __future__ import annotations

import torch

IGNORE_INDEX = -100  # the target of steps that have no label (F.cross_entropy skips it by default)


def _grey_rows(images) -> torch.Tensor:
    """``images`` (N, 1, H, W) float, finite, as (N, H, W); refuses anything else naming ``images``."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a tensor of grey images shaped (N, 1, H, W), not {type(images).__name__}.")
    if images.dim() != 4 or images.shape[1] != 1 or images.numel() == 0:
        raise ValueError(f"images must be grey images shaped (N, 1, H, W) with N, H, W >= 1, got {tuple(images.shape)}.")
    if not images.is_floating_point():
        raise ValueError(f"images must hold float pixels in [0, 1], got {images.dtype}: divide uint8 pixels by 255.")
    if not torch.isfinite(images).all():
        raise ValueError("images contains NaN or infinite pixels.")
    return images[:, 0].float()


def fit_row_codebook(images: torch.Tensor, num_tokens: int = 256, num_iters: int = 15, max_rows: int = 50_000,
                     seed: int = 0) -> torch.Tensor:
    """k-means over image rows: ``num_tokens`` prototype rows, shaped (num_tokens, W).

    Uses a random sample of at most ``max_rows`` rows; a prototype that loses all its rows is moved to
    the row that is worst explained by the current prototypes, so no token is wasted on duplicates.
    """
    x = _grey_rows(images)  # (N, H, W)
    if not (type(num_tokens) is int and num_tokens >= 2):
        raise ValueError(f"num_tokens must be an int >= 2, not {num_tokens!r}.")
    if not (type(num_iters) is int and num_iters >= 1):
        raise ValueError(f"num_iters must be an int >= 1, not {num_iters!r}.")
    if not (type(max_rows) is int and max_rows >= 1):
        raise ValueError(f"max_rows must be an int >= 1, not {max_rows!r}.")
    if not (type(seed) is int and seed >= 0):
        raise ValueError(f"seed must be an int >= 0, not {seed!r}.")
    rows = x.reshape(-1, x.shape[-1])
    g = torch.Generator().manual_seed(seed)
    rows = rows[torch.randperm(len(rows), generator=g)[:max_rows]]
    if len(rows) < num_tokens:
        raise ValueError(f"images give {len(rows)} rows, too few for num_tokens={num_tokens} prototypes; "
                         "pass more images or fewer tokens.")
    codebook = rows[torch.randperm(len(rows), generator=g)[:num_tokens]].clone()
    for _ in range(num_iters):
        dist = torch.cdist(rows, codebook)  # (R, K)
        nearest, assign = dist.min(1)
        counts = torch.bincount(assign, minlength=num_tokens)
        sums = torch.zeros_like(codebook).index_add_(0, assign, rows)
        codebook = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], codebook)
        empty = (counts == 0).nonzero()[:, 0]
        if len(empty):
            codebook[empty] = rows[nearest.topk(len(empty)).indices]
    return codebook


def rows_to_tokens(images: torch.Tensor, codebook: torch.Tensor, chunk_size: int = 8192) -> torch.Tensor:
    """Each image row replaced by the index of its nearest prototype: (N, 1, H, W) -> (N, H) int64.

    Rows are compared with the prototypes ``chunk_size`` rows at a time, which bounds the memory of the
    distance matrix; the result does not depend on it.
    """
    x = _grey_rows(images)  # (N, H, W)
    if not isinstance(codebook, torch.Tensor):
        raise TypeError(f"codebook must be a tensor shaped (num_tokens, W), not {type(codebook).__name__}.")
    if codebook.dim() != 2 or len(codebook) == 0 or not codebook.is_floating_point() or not torch.isfinite(codebook).all():
        raise ValueError(f"codebook must hold finite float rows shaped (num_tokens, W), got {codebook.dtype} {tuple(codebook.shape)}.")
    if codebook.shape[1] != x.shape[-1]:
        raise ValueError(f"codebook must be shaped (num_tokens, {x.shape[-1]}) for these images, got {tuple(codebook.shape)}.")
    if not (type(chunk_size) is int and chunk_size >= 1):
        raise ValueError(f"chunk_size must be an int >= 1, not {chunk_size!r}.")
    rows, codebook = x.reshape(-1, x.shape[-1]), codebook.to(x.dtype)
    tokens = torch.cat([torch.cdist(rows[i : i + chunk_size], codebook).argmin(1)
                        for i in range(0, len(rows), chunk_size)])
    return tokens.view(len(x), x.shape[1])


def tokens_to_images(tokens: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """The images a token sequence stands for: (N, H) -> (N, 1, H, W), each row its prototype."""
    if not isinstance(tokens, torch.Tensor):
        raise TypeError(f"tokens must be an int64 tensor shaped (N, H), not {type(tokens).__name__}.")
    if tokens.dim() != 2 or tokens.dtype != torch.int64:
        raise ValueError(f"tokens must be an int64 tensor shaped (N, H), got {tokens.dtype} {tuple(tokens.shape)}.")
    if not isinstance(codebook, torch.Tensor):
        raise TypeError(f"codebook must be a tensor shaped (num_tokens, W), not {type(codebook).__name__}.")
    if codebook.dim() != 2 or len(codebook) == 0 or not codebook.is_floating_point() or not torch.isfinite(codebook).all():
        raise ValueError(f"codebook must hold finite float rows shaped (num_tokens, W), got {codebook.dtype} {tuple(codebook.shape)}.")
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
    if not (type(distance) is int and distance >= 0):
        raise ValueError(f"distance must be an int >= 0 (tokens between the signal and the answer), not {distance!r}.")
    if not (type(num_sequences) is int and num_sequences >= 1):
        raise ValueError(f"num_sequences must be a positive int, not {num_sequences!r}.")
    if not (type(vocab_size) is int and vocab_size >= 2):
        raise ValueError(f"vocab_size must be an int >= 2, not {vocab_size!r}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__} "
                        "(for a seed, pass torch.Generator().manual_seed(seed)).")
    X = torch.randint(0, vocab_size, (num_sequences, distance + 1), generator=generator)
    return X, X[:, 0].clone()


def echo_stream(num_streams: int, length: int, lag: int, vocab_size: int = 8,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Parallel random token streams whose target at step t is the token at step t - lag.

    Returns ``X`` and ``Y``, both (num_streams, length) int64; the first ``lag`` targets have no
    answer yet and hold ``IGNORE_INDEX``.
    """
    if not (type(lag) is int and lag >= 1):
        raise ValueError(f"lag must be an int >= 1, not {lag!r}.")
    if not (type(length) is int and length >= lag + 1):
        raise ValueError(f"length must be an int larger than lag={lag}, not {length!r}.")
    if not (type(num_streams) is int and num_streams >= 1):
        raise ValueError(f"num_streams must be a positive int, not {num_streams!r}.")
    if not (type(vocab_size) is int and vocab_size >= 2):
        raise ValueError(f"vocab_size must be an int >= 2, not {vocab_size!r}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__} "
                        "(for a seed, pass torch.Generator().manual_seed(seed)).")
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
    if not (type(length) is int and length >= 2):
        raise ValueError(f"length must be an int >= 2 (one marker in each half), not {length!r}.")
    if not (type(num_sequences) is int and num_sequences >= 1):
        raise ValueError(f"num_sequences must be a positive int, not {num_sequences!r}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__} "
                        "(for a seed, pass torch.Generator().manual_seed(seed)).")
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
