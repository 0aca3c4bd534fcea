"""Chapter 01's widgets and their static twins: the conv-arithmetic view and the feature-map view.

Introduced in chapter 01. §3 derives the output-size formula (``conv_output_size``, checked there against
``nn.Conv2d``; exercise 1 asks for it) and shows ``conv_arithmetic_view`` beside ``conv_arithmetic_figure``. §8
("Looking inside the trained CNN") runs ``collect_feature_maps`` once and browses the maps with
``feature_map_view`` (static twin: ``plotting.plot_feature_maps``); §8's shift test calls ``collect_feature_maps`` too.
Each widget is a ``widgets.View`` whose figure's artists are updated in place (``course_utils.widgets``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..plotting import new_figure
from ..train import eval_mode
from ..widgets import View, controls_view

# The conv-arithmetic view's slider ranges (the static figure accepts any setting that has an output).
RANGES = {"size": (3, 12), "kernel": (1, 5), "stride": (1, 3), "padding": (0, 3), "dilation": (1, 3)}


def conv_output_size(h: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """floor((h + 2p - d(k-1) - 1) / s) + 1: output length of a convolution along one axis."""
    for name, v, low in (("h", h, 1), ("k", k, 1), ("s", s, 1), ("p", p, 0), ("d", d, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {v!r}.")
    span = d * (k - 1) + 1
    if h + 2 * p < span:
        raise ValueError(f"the kernel (k={k}, d={d}) spans {span} pixels but the padded input (h + 2p) has only {h + 2 * p}.")
    return (h + 2 * p - span) // s + 1


def _check_setting(bounded: bool, **values) -> None:
    """Refuse conv settings that are not ints from the sliders' lowest value up (and, if ``bounded``, to their highest)."""
    for name, v in values.items():
        low, high = RANGES[name]
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low or (bounded and v > high):
            raise ValueError(f"{name} must be an int {f'in {low}..{high}' if bounded else f'>= {low}'}, got {v!r}.")


class ConvDiagram:
    """A padded input grid with the kernel's taps at one output position, and the output grid."""

    def __init__(self, max_size: int = 16):
        self.fig, (self.ax_in, self.ax_out) = new_figure(1, 2, figsize=(7.2, 3.6), width_ratios=[1.4, 1])
        blank = np.zeros((max_size, max_size))
        self.im_in = self.ax_in.imshow(blank, cmap="Blues", vmin=0, vmax=3)
        self.im_out = self.ax_out.imshow(blank, cmap="Oranges", vmin=0, vmax=2)
        self.taps = self.ax_in.scatter([], [], s=40, c="crimson", marker="s")
        self.box = Rectangle((0, 0), 1, 1, fill=False, ec="crimson", lw=2)
        self.ax_in.add_patch(self.box)
        self.out_box = Rectangle((0, 0), 1, 1, fill=False, ec="crimson", lw=2)
        self.ax_out.add_patch(self.out_box)
        for ax in (self.ax_in, self.ax_out):
            ax.set_xticks([])
            ax.set_yticks([])

    def draw(self, size, kernel, stride, padding, dilation, position=0) -> str:
        """Show output position ``position`` (row-major); returns a one-line summary."""
        out = conv_output_size(size, kernel, stride, padding, dilation)
        if isinstance(position, bool) or not isinstance(position, int | np.integer) or not 0 <= position < out * out:
            raise ValueError(f"position must be an int in 0..{out * out - 1} (the output is {out}×{out}), got {position!r}.")
        full = size + 2 * padding
        grid = np.zeros((full, full))
        grid[padding:padding + size, padding:padding + size] = 1  # real pixels; padding stays 0
        r, c = divmod(position, out)
        top, left = r * stride, c * stride
        span = dilation * (kernel - 1) + 1
        ys, xs = np.meshgrid(top + dilation * np.arange(kernel), left + dilation * np.arange(kernel), indexing="ij")
        grid[ys, xs] += 1.5
        self.im_in.set_data(grid)
        self.im_in.set_extent((-0.5, full - 0.5, full - 0.5, -0.5))
        self.taps.set_offsets(np.c_[xs.ravel(), ys.ravel()])
        self.box.set_bounds(left - 0.5, top - 0.5, span, span)
        o = np.ones((out, out))
        o[r, c] = 2
        self.im_out.set_data(o)
        self.im_out.set_extent((-0.5, out - 0.5, out - 0.5, -0.5))
        self.out_box.set_bounds(c - 0.5, r - 0.5, 1, 1)
        self.ax_in.set_title(f"input {size}×{size}, padded to {full}×{full}", fontsize=9)
        self.ax_out.set_title(f"output {out}×{out}", fontsize=9)
        return (f"out = floor(({size} + 2·{padding} − {dilation}·({kernel}−1) − 1) / {stride}) + 1 = {out};"
                f" output ({r}, {c}) reads rows {top}–{top + span - 1}, cols {left}–{left + span - 1} of the padded input")


