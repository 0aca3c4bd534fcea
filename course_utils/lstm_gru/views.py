"""Chapter 03's views of a trained character model: generated text by temperature, and gate activations.

Introduced in chapter 03 (LSTM and GRU): ``temperature_view`` with its static twin ``samples_figure`` (§8),
``gate_view`` with its static twin ``gate_figure`` and ``forget_gate_figure`` (§9); ``temperature_figure`` draws the
next-character distribution at each temperature. Both widgets follow the course pattern
(``widgets.controls_view``, returning a ``widgets.View``): the figure's artists are made once and a control only
swaps their data (``gate_panel`` returns the figure and that update). Generated text is drawn into the figure
(so the slider drives an image) and cached, so revisiting a temperature is instant.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from .. import widgets
from ..plotting import new_figure
from . import charlm

TEXT_WIDTH = 72  # characters per line of generated text


def _wrap(text: str, width: int = TEXT_WIDTH, max_lines: int = 8) -> str:
    lines = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, replace_whitespace=False, drop_whitespace=False) or [""])
    return "\n".join(lines[:max_lines])


def samples_figure(samples: dict, seed_text: str, title: str | None = None):
    """One panel per temperature with the text generated after ``seed_text``; returns the figure.

    The static twin of ``temperature_view``: ``samples`` maps temperatures to generated text.
    """
    if not (isinstance(samples, dict) and samples and all(isinstance(t, str) for t in samples.values())):
        raise ValueError(f"samples must be a non-empty dict {{temperature: generated text}}, not {samples!r:.60}.")
    if not isinstance(seed_text, str):
        raise TypeError(f"seed_text must be a str, not {type(seed_text).__name__}.")
    fig, axes = new_figure(len(samples), 1, figsize=(8.2, 1.75 * len(samples)), squeeze=False)
    for ax, (temperature, text) in zip(axes[:, 0], samples.items()):
        ax.text(0.0, 1.0, _wrap(seed_text + text), family="monospace", fontsize=8, va="top", ha="left",
                transform=ax.transAxes)
        ax.set_title(f"temperature {temperature:g}", fontsize=9, loc="left")
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def temperature_view(model, seed_text: str, temperatures, num_chars: int = 300, seed: int = 0) -> widgets.View:
    """Temperature slider and seed-text box; the text the model generates is redrawn in the figure.

    Every (seed text, temperature) pair is sampled with the same random seed, so moving the slider back
    shows the same text again, and differences come from the temperature alone. The slider is the view's control
    (``controls["temperature"]``, over a finite set, so it can be linked in the browser to the precomputed texts);
    the seed-text box is ``parts["seed_text"]``: a new seed text samples every temperature again, the one on
    screen first.
    """
    import ipywidgets as w

    if isinstance(temperatures, str) or not hasattr(temperatures, "__iter__"):
        raise TypeError(f"temperatures must be a list of numbers >= 0, not {temperatures!r}.")
    temperatures = list(temperatures)
    if not temperatures or not all(isinstance(t, int | float) and 0 <= t < math.inf for t in temperatures):
        raise ValueError(f"temperatures must be a non-empty list of finite numbers >= 0, not {temperatures!r}.")
    temperatures = [float(t) for t in temperatures]
    if not (isinstance(num_chars, int) and num_chars >= 1):
        raise ValueError(f"num_chars must be an int >= 1, not {num_chars!r}.")
    if not (isinstance(seed_text, str) and seed_text):
        raise ValueError(f"seed_text must be a non-empty str, not {seed_text!r}.")
    charlm.encode(seed_text)  # raises early on a character the model cannot read
    start = min(temperatures, key=lambda t: abs(t - 1.0))
    fig, ax = new_figure(figsize=(8.2, 2.4))
    ax.set_axis_off()
    body = ax.text(0.0, 1.0, "", family="monospace", fontsize=8, va="top", ha="left", transform=ax.transAxes)
    cache: dict = {}
    state = {"seed_text": seed_text}

    def update(temperature):
        seed_text = state["seed_text"]
        key = (seed_text, temperature)
        if key not in cache:
            g = torch.Generator().manual_seed(seed)
            cache[key] = charlm.sample(model, seed_text, num_chars, temperature, generator=g)
        text = cache[key]
        body.set_text(_wrap(seed_text + text, max_lines=10))
        ax.set_title(f"temperature {temperature:g}: sampling from softmax(logits / {temperature:g})", fontsize=9, loc="left")
        distinct = len(set(text))
        return f"{len(text)} characters generated after the seed; {distinct} different characters used"

    slider = w.SelectionSlider(options=temperatures, value=start, description="temperature", continuous_update=False)
    view = widgets.controls_view({"temperature": slider}, fig, update)
    box = w.Text(value=seed_text, description="seed text", continuous_update=False)

    def retype(change):
        typed = change["new"]
        if not set(typed) <= set(charlm.ALPHABET):  # typed marks become ASCII (clean_text would also drop a trailing space)
            typed = charlm.clean_text(typed).rstrip("\n")
        state["seed_text"] = typed or "The "
        view.frames.clear()  # the PNGs of the old seed text are stale
        view.redraw()

    box.observe(retype, names="value")
    return view.add("seed_text", box, where="after_controls")


def _text_grid(text: str, width: int) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    rows = -(-len(text) // width)
    grid = np.full((rows, width), np.nan)
    cells = []
    for k, ch in enumerate(text):
        r, c = divmod(k, width)
        grid[r, c] = 0.0
        cells.append((r, c, "⏎" if ch == "\n" else ch))
    return grid, cells


def _glyphs(cells: list[tuple[int, int, str]], ax, size: float):
    """The characters of ``cells`` (row, column, character) as one collection of outlines in ``ax``'s data
    coordinates, each centred on its cell, ``size`` points high: drawn in one go, where 240 text artists made every
    redraw of the gate viewer two to three times slower."""
    from matplotlib.collections import PathCollection
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path as MplPath
    from matplotlib.textpath import TextPath
    from matplotlib.transforms import Affine2D

    font, shapes, offsets = FontProperties(family="monospace"), {}, []
    line = TextPath((0, 0), "Hg", size=size, prop=font).get_extents()  # one baseline for all: a comma stays low
    middle = (line.y0 + line.y1) / 2
    for r, c, ch in cells:
        if ch not in shapes and ch.isspace():  # nothing to draw (TextPath refuses an empty outline)
            shapes[ch] = MplPath(np.zeros((1, 2)), [MplPath.MOVETO])
        elif ch not in shapes:  # the outline in points, centred across on (0, 0) and its line's middle at y = 0
            glyph = TextPath((0, 0), ch, size=size, prop=font)
            box = glyph.get_extents()
            shapes[ch] = MplPath(glyph.vertices - [(box.x0 + box.x1) / 2, middle], glyph.codes)
        offsets.append((c, r))
    return PathCollection([shapes[ch] for _, _, ch in cells], offsets=offsets, offset_transform=ax.transData,
                          transform=Affine2D().scale(1 / 72) + ax.figure.dpi_scale_trans, facecolors="black",
                          edgecolors="none", gid="passage")


def _unit_grid(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    out = np.full(grid.shape, np.nan)
    out.flat[: len(values)] = values
    return out


def _check_gates(gates, text) -> tuple[int, int]:
    """(T, H) of recorded gates that fit ``text``; raises a clear error otherwise."""
    if not (isinstance(gates, dict) and gates and all(isinstance(v, torch.Tensor) and v.dim() == 2 for v in gates.values())):
        raise ValueError("gates must be a non-empty dict of (T, H) tensors, as charlm.record_gates returns.")
    shapes = {tuple(v.shape) for v in gates.values()}
    if len(shapes) != 1:
        raise ValueError(f"gates must all have one shape (T, H), got {sorted(shapes)}.")
    T, H = shapes.pop()
    if not isinstance(text, str) or len(text) != T:
        raise ValueError(f"text must be the passage the gates were recorded on ({T} characters), not "
                         f"{f'{len(text)} characters' if isinstance(text, str) else type(text).__name__}.")
    return T, H


def _check_gate_and_unit(gates: dict, H: int, gate, unit) -> None:
    if gate not in gates:
        raise ValueError(f"gate must be one of the recorded {', '.join(gates)}, not {gate!r}.")
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < H:
        raise ValueError(f"unit must be an int in [0, {H - 1}], not {unit!r}.")


def gate_panel(gates: dict, text: str, gate: str, unit: int, window: int = 32, width: int = 40):
    """Heat map of one gate (a window of units x characters) over a passage, and the passage coloured by one unit.

    Returns ``(fig, update)``: ``update(gate, unit)`` swaps the data of the existing images and returns a caption.
    ``gate_view`` drives it with controls; ``gate_figure`` is its static picture. The chosen unit is marked by two
    triangles outside the heat map (so its own row stays visible); the coloured passage has its own colour bar.
    The titles and axis labels sit at fixed places and the axes carry few ticks: finding places for them again on
    every frame was a third of the time a frame of the gate viewer took to draw.
    """
    T, H = _check_gates(gates, text)
    _check_gate_and_unit(gates, H, gate, unit)
    for name, value in (("window", window), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, not {value!r}.")
    window = min(window, H)
    grid, cells = _text_grid(text, width)
    fig, (ax_map, ax_text) = new_figure(2, 1, figsize=(8.6, 3.4 + 0.3 * grid.shape[0]),
                                        height_ratios=[3.0, 0.3 + 0.3 * grid.shape[0]])
    heat = ax_map.imshow(np.zeros((window, T)), aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
    pad = 0.015 * T
    marks = [ax_map.plot([x], [0], marker=m, color="#e53e3e", ms=9, ls="", clip_on=False, zorder=5)[0]
             for x, m in ((-0.5 - pad, ">"), (T - 0.5 + pad, "<"))]
    heat_bar = fig.colorbar(heat, ax=ax_map, fraction=0.03, pad=0.03)
    ax_map.set_xlabel("position in the passage (character)")
    ax_map.yaxis.set_label_coords(-0.055, 0.5)  # fixed places (axes coordinates): see the docstring
    ax_map.yaxis.set_major_locator(MaxNLocator(4, integer=True))
    colored = ax_text.imshow(grid, cmap="coolwarm", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax_text.add_collection(_glyphs(cells, ax_text, size=9), autolim=False)
    text_bar = fig.colorbar(colored, ax=ax_text, fraction=0.03, pad=0.03)
    for bar in (heat_bar, text_bar):
        bar.locator = MaxNLocator(3)
    text_bar.ax.yaxis.set_label_coords(5.4, 0.5)
    ax_text.set_xticks([])
    ax_text.set_yticks([])

    def update(gate, unit):
        _check_gate_and_unit(gates, H, gate, unit)
        values = gates[gate].detach().float().numpy()           # (T, H)
        first = int(np.clip(unit - window // 2, 0, H - window))
        shown, own = values[:, first : first + window], values[:, unit]
        signed = values.min() < 0                       # gates lie in (0, 1); g, c and h can be negative
        bound = float(np.abs(shown).max()) or 1.0
        heat.set_data(shown.T)
        heat.set_clim(*((-bound, bound) if signed else (0.0, 1.0)))
        heat.set_extent((-0.5, T - 0.5, first + window - 0.5, first - 0.5))
        for mark in marks:
            mark.set_ydata([unit])
        ax_map.set_ylabel(f"unit ({first}–{first + window - 1})")
        ax_map.set_title(f"'{gate}' of units {first}–{first + window - 1} over the passage (red triangles: unit {unit})",
                         fontsize=9, y=1.0)
        colored.set_data(_unit_grid(own, grid))
        own_bound = float(np.abs(own).max()) or 1.0     # the unit's own range, so its changes stay visible
        colored.set_clim(*((-own_bound, own_bound) if signed else (0.0, 1.0)))
        text_bar.set_label(f"unit {unit}'s '{gate}'", fontsize=8)
        ax_text.set_title(f"the passage, each character coloured by unit {unit}'s '{gate}' value", fontsize=9, y=1.0)
        return f"unit {unit}, {gate}: mean {values[:, unit].mean():.2f}, min {values[:, unit].min():.2f}, max {values[:, unit].max():.2f}"

    update(gate, unit)
    return fig, update


def forget_gate_figure(gates: dict, title: str = "Forget gates of the trained character LSTM over the passage"):
    """Histogram of every forget-gate value (all units, all positions) of ``charlm.record_gates``; returns the figure.

    A fresh LSTM's forget gates all sit near 0.5 (dashed line); training spreads them towards 0 (reset) and 1 (keep).
    """
    if not (isinstance(gates, dict) and isinstance(gates.get("forget"), torch.Tensor) and gates["forget"].dim() == 2):
        raise ValueError("gates must be the dict charlm.record_gates returns, with a (T, H) 'forget' entry.")
    values = gates["forget"].detach().float().flatten().numpy()
    fig, ax = new_figure(figsize=(6.4, 3.0))
    ax.hist(values, bins=np.linspace(0, 1, 41), color="#2b6cb0", label="trained model (every unit, every character)")
    ax.axvline(0.5, color="#718096", ls="--", label="where a fresh LSTM's gates start")
    ax.set(xlabel="forget gate value $f_t$", ylabel="count", title=title)
    ax.legend(fontsize=8)
    return fig


def temperature_figure(model, seed_text: str, temperatures=(0.0, 0.5, 1.0, 1.5), top: int = 12):
    """The model's next-character distribution after ``seed_text`` at each temperature (bars); returns the figure.

    The ``top`` characters most likely at temperature 1 are shown; temperature 0 puts all mass on the argmax.
    """
    if not (isinstance(seed_text, str) and seed_text):
        raise ValueError(f"seed_text must be a non-empty str, not {seed_text!r}.")
    temperatures = list(temperatures) if not isinstance(temperatures, str) and hasattr(temperatures, "__iter__") else None
    if not temperatures or not all(isinstance(t, int | float) and 0 <= t < math.inf for t in temperatures):
        raise ValueError("temperatures must be a non-empty list of finite numbers >= 0.")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= len(charlm.ALPHABET):
        raise ValueError(f"top must be an int in [1, {len(charlm.ALPHABET)}], not {top!r}.")
    with torch.no_grad():
        model.eval()
        logits = model(charlm.encode(seed_text)[None])[0][0, -1].double()
    order = torch.softmax(logits, -1).argsort(descending=True)[:top]
    fig, ax = new_figure(figsize=(8.2, 3.0))
    width = 0.8 / len(temperatures)
    for k, t in enumerate(temperatures):
        probs = torch.nn.functional.one_hot(logits.argmax(), len(logits)).double() if t == 0 else torch.softmax(logits / t, -1)
        ax.bar(np.arange(top) + (k - (len(temperatures) - 1) / 2) * width, probs[order].numpy(), width,
               label=f"τ = {t:g}", color=_color(k))
    ax.set_xticks(np.arange(top), [{" ": "space", "\n": "newline"}.get(ch, repr(ch)[1:-1]) for ch in charlm.decode(order)],
                  fontsize=9)
    ax.set(ylabel="probability", title=f"Next character after {seed_text!r}: softmax(logits / τ)")
    ax.legend(fontsize=8, title="temperature", title_fontsize=8)
    return fig


def _color(k: int) -> str:
    return ("#2d3748", "#2b6cb0", "#2f855a", "#c05621", "#9b2c2c")[k % 5]


def gate_figure(gates: dict, text: str, gate: str = "forget", unit: int = 0):
    """The static twin of ``gate_view``: ``gate_panel``'s figure for one gate and unit."""
    return gate_panel(gates, text, gate, unit)[0]


def gate_view(gates: dict, text: str, gate: str = "forget", unit: int = 0) -> widgets.View:
    """Dropdown for the gate and slider for the unit, redrawing ``gate_panel`` in place (controls ``gate``, ``unit``)."""
    import ipywidgets as w

    fig, update = gate_panel(gates, text, gate, unit)
    H = next(iter(gates.values())).shape[1]
    controls = {
        "gate": w.Dropdown(options=list(gates), value=gate, description="gate"),
        "unit": w.IntSlider(value=unit, min=0, max=H - 1, description="unit", continuous_update=False),
    }
    return widgets.controls_view(controls, fig, update)
