"""Chapter 01's widgets and their static twins: the conv-arithmetic view and the feature-map view.

Introduced in chapter 01. §3 derives the output-size formula (``conv_output_size``, checked there against
``nn.Conv2d``; exercise 1 asks for it) and shows ``conv_arithmetic_view`` beside ``conv_arithmetic_figure``. §8
("Looking inside the trained CNN") runs ``collect_feature_maps`` once and browses the maps with
``feature_map_view`` (static twin: ``plotting.plot_feature_maps``); §8's shift test calls ``collect_feature_maps`` too.
Each widget is a ``widgets.View`` whose figure's artists are updated in place (``course_utils.widgets``).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..plotting import new_figure
from ..train import eval_mode
from ..widgets import View, controls_view, render_frames

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


def conv_arithmetic_figure(size=7, kernel=3, stride=2, padding=1, dilation=1, positions=(0, 1, 2, 4)):
    """Static twin of ``conv_arithmetic_view``: the same diagram at a few output positions, side by side."""
    from matplotlib.image import imread

    _check_setting(False, size=size, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"kernel={kernel} with dilation={dilation} spans {span} pixels, more than the padded input "
                         f"(size + 2·padding = {size + 2 * padding}): this setting has no output.")
    count = conv_output_size(size, kernel, stride, padding, dilation) ** 2
    if not (isinstance(positions, tuple | list) and positions
            and all(isinstance(p, int) and not isinstance(p, bool) and 0 <= p < count for p in positions)):
        raise ValueError(f"positions must be a non-empty list of output positions in 0..{count - 1}, got {positions!r}.")
    diagram = ConvDiagram()
    frames = render_frames(diagram.fig, lambda i: diagram.draw(size, kernel, stride, padding, dilation, positions[i]),
                           len(positions), dpi=60)
    fig, axes = new_figure(1, len(frames), figsize=(3.4 * len(frames), 1.9))
    for ax, png, pos in zip(np.atleast_1d(axes), frames, positions):
        ax.imshow(imread(io.BytesIO(png)))
        ax.set_axis_off()
        ax.set_title(f"output position {pos}", fontsize=8)
    fig.suptitle(f"input {size}, kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}", fontsize=9)
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