def conv_arithmetic_view(size=7, kernel=3, stride=2, padding=1, dilation=1) -> View:
    """Sliders for input size, kernel, stride, padding, dilation and the output position, plus a play button
    (``parts["play"]``) that walks the window over every output position. A setting without output is explained
    in the caption."""
    import ipywidgets as w

    _check_setting(True, size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    diagram = ConvDiagram()
    style = {"description_width": "70px"}
    controls = {
        "size": w.IntSlider(size, *RANGES["size"], description="input", style=style),
        "kernel": w.IntSlider(kernel, *RANGES["kernel"], description="kernel", style=style),
        "stride": w.IntSlider(stride, *RANGES["stride"], description="stride", style=style),
        "padding": w.IntSlider(padding, *RANGES["padding"], description="padding", style=style),
        "dilation": w.IntSlider(dilation, *RANGES["dilation"], description="dilation", style=style),
        "position": w.IntSlider(0, 0, 143, description="position", style=style),
    }
    play = w.Play(value=0, min=0, max=143, interval=500, description="animate the window")

    def update(**v):
        try:
            out = conv_output_size(v["size"], v["kernel"], v["stride"], v["padding"], v["dilation"])
        except ValueError as err:  # kernel larger than the padded input: say so instead of failing
            return f"no output: {err}"
        last = out * out - 1
        for c in (controls["position"], play):
            if c.max != last:
                c.max = last  # may clamp the position, which redraws again with the clamped value
        return diagram.draw(**{**v, "position": min(v["position"], last)})

    view = controls_view(controls, diagram.fig, update)
    w.jslink((play, "value"), (controls["position"], "value"))
    return view.add("play", w.HBox([play, w.Label("animate the window")]), where="top")


def conv_arithmetic_figure(size=7, kernel=3, stride=2, padding=1, dilation=1, positions=(0, 1, 3, 4)):
    """Static twin of ``conv_arithmetic_view``, drawn at readable size: one padded-input grid per output position
    (pixel grid lines, padded cells hatched, the kernel's taps in red) and the output grid with those positions
    numbered; the formula with these numbers is the caption (``fig.texts[-1]``)."""
    _check_setting(False, size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"kernel={kernel} with dilation={dilation} spans {span} pixels, more than the padded input "
                         f"(size + 2·padding = {size + 2 * padding}): this setting has no output.")
    out = conv_output_size(size, kernel, stride, padding, dilation)
    if not (isinstance(positions, tuple | list) and positions
            and all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p < out * out for p in positions)):
        raise ValueError(f"positions must be a non-empty list of output positions in 0..{out * out - 1}, got {positions!r}.")
    full = size + 2 * padding
    n = len(positions)
    fig, axes = new_figure(1, n + 1, figsize=(2.1 * n + 1.7, 3.1), width_ratios=[1] * n + [0.75])
    for ax, pos in zip(axes[:n], positions):
        r, c = divmod(pos, out)
        top, left = r * stride, c * stride
        for i in range(full):
            for j in range(full):
                pad = not (padding <= i < padding + size and padding <= j < padding + size)
                ax.add_patch(Rectangle((j, i), 1, 1, fc="0.93" if pad else "#cfe0f3", ec="0.55", lw=0.6,
                                       hatch="///" if pad else None))
        for u in range(kernel):
            for v in range(kernel):
                ax.add_patch(Rectangle((left + v * dilation + 0.15, top + u * dilation + 0.15), 0.7, 0.7, fc="crimson", ec="none"))
        ax.add_patch(Rectangle((left, top), span, span, fill=False, ec="crimson", lw=2))
        ax.set(xlim=(0, full), ylim=(full, 0), aspect="equal", xticks=[], yticks=[])
        ax.set_title(f"output ({r}, {c}) = position {pos}\nreads rows {top}–{top + span - 1}, cols {left}–{left + span - 1}",
                     fontsize=9)
    ax = axes[n]
    for i in range(out):
        for j in range(out):
            ax.add_patch(Rectangle((j, i), 1, 1, fc="#fbd9b5", ec="0.4", lw=0.8))
    for pos in positions:
        r, c = divmod(pos, out)
        ax.add_patch(Rectangle((c, r), 1, 1, fc="crimson", ec="0.4", lw=0.8))
        ax.text(c + 0.5, r + 0.5, str(pos), ha="center", va="center", color="white", fontsize=10, weight="bold")
    ax.set(xlim=(0, out), ylim=(out, 0), aspect="equal", xticks=[], yticks=[])
    ax.set_title(f"output {out}×{out}\n(numbers: drawn)", fontsize=9)
    fig.suptitle(f"input {size}×{size} (blue) padded by {padding} (hatched) to {full}×{full}; kernel {kernel}×{kernel}, "
                 f"stride {stride}, dilation {dilation}", fontsize=10)
    fig.supxlabel(f"H_out = floor((H + 2p − d(k−1) − 1) / s) + 1 = floor(({size} + 2·{padding} − {dilation}·({kernel}−1) − 1)"
                  f" / {stride}) + 1 = {out}", fontsize=10)
    return fig


