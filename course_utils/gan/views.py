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

def ring_snapshots_figure(real: torch.Tensor, runs: dict, centers: torch.Tensor, max_cols: int = 7, size: float = 1.7):
    """Rows of scatter plots: for each run ``{label: (frames, steps)}``, generated points (red) over real ones (grey).

    ``frames`` is a list of (N, 2) samples taken after ``steps[i]`` training steps; at most ``max_cols`` evenly
    spaced snapshots per row are drawn (always including the last). The axes are wide enough for the ring and for
    (almost) every generated point, so a clump that leaves the ring stays in view.
    """
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of runs, e.g. {'working': (frames, steps)}.")
    real, centers = torch.as_tensor(real).cpu(), torch.as_tensor(centers).cpu()
    for name, points in (("real", real), ("centers", centers)):
        if points.dim() != 2 or points.shape[1] != 2 or len(points) == 0:
            raise ValueError(f"{name} must be a non-empty (N, 2) tensor of points, got shape {tuple(points.shape)}.")
    n_cols = min(max_cols, max(len(frames) for frames, _ in runs.values()))
    fig, axes = new_figure(len(runs), n_cols, figsize=(size * n_cols, size * len(runs) + 0.2), squeeze=False)
    picked = {}
    for label, (frames, steps) in runs.items():
        if len(frames) != len(steps):
            raise ValueError(f"run {label!r} has {len(frames)} frames but {len(steps)} step counts.")
        picked[label] = np.unique(np.linspace(0, len(frames) - 1, n_cols).round().astype(int))
    shown = torch.cat([torch.as_tensor(frames[i]).cpu().float() for label, (frames, _) in runs.items()
                       for i in picked[label]])
    lim = max(float(centers.abs().max()) * 1.5, 1.08 * float(torch.quantile(shown.abs().max(dim=1).values, 0.995)))
    for r, (label, (frames, steps)) in enumerate(runs.items()):
        picks = picked[label]
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


def training_curves_figure(logs: dict, keys=("d_loss", "g_loss"), smooth: int = 25, size=(9.0, 2.6),
                           references: dict | None = None):
    """Per-batch curves of several runs ``{label: {"d_loss": [...], ...}}``, one panel per run, smoothed by a moving mean.

    ``references`` ``{key: (value, name)}`` draws a dashed line at ``value`` in the colour of curve ``key``, e.g.
    ``{"d_loss": (math.log(4), "log 4")}``: the value that curve takes when D answers ½ everywhere.
    """
    if not isinstance(logs, dict) or not logs:
        raise ValueError("logs must be a non-empty dict {label: {'d_loss': [...], ...}} (BatchLog().logs of each run).")
    references = {} if references is None else references
    if not isinstance(references, dict) or any(k not in keys for k in references):
        raise ValueError(f"references must be a dict {{key: (value, name)}} with keys among {tuple(keys)}, got {references!r}.")
    fig, axes = new_figure(1, len(logs), figsize=size, squeeze=False)
    for ax, (label, log) in zip(axes[0], logs.items()):
        for k in keys:
            if k not in log:
                raise ValueError(f"run {label!r} has no {k!r}; it logged {sorted(log)}.")
            v = np.asarray(log[k], dtype=float)
            w = max(1, min(smooth, len(v)))
            (line,) = ax.plot(np.convolve(v, np.ones(w) / w, mode="valid"), label=k, lw=1)
            if k in references:
                value, name = references[k]
                ax.axhline(value, color=line.get_color(), ls="--", lw=0.9, label=f"{name} (D = ½ everywhere)")
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
        if min_share is not None:  # name every bar under the coverage line: a class this source nearly dropped
            for j in np.flatnonzero(s < min_share):
                ax.annotate(f"{label}: {s[j]:.1%}", (x[j] + (i - (len(shares) - 1) / 2) * width, s[j]),
                            xytext=(0, 22), textcoords="offset points", ha="center", fontsize=7,
                            arrowprops={"arrowstyle": "->", "lw": 0.7})
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
    """Static twin of ``interpolation_view``: for each of ``num_pairs`` random pairs of z, a row along the straight
    line and a row along the great circle (labelled), so the two paths can be compared image by image."""
    _check_generator(G, num_steps=num_steps, num_pairs=num_pairs)
    generator = torch.Generator().manual_seed(seed)
    fig, axes = new_figure(2 * num_pairs, num_steps, figsize=(size * num_steps + 0.9, size * 2 * num_pairs + 0.3),
                           squeeze=False)
    for r in range(num_pairs):
        z_a, z_b = torch.randn(2, G.latent_dim, generator=generator)
        for k, kind in enumerate(("linear", "spherical")):
            row = axes[2 * r + k]
            for c, img in enumerate(_decode(G, interpolate(z_a, z_b, num_steps, spherical=kind == "spherical"))):
                row[c].imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                row[c].set_xticks([])
                row[c].set_yticks([])
                for spine in row[c].spines.values():
                    spine.set_visible(False)
                if r == 0 and k == 0:
                    row[c].set_title(f"t = {c / (num_steps - 1):.2f}", fontsize=7)
            row[0].set_ylabel(f"pair {r + 1}\n{kind}", fontsize=7, rotation=0, ha="right", va="center")
    return fig


