"""Chapter 05's widgets and their static twins: latent size, denoising, and the t-SNE view of the latent space.

Introduced in chapter 05 (05_autoencoders §7 ``denoising_view``, §10 ``latent_size_view``, §11 ``tsne_view``,
each shown beside its ``*_figure``); ``labelled_rows`` draws the chapter's rows of images. Chapter 06 reuses
``labelled_rows`` and the t-SNE view for the VAE's codes. Everything a control browses (reconstructions, denoised
images, the t-SNE embedding) is computed before the widget is built; moving a control only swaps image data and
marker positions in an existing figure (``course_utils.widgets.controls_view``), and every view is a ``View``.
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


def _pixels(images, name: str, like: np.ndarray | None = None) -> np.ndarray:
    """``_as_array`` for images shown with grey levels 0..1: refuses NaN, 0..255 pixels and a shape unlike ``like``."""
    if not isinstance(images, torch.Tensor | np.ndarray):
        raise TypeError(f"{name} must be a tensor or array of images, got {type(images).__name__}.")
    x = _as_array(images, name)
    if len(x) == 0 or not np.isfinite(x).all():
        raise ValueError(f"{name} must hold at least one image and no NaN or infinite pixel.")
    if x.min() < -1e-4 or x.max() > 1 + 1e-4:  # imshow would clip silently
        raise ValueError(f"{name} must hold pixels in [0, 1], got values from {x.min():g} to {x.max():g}: "
                         "divide by 255 if they are 0..255 grey levels, or map [-1, 1] with (x + 1) / 2.")
    if like is not None and x.shape != like.shape:
        raise ValueError(f"{name} must hold images shaped like the originals {like.shape}, got {x.shape}.")
    return x


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


def labelled_rows(rows: dict, size: float = 0.8, title: str | None = None):
    """Rows of grey images, each row labelled on its left: ``{"original": images, "decoded": images, ...}``."""
    if not (isinstance(rows, dict) and rows):
        raise ValueError(f"rows must be a non-empty dict of label -> images, e.g. {{'original': images}}; got {rows!r:.60}.")
    arrays = {label: _pixels(images, f"rows[{label!r}]") for label, images in rows.items()}
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


# ---------------------------------------------------------------- latent size

def _latent_sizes(originals: np.ndarray, reconstructions: dict, errors: dict) -> tuple[list, dict]:
    if not (isinstance(reconstructions, dict) and reconstructions):
        raise ValueError("reconstructions must be a non-empty dict latent size -> decoded images.")
    sizes = sorted(reconstructions)
    if not all(isinstance(s, int) and s > 0 for s in sizes):
        raise ValueError(f"reconstructions must be keyed by latent sizes (positive ints), got keys {sizes}.")
    if not (isinstance(errors, dict) and all(isinstance(errors.get(s), float | int) for s in sizes)):
        raise ValueError(f"errors must give one number per latent size {sizes}, got {errors!r:.80}.")
    return sizes, {s: _pixels(reconstructions[s], f"reconstructions[{s}]", like=originals) for s in sizes}


def latent_size_view(images, reconstructions: dict, errors: dict):
    """A slider over trained latent sizes: the images, their reconstructions, and the test error.

    ``reconstructions[size]`` holds the decoded ``images`` (same shape); ``errors[size]`` a float.
    """
    import ipywidgets as w

    originals = _pixels(images, "images")
    sizes, recs = _latent_sizes(originals, reconstructions, errors)
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
    """Static twin of ``latent_size_view``: one row of reconstructions per latent size, originals on top."""
    originals = _pixels(images, "images")
    sizes, recs = _latent_sizes(originals, reconstructions, errors)
    fig, ims = _image_rows(len(sizes) + 1, len(originals),
                           ["original"] + [f"latent {s}\nMSE {errors[s]:.4f}" for s in sizes], size=size)
    for r, row in enumerate([originals] + [recs[s] for s in sizes]):
        for im, img in zip(ims[r], row):
            im.set_data(img)
    return fig


# ---------------------------------------------------------------- denoising

def _noise_levels(clean: np.ndarray, noisy: dict, denoised: dict, levels=None) -> tuple[list, dict, dict]:
    """The levels and, per level, the noisy and denoised arrays: one image per clean image (its first ones)."""
    if not (isinstance(noisy, dict) and noisy and isinstance(denoised, dict)):
        raise ValueError("noisy and denoised must be dicts noise level -> images, with at least one level.")
    levels = sorted(noisy) if levels is None else list(levels)
    if missing := [s for s in levels if s not in noisy or s not in denoised]:
        raise ValueError(f"noisy and denoised need images for every noise level; levels {missing} are missing.")
    arrays = [{s: _pixels(d[s], f"{name}[{s}]") for s in levels} for name, d in (("noisy", noisy), ("denoised", denoised))]
    for name, a in zip(("noisy", "denoised"), arrays):
        if short := [s for s in levels if len(a[s]) < len(clean) or a[s].shape[1:] != clean.shape[1:]]:
            raise ValueError(f"{name}[{short[0]}] must hold at least one image shaped {clean.shape[1:]} per clean image "
                             f"({len(clean)}), got {a[short[0]].shape}.")
    return levels, *({s: a[s][:len(clean)] for s in levels} for a in arrays)


def denoising_view(clean, noisy: dict, denoised: dict, errors: dict | None = None):
    """A slider over noise levels: noisy input, the denoising autoencoder's output, and the clean image.

    ``noisy[level]`` and ``denoised[level]`` hold at least one image per clean image (the first ones are shown);
    ``errors[level]`` (optional) is a caption string or number for that level.
    """
    import ipywidgets as w

    clean_np = _pixels(clean, "clean")
    levels, noisy_np, denoised_np = _noise_levels(clean_np, noisy, denoised)
    if not (errors is None or isinstance(errors, dict)):
        raise TypeError(f"errors must be a dict noise level -> caption, or None; got {type(errors).__name__}.")
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


def denoising_figure(clean, noisy: dict, denoised: dict, levels, num_images: int = 6, size: float = 0.8):
    """Static twin of ``denoising_view``: for each of ``levels``, a noisy row and a denoised row; clean at the bottom."""
    clean_np = _pixels(clean, "clean")
    if not (isinstance(num_images, int) and 0 < num_images <= len(clean_np)):
        raise ValueError(f"num_images must be an int from 1 to the {len(clean_np)} clean images, got {num_images!r}.")
    clean_np = clean_np[:num_images]
    levels, noisy_np, denoised_np = _noise_levels(clean_np, noisy, denoised, levels)
    rows, labels = [], []
    for s in levels:
        rows += [noisy_np[s], denoised_np[s]]
        labels += [f"noisy, std {s:g}", "denoised"]
    rows.append(clean_np)
    labels.append("clean")
    fig, ims = _image_rows(len(rows), num_images, labels, size=size)
    for r, row in enumerate(rows):
        for im, img in zip(ims[r], row):
            im.set_data(img)
    return fig


# ---------------------------------------------------------------- t-SNE view of the latent space

def tsne_embedding(codes, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA initialization) of latent codes (N, D): returns an (N, 2) array.

    Computed once; the view only looks points up in it. Cost grows like N log N: a few thousand points
    take seconds on a laptop CPU. ``seed`` is scikit-learn's ``random_state``; with the PCA initialization the
    embedding does not depend on it in practice (the same codes give the same picture).
    """
    from sklearn.manifold import TSNE

    if not isinstance(codes, torch.Tensor | np.ndarray):
        raise TypeError(f"codes must be a tensor or array shaped (N, latent_dim), got {type(codes).__name__}.")
    z = torch.as_tensor(codes).detach().cpu().double().numpy()
    if z.ndim != 2:
        raise ValueError(f"codes must be shaped (N, latent_dim), got {z.shape}.")
    if not np.isfinite(z).all():
        raise ValueError("codes hold NaN or infinite values; t-SNE needs finite codes.")
    if len(z) and np.ptp(z, axis=0).max() == 0:  # scikit-learn's t-SNE crashes the process on such input
        raise ValueError("codes are all the same point, so t-SNE has nothing to spread out; did the encoder collapse?")
    if not (isinstance(perplexity, float | int) and perplexity > 0):
        raise ValueError(f"perplexity must be a positive number, got {perplexity!r}.")
    if not (isinstance(seed, int) and not isinstance(seed, bool)):
        raise TypeError(f"seed must be an int, got {seed!r}.")
    if len(z) <= 3 * perplexity:
        raise ValueError(f"t-SNE with perplexity {perplexity} needs more than {3 * perplexity:.0f} points, got {len(z)}.")
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(z).astype(np.float32)


