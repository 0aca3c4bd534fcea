"""Gradient measurements for recurrent networks: how much gradient reaches a state or an input T - t steps back.

This file measures gradients; it does not train, and backpropagation through time itself is written out by
hand in the notebook (02_rnn_bptt §5, ``bptt_by_hand``, checked against autograd there).
Introduced in chapter 02: §6 writes the measurement out (``gradient_norms_by_distance``) and asserts, in the
cell after it, that ``hidden_gradient_norms`` agrees; §6's vanishing/exploding view uses
``gradient_norm_curves``; §9 and chapter 03 (03_lstm_gru §5, RNN vs LSTM) use ``input_gradient_norms``.

- ``recurrent_matrix``: a recurrent weight matrix ``r * Q`` with ``Q`` orthogonal, so every singular
  value (and the spectral radius) equals ``r``.
- ``hidden_gradient_norms``: run a plain RNN for T steps and return ``||dL/dh_t||`` by distance T - t.
- ``gradient_norm_curves``: the same for many radii, nonlinearities and input strengths at once.
- ``input_gradient_norms``: ``||dL/dx_t||`` for any sequence model, by position t.
- ``power_norm_rates``: ``||W^n||^(1/n)`` for n = 1..N, the average stretch per step of n steps through ``W``:
  it starts at the largest singular value (n = 1) and tends to the spectral radius (02_rnn_bptt §6).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real

import torch

NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def recurrent_matrix(hidden_dim: int, radius: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``radius * Q`` with a random orthogonal ``Q`` (hidden_dim, hidden_dim): all singular values equal ``radius``."""
    if not (type(hidden_dim) is int and hidden_dim >= 1):
        raise ValueError(f"hidden_dim must be a positive int, not {hidden_dim!r}.")
    if not (isinstance(radius, Real) and not isinstance(radius, bool) and math.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be a finite number >= 0, not {radius!r}.")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__}.")
    Q, R = torch.linalg.qr(torch.randn(hidden_dim, hidden_dim, generator=generator))
    Q = Q * torch.sign(torch.diagonal(R))  # makes Q uniformly distributed over orthogonal matrices
    return radius * Q


def power_norm_rates(W: torch.Tensor, max_power: int) -> torch.Tensor:
    """``||W^n||_2 ** (1/n)`` for n = 1, ..., ``max_power`` (float64): the per-step stretch of n steps through ``W``.

    Entry 0 is the largest singular value; as n grows the rate tends to the spectral radius (Gelfand's
    formula), which therefore sets the long-run rate at which repeated products grow or shrink.
    """
    if not isinstance(W, torch.Tensor):
        raise TypeError(f"W must be a square matrix tensor, not {type(W).__name__}.")
    if W.dim() != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0 or not W.is_floating_point():
        raise ValueError(f"W must be a square float matrix (H, H), got {W.dtype} {tuple(W.shape)}.")
    if not torch.isfinite(W).all():
        raise ValueError("W contains NaN or inf.")
    if not (type(max_power) is int and max_power >= 1):
        raise ValueError(f"max_power must be an int >= 1, not {max_power!r}.")
    W = W.detach().double()
    power, log_scale, rates = torch.eye(W.shape[0], dtype=torch.float64), 0.0, []
    for n in range(1, max_power + 1):
        power = power @ W
        norm = torch.linalg.matrix_norm(power, ord=2).item()
        if norm == 0.0:  # a nilpotent matrix: every further power is 0 as well
            rates.extend([0.0] * (max_power - n + 1))
            break
        power, log_scale = power / norm, log_scale + math.log(norm)  # renormalise so long products never overflow
        rates.append(math.exp(log_scale / n))
    return torch.tensor(rates, dtype=torch.float64)


def hidden_gradient_norms(W_hh: torch.Tensor, W_xh: torch.Tensor, x: torch.Tensor, nonlinearity: str = "tanh",
                          readout: torch.Tensor | None = None) -> torch.Tensor:
    """``||dL/dh_t||`` (batch mean) for ``h_t = f(W_xh x_t + W_hh h_{t-1})``, ``h_0 = 0``, ``L = sum(h_T @ readout)``.

    ``x`` is (B, T, D). Returns a tensor of T values: entry ``d`` is the norm at distance ``d = T - t``
    from the last step (entry 0 is ``||dL/dh_T|| = ||readout||``). The default ``readout`` is
    ``ones(H) / sqrt(H)``, the notebook's fixed linear loss.
    """
    tensors = {"W_hh": W_hh, "W_xh": W_xh, "x": x} | ({} if readout is None else {"readout": readout})
    for name, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a tensor, not {type(value).__name__}.")
    if not (isinstance(nonlinearity, str) and nonlinearity in NONLINEARITIES):
        raise ValueError(f"Unknown nonlinearity {nonlinearity!r}; choose one of {', '.join(NONLINEARITIES)}.")
    if x.dim() != 3 or x.shape[0] == 0 or x.shape[1] == 0 or not x.is_floating_point():
        raise ValueError(f"x must be a float tensor shaped (B, T, D) with B, T >= 1, got {x.dtype} {tuple(x.shape)}.")
    H = W_hh.shape[0] if W_hh.dim() else 0
    if W_hh.shape != (H, H) or H == 0:
        raise ValueError(f"W_hh must be a square (H, H) matrix with H >= 1, got {tuple(W_hh.shape)}.")
    if W_xh.shape != (H, x.shape[-1]):
        raise ValueError(f"W_xh must be shaped (H, D) = ({H}, {x.shape[-1]}) for this W_hh and x, got {tuple(W_xh.shape)}.")
    if readout is not None and readout.shape != (H,):
        raise ValueError(f"readout must be shaped (H,) = ({H},), got {tuple(readout.shape)}.")
    for name, value in tensors.items():
        if value.dtype != x.dtype or not torch.isfinite(value).all():
            raise ValueError(f"{name} must hold finite values of x's dtype {x.dtype}, got {value.dtype}"
                             f"{'' if torch.isfinite(value).all() else ' with NaN or inf'}.")
    f = NONLINEARITIES[nonlinearity]
    readout = torch.ones(H, dtype=x.dtype) / H**0.5 if readout is None else readout
    h = torch.zeros(x.shape[0], H, dtype=x.dtype, requires_grad=True)
    states = []
    with torch.enable_grad():
        for t in range(x.shape[1]):
            h = f(x[:, t] @ W_xh.T + h @ W_hh.T)  # (B, H)
            h.retain_grad()
            states.append(h)
        (h @ readout).sum().backward()
    return torch.stack([s.grad.norm(dim=1).mean() for s in reversed(states)]).detach()


