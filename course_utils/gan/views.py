"""Chapter 04's pictures and widgets: toy-GAN snapshots, latent interpolation, and sample grids across training.

Introduced in chapter 04. Widgets follow the course pattern (``course_utils.widgets``): whatever a slider
browses is computed before it moves (the images along an interpolation path, the PNG of every training
snapshot), and each widget has a static twin for readers without a kernel.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.utils import make_grid

from ..plotting import new_figure
from ..widgets import controls_view, frame_browser, render_frames


def _grid_array(images: torch.Tensor, nrow: int) -> np.ndarray:
    """Images (N, 1, 28, 28) in [0, 1] -> one grey (H, W) array with white gaps."""
    x = torch.as_tensor(images).detach().cpu().float()
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"images must be grey images shaped (N, 1, H, W), got {tuple(x.shape)}.")
    return make_grid(x.clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)[0].numpy()


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> [0, 1] for display and for the evaluation classifier."""
    return ((images + 1) / 2).clamp(0, 1)


# ---------------------------------------------------------------- the toy GAN

def ring_snapshots_figure(real: torch.Tensor, runs: dict, centers: torch.Tensor, max_cols: int = 6, size: float = 1.9):
    """Rows of scatter plots: for each run ``{label: (frames, steps)}``, generated points (red) over real ones (grey).

    ``frames`` is a list of (N, 2) samples taken after ``steps[i]`` training steps; at most ``max_cols`` evenly
    spaced snapshots per row are drawn (always including the last).
    """
    if not runs:
        raise ValueError("ring_snapshots_figure needs at least one run, e.g. {'working': (frames, steps)}.")
    real, centers = torch.as_tensor(real).cpu(), torch.as_tensor(centers).cpu()
    n_cols = min(max_cols, max(len(frames) for frames, _ in runs.values()))
    fig, axes = new_figure(len(runs), n_cols, figsize=(size * n_cols, size * len(runs) + 0.2), squeeze=False)
    lim = float(centers.abs().max()) * 1.5
    for r, (label, (frames, steps)) in enumerate(runs.items()):
        if len(frames) != len(steps):
            raise ValueError(f"run {label!r} has {len(frames)} frames but {len(steps)} step counts.")
        picks = np.unique(np.linspace(0, len(frames) - 1, n_cols).round().astype(int))
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            if c >= len(picks):
                ax.set_visible(False)
                continue
            pts = torch.as_tensor(frames[picks[c]]).cpu()
            ax.scatter(real[:, 0], real[:, 1], s=1, color="0.6")
            ax.scatter(pts[:, 0], pts[:, 1], s=1, color="tab:red", alpha=0.5)
            ax.set_title(f"step {steps[picks[c]]}", fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=8)
    return fig