class TSNEPanel:
    """A class-coloured t-SNE scatter with one highlighted point, and that point's image and reconstruction."""

    def __init__(self, embedding, labels, classes, images, reconstructions):
        emb = np.asarray(embedding, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[1] != 2 or not np.isfinite(emb).all():
            raise ValueError(f"embedding must be finite and shaped (N, 2), got shape {emb.shape}.")
        labels = np.asarray(torch.as_tensor(labels).cpu())
        self.classes = list(classes)
        if labels.ndim != 1 or labels.dtype.kind not in "iu" or not ((labels >= 0) & (labels < len(self.classes))).all():
            raise ValueError(f"labels must be class indices 0..{len(self.classes) - 1} (one per point), "
                             f"got {labels.dtype} values {np.unique(labels)[:10]}.")
        self.images = _pixels(images, "images")
        self.recs = _pixels(reconstructions, "reconstructions", like=self.images)
        if not len(emb) == len(labels) == len(self.images):
            raise ValueError(f"embedding, labels, images and reconstructions must have the same length, got "
                             f"{len(emb)}, {len(labels)}, {len(self.images)}, {len(self.recs)}.")
        self.emb, self.labels = emb, labels
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

    colours = [colormaps["tab10"](c % 10) for c in range(len(classes))]
    for c, name in enumerate(classes):
        mask = labels == c
        ax.scatter(emb[mask, 0], emb[mask, 1], s=4, color=colours[c], label=name, alpha=0.7)
    # The key: a dot and a name per class, right of the plot. Plain texts, not ax.legend: a legend lays itself out
    # again on every draw, which was half of the time of each frame of tsne_view.
    rows = 0.5 + 0.07 * ((len(classes) - 1) / 2 - np.arange(len(classes)))
    ax.scatter(np.full(len(classes), 1.04), rows, s=14, color=colours, transform=ax.transAxes, clip_on=False)
    for name, y in zip(classes, rows):
        ax.text(1.07, y, name, fontsize=7, va="center", transform=ax.transAxes)
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

    return controls_view({"cls": choice, "i": point}, panel.fig, update)


def tsne_figure(embedding, labels, classes, images, reconstructions, picks):
    """Static twin of ``tsne_view``: the scatter with numbered picks, and beside it each pick's image and reconstruction."""
    panel = TSNEPanel(embedding, labels, classes, images, reconstructions)
    if not (len(picks) and all(isinstance(p, int | np.integer) and 0 <= p < len(panel.emb) for p in picks)):
        raise ValueError(f"picks must be at least one point index in [0, {len(panel.emb) - 1}], got {list(picks)}.")
    picks = [int(p) for p in picks]
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


# ---------------------------------------------------------------- zoomed crops and checkerboards

def crop_rows(rows: dict, box: tuple, size: float = 1.3, title: str | None = None):
    """Like ``labelled_rows``, but each image cut to ``box = (top, left, height, width)`` and drawn larger (§4)."""
    if not (isinstance(box, tuple | list) and len(box) == 4 and all(isinstance(b, int) and b >= 0 for b in box)
            and box[2] > 0 and box[3] > 0):
        raise ValueError(f"box must be (top, left, height, width) in pixels, four ints >= 0 with height, width > 0; got {box!r}.")
    if not (isinstance(rows, dict) and rows):
        raise ValueError(f"rows must be a non-empty dict of label -> images, got {rows!r:.60}.")
    top, left, h, w = box
    arrays = {label: _pixels(images, f"rows[{label!r}]") for label, images in rows.items()}
    shape = next(iter(arrays.values())).shape[1:]
    if top + h > shape[0] or left + w > shape[1]:
        raise ValueError(f"box {tuple(box)} reaches outside the {shape[0]}x{shape[1]} images.")
    n_cols = max(len(a) for a in arrays.values())
    fig, axes = new_figure(len(arrays), n_cols, figsize=(size * n_cols + 1.1, size * len(arrays) + 0.3), squeeze=False)
    for r, (label, a) in enumerate(arrays.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(a):
                ax.imshow(a[c, top:top + h, left:left + w], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.set_visible(False)
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def checkerboard_figure(images: dict, n_tiles: int = 3, size: float = 1.5):
    """One row per decoder: ``n_tiles`` of its images drawn large, then their mean log power spectrum (§5).

    ``images`` maps a row label to images (N, 1, H, W) in [0, 1]. A grid pattern shows as bright isolated dots in
    the spectrum, away from the centre (zero frequency).
    """
    from .measures import power_spectrum

    if not (isinstance(images, dict) and images):
        raise ValueError(f"images must be a non-empty dict of label -> images, got {images!r:.60}.")
    if not (isinstance(n_tiles, int) and n_tiles >= 1):
        raise ValueError(f"n_tiles must be a positive int, got {n_tiles!r}.")
    arrays = {label: _pixels(x, f"images[{label!r}]") for label, x in images.items()}
    fig, axes = new_figure(len(arrays), n_tiles + 1, figsize=(size * (n_tiles + 1) + 1.9, size * len(arrays) + 0.5),
                           squeeze=False)
    for r, (label, a) in enumerate(arrays.items()):
        for c in range(n_tiles):
            ax = axes[r, c]
            if c < len(a):
                ax.imshow(a[c], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
        spectrum = np.log10(power_spectrum(a) + 1e-6)
        h, w = spectrum.shape
        ax = axes[r, -1]
        im = ax.imshow(spectrum, cmap="magma", extent=(-w // 2 - 0.5, w - w // 2 - 0.5, h - h // 2 - 0.5, -h // 2 - 0.5))
        ax.set_xticks([-w // 2, 0, w // 4, w // 2 - 1])
        ax.set_yticks([-h // 2, 0, h // 4])
        ax.tick_params(labelsize=7)
        cbar = fig.colorbar(im, ax=ax, shrink=0.85)
        cbar.ax.tick_params(labelsize=7)
        cbar.set_label("log10 power", fontsize=7)
        if r == 0:
            ax.set_title("mean power spectrum\n(frequency, cycles per image)", fontsize=8)
    return fig
