"""Chapter 05's interactive views: latent-size explorer, denoising slider and the t-SNE latent-space view.

Introduced in chapter 05; chapter 06 reuses the t-SNE view for the VAE's codes. Everything a control
browses (reconstructions, denoised images, the t-SNE embedding) is computed before the widget is built;
moving a control only swaps image data and marker positions in an existing figure
(``course_utils.widgets.controls_view``). Each view has a static twin for readers without a kernel.
"""

from __future__ import annotations

import numpy as np
import torch

from ..plotting import new_figure
from ..widgets import controls_view


def _as_array(images, name: str) -> np.ndarray:
    x = torch.as_tensor(images).detach().cpu().float()
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f"{name} must be grey images shaped (N, 1, H, W) or (N, H, W), got {tuple(x.shape)}.")
    return x.numpy()


def _image_rows(n_rows: int, n_cols: int, row_labels, size: float = 0.9):
    """A grid of blank image artists with a label left of each row; returns fig and the (rows, cols) artists."""
    fig, axes = new_figure(n_rows, n_cols, figsize=(size * n_cols + 0.6, size * n_rows + 0.3), squeeze=False)
    blank = np.zeros((28, 28))
    ims = np.empty((n_rows, n_cols), dtype=object)
    for r in range(n_rows):
        for c in range(n_cols):
            ax = axes[r, c]
            ims[r, c] = ax.imshow(blank, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r, 0].set_ylabel(row_labels[r], fontsize=8, rotation=0, ha="right", va="center")
    return fig, ims


def _check_keys(name: str, mapping: dict, keys) -> None:
    missing = [k for k in keys if k not in mapping]
    if missing:
        raise ValueError(f"{name} has no entry for {missing}; give one per choice.")


def labelled_rows(rows: dict, size: float = 0.8, title: str | None = None):
    """Rows of grey images, each row labelled on its left: ``{"original": images, "decoded": images, ...}``."""
    if not rows:
        raise ValueError("labelled_rows needs at least one row, e.g. {'original': images}.")
    arrays = {label: _as_array(images, f"rows[{label!r}]") for label, images in rows.items()}
    n_cols = max(len(a) for a in arrays.values())
    fig, ims = _image_rows(len(arrays), n_cols, list(arrays), size=size)
    for r, a in enumerate(arrays.values()):
        for c in range(n_cols):
            if c < len(a):
                ims[r, c].set_data(a[c])
            else:
                ims[r, c].axes.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


# ---------------------------------------------------------------- latent-size explorer

