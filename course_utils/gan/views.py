"""Chapter 04's pictures and widgets: toy-GAN snapshots, loss curves, sample grids, latent interpolation, progress.

Introduced in chapter 04 (§4 toy snapshots and curves, §5-§7 sample grids and class shares, §8 the two widgets).
Widgets follow the course pattern (``course_utils.widgets``) and return a ``widgets.View``: whatever a slider
browses is computed before it moves (the images along an interpolation path, the PNG of every training
snapshot), and each ``*_view`` has a static twin ``*_figure`` for readers without a kernel.
"""

from __future__ import annotations

import numpy as np
import torch
from torchvision.utils import make_grid

from ..plotting import new_figure
from ..train import eval_mode
from ..widgets import View, controls_view, frame_browser, render_frames


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
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of runs, e.g. {'working': (frames, steps)}.")
    real, centers = torch.as_tensor(real).cpu(), torch.as_tensor(centers).cpu()
    for name, points in (("real", real), ("centers", centers)):
        if points.dim() != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError(f"{name} must be a non-empty (N, 2) tensor of points, got shape {tuple(points.shape)}.")
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
    if not isinstance(logs, dict) or not logs:
        raise ValueError("logs must be a non-empty dict {label: {'d_loss': [...], ...}} (BatchLog().logs of each run).")
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
    if not isinstance(grids, dict) or not grids:
        raise ValueError("grids must be a non-empty dict {title: images (N, 1, 28, 28)}.")
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
    if not isinstance(shares, dict) or not shares:
        raise ValueError("shares must be a non-empty dict {source: class shares}.")
    fig, ax = new_figure(figsize=(8, 3))
    width = 0.8 / len(shares)
    x = np.arange(len(classes))
    for i, (label, s) in enumerate(shares.items()):
        s = np.asarray(s, dtype=float)
        if s.shape != (len(classes),):
            raise ValueError(f"shares of {label!r} must have one entry per class in classes ({len(classes)}), got {s.shape}.")
        ax.bar(x + (i - (len(shares) - 1) / 2) * width, s, width, label=label)
    if min_share is not None:
        ax.axhline(min_share, color="black", lw=0.8, ls="--", label=f"covered if ≥ {min_share:.0%}")
    ax.set_xticks(x, classes, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share of samples")
    ax.legend(fontsize=7, ncols=2)
    return fig


def _updates(n: int) -> str:
    return f"{n:,} G update" + ("" if n == 1 else "s")


def _check_progress(frames, steps, steps_per_epoch) -> None:
    if len(frames) == 0 or len(frames) != len(steps):
        raise ValueError(f"frames and steps: need one step count per frame and at least one frame, got {len(frames)} "
                         f"frames, {len(steps)} steps.")
    if not isinstance(steps_per_epoch, int) or isinstance(steps_per_epoch, bool) or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be a positive int, not {steps_per_epoch!r}.")


def progress_frames(frames, steps, steps_per_epoch: int, nrow: int = 6, dpi: int = 80) -> tuple[list[bytes], list[str]]:
    """PNG frames (and captions) of sample grids taken during training, for ``widgets.frame_browser``."""
    _check_progress(frames, steps, steps_per_epoch)
    fig, ax = new_figure(figsize=(3.4, 3.6))
    im = ax.imshow(_grid_array(frames[0], nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    title = ax.set_title("", fontsize=9)

    def update(i):
        im.set_data(_grid_array(frames[i], nrow))
        title.set_text(f"after {_updates(steps[i])} (epoch {steps[i] / steps_per_epoch:.2f})")

    pngs = render_frames(fig, update, len(frames), dpi=dpi)
    return pngs, [f"snapshot {i + 1} of {len(frames)}: {_updates(steps[i])}" for i in range(len(frames))]


def progress_view(frames, steps, steps_per_epoch: int, nrow: int = 6) -> View:
    """A slider (with play button) over sample grids of the same fixed z taken during training; starts at the last."""
    pngs, captions = progress_frames(frames, steps, steps_per_epoch, nrow)
    return frame_browser(pngs, captions, description="snapshot", value=len(pngs) - 1, play=True)


def progress_figure(frames, steps, steps_per_epoch: int, num_snapshots: int = 5, nrow: int = 6, size: float = 2.0):
    """Static twin of ``progress_view``: ``num_snapshots`` evenly spaced snapshots side by side (always the last)."""
    _check_progress(frames, steps, steps_per_epoch)
    if not isinstance(num_snapshots, int) or isinstance(num_snapshots, bool) or num_snapshots < 1:
        raise ValueError(f"num_snapshots must be a positive int, not {num_snapshots!r}.")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(num_snapshots, len(frames))).round().astype(int))
    fig, axes = new_figure(1, len(picks), figsize=(size * len(picks), size + 0.3), squeeze=False)
    for ax, i in zip(axes[0], picks):
        ax.imshow(_grid_array(frames[i], nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{_updates(steps[i])}\n(epoch {steps[i] / steps_per_epoch:.2f})", fontsize=8)
        ax.set_axis_off()
    return fig


# ---------------------------------------------------------------- latent interpolation

def interpolate(z_a: torch.Tensor, z_b: torch.Tensor, num_steps: int, spherical: bool = False) -> torch.Tensor:
    """``num_steps`` latent vectors (num_steps, latent_dim) from ``z_a`` to ``z_b``: a straight line or a great-circle arc.

    The spherical path (slerp) keeps the norm near that of typical Gaussian samples; the straight line's
    midpoint is shorter than either end, a region the generator rarely saw.
    """
    z_a, z_b = torch.as_tensor(z_a).flatten().float(), torch.as_tensor(z_b).flatten().float()
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same size, got {tuple(z_a.shape)} and {tuple(z_b.shape)}.")
    for name, z in (("z_a", z_a), ("z_b", z_b)):
        if not torch.isfinite(z).all() or (spherical and z.norm() == 0):
            raise ValueError(f"{name} must be finite{' and non-zero (a spherical path needs a direction)' if spherical else ''}.")
    if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 2:
        raise ValueError(f"num_steps must be an int >= 2, not {num_steps!r}.")
    t = torch.linspace(0, 1, num_steps)[:, None]
    if not spherical:
        return (1 - t) * z_a + t * z_b
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def _decode(G, z: torch.Tensor) -> np.ndarray:
    """Images (N, 28, 28) in [0, 1] for latents z, decoded in eval mode (G's own mode is restored)."""
    with eval_mode(G):
        return to_unit(G(z.to(next(G.parameters()).device))).cpu()[:, 0].numpy()


def _check_generator(G, **counts) -> None:
    if not (isinstance(G, torch.nn.Module) and isinstance(getattr(G, "latent_dim", None), int)):
        raise ValueError(f"G must be a generator (an nn.Module with an int attribute latent_dim, the size of z), "
                         f"not {type(G).__name__}.")
    for name, value in counts.items():
        least = 2 if name == "num_steps" else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ValueError(f"{name} must be an int >= {least}, not {value!r}.")


def interpolation_view(G, num_steps: int = 9, seed: int = 0) -> View:
    """Slider along the path between two latent vectors, a path selector, and a button that draws a new pair.

    The images of the whole path are decoded once per pair (and path kind); the slider only swaps pixels. The
    button is ``view.parts["resample"]``; the figure's title names the pair.
    """
    import ipywidgets as w

    _check_generator(G, num_steps=num_steps)
    generator = torch.Generator().manual_seed(seed)
    state = {}

    def new_pair():
        z_a, z_b = torch.randn(2, G.latent_dim, generator=generator)
        state["paths"] = {kind: _decode(G, interpolate(z_a, z_b, num_steps, spherical=kind == "spherical"))
                          for kind in ("linear", "spherical")}
        state["pair"] = state.get("pair", 0) + 1

    new_pair()
    fig = new_figure(figsize=(7.2, 3.0))[0]
    fig.clear()
    grid = fig.add_gridspec(2, num_steps, height_ratios=[3, 1])
    ax_big = fig.add_subplot(grid[0, (num_steps - 3) // 2:(num_steps + 3) // 2])
    big = ax_big.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_big.set_axis_off()
    strip, cells = [], []
    for i in range(num_steps):
        ax = fig.add_subplot(grid[1, i])
        strip.append(ax.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1, interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        cells.append(ax)
    title = ax_big.set_title("", fontsize=9)

    def update(position, path):
        images = state["paths"][path]
        big.set_data(images[position])
        for i, (im, ax) in enumerate(zip(strip, cells)):
            im.set_data(images[i])
            for spine in ax.spines.values():
                spine.set_color("tab:red" if i == position else "white")
                spine.set_linewidth(2.5 if i == position else 0.5)
        t = position / (num_steps - 1)
        title.set_text(f"pair {state['pair']}, t = {t:.2f} ({path} path)")
        return f"z = {'slerp' if path == 'spherical' else 'lerp'}(z_a, z_b, t = {t:.2f})"

    slider = w.IntSlider(value=num_steps // 2, min=0, max=num_steps - 1, description="position")
    path = w.ToggleButtons(options=["linear", "spherical"], value="linear", description="path")
    view = controls_view({"position": slider, "path": path}, fig, update)
    button = w.Button(description="new pair of z", icon="refresh")

    def resample(_=None):
        new_pair()
        view.frames.clear()  # PNGs cached for the old pair are stale
        view.redraw()

    button.on_click(resample)
    return view.add("resample", button)


def interpolation_figure(G, num_pairs: int = 3, num_steps: int = 9, seed: int = 0, size: float = 0.8):
    """Static twin of ``interpolation_view``: ``num_pairs`` rows, each a straight-line path between two random z."""
    _check_generator(G, num_steps=num_steps, num_pairs=num_pairs)
    generator = torch.Generator().manual_seed(seed)
    fig, axes = new_figure(num_pairs, num_steps, figsize=(size * num_steps, size * num_pairs + 0.3), squeeze=False)
    for r in range(num_pairs):
        z_a, z_b = torch.randn(2, G.latent_dim, generator=generator)
        for c, img in enumerate(_decode(G, interpolate(z_a, z_b, num_steps))):
            axes[r, c].imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[r, c].set_axis_off()
            if r == 0:
                axes[r, c].set_title(f"t = {c / (num_steps - 1):.2f}", fontsize=7)
    return fig
