"""Chapter 05's exercise checks: call one on your answer, read "passed" or a specific hint.

Introduced in chapter 05 (05_autoencoders, Exercises 1-3: ``check_pooled_autoencoder``, ``check_hourglass``, ``check_retrieve``;
``check_latent_arithmetic`` is the earlier Exercise 3, kept for old answers). Each check returns True/False and prints one line; ``course_utils.checks.exercise``
turns a missing answer, ``NotImplementedError`` or any error raised by the answer into a printed hint.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..checks import exercise, report


@exercise("pooling instead of stride", needs="build the model and assign it to `pooled_ae`")
def check_pooled_autoencoder(model: nn.Module) -> bool:
    """Exercise 05.1: a conv autoencoder whose encoder keeps the size in its convs and halves it with max pooling."""
    title = check_pooled_autoencoder.title
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}`, like models.ConvAutoencoder.")
    if not isinstance(model, nn.Module):
        return report(title, False, f"build the model as an nn.Module, got {type(model).__name__}.")
    encoder = getattr(model, "encoder", model)
    pools = [m for _, m in encoder.named_modules(remove_duplicate=False) if isinstance(m, nn.MaxPool2d)]
    strided = [m for m in encoder.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if strided:
        return report(title, False, f"{len(strided)} encoder conv(s) still have stride > 1; use stride=1, padding=1 and pool after.")
    if len(pools) < 2:
        return report(title, False, f"the encoder has {len(pools)} max-pool layer(s); it must halve 28 -> 14 -> 7, so use two.")
    seen = []  # the spatial size of every map a max pool receives while the model encodes
    unique = {id(m): m for m in pools}.values()  # one module may sit twice in the encoder
    hooks = [m.register_forward_hook(lambda _m, inputs, _out: seen.append(tuple(inputs[0].shape[-2:]))) for m in unique]
    x = torch.rand(2, 1, 28, 28)
    try:
        with torch.no_grad():
            model.eval()
            z = model.encode(x)
    finally:
        for h in hooks:
            h.remove()
    if seen != [(28, 28), (14, 14)]:
        return report(title, False, f"while encoding, the max pools receive maps of size {seen}; each conv must keep "
                                    "the size (stride 1, padding 1) so that the pools halve 28 -> 14 -> 7.")
    with torch.no_grad():
        out, again = model(x), model.decode(z)
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or len(z) != 2:
        return report(title, False, f"encode must give one flat code per image, shape (2, latent_dim); got {_shape(z)}.")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 1, 28, 28):
        return report(title, False, f"the reconstruction must have the input's shape (2, 1, 28, 28), got {_shape(out)}.")
    if out.min() < 0 or out.max() > 1:
        return report(title, False, "the output leaves [0, 1]; end the decoder with a sigmoid.")
    if not torch.allclose(out, again, atol=1e-5):
        return report(title, False, "forward(x) must be decode(encode(x)).")
    return report(title, True, f"{len(pools)} max-pool layers, no strided convs, code {tuple(z.shape)}, output (2, 1, 28, 28).")


@exercise("hourglass widths", needs="define hourglass(depth)")
def check_hourglass(fn) -> bool:
    """Exercise 05.2: ``fn(depth)`` gives the hidden widths 256, 128, ... of an encoder with ``depth`` hidden layers."""
    title = check_hourglass.title
    for depth in range(5):
        got = fn(depth)
        want = tuple(256 // 2**i for i in range(depth))
        widths = tuple(got) if isinstance(got, tuple | list) else None
        if widths != want:
            hint = ("return a tuple of widths." if widths is None else
                    "depth counts hidden layers, so hourglass(0) is the empty tuple ()." if depth == 0 else
                    "start at 256 and halve at every layer." if len(widths) == depth else
                    f"return exactly {depth} width(s).")
            return report(title, False, f"hourglass({depth}) should be {want}, got {got!r}; {hint}")
    return report(title, True, "hourglass(0..4) give (), (256,), (256, 128), (256, 128, 64), (256, 128, 64, 32).")


class _Codec:
    """A stand-in model with a nonlinear encoder, encode(x) = tanh(x @ A), and a linear decoder, decode(z) = z @ B.

    The encoder is nonlinear so that arithmetic on the images, encode(a - b + c), gives a different answer.
    """

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.A, self.B = torch.randn(6, 2, generator=g), torch.randn(2, 6, generator=g)

    def encode(self, x):
        return torch.tanh(x @ self.A)

    def decode(self, z):
        return z @ self.B


@exercise("latent arithmetic", needs="define latent_arithmetic(model, a, b, c)")
def check_latent_arithmetic(fn) -> bool:
    """Exercise 05.3: ``fn(model, a, b, c)`` returns decode(encode(a) - encode(b) + encode(c))."""
    title = check_latent_arithmetic.title
    codec = _Codec()
    g = torch.Generator().manual_seed(1)
    a, b, c = (torch.randn(3, 6, generator=g) for _ in range(3))
    got = fn(codec, a, b, c)
    want = codec.decode(codec.encode(a) - codec.encode(b) + codec.encode(c))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return report(title, False, f"return the decoded batch, shape {tuple(want.shape)}; got {_shape(got)}.")
    got = got.detach().float()
    if torch.allclose(got, codec.decode(codec.encode(a) - codec.encode(c) + codec.encode(b)), atol=1e-5):
        return report(title, False, "b and c are swapped: compute encode(a) - encode(b) + encode(c).")
    if torch.allclose(got, a - b + c, atol=1e-5):
        return report(title, False, "that is arithmetic on the images; encode them first and decode the result.")
    if not torch.allclose(got, want, atol=1e-5):
        return report(title, False, "the result differs from decode(encode(a) - encode(b) + encode(c)).")
    return report(title, True, "decode(encode(a) - encode(b) + encode(c)), batch by batch.")


def _shape(x) -> str:
    return str(tuple(x.shape)) if isinstance(x, torch.Tensor) else type(x).__name__


@exercise("nearest-neighbour retrieval", needs="define retrieve(queries, database, k)")
def check_retrieve(fn) -> bool:
    """Exercise 05.3: ``fn(queries, database, k)`` gives, per query row, the indices of its k nearest database rows."""
    title = check_retrieve.title
    if not callable(fn):
        return report(title, False, f"pass your function itself, retrieve(queries, database, k), not a {type(fn).__name__}.")
    g = torch.Generator().manual_seed(0)
    database = torch.randn(40, 5, generator=g) * torch.linspace(0.2, 3.0, 40)[:, None]  # norms differ a lot
    queries = torch.randn(6, 5, generator=g)
    if not _retrieves(title, fn, queries, database, 1):  # k = 1 first: an answer that ignores k fails one of the two
        return False
    return _retrieves(title, fn, queries, database, 4, last=True)


def _retrieves(title: str, fn, queries: torch.Tensor, database: torch.Tensor, k: int, last: bool = False) -> bool:
    """One case of ``check_retrieve``: prints a hint and returns False, or (only when ``last``) prints the pass."""
    want = torch.cdist(queries, database).topk(k, largest=False).indices
    got = fn(queries.clone(), database.clone(), k)  # copies: an answer that edits its inputs cannot change the truth
    if not isinstance(got, torch.Tensor):
        return report(title, False, f"return a tensor of indices, got {type(got).__name__}.")
    if got.is_floating_point():
        return report(title, False, "the result holds floats: return the indices of the neighbours (topk(...).indices), not their distances.")
    if got.dtype == torch.bool:
        return report(title, False, "the result holds True/False: return the indices of the neighbours (topk(...).indices).")
    if tuple(got.shape) == (len(database), k) or tuple(got.shape) == (k, len(database)):
        return report(title, False, f"shape {tuple(got.shape)}: you searched the queries for each database row; "
                                    "measure from each query to the database, torch.cdist(queries, database).")
    if tuple(got.shape) == (k, len(queries)):
        return report(title, False, f"shape {tuple(got.shape)}: put one row per query, shape (n_queries, k), not (k, n_queries).")
    if tuple(got.shape) != tuple(want.shape):
        return report(title, False, f"return one row of k = {k} indices per query, shape {tuple(want.shape)}; got {tuple(got.shape)}.")
    got = got.long()
    if got.min() < 0 or got.max() >= len(database):
        return report(title, False, f"indices must be rows of the database, 0..{len(database) - 1}; got {got.min().item()}.."
                                    f"{got.max().item()}.")
    if torch.equal(got, torch.cdist(queries, database).topk(k, largest=True).indices):
        return report(title, False, "these are the farthest rows: take the smallest distances (topk(..., largest=False)).")
    if torch.equal(got, (queries @ database.T).topk(k).indices):
        return report(title, False, "you ranked by the dot product, which favours long vectors: rank by Euclidean distance (torch.cdist).")
    if torch.equal(got.sort(1).values, want.sort(1).values) and not torch.equal(got, want):
        return report(title, False, "the right neighbours, in the wrong order: put the nearest first.")
    if not torch.equal(got, want):
        return report(title, False, f"with k = {k}, some indices are not the k nearest database rows by Euclidean distance.")
    return report(title, True, f"{len(queries)} queries, k = 1 and k = {k}: the nearest database rows, nearest first.") if last else True
