"""Chapter 02's pictures: the unrolled RNN (§3) and the vanishing/exploding gradient view with its static twin (§6).

Introduced in chapter 02. ``*_figure`` functions return a matplotlib figure; ``gradient_view`` returns a
``widgets.View`` built with ``widgets.controls_view``: every curve is precomputed by
``gradients.gradient_norm_curves``, and moving a control only swaps the data of existing lines.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib import ticker

from ..plotting import new_figure

FLOOR, CEILING = 1e-30, 1e30  # norms that under- or overflow are drawn at these values


def _clamped(norms) -> np.ndarray:
    return np.clip(torch.as_tensor(norms).double().numpy(), FLOOR, CEILING)


def unrolled_figure(num_steps: int = 4):
    """An RNN unrolled over ``num_steps`` steps: inputs below, states in a row, outputs above; returns the figure."""
    if not (type(num_steps) is int and 1 <= num_steps <= 8):
        raise ValueError(f"num_steps must be an int from 1 to 8 (the diagram gets unreadable beyond), not {num_steps!r}.")
    fig, ax = new_figure(figsize=(1.6 * num_steps + 1.6, 2.9))
    box = {"boxstyle": "round,pad=0.35", "fc": "#dbe9f6", "ec": "#2b6cb0"}
    arrow = {"arrowstyle": "-|>", "color": "#444444", "lw": 1.2}
    ax.text(0, 1, "$h_0$", ha="center", va="center", fontsize=11, bbox={**box, "fc": "#eeeeee", "ec": "#888888"})
    for t in range(1, num_steps + 1):
        ax.text(t, 1, f"$h_{t}$", ha="center", va="center", fontsize=11, bbox=box)
        ax.text(t, 0, f"$x_{t}$", ha="center", va="center", fontsize=11)
        ax.text(t, 2, f"$y_{t}$", ha="center", va="center", fontsize=11)
        ax.annotate("", xy=(t - 0.2, 1), xytext=(t - 0.8, 1), arrowprops=arrow)
        ax.text(t - 0.5, 1.12, "$W_{hh}$", ha="center", va="bottom", fontsize=8, color="#c53030")
        ax.annotate("", xy=(t, 0.78), xytext=(t, 0.2), arrowprops=arrow)
        ax.text(t + 0.05, 0.5, "$W_{xh}$", ha="left", va="center", fontsize=8, color="#c53030")
        ax.annotate("", xy=(t, 1.8), xytext=(t, 1.22), arrowprops=arrow)
        ax.text(t + 0.05, 1.5, "$W_{hy}$", ha="left", va="center", fontsize=8, color="#c53030")
    ax.set(xlim=(-0.5, num_steps + 0.6), ylim=(-0.4, 2.4))
    ax.set_axis_off()
    ax.set_title(f"unrolled over {num_steps} steps: {num_steps} layers that share $W_{{xh}}$, $W_{{hh}}$, $W_{{hy}}$",
                 fontsize=9)
    return fig


def _keys_of(curves: dict, nonlinearity: str, input_scale: float) -> list:
    keys = sorted(k for k in curves if k[0] == nonlinearity and k[2] == input_scale)
    if not keys:
        known = sorted({(k[0], k[2]) for k in curves})
        raise ValueError(f"No curves for {nonlinearity!r} (in nonlinearities) at input_scale={input_scale!r}; "
                         f"computed (nonlinearity, input_scale): {known}.")
    return keys


def gradient_curves_figure(curves: dict, nonlinearities=("tanh", "identity"), input_scale: float = 1.0,
                           radii=None, title: str | None = None):
    """One panel per nonlinearity: ``||dL/dh_t||`` against distance T - t for several radii (log scale).

    The static twin of ``gradient_view``; ``radii=None`` draws every computed radius.
    """
    if not isinstance(curves, dict):
        raise TypeError(f"curves must be the dict that gradients.gradient_norm_curves returns, not {type(curves).__name__}.")
    if not curves or not all(isinstance(k, tuple) and len(k) == 3 for k in curves):
        raise ValueError("curves must be a non-empty dict {(nonlinearity, radius, input_scale): norms}, "
                         "as gradients.gradient_norm_curves returns.")
    if isinstance(nonlinearities, str) or not nonlinearities:
        raise ValueError(f"nonlinearities must be a non-empty tuple of names such as ('tanh',), not {nonlinearities!r}.")
    if radii is not None and not {k[1] for k in curves} & set(radii):
        raise ValueError(f"radii {list(radii)} match none of the computed radii {sorted({k[1] for k in curves})}.")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string or None, not {type(title).__name__}.")
    fig, axes = new_figure(1, len(nonlinearities), figsize=(4.2 * len(nonlinearities), 3.4), squeeze=False)
    for ax, nonlinearity in zip(axes[0], nonlinearities):
        keys = [k for k in _keys_of(curves, nonlinearity, input_scale) if radii is None or k[1] in radii]
        colors = [(0.15 + 0.7 * i / max(len(keys) - 1, 1), 0.3, 0.85 - 0.7 * i / max(len(keys) - 1, 1)) for i in range(len(keys))]
        for key, color in zip(keys, colors):
            norms = _clamped(curves[key])
            ax.plot(np.arange(len(norms)), norms, color=color, lw=1.6, label=f"r = {key[1]:g}")
        ax.set(yscale="log", ylim=(1e-12, 1e12), xlabel="distance T − t (steps back in time)",
               ylabel="‖∂L/∂h_t‖", title=f"{nonlinearity}, input scale {input_scale:g}")
        ax.grid(alpha=0.3, which="major")
    axes[0, -1].legend(fontsize=7, ncol=2, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def gradient_view(curves: dict, radius: float = 1.0, nonlinearity: str = "tanh", input_scale: float = 1.0):
    """Slider for the radius r of W_hh, pickers for the nonlinearity and the input scale; log plot of the norms.

    The dashed line is ``r ** d`` times the norm at d = 0: the exact curve for the identity nonlinearity,
    and an upper bound for tanh (whose derivative never exceeds 1). ``radius``, ``nonlinearity`` and
    ``input_scale`` are the setting it opens at. Returns a ``widgets.View``; its static twin is
    ``gradient_curves_figure``.
    """
    import itertools

    import ipywidgets as w

    from .. import widgets

    if not isinstance(curves, dict):
        raise TypeError(f"curves must be the dict that gradients.gradient_norm_curves returns, not {type(curves).__name__}.")
    if not curves or not all(isinstance(k, tuple) and len(k) == 3 for k in curves):
        raise ValueError("curves must be a non-empty dict {(nonlinearity, radius, input_scale): norms}, "
                         "as gradients.gradient_norm_curves returns.")
    radii = sorted({k[1] for k in curves})
    nonlinearities = list(dict.fromkeys(k[0] for k in curves))
    scales = sorted({k[2] for k in curves})
    missing = [k for k in itertools.product(nonlinearities, radii, scales) if k not in curves]
    if missing or len({len(v) for v in curves.values()}) != 1:
        raise ValueError(f"curves must hold one curve, all of the same length, for every (nonlinearity, radius, "
                         f"input_scale) combination; {f'missing {missing[0]}' if missing else 'lengths differ'}.")
    if radius not in radii:
        raise ValueError(f"radius={radius!r} is not among the computed radii {radii}.")
    if nonlinearity not in nonlinearities:
        raise ValueError(f"nonlinearity={nonlinearity!r} is not among the computed nonlinearities {nonlinearities}.")
    if input_scale not in scales:
        raise ValueError(f"input_scale={input_scale!r} is not among the computed input scales {scales}.")
    num_steps = len(next(iter(curves.values())))
    distance = np.arange(num_steps)
    fig, ax = new_figure(figsize=(6.2, 3.6))
    (measured,) = ax.plot(distance, np.ones(num_steps), lw=2, color="#2b6cb0", label="measured ‖∂L/∂h_t‖")
    (bound,) = ax.plot(distance, np.ones(num_steps), lw=1.2, ls="--", color="#c53030", label="r^(T−t) · ‖∂L/∂h_T‖")
    ax.axhline(1.0, color="#999999", lw=0.8)
    ax.set(yscale="log", ylim=(1e-12, 1e12), xlabel="distance T − t (steps back in time)", ylabel="gradient norm")
    # Plain-text powers of ten every 4 decades: mathtext tick labels made each redraw of this widget 3x slower.
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10.0, numticks=7))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"1e{round(math.log10(v)):+d}" if v > 0 else ""))
    ax.yaxis.set_minor_locator(ticker.NullLocator())
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")

    def update(radius, nonlinearity, input_scale):
        norms = _clamped(curves[(nonlinearity, radius, input_scale)])
        measured.set_ydata(norms)
        bound.set_ydata(_clamped(norms[0] * np.power(radius, distance, dtype=float)))
        ax.set_title(f"{nonlinearity}, spectral radius r = {radius:.2f}, input scale {input_scale:g}", fontsize=10)
        d = num_steps - 1
        per_step = (norms[d] / norms[0]) ** (1 / d) if d else math.nan
        return f"after {d} steps back the norm is {norms[d]:.1e} (×{per_step:.3f} per step on average; r = {radius:.2f})"

    controls = {
        "radius": w.SelectionSlider(options=radii, value=radius, description="radius r", continuous_update=True),
        "nonlinearity": w.Dropdown(options=nonlinearities, value=nonlinearity, description="nonlinearity"),
        "input_scale": w.ToggleButtons(options=scales, value=input_scale, description="input scale"),
    }
    return widgets.controls_view(controls, fig, update)