def training_curves_figure(logs: dict, keys=("d_loss", "g_loss"), smooth: int = 25, size=(9.0, 2.6)):
    """Per-batch curves of several runs ``{label: {"d_loss": [...], ...}}``, one panel per run, smoothed by a moving mean."""
    if not logs:
        raise ValueError("training_curves_figure needs the logs of at least one run.")
    fig, axes = new_figure(1, len(logs), figsize=size, squeeze=False)
    for ax, (label, log) in zip(axes[0], logs.items()):
        for k in keys:
            if k not in log:
                raise ValueError(f"run {label!r} has no {k!r}; it logged {sorted(log)}.")
            v = np.asarray(log[k], dtype=float)
            w = max(1, min(smooth, len(v)))
            ax.plot(np.convolve(v, np.ones(w) / w, mode="valid"), label=k, lw=1)
        ax.set(title=label, xlabel="training step")
        ax.title.set_fontsize(9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


# ---------------------------------------------------------------- sample grids

def sample_grids_figure(grids: dict, nrow: int = 8, size: float = 2.6):
    """Side-by-side grids of images in [0, 1]: ``{title: images (N, 1, 28, 28)}``."""
    if not grids:
        raise ValueError("sample_grids_figure needs at least one set of images.")
    arrays = {title: _grid_array(images, nrow) for title, images in grids.items()}
    aspect = max(a.shape[0] / a.shape[1] for a in arrays.values())
    fig, axes = new_figure(1, len(grids), figsize=(size * len(grids), size * aspect + 0.35), squeeze=False)
    for ax, (title, array) in zip(axes[0], arrays.items()):
        ax.imshow(array, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    return fig


def class_shares_figure(shares: dict, classes, min_share: float | None = None):
    """Grouped bars: the share of samples the classifier assigns to each class, one bar colour per source."""
    if not shares:
        raise ValueError("class_shares_figure needs the shares of at least one source.")
    fig, ax = new_figure(figsize=(8, 3))
    width = 0.8 / len(shares)
    x = np.arange(len(classes))
    for i, (label, s) in enumerate(shares.items()):
        s = np.asarray(s, dtype=float)
        if s.shape != (len(classes),):
            raise ValueError(f"shares of {label!r} must have one entry per class ({len(classes)}), got {s.shape}.")
        ax.bar(x + (i - (len(shares) - 1) / 2) * width, s, width, label=label)
    if min_share is not None:
        ax.axhline(min_share, color="black", lw=0.8, ls="--", label=f"covered if ≥ {min_share:.0%}")
    ax.set_xticks(x, classes, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of samples")
    ax.legend(fontsize=7, ncols=2)
    return fig


def _updates(n: int) -> str:
    return f"{n:,} G update" + ("" if n == 1 else "s")


def progress_frames(frames, steps, steps_per_epoch: int, nrow: int = 6, dpi: int = 80) -> tuple[list[bytes], list[str]]:
    """PNG frames (and captions) of sample grids taken during training, for ``widgets.frame_browser``."""
    if len(frames) == 0 or len(frames) != len(steps):
        raise ValueError(f"need one step count per frame and at least one frame, got {len(frames)} frames, {len(steps)} steps.")
    fig, ax = new_figure(figsize=(3.4, 3.6))
    im = ax.imshow(_grid_array(frames[0], nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    title = ax.set_title("", fontsize=9)

    def update(i):
        im.set_data(_grid_array(frames[i], nrow))
        title.set_text(f"after {_updates(steps[i])} (epoch {steps[i] / steps_per_epoch:.2f})")

    pngs = render_frames(fig, update, len(frames), dpi=dpi)
    return pngs, [f"snapshot {i + 1} of {len(frames)}: {_updates(steps[i])}" for i in range(len(frames))]


def progress_viewer(frames, steps, steps_per_epoch: int, nrow: int = 6):
    """A slider (with play button) over sample grids of the same fixed z taken during training."""
    pngs, captions = progress_frames(frames, steps, steps_per_epoch, nrow)
    return frame_browser(pngs, captions, description="snapshot", value=len(pngs) - 1, play=True)


def progress_figure(frames, steps, steps_per_epoch: int, n_show: int = 5, nrow: int = 6, size: float = 2.0):
    """Static twin of the progress viewer: ``n_show`` evenly spaced snapshots side by side."""
    if len(frames) == 0 or len(frames) != len(steps):
        raise ValueError(f"need one step count per frame and at least one frame, got {len(frames)} frames, {len(steps)} steps.")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(n_show, len(frames))).round().astype(int))
    fig, axes = new_figure(1, len(picks), figsize=(size * len(picks), size + 0.3), squeeze=False)
    for ax, i in zip(axes[0], picks):
        ax.imshow(_grid_array(frames[i], nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{_updates(steps[i])}\n(epoch {steps[i] / steps_per_epoch:.2f})", fontsize=8)
        ax.set_axis_off()
    return fig


# ---------------------------------------------------------------- latent interpolation

def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, n_steps: int, spherical: bool = False) -> torch.Tensor:
    """``n_steps`` latent vectors (n_steps, latent_dim) from ``z_a`` to ``z_b``: a straight line or a great-circle arc.

    The spherical path (slerp) keeps the norm near that of typical Gaussian samples; the straight line's
    midpoint is shorter than either end, a region the generator rarely saw.
    """
    z_a, z_b = torch.as_tensor(z_a).flatten().float(), torch.as_tensor(z_b).flatten().float()
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same size, got {tuple(z_a.shape)} and {tuple(z_b.shape)}.")
    if not isinstance(n_steps, int) or n_steps < 2:
        raise ValueError(f"n_steps must be an int >= 2, not {n_steps!r}.")
    t = torch.linspace(0, 1, n_steps)[:, None]
    if not spherical:
        return (1 - t) * z_a + t * z_b
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


@torch.no_grad()
def _decode(G, z: torch.Tensor) -> np.ndarray:
    G.eval()
    device = next(G.parameters()).device
    return to_unit(G(z.to(device))).cpu()[:, 0].numpy()


def interpolation_view(G, n_steps: int = 9, seed: int = 0):
    """Slider along the path between two latent vectors, a path selector, and a button that draws a new pair.

    The images of the whole path are decoded once per pair (and path kind); the slider only swaps pixels.
    """
    import ipywidgets as w

    if not hasattr(G, "latent_dim"):
        raise ValueError("G needs an attribute latent_dim (the size of z).")
    generator = torch.Generator().manual_seed(seed)
    state = {}

    def new_pair():
        z_a, z_b = torch.randn(2, G.latent_dim, generator=generator)
        state["paths"] = {kind: _decode(G, interpolate(z_a, z_b, n_steps, spherical=kind == "spherical"))
                          for kind in ("linear", "spherical")}
        state["pair"] = state.get("pair", 0) + 1

    new_pair()
    fig = new_figure(figsize=(7.2, 3.0))[0]
    fig.clear()
    grid = fig.add_gridspec(2, n_steps, height_ratios=[3, 1])
    ax_big = fig.add_subplot(grid[0, (n_steps - 3) // 2:(n_steps + 3) // 2])
    big = ax_big.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_big.set_axis_off()
    strip, frames = [], []
    for i in range(n_steps):
        ax = fig.add_subplot(grid[1, i])
        strip.append(ax.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1, interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        frames.append(ax)
    title = ax_big.set_title("", fontsize=9)

    def update(position, path):
        images = state["paths"][path]
        big.set_data(images[position])
        for i, (im, ax) in enumerate(zip(strip, frames)):
            im.set_data(images[i])
            for spine in ax.spines.values():
                spine.set_color("tab:red" if i == position else "white")
                spine.set_linewidth(2.5 if i == position else 0.5)
        t = position / (n_steps - 1)
        title.set_text(f"pair {state['pair']}, t = {t:.2f} ({path} path)")
        return f"z = {'slerp' if path == 'spherical' else 'lerp'}(z_a, z_b, t = {t:.2f})"

    slider = w.IntSlider(value=n_steps // 2, min=0, max=n_steps - 1, description="position")
    path = w.ToggleButtons(options=["linear", "spherical"], value="linear", description="path")
    box = controls_view({"position": slider, "path": path}, fig, update)
    button = w.Button(description="new pair of z", icon="refresh")

    def resample(_):
        new_pair()
        getattr(box, "frames", {}).clear()  # PNGs cached for the old pair are stale
        box.redraw()

    button.on_click(resample)
    box.children = (box.children[0], button, *box.children[1:])
    box.resample = resample
    return box


def interpolation_figure(G, n_pairs: int = 3, n_steps: int = 9, seed: int = 0, size: float = 0.8):
    """Static twin of the interpolation view: ``n_pairs`` rows, each a straight-line path between two random z."""
    if not hasattr(G, "latent_dim"):
        raise ValueError("G needs an attribute latent_dim (the size of z).")
    generator = torch.Generator().manual_seed(seed)
    fig, axes = new_figure(n_pairs, n_steps, figsize=(size * n_steps, size * n_pairs + 0.3), squeeze=False)
    for r in range(n_pairs):
        z_a, z_b = torch.randn(2, G.latent_dim, generator=generator)
        for c, img in enumerate(_decode(G, interpolate(z_a, z_b, n_steps))):
            axes[r, c].imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[r, c].set_axis_off()
            if r == 0:
                axes[r, c].set_title(f"t = {c / (n_steps - 1):.2f}", fontsize=7)
    return fig
