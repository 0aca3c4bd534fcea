"""Chapter 02's pictures: the unrolled RNN (§3), the vanishing/exploding gradient view with its static twin (§6),
the clipping run (§7) and recall against distance (§10).

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
        ax.text(t, 2, f"$\\hat y_{t}$", ha="center", va="center", fontsize=11)
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


def radius_colors(radii) -> dict:
    """A colour per radius that shows the regime: blues below 1 (darker = further from 1), black at 1, reds above."""
    from matplotlib import colormaps

    radii = sorted(set(float(r) for r in radii))
    below, above = [r for r in radii if r < 1], [r for r in radii if r > 1]
    colors = {1.0: "#111111"} if 1.0 in radii else {}
    for group, cmap in ((below[::-1], "Blues"), (above, "Reds")):
        for i, r in enumerate(group):
            colors[r] = colormaps[cmap](0.45 + 0.5 * i / max(len(group) - 1, 1))
    return colors


MARKERS = "osD^vP*X"


def gradient_curves_figure(curves: dict, nonlinearities=("tanh", "identity"), input_scale: float = 1.0,
                           radii=None, title: str | None = None, show_bound: bool = False):
    """One panel per nonlinearity: ``||dL/dh_t||`` against distance T - t for several radii (log scale).

    The static twin of ``gradient_view``; ``radii=None`` draws every computed radius. Colour (and marker)
    = radius, the same in every panel, each of which has its legend. Norms that underflow to exactly 0
    are not drawn (the legend says so). ``show_bound`` adds the dashed ``r^(T-t)`` line of each radius.
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
    if not isinstance(show_bound, bool):
        raise TypeError(f"show_bound must be True or False, not {show_bound!r}.")
    fig, axes = new_figure(1, len(nonlinearities), figsize=(4.4 * len(nonlinearities), 3.8), squeeze=False)
    drawn = [k for n in nonlinearities for k in _keys_of(curves, n, input_scale) if radii is None or k[1] in radii]
    colors = radius_colors(k[1] for k in drawn)
    positive = np.concatenate([torch.as_tensor(curves[k]).double().numpy() for k in drawn])
    positive = positive[positive > 0]
    low, high = max(positive.min() / 10, FLOOR), min(positive.max() * 10, CEILING)
    for ax, nonlinearity in zip(axes[0], nonlinearities):
        keys = [k for k in drawn if k[0] == nonlinearity]
        for i, key in enumerate(keys):
            norms = torch.as_tensor(curves[key]).double().numpy()
            underflow = bool((norms == 0).any())
            distance = np.arange(len(norms))
            ax.plot(distance, np.where(norms > 0, norms, np.nan), color=colors[key[1]], lw=1.6,
                    marker=MARKERS[i % len(MARKERS)], ms=4, markevery=(i % 4 * 2, 10),
                    label=f"r = {key[1]:g}" + (" (underflows to 0)" if underflow else ""))
            if show_bound:
                ax.plot(distance, np.clip(norms[0] * np.power(key[1], distance, dtype=float), FLOOR, CEILING),
                        color=colors[key[1]], lw=0.9, ls="--")
        if show_bound:
            ax.plot([], [], color="#555555", lw=0.9, ls="--", label="dashed: r^(T−t) bound")
        ax.set(yscale="log", ylim=(low, high), xlabel="distance T − t (steps back in time)",
               ylabel="‖∂L/∂h_t‖", title=f"{nonlinearity}, input scale {input_scale:g}")
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=8, ncol=2, loc="lower left")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def clipping_figure(runs: dict, threshold: float, chance_loss: float, zoom_steps: int = 15, title: str = ""):
    """Three panels for §7: training loss, ``||g||`` before clipping (log), and the first ``zoom_steps`` of ``||g||``.

    ``runs`` maps a label (e.g. "no clipping") to a dict with lists ``"loss"`` and ``"grad_norm"``; the
    dotted line is the clipping threshold, the dashed one the loss of guessing (``chance_loss``).
    """
    if not isinstance(runs, dict) or not runs or not all(isinstance(r, dict) and {"loss", "grad_norm"} <= set(r)
                                                         for r in runs.values()):
        raise ValueError("runs must be a non-empty dict {label: {'loss': [...], 'grad_norm': [...]}}.")
    if not (isinstance(threshold, (int, float)) and threshold > 0):
        raise ValueError(f"threshold must be a positive number (the clipping norm c), not {threshold!r}.")
    if not (type(zoom_steps) is int and zoom_steps >= 2):
        raise ValueError(f"zoom_steps must be an int >= 2, not {zoom_steps!r}.")
    fig, _ = new_figure(figsize=(10, 5.2))
    fig.axes[0].remove()
    grid = fig.add_gridspec(2, 2, width_ratios=(2.2, 1))
    ax_loss, ax_norm, ax_zoom = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    palette = ["#c53030", "#2b6cb0", "#2f855a", "#805ad5"]
    for (label, run), color in zip(runs.items(), palette):
        steps = np.arange(1, len(run["loss"]) + 1)
        ax_loss.plot(steps, run["loss"], color=color, lw=1, label=label)
        ax_norm.plot(steps, run["grad_norm"], color=color, lw=1, label=label)
        ax_zoom.plot(steps[:zoom_steps], run["grad_norm"][:zoom_steps], color=color, lw=1.4, marker="o", ms=4, label=label)
    ax_loss.axhline(chance_loss, color="#777777", ls="--", lw=1, label=f"guessing (ln 8 = {chance_loss:.2f})")
    for ax in (ax_norm, ax_zoom):
        ax.axhline(threshold, color="#555555", ls=":", lw=1.2, label=f"clipping threshold c = {threshold:g}")
        ax.set(yscale="log", ylabel="‖g‖ before clipping (log)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_loss.set(ylabel="training loss", title="training loss")
    if title:
        fig.suptitle(title, fontsize=11)
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=8)
    ax_norm.set(xlabel="SGD step")
    ax_zoom.set(xlabel="SGD step", title=f"the first {zoom_steps} steps")
    return fig


def recall_figure(results: dict, steps: int, spread: float = 1.0):
    """Recall accuracy against distance: one dot per run (offset sideways so equal values stay visible) and the mean.

    ``results`` maps a distance to the list of test accuracies of its runs (one per seed).
    """
    if not isinstance(results, dict) or not results or not all(isinstance(v, (list, tuple)) and v for v in results.values()):
        raise ValueError("results must be a non-empty dict {distance: [accuracy of each run]}.")
    num_runs = max(len(v) for v in results.values())
    fig, ax = new_figure(figsize=(6.4, 3.4))
    distances = list(results)
    for seed in range(num_runs):
        offset = (seed - (num_runs - 1) / 2) * spread
        points = [(d + offset, accs[seed]) for d, accs in results.items() if seed < len(accs)]
        ax.plot(*zip(*points), "o", ms=5, color="#2b6cb0", alpha=0.6, mec="white", mew=0.6,
                label="one run (seeds side by side)" if seed == 0 else None)
    ax.plot(distances, [sum(a) / len(a) for a in results.values()], "-", color="#2b6cb0", label="mean over runs")
    ax.axhline(1 / 8, color="#999999", ls="--", label="chance (1/8)")
    ax.set(xlabel="distance (tokens between the signal and the answer)", ylabel="test accuracy", ylim=(0, 1.05),
           title=f"Recall with a plain RNN (orthogonal start, Adam) after {steps} training steps")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
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
