"""The GAN game's theory, checked numerically on 1-D densities: D*, the Jensen-Shannon form of V, and its saturation.

Introduced in chapter 04 (04_gan §1: the optimal discriminator and V(D*, G) = -log 4 + 2 JSD, checked against a
trained D; §6: JSD stays at log 2 on disjoint supports while the Wasserstein-1 distance keeps shrinking). Densities
are arrays of values on an evenly spaced grid ``x`` (spacing ``dx``); integrals are Riemann sums on that grid.

- ``gaussian_mixture_pdf``: a 1-D density on a grid; ``mixture_sample``: samples from it.
- ``optimal_discriminator``: D*(x) = p_data / (p_data + p_g); ``value_at``: V(D, G) for a D given on the grid.
- ``jensen_shannon`` / ``wasserstein_1d``: the two divergences, in nats and in units of x.
- ``fit_discriminator``: train a small D by binary cross-entropy against two fixed samplers (no generator update).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .losses import discriminator_loss
from .models import mlp


def _floats(value, name: str, what: str) -> np.ndarray:
    """``value`` as a float64 array; a string, None or anything else that is not numbers is refused naming ``name``."""
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}.")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be {what}, not {type(value).__name__} {value!r:.40}.") from err
    return a


def _grid(x, name: str = "x") -> np.ndarray:
    a = _floats(x, name, "a 1-D grid of numbers (e.g. np.linspace(-4, 4, 2001))")
    if a.ndim != 1 or len(a) < 2 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a 1-D grid of at least 2 finite points, got shape {a.shape}.")
    if not np.allclose(np.diff(a), a[1] - a[0], rtol=1e-6, atol=1e-12) or a[1] <= a[0]:
        raise ValueError(f"{name} must be evenly spaced and increasing (e.g. np.linspace(-4, 4, 2001)).")
    return a


def _density(p, x: np.ndarray, name: str) -> np.ndarray:
    a = _floats(p, name, "density values on the grid (an array)")
    if a.shape != x.shape:
        raise ValueError(f"{name} must hold one density value per grid point ({len(x)}), got shape {a.shape}.")
    if not np.all(np.isfinite(a)) or a.min() < 0:
        raise ValueError(f"{name} must be a density: finite and non-negative everywhere on the grid.")
    mass = a.sum() * (x[1] - x[0])
    if abs(mass - 1) > 0.02:
        raise ValueError(f"{name} integrates to {mass:.3f} on the grid, not 1: widen the grid or normalize the density.")
    return a


def _mixture(means, stds, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, s = (np.atleast_1d(_floats(v, name, "a list of numbers")) for v, name in ((means, "means"), (stds, "stds")))
    w = np.ones_like(m) / max(len(m), 1) if weights is None else np.atleast_1d(_floats(weights, "weights", "a list of numbers"))
    if not (m.shape == s.shape == w.shape) or m.ndim != 1 or len(m) == 0:
        raise ValueError(f"means, stds and weights must be equally long lists, got {m.shape}, {s.shape}, {w.shape}.")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"means must be finite numbers, got {m.tolist()}.")
    if not (np.all(np.isfinite(s)) and s.min() > 0):
        raise ValueError(f"stds must be positive finite numbers, got {s.tolist()}.")
    if not (np.all(np.isfinite(w)) and w.min() >= 0 and abs(w.sum() - 1) <= 1e-6):
        raise ValueError(f"weights must be non-negative and sum to 1, got {w.tolist()}.")
    return m, s, w


def gaussian_mixture_pdf(x, means, stds, weights=None) -> np.ndarray:
    """The density of a 1-D mixture of Gaussians at the points ``x`` (equal weights unless ``weights`` is given)."""
    x = _floats(x, "x", "the points (an array of numbers)")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must hold finite points; it has NaN or inf.")
    m, s, w = _mixture(means, stds, weights)
    z = (x[..., None] - m) / s
    return (w * np.exp(-0.5 * z**2) / (s * math.sqrt(2 * math.pi))).sum(-1)


def mixture_sample(num_samples: int, means, stds, weights=None, generator: torch.Generator | None = None) -> torch.Tensor:
    """``num_samples`` draws (num_samples, 1) from the mixture of ``gaussian_mixture_pdf``."""
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, not {num_samples!r}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__}.")
    m, s, w = _mixture(means, stds, weights)
    k = torch.multinomial(torch.tensor(w), num_samples, replacement=True, generator=generator)
    noise = torch.randn(num_samples, generator=generator, dtype=torch.float64)
    return (torch.tensor(m)[k] + torch.tensor(s)[k] * noise).float()[:, None]


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), pointwise; 1/2 where both densities vanish."""
    p, q = _floats(p_data, "p_data", "density values (an array)"), _floats(p_g, "p_g", "density values (an array)")
    if p.size == 0 or p.shape != q.shape or not (np.all(np.isfinite(p)) and np.all(np.isfinite(q))) or min(p.min(), q.min()) < 0:
        raise ValueError(f"p_data and p_g must be non-empty, finite, non-negative density values of the same shape, got "
                         f"{p.shape} and {q.shape}.")
    total = p + q
    return np.divide(p, total, out=np.full_like(p, 0.5), where=total > 0)


