"""Auto-checks for the chapter exercises: call one on your answer, read "passed" or a specific hint.

Each check returns True/False and prints one line. An answer that is missing (``None``) or still
raises ``NotImplementedError`` is reported as "not yet solved", never as a crash.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..checks import attempt, report


def check_pooled_autoencoder(model: nn.Module) -> bool:
    """Exercise 05.1: a conv autoencoder whose encoder keeps the size in its convs and halves it with max pooling."""
    title = "pooling instead of stride"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `pooled_ae`.")
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}`, like ae.ConvAutoencoder.")
    encoder = getattr(model, "encoder", model)
    pools = [m for _, m in encoder.named_modules(remove_duplicate=False) if isinstance(m, nn.MaxPool2d)]
    strided = [m for m in encoder.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if strided:
        return report(title, False, f"{len(strided)} encoder conv(s) still have stride > 1; use stride=1, padding=1 and pool after.")
    if len(pools) < 2:
        return report(title, False, f"the encoder has {len(pools)} max-pool layer(s); it must halve 28 -> 14 -> 7, so use two.")
    x = torch.rand(2, 1, 28, 28)
    z, failed = attempt(title, model.eval().encode, x)
    if failed is not None:
        return failed
    out, failed = attempt(title, model.eval(), x)
    if failed is not None:
        return failed
    if z.dim() != 2 or len(z) != 2:
        return report(title, False, f"encode must give one flat code per image, shape (2, latent_dim); got {tuple(z.shape)}.")
    if tuple(out.shape) != (2, 1, 28, 28):
        return report(title, False, f"the reconstruction must have the input's shape (2, 1, 28, 28), got {tuple(out.shape)}.")
    if out.min() < 0 or out.max() > 1:
        return report(title, False, "the output leaves [0, 1]; end the decoder with a sigmoid.")
    return report(title, True, f"{len(pools)} max-pool layers, no strided convs, code {tuple(z.shape)}, output (2, 1, 28, 28).")


def check_hourglass(fn) -> bool:
    """Exercise 05.2: ``fn(depth)`` gives the hidden widths 256, 128, ... of an encoder with ``depth`` hidden layers."""
    title = "hourglass widths"
    if fn is None:
        return report(title, False, "not yet solved - define hourglass(depth).")
    for depth in range(5):
        got, failed = attempt(title, fn, depth)
        if failed is not None:
            return failed
        want = tuple(256 // 2**i for i in range(depth))
        if got is None or tuple(got) != want:
            hint = ("depth counts hidden layers, so hourglass(0) is the empty tuple ()." if depth == 0 else
                    "start at 256 and halve at every layer." if got is not None and len(tuple(got)) == depth else
                    f"return exactly {depth} width(s).")
            return report(title, False, f"hourglass({depth}) should be {want}, got {got!r}; {hint}")
    return report(title, True, "hourglass(0..4) give (), (256,), (256, 128), (256, 128, 64), (256, 128, 64, 32).")


class _LinearCodec:
    """A stand-in model with encode(x) = x @ A and decode(z) = z @ B, to check latent arithmetic."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.A, self.B = torch.randn(6, 2, generator=g), torch.randn(2, 6, generator=g)

    def encode(self, x):
        return x @ self.A

    def decode(self, z):
        return z @ self.B


def check_latent_arithmetic(fn) -> bool:
    """Exercise 05.3: ``fn(model, a, b, c)`` returns decode(encode(a) - encode(b) + encode(c))."""
    title = "latent arithmetic"
    if fn is None:
        return report(title, False, "not yet solved - define latent_arithmetic(model, a, b, c).")
    codec = _LinearCodec()
    g = torch.Generator().manual_seed(1)
    a, b, c = (torch.randn(3, 6, generator=g) for _ in range(3))
    got, failed = attempt(title, fn, codec, a, b, c)
    if failed is not None:
        return failed
    want = codec.decode(codec.encode(a) - codec.encode(b) + codec.encode(c))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return report(title, False, f"return the decoded batch, shape {tuple(want.shape)}; got {shape}.")
    if torch.allclose(got, codec.decode(codec.encode(a) - codec.encode(c) + codec.encode(b)), atol=1e-5):
        return report(title, False, "b and c are swapped: compute encode(a) - encode(b) + encode(c).")
    if torch.allclose(got, a - b + c, atol=1e-5):
        return report(title, False, "that is arithmetic on the images; encode them first and decode the result.")
    if not torch.allclose(got, want, atol=1e-5):
        return report(title, False, "the result differs from decode(encode(a) - encode(b) + encode(c)).")
    return report(title, True, "decode(encode(a) - encode(b) + encode(c)), batch by batch.")