def gradient_norm_curves(radii: Iterable[float], nonlinearities: Iterable[str] = ("tanh",),
                         input_scales: Iterable[float] = (1.0,), hidden_dim: int = 64, input_dim: int = 8,
                         num_steps: int = 60, batch_size: int = 32, seed: int = 0) -> dict:
    """``{(nonlinearity, radius, input_scale): norms by distance}`` from ``hidden_gradient_norms``.

    For each radius the same orthogonal matrix is scaled, and every curve sees the same inputs
    (``input_scale`` times standard normal), so curves differ only in what the key names.
    """
    grid = {}
    for name, values in (("radii", radii), ("nonlinearities", nonlinearities), ("input_scales", input_scales)):
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"{name} must be a list or tuple of values, not {values!r}.")
        grid[name] = list(values)
        if not grid[name]:
            raise ValueError(f"{name} is empty; give at least one value.")
    for name in ("radii", "input_scales"):
        if not all(isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in grid[name]):
            raise ValueError(f"{name} must hold finite numbers >= 0, got {grid[name]}.")
    unknown = [n for n in grid["nonlinearities"] if not (isinstance(n, str) and n in NONLINEARITIES)]
    if unknown:
        raise ValueError(f"Unknown nonlinearity {unknown[0]!r} in nonlinearities; choose from {', '.join(NONLINEARITIES)}.")
    for name, value, minimum in (("hidden_dim", hidden_dim, 1), ("input_dim", input_dim, 1), ("num_steps", num_steps, 1),
                                 ("batch_size", batch_size, 1), ("seed", seed, 0)):
        if not (type(value) is int and value >= minimum):
            raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}.")
    g = torch.Generator().manual_seed(seed)
    Q = recurrent_matrix(hidden_dim, 1.0, generator=g)
    W_xh = torch.randn(hidden_dim, input_dim, generator=g) / input_dim**0.5
    x = torch.randn(batch_size, num_steps, input_dim, generator=g)
    readout = torch.randn(hidden_dim, generator=g) / hidden_dim**0.5
    curves = {}
    for nonlinearity in grid["nonlinearities"]:
        for radius in grid["radii"]:
            for scale in grid["input_scales"]:
                curves[(nonlinearity, float(radius), float(scale))] = hidden_gradient_norms(
                    radius * Q, W_xh, scale * x, nonlinearity, readout)
    return curves


def input_gradient_norms(fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """``||dL/dx_t||`` (batch mean) by position t, where ``L = fn(inputs).sum()`` and ``inputs`` is (B, T, D).

    ``fn`` is any sequence model (or the part of one) that maps the inputs to what you want to
    explain, e.g. ``lambda e: model.head(model.rnn(e)[0][:, -1])``. It runs as given: put a model with
    dropout in eval mode first.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function or model that maps the inputs to a tensor, not {type(fn).__name__}.")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a tensor shaped (B, T, D), not {type(inputs).__name__}.")
    if inputs.dim() != 3 or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"inputs must be a tensor shaped (B, T, D) with B, T >= 1, got {tuple(inputs.shape)}.")
    if not inputs.is_floating_point() or not torch.isfinite(inputs).all():
        raise ValueError(f"inputs must hold finite floats (embed token ids first), got {inputs.dtype}.")
    x = inputs.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = fn(x)
        if isinstance(out, tuple):  # nn.RNN / nn.LSTM return (output, state)
            out = out[0]
        if not (isinstance(out, torch.Tensor) and out.requires_grad):
            raise ValueError(f"fn must return a tensor computed from its input, got {type(out).__name__}"
                             f"{' without a gradient' if isinstance(out, torch.Tensor) else ''}.")
        out.sum().backward()
    return x.grad.norm(dim=2).mean(0)
