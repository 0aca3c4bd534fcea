"""Figures: image grids, training curves, feature maps, filters, confusion matrices.

Introduced in chapter 01. Every function takes data (or a model) and returns a
``matplotlib.figure.Figure``; none of them trains. Figures are made with ``new_figure`` (not
pyplot), so a notebook shows one exactly when the cell displays it.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torchvision.utils import make_grid


class CourseFigure(Figure):
    """A Figure that a notebook displays as a PNG by itself, without pyplot or ``%matplotlib inline``."""

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=90)
        return buf.getvalue()


def new_figure(nrows: int = 1, ncols: int = 1, figsize=(6, 4), squeeze: bool = True, **kwargs):
    """``fig, ax`` like ``plt.subplots`` but without pyplot's global state (no double display)."""
    fig = CourseFigure(figsize=figsize, dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **kwargs)
    return fig, axes


def _as_images(images) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images)
    x = x.detach().cpu().float()
    if x.dim() == 3:  # (B, H, W)
        x = x[:, None]
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"images must be shaped (B, H, W) or (B, C, H, W) with C in (1, 3), got {tuple(x.shape)}.")
    return x


def image_grid(images, nrow: int = 8, title: str | None = None, value_range=(0.0, 1.0), scale: float = 0.45):
    """Show a batch of images as one grid (``torchvision.utils.make_grid``); returns the figure."""
    x = _as_images(images)
    lo, hi = value_range
    x = ((x - lo) / (hi - lo)).clamp(0, 1)
    grid = make_grid(x, nrow=nrow, padding=2, pad_value=1.0)
    h, w = grid.shape[1:]
    fig, ax = new_figure(figsize=(max(2.0, w / 28 * scale * 1.6), max(1.2, h / 28 * scale * 1.6 + (0.3 if title else 0))))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def image_row(images, titles=None, ncols: int | None = None, cmap: str = "gray", size: float = 1.3, suptitle=None):
    """A few images side by side, each with its own title (e.g. predicted vs true class)."""
    x = _as_images(images)
    n = len(x)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(size * ncols, size * nrows + 0.25 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            img = x[i].permute(1, 2, 0).numpy()
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap=cmap, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def plot_history(history, keys=None, title: str | None = None):
    """Loss curves on the left, every other metric (accuracy, ...) on the right; returns the figure.

    ``history`` is anything with ``keys()`` and ``history[key] -> list``: the History of ``train.fit``, or a
    plain dict of equally long lists (with an ``"epoch"`` list, or the x axis is 1, 2, ...).
    """
    if not (hasattr(history, "keys") and hasattr(history, "__getitem__")) or len(history.keys()) == 0:
        raise ValueError("history must be the History returned by train.fit (with at least one epoch) "
                         "or a dict of lists, e.g. {'train_loss': [...]}.")
    keys = keys or [k for k in history.keys() if k not in {"epoch", "seconds"}]
    unknown = [k for k in keys if k not in history.keys()]
    if unknown:
        raise KeyError(f"keys {unknown} are not in the history; it records {sorted(history.keys())}.")
    lengths = {len(history[k]) for k in keys}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"every curve in history needs the same, non-zero length; got lengths {sorted(lengths)}.")
    losses = [k for k in keys if "loss" in k]
    others = [k for k in keys if "loss" not in k]
    fig, axes = new_figure(1, 2 if others else 1, figsize=(9 if others else 4.5, 3), squeeze=False)
    epochs = history["epoch"] if "epoch" in history.keys() else list(range(1, lengths.pop() + 1))
    for ax, group, label in ((axes[0, 0], losses, "loss"), (axes[0, -1], others, "metric")):
        if not group or (label == "metric" and not others):
            continue
        for k in group:
            ax.plot(epochs, history[k], marker="o", ms=3, label=k)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_feature_maps(maps, ncols: int = 8, max_maps: int = 32, title: str | None = None, size: float = 1.0):
    """Show the channels of one feature map tensor (C, H, W) as small images; returns the figure."""
    m = torch.as_tensor(maps).detach().cpu().float()
    if m.dim() == 4 and m.shape[0] == 1:
        m = m[0]
    if m.dim() != 3:
        raise ValueError(f"maps must be shaped (C, H, W) for one image, got {tuple(m.shape)}.")
    m = m[:max_maps]
    n = len(m)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(m[i].numpy(), cmap="viridis", interpolation="nearest")
            ax.set_title(str(i), fontsize=6, pad=1)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_filters(weight, ncols: int = 8, title: str | None = None, size: float = 0.8):
    """First-layer filters (out, in, k, k) as images, each scaled to its own range; returns the figure."""
    w = torch.as_tensor(weight).detach().cpu().float()
    if w.dim() != 4:
        raise ValueError(f"weight must be a conv weight shaped (out, in, k, k), got {tuple(w.shape)}.")
    w = w.mean(1) if w.shape[1] != 3 else w.permute(0, 2, 3, 1)
    lo = w.flatten(1).min(1).values.view(-1, *([1] * (w.dim() - 1)))
    hi = w.flatten(1).max(1).values.view(-1, *([1] * (w.dim() - 1)))
    w = (w - lo) / (hi - lo + 1e-8)
    n = len(w)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = new_figure(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(w[i].numpy(), cmap="gray", interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_confusion_matrix(y_true, y_pred, classes, normalize: bool = True, title: str | None = None):
    """Confusion matrix (rows: true class, columns: predicted), normalized per row by default."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or len(y_true) == 0:
        raise ValueError(f"y_true and y_pred must be equally long, non-empty 1-D label arrays, got shapes {y_true.shape} "
                         f"and {y_pred.shape}.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= len(classes):
            raise ValueError(f"{name} must hold integer labels 0..{len(classes) - 1} (one per class name), "
                             f"found {y.dtype} values from {y.min()} to {y.max()}.")
    cm = confusion_matrix(y_true, y_pred, labels=range(len(classes))).astype(float)
    if normalize:
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = new_figure(figsize=(6, 5))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = cm[i, j]
            if v > 0.005:
                ax.text(j, i, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center",
                        fontsize=6, color="white" if v > cm.max() / 2 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig
