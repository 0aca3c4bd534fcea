"""Chapter 01's interactive views: the conv-arithmetic explorer and the feature-map viewer.

Both follow the course's widget pattern (``course_utils.widgets``): one figure whose artists are
updated in place, shown as an image widget, with a static figure of the same lesson beside it.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..plotting import new_figure
from ..widgets import controls_view, render_frames


def conv_output_size(h: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """floor((h + 2p - d(k-1) - 1) / s) + 1: output length of a convolution along one axis."""
    for name, v, low in (("h", h, 1), ("k", k, 1), ("s", s, 1), ("p", p, 0), ("d", d, 1)):
        if not isinstance(v, int | np.integer) or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {v!r}.")
    span = d * (k - 1) + 1
    if h + 2 * p < span:
        raise ValueError(f"the kernel spans {span} pixels but the padded input has only {h + 2 * p}.")
    return (h + 2 * p - span) // s + 1


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
        full = size + 2 * padding
        grid = np.zeros((full, full))
        grid[padding:padding + size, padding:padding + size] = 1  # real pixels; padding stays 0
        position = min(position, out * out - 1)
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


def conv_arithmetic_explorer(size=7, kernel=3, stride=2, padding=1, dilation=1):
    """Sliders for input size, kernel, stride, padding, dilation and the output position, plus a play button
    that walks the window over every output position."""
    import ipywidgets as w

    diagram = ConvDiagram()
    style = {"description_width": "70px"}
    controls = {
        "size": w.IntSlider(size, 3, 12, description="input", style=style),
        "kernel": w.IntSlider(kernel, 1, 5, description="kernel", style=style),
        "stride": w.IntSlider(stride, 1, 3, description="stride", style=style),
        "padding": w.IntSlider(padding, 0, 3, description="padding", style=style),
        "dilation": w.IntSlider(dilation, 1, 3, description="dilation", style=style),
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

    box = controls_view(controls, diagram.fig, update)
    w.jslink((play, "value"), (controls["position"], "value"))
    box.children = (w.HBox([play, w.Label("animate the window")]), *box.children)
    return box


def conv_arithmetic_strip(size=7, kernel=3, stride=2, padding=1, dilation=1, positions=(0, 1, 2, 4)):
    """Static fallback: the same diagram at a few output positions, side by side."""
    diagram = ConvDiagram()
    frames = render_frames(diagram.fig, lambda i: diagram.draw(size, kernel, stride, padding, dilation, positions[i]),
                           len(positions), dpi=60)
    import io

    from matplotlib.image import imread

    fig, axes = new_figure(1, len(frames), figsize=(3.4 * len(frames), 1.9))
    for ax, png, pos in zip(np.atleast_1d(axes), frames, positions):
        ax.imshow(imread(io.BytesIO(png)))
        ax.set_axis_off()
        ax.set_title(f"output position {pos}", fontsize=8)
    fig.suptitle(f"input {size}, kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}", fontsize=9)
    return fig


@torch.no_grad()
def collect_feature_maps(model: torch.nn.Module, layers: dict, images: torch.Tensor) -> dict:
    """Run ``images`` through ``model`` and return {name: output of layers[name]} (on the CPU)."""
    if images.dim() != 4:
        raise ValueError(f"images must be shaped (B, C, H, W), got {tuple(images.shape)}.")
    maps, hooks = {}, []
    for name, layer in layers.items():
        hooks.append(layer.register_forward_hook(lambda m, i, o, name=name: maps.__setitem__(name, o.detach().cpu())))
    was_training = model.training
    model.eval()
    try:
        model(images)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return maps


def feature_map_viewer(maps: dict, images: torch.Tensor, titles, n_channels: int = 16):
    """Slider over images and a layer dropdown; shows the image and its first ``n_channels`` maps."""
    import ipywidgets as w

    names = list(maps)
    fig, axes = new_figure(2, n_channels // 2 + 1, figsize=(1.0 * (n_channels // 2 + 1), 2.3))
    ax_img = axes[0, 0]
    axes[1, 0].set_axis_off()
    im_img = ax_img.imshow(images[0, 0].cpu().numpy(), cmap="gray")
    map_axes = [ax for i, ax in enumerate(axes.flat) if i % (n_channels // 2 + 1) != 0]
    first = maps[names[0]][0]
    im_maps = [ax.imshow(first[i].numpy(), cmap="viridis") for i, ax in enumerate(map_axes)]
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])

    def update(index, layer):
        im_img.set_data(images[index, 0].cpu().numpy())
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