def value_at(D, p_data, p_g, x) -> float:
    """V(D, G) = ∫ p_data log D + ∫ p_g log(1 - D), with D given by its values on the grid ``x`` (in nats)."""
    x = _grid(x)
    p, q = _density(p_data, x, "p_data"), _density(p_g, x, "p_g")
    d = _floats(D, "D", "the discriminator's probabilities on the grid (an array)")
    if d.shape != x.shape or not np.all(np.isfinite(d)) or d.min() < 0 or d.max() > 1:
        raise ValueError(f"D must hold one probability in [0, 1] per grid point ({len(x)}), got shape {d.shape}.")
    dx = x[1] - x[0]
    d = np.clip(d, 1e-300, 1 - 1e-16)  # a D rounded to exactly 0 or 1 where the other density is (nearly) 0
    real = np.where(p > 0, p * np.log(d), 0.0)
    fake = np.where(q > 0, q * np.log1p(-d), 0.0)
    return float((real.sum() + fake.sum()) * dx)


def jensen_shannon(p, q, x) -> float:
    """JSD(p || q) = ½ KL(p || m) + ½ KL(q || m) with m = (p + q) / 2, in nats: 0 when p = q, log 2 when they never overlap."""
    x = _grid(x)
    p, q = _density(p, x, "p"), _density(q, x, "q")
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log(q / m), 0.0).sum()
    return float(max(0.0, 0.5 * (kl_p + kl_q) * (x[1] - x[0])))


def wasserstein_1d(p, q, x) -> float:
    """Wasserstein-1 (earth mover's) distance between two 1-D densities on the grid: ∫ |F_p - F_q| dx."""
    x = _grid(x)
    p, q = _density(p, x, "p"), _density(q, x, "q")
    dx = x[1] - x[0]
    cdf_p, cdf_q = np.cumsum(p) * dx, np.cumsum(q) * dx
    return float(np.abs(cdf_p / cdf_p[-1] - cdf_q / cdf_q[-1]).sum() * dx)


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, not {seed!r}.")


def _check_samples(samples, name: str, n: int) -> None:
    if not (isinstance(samples, torch.Tensor) and samples.shape == (n, 1) and samples.dtype == torch.float32):
        got = f"a {samples.dtype} tensor of shape {tuple(samples.shape)}" if isinstance(samples, torch.Tensor) else \
            type(samples).__name__
        raise ValueError(f"{name}(n, generator) must return a float32 tensor of n 1-D samples, shape ({n}, 1), got {got}.")
    if not torch.isfinite(samples).all():
        raise ValueError(f"{name} returned NaN or infinite samples.")