def receptive_field(layers) -> list[tuple[int, int]]:
    """Receptive field and jump after each layer of a stack, given as ``[(kernel, stride[, dilation]), ...]``.

    Returns ``[(r, j), ...]``: a unit after layer l sees an r×r window of input pixels, and neighbouring units are
    j input pixels apart (r grows by d·(k−1)·j_previous, j is multiplied by the stride). Pooling counts as a layer.
    """
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise ValueError(f"layers must be a non-empty list of (kernel, stride) or (kernel, stride, dilation) tuples, got {layers!r}.")
    r, j, out = 1, 1, []
    for i, layer in enumerate(layers):
        ok = isinstance(layer, tuple | list) and len(layer) in (2, 3) and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1 for v in layer)
        if not ok:
            raise ValueError(f"layers[{i}] must be (kernel, stride) or (kernel, stride, dilation) with ints >= 1, got {layer!r}.")
        k, s, d = (*layer, 1)[:3]
        r, j = r + d * (k - 1) * j, j * s
        out.append((int(r), int(j)))
    return out


def receptive_field_figure(image: torch.Tensor, fields: dict, centre=(14, 14)):
    """Draw each receptive field in ``fields`` ({label: size r}) as a square centred on ``centre`` over ``image``."""
    if not isinstance(image, torch.Tensor) or image.dim() != 3 or image.shape[0] != 1:
        raise ValueError(f"image must be one grey image shaped (1, H, W), got "
                         f"{tuple(image.shape) if isinstance(image, torch.Tensor) else type(image).__name__}.")
    if not isinstance(fields, dict) or not fields or not all(isinstance(r, int) and r >= 1 for r in fields.values()):
        raise ValueError(f"fields must be a non-empty dict {{label: receptive field size (int >= 1)}}, got {fields!r}.")
    fig, ax = new_figure(figsize=(4.6, 3.6))
    ax.imshow(image[0].cpu().numpy(), cmap="gray", extent=(0, image.shape[2], image.shape[1], 0))
    colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"]
    cy, cx = centre
    for (label, r), colour in zip(fields.items(), colours * 4):
        ax.add_patch(Rectangle((cx - r / 2, cy - r / 2), r, r, fill=False, ec=colour, lw=2.2, label=f"{label}: {r}×{r}"))
    ax.set(xlim=(-4, image.shape[2] + 4), ylim=(image.shape[1] + 4, -4), xticks=[], yticks=[],
           title="receptive field of one unit at the image centre")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def plot_filters_signed(weight: torch.Tensor, ncols: int = 8, title: str = "", size: float = 0.9):
    """First-layer filters (out, 1, k, k) on one shared, symmetric colour scale (red +, blue −), with a colourbar."""
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4 or weight.shape[1] != 1:
        raise ValueError(f"weight must be a conv weight shaped (out, 1, k, k), got "
                         f"{tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__}.")
    if weight.numel() == 0 or not torch.isfinite(weight).all():
        raise ValueError("weight must hold at least one filter, every value finite (no NaN or inf).")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int (filters per row), got {ncols!r}.")
    if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size < 10:
        raise ValueError(f"size must be a number of inches per filter in (0, 10), got {size!r}.")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}.")
    w = weight.detach().float().cpu()[:, 0]
    limit = float(w.abs().max()) or 1.0
    nrows = -(-len(w) // ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.5), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < len(w):
            im = ax.imshow(w[i].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title, fontsize=10)
    return fig


def plot_feature_map_grid(maps: dict, index: int = 0, n_channels: int = 8, title: str = ""):
    """One row per layer: the first ``n_channels`` maps of image ``index``, one colour scale per row (colourbar)."""
    if not isinstance(maps, dict) or not maps:
        raise ValueError(f"maps must be a non-empty dict {{layer name: (B, C, H, W) tensor}}, got {maps!r}.")
    for name, m in maps.items():
        if not isinstance(m, torch.Tensor) or m.dim() != 4 or m.shape[1] < n_channels or not 0 <= index < len(m):
            raise ValueError(f"maps[{name!r}] must be (B, C >= {n_channels}, H, W) with image {index} in it, got "
                             f"{tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__}.")
    fig, axes = new_figure(len(maps), n_channels, figsize=(1.0 * n_channels + 1.6, 1.15 * len(maps) + 0.5), squeeze=False)
    for row, (name, m) in zip(axes, maps.items()):
        stack = m[index, :n_channels].float()
        lo, hi = float(stack.min()), float(stack.max()) + 1e-6
        for ch, ax in enumerate(row):
            im = ax.imshow(stack[ch].numpy(), cmap="viridis", vmin=lo, vmax=hi)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
        fig.colorbar(im, ax=list(row), shrink=0.9, pad=0.01)
    fig.suptitle(title, fontsize=10)
    return fig


def plot_training(history, title: str):
    """Loss and accuracy per epoch of ``recipe.train_classifier``'s History: training (running averages during
    each epoch, with augmentation and dropout on) against the test set (measured after the epoch)."""
    if not (hasattr(history, "keys") and all(k in history.keys() for k in ("train_loss", "val_loss", "train_acc", "val_acc"))):
        raise ValueError("history must be the History of recipe.train_classifier (train_/val_ loss and acc per epoch).")
    if not isinstance(title, str) or not title:
        raise ValueError("title must name the model, e.g. 'CNN 32-64-128'.")
    fig, (ax_loss, ax_acc) = new_figure(1, 2, figsize=(8, 3))
    epochs = history["epoch"]
    for ax, key, label in ((ax_loss, "loss", "loss (cross-entropy,\nlabel smoothing)"), (ax_acc, "acc", "accuracy")):
        ax.plot(epochs, history[f"train_{key}"], "o-", color="#1f77b4", label="training set (running, during the epoch)")
        ax.plot(epochs, history[f"val_{key}"], "s--", color="#d62728", label="test set (after the epoch)")
        ax.set(xlabel="epoch", ylabel=label)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return fig


def collect_feature_maps(model: torch.nn.Module, layers: dict, images: torch.Tensor) -> dict:
    """Run ``images`` through ``model`` in eval mode and return {name: output of layers[name]} (on the CPU)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
    if not isinstance(layers, dict) or not layers:
        raise ValueError(f"layers must be a non-empty dict {{name: submodule of model}}, got {layers!r}.")
    inside = {id(m) for m in model.modules()}
    for name, layer in layers.items():
        if id(layer) not in inside:
            raise ValueError(f"layers[{name!r}] is not a submodule of model, so running the model never reaches it.")
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or len(images) == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a non-empty tensor shaped (B, C, H, W), got {shape}.")
    maps = {}
    hooks = [layer.register_forward_hook(lambda m, i, o, name=name: maps.__setitem__(name, o.detach().cpu()))
             for name, layer in layers.items()]
    try:
        with eval_mode(model):  # batch norm uses its running statistics, dropout is off
            model(images)
    finally:
        for h in hooks:
            h.remove()
    unused = [name for name in layers if name not in maps]
    if unused:
        raise ValueError(f"layers {unused} never ran during model's forward pass, so they have no feature maps.")
    return maps


def feature_map_view(maps: dict, images: torch.Tensor, titles, n_channels: int = 16) -> View:
    """Slider over images and a layer dropdown; shows the image and the first ``n_channels`` maps of that layer.

    ``maps`` is what ``collect_feature_maps`` returns for ``images``; ``titles`` has one entry per image.
    """
    import ipywidgets as w

    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 1 or len(images) == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a non-empty tensor of grey images shaped (B, 1, H, W), got {shape}.")
    if isinstance(n_channels, bool) or not isinstance(n_channels, int) or n_channels < 2 or n_channels % 2:
        raise ValueError(f"n_channels must be a positive even int (the maps fill two rows), got {n_channels!r}.")
    if not isinstance(maps, dict) or not maps:
        raise ValueError(f"maps must be a non-empty dict {{layer name: (B, C, H, W) tensor}}, got {maps!r}.")
    for name, m in maps.items():
        if not isinstance(m, torch.Tensor) or m.dim() != 4 or len(m) != len(images) or m.shape[1] < n_channels:
            shape = tuple(m.shape) if isinstance(m, torch.Tensor) else type(m).__name__
            raise ValueError(f"maps[{name!r}] must be shaped ({len(images)}, C >= n_channels={n_channels}, H, W), "
                             f"one map stack per image, got {shape}.")
    if isinstance(titles, str) or not isinstance(titles, Sequence) or len(titles) != len(images):
        raise ValueError(f"titles must hold one title per image ({len(images)}), got {titles!r}.")
    maps = {name: m.detach().cpu() for name, m in maps.items()}
    images = images.detach().cpu()
    names = list(maps)
    columns = n_channels // 2 + 1
    fig, axes = new_figure(2, columns, figsize=(1.0 * columns, 2.3))
    ax_img = axes[0, 0]
    axes[1, 0].set_axis_off()
    im_img = ax_img.imshow(images[0, 0].numpy(), cmap="gray")
    map_axes = [ax for i, ax in enumerate(axes.flat) if i % columns != 0]
    first = maps[names[0]][0]
    im_maps = [ax.imshow(first[i].numpy(), cmap="viridis") for i, ax in enumerate(map_axes)]
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])

    def update(index, layer):
        im_img.set_data(images[index, 0].numpy())
        ax_img.set_title(titles[index], fontsize=7)
        m = maps[layer][index]
        for ch, im in enumerate(im_maps):
            im.set_data(m[ch].numpy())
            im.set_clim(float(m[ch].min()), float(m[ch].max()) + 1e-6)
        return f"{layer}: {m.shape[0]} channels of {m.shape[1]}×{m.shape[2]}; first {len(im_maps)} shown"

    controls = {
        "index": w.IntSlider(0, 0, len(images) - 1, description="image"),
        "layer": w.Dropdown(options=names, value=names[0], description="layer"),
    }
    return controls_view(controls, fig, update)