def latent_size_explorer(images, reconstructions: dict, errors: dict):
    """A slider over trained latent sizes: the images, their reconstructions, and the test error.

    ``reconstructions[size]`` holds the decoded ``images`` (same shape); ``errors[size]`` a float.
    """
    import ipywidgets as w

    originals = _as_array(images, "images")
    sizes = sorted(reconstructions)
    if not sizes:
        raise ValueError("latent_size_explorer needs reconstructions for at least one latent size.")
    _check_keys("errors", errors, sizes)
    recs = {s: _as_array(reconstructions[s], f"reconstructions[{s}]") for s in sizes}
    fig, ims = _image_rows(2, len(originals), ["original", "decoded"])
    for im, img in zip(ims[0], originals):
        im.set_data(img)
    title = fig.suptitle("", fontsize=9)

    def update(latent_dim):
        for im, img in zip(ims[1], recs[latent_dim]):
            im.set_data(img)
        title.set_text(f"latent size {latent_dim}: compression 784/{latent_dim} = {784 / latent_dim:.1f}x")
        return f"latent_dim = {latent_dim}: test MSE per pixel {errors[latent_dim]:.4f}"

    slider = w.SelectionSlider(options=sizes, value=sizes[len(sizes) // 2], description="latent size")
    return controls_view({"latent_dim": slider}, fig, update)


def latent_size_figure(images, reconstructions: dict, errors: dict, size: float = 0.8):
    """Static twin of the explorer: one row of reconstructions per latent size, originals on top."""
    originals = _as_array(images, "images")
    sizes = sorted(reconstructions)
    _check_keys("errors", errors, sizes)
    fig, ims = _image_rows(len(sizes) + 1, len(originals),
                           ["original"] + [f"latent {s}\nMSE {errors[s]:.4f}" for s in sizes], size=size)
    for r, row in enumerate([originals] + [_as_array(reconstructions[s], "reconstructions") for s in sizes]):
        for im, img in zip(ims[r], row):
            im.set_data(img)
    return fig


# ---------------------------------------------------------------- denoising slider

def denoising_slider(clean, noisy: dict, denoised: dict, errors: dict | None = None):
    """A slider over noise levels: noisy input, the denoising autoencoder's output, and the clean image.

    ``noisy[level]`` and ``denoised[level]`` hold images shaped like ``clean``; ``errors[level]`` (optional)
    is a caption string or number for that level.
    """
    import ipywidgets as w

    clean_np = _as_array(clean, "clean")
    levels = sorted(noisy)
    if not levels:
        raise ValueError("denoising_slider needs images for at least one noise level.")
    _check_keys("denoised", denoised, levels)
    noisy_np = {s: _as_array(noisy[s], "noisy") for s in levels}
    denoised_np = {s: _as_array(denoised[s], "denoised") for s in levels}
    fig, ims = _image_rows(3, len(clean_np), ["noisy input", "denoised", "clean"])
    for im, img in zip(ims[2], clean_np):
        im.set_data(img)

    def update(noise_std):
        for im, img in zip(ims[0], noisy_np[noise_std]):
            im.set_data(img)
        for im, img in zip(ims[1], denoised_np[noise_std]):
            im.set_data(img)
        extra = errors.get(noise_std, "") if errors else ""
        return f"noise std {noise_std:g}" + (f": {extra}" if extra != "" else "")

    slider = w.SelectionSlider(options=levels, value=levels[len(levels) // 2], description="noise std")
    return controls_view({"noise_std": slider}, fig, update)


def denoising_figure(clean, noisy: dict, denoised: dict, levels, n_images: int = 6, size: float = 0.8):
    """Static twin of the slider: for each of ``levels``, a noisy row and a denoised row; clean at the bottom."""
    _check_keys("noisy", noisy, levels)
    _check_keys("denoised", denoised, levels)
    rows, labels = [], []
    for s in levels:
        rows += [_as_array(noisy[s], "noisy")[:n_images], _as_array(denoised[s], "denoised")[:n_images]]
        labels += [f"noisy, std {s:g}", "denoised"]
    rows.append(_as_array(clean, "clean")[:n_images])
    labels.append("clean")
    fig, ims = _image_rows(len(rows), n_images, labels, size=size)
    for r, row in enumerate(rows):
        for im, img in zip(ims[r], row):
            im.set_data(img)
    return fig


# ---------------------------------------------------------------- t-SNE view of the latent space

def tsne_embedding(codes, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA initialization) of latent codes (N, D): returns an (N, 2) array.

    Computed once; the view only looks points up in it. Cost grows like N log N: a few thousand points
    take seconds on a laptop CPU.
    """
    from sklearn.manifold import TSNE

    z = torch.as_tensor(codes).detach().cpu().double().numpy()
    if z.ndim != 2:
        raise ValueError(f"codes must be shaped (N, latent_dim), got {z.shape}.")
    if len(z) <= 3 * perplexity:
        raise ValueError(f"t-SNE with perplexity {perplexity} needs more than {3 * perplexity:.0f} points, got {len(z)}.")
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(z).astype(np.float32)


class TSNEPanel:
    """A class-coloured t-SNE scatter with one highlighted point, and that point's image and reconstruction."""

    def __init__(self, embedding, labels, classes, images, reconstructions):
        emb = np.asarray(embedding, dtype=np.float32)
        labels = np.asarray(torch.as_tensor(labels).cpu())
        if emb.ndim != 2 or emb.shape[1] != 2:
            raise ValueError(f"embedding must be shaped (N, 2), got {emb.shape}.")
        self.images, self.recs = _as_array(images, "images"), _as_array(reconstructions, "reconstructions")
        if not len(emb) == len(labels) == len(self.images) == len(self.recs):
            raise ValueError(f"embedding, labels, images and reconstructions must have the same length, got "
                             f"{len(emb)}, {len(labels)}, {len(self.images)}, {len(self.recs)}.")
        self.emb, self.labels, self.classes = emb, labels, list(classes)
        self.fig = new_figure(figsize=(8.2, 4.6))[0]
        self.fig.clear()
        grid = self.fig.add_gridspec(2, 2, width_ratios=[2.6, 1])
        self.ax = self.fig.add_subplot(grid[:, 0])
        _draw_scatter(self.ax, emb, labels, self.classes)
        self.marker = self.ax.scatter([emb[0, 0]], [emb[0, 1]], s=160, facecolors="none", edgecolors="black", lw=2)
        self.ax_img, self.ax_rec = self.fig.add_subplot(grid[0, 1]), self.fig.add_subplot(grid[1, 1])
        self.im_img = self.ax_img.imshow(self.images[0], cmap="gray", vmin=0, vmax=1)
        self.im_rec = self.ax_rec.imshow(self.recs[0], cmap="gray", vmin=0, vmax=1)
        for ax in (self.ax_img, self.ax_rec):
            ax.set_xticks([])
            ax.set_yticks([])

    def show(self, index: int) -> str:
        """Highlight point ``index``; returns a one-line caption."""
        if not 0 <= index < len(self.emb):
            raise ValueError(f"index must be in [0, {len(self.emb) - 1}], got {index}.")
        self.marker.set_offsets(self.emb[index:index + 1])
        self.im_img.set_data(self.images[index])
        self.im_rec.set_data(self.recs[index])
        name = self.classes[int(self.labels[index])]
        self.ax_img.set_title(f"point {index}: {name}", fontsize=8)
        mse = float(((self.images[index] - self.recs[index]) ** 2).mean())
        self.ax_rec.set_title(f"reconstruction (MSE {mse:.4f})", fontsize=8)
        return f"point {index} ({name}) at t-SNE ({self.emb[index, 0]:.1f}, {self.emb[index, 1]:.1f})"


def _draw_scatter(ax, emb, labels, classes) -> None:
    from matplotlib import colormaps

    for c, name in enumerate(classes):
        mask = labels == c
        ax.scatter(emb[mask, 0], emb[mask, 1], s=4, color=colormaps["tab10"](c % 10), label=name, alpha=0.7)
    ax.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("t-SNE of the latent codes, coloured by class", fontsize=9)


def tsne_view(embedding, labels, classes, images, reconstructions):
    """Class dropdown + point slider over a precomputed t-SNE embedding; shows the chosen image and its reconstruction.

    The slider walks through the points of the chosen class (or all points for "all classes").
    """
    import ipywidgets as w

    panel = TSNEPanel(embedding, labels, classes, images, reconstructions)
    members = {"all classes": np.arange(len(panel.emb))}
    members |= {name: np.flatnonzero(panel.labels == c) for c, name in enumerate(panel.classes)}
    members = {k: v for k, v in members.items() if len(v)}
    point = w.IntSlider(0, 0, len(panel.emb) - 1, description="point")
    choice = w.Dropdown(options=list(members), value="all classes", description="class")

    def update(cls, i):
        idx = members[cls]
        point.max = len(idx) - 1
        return panel.show(int(idx[min(i, len(idx) - 1)]))

    box = controls_view({"cls": choice, "i": point}, panel.fig, update)
    box.panel = panel
    return box


def tsne_figure(embedding, labels, classes, images, reconstructions, picks):
    """Static twin of the view: the scatter with numbered picks, and beside it each pick's image and reconstruction."""
    panel = TSNEPanel(embedding, labels, classes, images, reconstructions)
    picks = [int(p) for p in picks]
    if not picks:
        raise ValueError("tsne_figure needs at least one point to pick.")
    fig = new_figure(figsize=(9, 4.2))[0]
    fig.clear()
    grid = fig.add_gridspec(2, len(picks) + 1, width_ratios=[1.6 * len(picks)] + [1] * len(picks))
    ax = fig.add_subplot(grid[:, 0])
    _draw_scatter(ax, panel.emb, panel.labels, panel.classes)
    for n, p in enumerate(picks):
        ax.annotate(str(n + 1), panel.emb[p], fontsize=8, weight="bold", ha="center", va="center",
                    bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "black"})
        for row, (img, label) in enumerate([(panel.images[p], f"{n + 1}: {panel.classes[int(panel.labels[p])]}"),
                                            (panel.recs[p], "decoded")]):
            a = fig.add_subplot(grid[row, n + 1])
            a.imshow(img, cmap="gray", vmin=0, vmax=1)
            a.set_title(label, fontsize=7)
            a.set_xticks([])
            a.set_yticks([])
    return fig