def fit_discriminator(sample_data, sample_g, num_steps: int = 2000, batch_size: int = 512, lr: float = 1e-3,
                      hidden_dim: int = 64, seed: int = 0) -> torch.nn.Module:
    """A 1-D discriminator (logits) trained against a *fixed* generator: maximize V by binary cross-entropy.

    ``sample_data(n, generator)`` and ``sample_g(n, generator)`` return (n, 1) samples. Only D learns, so after
    enough steps it approaches D* = p_data / (p_data + p_g). Adam's rate decays linearly to 0, so the last steps
    average out the sampling noise. Returns D in eval mode.
    """
    for name, fn in (("sample_data", sample_data), ("sample_g", sample_g)):
        if not callable(fn):
            raise TypeError(f"{name} must be a function (n, generator) -> (n, 1) samples, not {type(fn).__name__}.")
    for name, value in (("num_steps", num_steps), ("batch_size", batch_size), ("hidden_dim", hidden_dim)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}.")
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a positive finite number, not {lr!r}.")
    _check_seed(seed)
    torch.manual_seed(seed)
    D = mlp(1, 1, hidden_dim=hidden_dim, depth=2, leaky=True)
    optimizer = torch.optim.Adam(D.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 1 - i / num_steps)  # decay to 0: less noise at the end
    draws = torch.Generator().manual_seed(seed)
    for i in range(num_steps):
        real, fake = sample_data(batch_size, draws), sample_g(batch_size, draws)
        if i == 0:  # the samplers' first batch only: a wrong shape or dtype fails here with its sampler's name
            _check_samples(real, "sample_data", batch_size)
            _check_samples(fake, "sample_g", batch_size)
        loss = discriminator_loss(D(real), D(fake))  # -V(D, G) for this batch
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return D.eval()


def conv_lipschitz(conv: torch.nn.Conv2d, input_shape: tuple, num_iters: int = 100, seed: int = 0) -> float:
    """The largest factor by which ``conv`` (its linear part, bias dropped) stretches any input of shape
    ``input_shape`` (C, H, W): the operator norm of the convolution, by power iteration with its adjoint
    (``conv_transpose2d``). Spectral normalization divides by the norm of the *reshaped kernel* instead, which is
    not this number (04_gan §6)."""
    import torch.nn.functional as F

    if not isinstance(conv, torch.nn.Conv2d) or conv.groups != 1 or conv.dilation != (1, 1):
        raise TypeError(f"conv must be a plain torch.nn.Conv2d (groups 1, dilation 1), not {type(conv).__name__}.")
    if not (isinstance(input_shape, tuple) and len(input_shape) == 3 and all(isinstance(s, int) and s > 0 for s in input_shape)
            and not any(isinstance(s, bool) for s in input_shape) and input_shape[0] == conv.in_channels):
        raise ValueError(f"input_shape must be (C, H, W) with C = conv.in_channels = {conv.in_channels}, got {input_shape!r}.")
    if not isinstance(num_iters, int) or isinstance(num_iters, bool) or num_iters < 1:
        raise ValueError(f"num_iters must be a positive int, not {num_iters!r}.")
    _check_seed(seed)
    weight = conv.weight.detach()
    kw = {"stride": conv.stride, "padding": conv.padding}
    v = torch.randn(1, *input_shape, generator=torch.Generator().manual_seed(seed), dtype=weight.dtype)
    out_size = F.conv2d(v, weight, **kw).shape[-2:]
    pad = [input_shape[1 + i] - ((out_size[i] - 1) * conv.stride[i] - 2 * conv.padding[i] + conv.kernel_size[i])
           for i in range(2)]  # output_padding that makes the adjoint return the input's size
    for _ in range(num_iters):
        v = F.conv_transpose2d(F.conv2d(v, weight, **kw), weight, output_padding=tuple(pad), **kw)
        v = v / v.norm()
    return float(F.conv2d(v, weight, **kw).norm())