# ---------------------------------------------------------------- the theory, on 1-D densities and the toy ring

def _curve(values, name: str, length: int | None = None) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or len(a) == 0 or not np.all(np.isfinite(a)) or (length is not None and len(a) != length):
        want = f"{length} finite numbers" if length is not None else "a non-empty 1-D list of finite numbers"
        raise ValueError(f"{name} must be {want}, got shape {a.shape}.")
    return a


def discriminator_figure(x, p_data, p_g, d_star, d_trained, size=(6.0, 3.6)):
    """Goodfellow's 1-D picture: the two densities (left axis) and D* beside a trained D (right axis), on the grid ``x``."""
    x = _curve(x, "x")
    curves = {name: _curve(v, name, len(x)) for name, v in
              (("p_data", p_data), ("p_g", p_g), ("d_star", d_star), ("d_trained", d_trained))}
    fig, ax = new_figure(figsize=size)
    ax.fill_between(x, curves["p_data"], color="0.75", label="p_data (data density)")
    ax.plot(x, curves["p_g"], color="tab:green", lw=1.2, label="p_g (generator density)")
    ax.set(xlabel="x", ylabel="density")
    ax2 = ax.twinx()
    ax2.plot(x, curves["d_star"], color="black", lw=2.2, label="D*(x) = p_data / (p_data + p_g)")
    ax2.plot(x, curves["d_trained"], color="tab:orange", lw=1.2, ls="--", label="trained D(x)")
    ax2.set(ylim=(0, 1.05), ylabel="D(x)")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    fig.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="outside lower center", ncol=2,
               frameon=False)  # below the axes, so that no curve is hidden under it
    ax.set_title("D against a fixed generator (1-D)", fontsize=9)
    return fig


def divergence_figure(shifts, jsd, w1, size=(5.5, 3.0)):
    """JSD (nats) and Wasserstein-1 distance against how far the generator's distribution is shifted from the data's."""
    shifts = _curve(shifts, "shifts")
    jsd, w1 = _curve(jsd, "jsd", len(shifts)), _curve(w1, "w1", len(shifts))
    fig, ax = new_figure(figsize=size)
    ax.plot(shifts, jsd, color="tab:blue", label="Jensen–Shannon divergence (nats)")
    ax.plot(shifts, w1, color="tab:purple", ls="--", label="Wasserstein-1 distance")
    ax.axhline(np.log(2), color="0.4", lw=0.8, ls=":", label="log 2")
    ax.set(xlabel="shift θ of the generator's distribution", ylabel="divergence",
           title="Two narrow distributions pulled apart")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def critic_tracking_figure(steps, estimates, distances, floor: float | None = None, size=(6.0, 3.0)):
    """A WGAN critic's estimate over training beside an exactly computed distance to the data (same axis)."""
    steps = _curve(steps, "steps")
    estimates, distances = _curve(estimates, "estimates", len(steps)), _curve(distances, "distances", len(steps))
    fig, ax = new_figure(figsize=size)
    ax.plot(steps, estimates, "o-", color="tab:orange", ms=3, label="critic's estimate E f(x) − E f(G(z))")
    ax.plot(steps, distances, "s--", color="tab:purple", ms=3, label="exact earth mover's distance (matching)")
    if floor is not None:
        ax.axhline(floor, color="0.4", lw=0.8, ls=":", label="real vs real (sampling floor)")
    ax.set(xlabel="generator update", ylabel="distance to the data", title="WGAN-GP on the toy ring")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper right")
    return fig
