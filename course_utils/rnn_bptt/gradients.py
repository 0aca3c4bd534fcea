"""How far gradients travel back in time: measurements for recurrent networks.

Introduced in chapter 02, which first writes the measurement out in the notebook and then uses
these helpers for the vanishing/exploding explorer; chapter 03 compares RNN, LSTM and GRU with
``input_gradient_norms``.

- ``recurrent_matrix``: a recurrent weight matrix ``r * Q`` with ``Q`` orthogonal, so every singular
  value (and the spectral radius) equals ``r``.
- ``hidden_gradient_norms``: run a plain RNN for T steps and return ``||dL/dh_t||`` by distance T - t.
- ``gradient_norm_curves``: the same for many radii, nonlinearities and input strengths at once.
- ``input_gradient_norms``: ``||dL/dx_t||`` for any sequence model, by position t.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
}


def recurrent_matrix(hidden_dim: int, radius: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``radius * Q`` with a random orthogonal ``Q`` (hidden_dim, hidden_dim): all singular values equal ``radius``."""
    if not isinstance(hidden_dim, int) or hidden_dim < 1:
        raise ValueError(f"hidden_dim must be a positive int, not {hidden_dim!r}.")
    if not radius >= 0:
        raise ValueError(f"radius must be a number >= 0, not {radius!r}.")
    Q, R = torch.linalg.qr(torch.randn(hidden_dim, hidden_dim, generator=generator))
    Q = Q * torch.sign(torch.diagonal(R))  # makes Q uniformly distributed over orthogonal matrices
    return radius * Q


def hidden_gradient_norms(W_hh: torch.Tensor, W_xh: torch.Tensor, x: torch.Tensor, nonlinearity: str = "tanh",
                          readout: torch.Tensor | None = None) -> torch.Tensor:
    """``||dL/dh_t||`` (batch mean) for ``h_t = f(W_xh x_t + W_hh h_{t-1})``, ``h_0 = 0``, ``L = sum(h_T @ readout)``.

    ``x`` is (B, T, D). Returns a tensor of T values: entry ``d`` is the norm at distance ``d = T - t``
    from the last step (entry 0 is ``||dL/dh_T|| = ||readout||``).
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"Unknown nonlinearity {nonlinearity!r}; choose one of {', '.join(NONLINEARITIES)}.")
    if x.dim() != 3:
        raise ValueError(f"x must be shaped (B, T, D), got {tuple(x.shape)}.")
    H = W_hh.shape[0]
    if W_hh.shape != (H, H) or W_xh.shape != (H, x.shape[-1]):
        raise ValueError(f"W_hh must be (H, H) and W_xh (H, D={x.shape[-1]}); got {tuple(W_hh.shape)} and {tuple(W_xh.shape)}.")
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
    g = torch.Generator().manual_seed(seed)
    Q = recurrent_matrix(hidden_dim, 1.0, generator=g)
    W_xh = torch.randn(hidden_dim, input_dim, generator=g) / input_dim**0.5
    x = torch.randn(batch_size, num_steps, input_dim, generator=g)
    readout = torch.randn(hidden_dim, generator=g) / hidden_dim**0.5
    curves = {}
    for nonlinearity in nonlinearities:
        for radius in radii:
            for scale in input_scales:
                curves[(nonlinearity, float(radius), float(scale))] = hidden_gradient_norms(
                    radius * Q, W_xh, scale * x, nonlinearity, readout)
    return curves


def input_gradient_norms(fn: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """``||dL/dx_t||`` (batch mean) by position t, where ``L = fn(inputs).sum()`` and ``inputs`` is (B, T, D).

    ``fn`` is any sequence model (or the part of one) that maps the inputs to what you want to
    explain, e.g. ``lambda e: model.head(model.rnn(e)[0][:, -1])``.
    """
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 3:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise ValueError(f"inputs must be a tensor shaped (B, T, D), got {shape}.")
    x = inputs.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = fn(x)
        if isinstance(out, tuple):  # nn.RNN / nn.LSTM return (output, state)
            out = out[0]
        out.sum().backward()
    return x.grad.norm(dim=2).mean(0)
