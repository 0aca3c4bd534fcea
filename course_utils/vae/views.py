"""Chapter 06's views: AE-vs-VAE interpolation, latent explorer, β viewer, and the static figures of the chapter.

Introduced in chapter 06 (the t-SNE view of the VAE's means is chapter 05's ``ae_views.tsne_view``). Views
follow ``course_utils.widgets``: a control changes the data of existing image artists, and what a slider
browses is computed before (a whole interpolation path is decoded when the pair of images changes, so
moving along it only swaps pictures). Models are anything with ``encode``/``decode``; for a VAE the path
runs between posterior means.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.patches import Rectangle

from ..autoencoders.views import _as_array, _image_rows, labelled_rows
from ..plotting import new_figure
from ..widgets import controls_view


def latent_code(model, x: torch.Tensor) -> torch.Tensor:
    """The point a model maps x to: the posterior mean for a VAE (encode returns a pair), the code for an AE."""
    out = model.encode(x)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def interpolation_paths(models: dict, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 9) -> dict:
    """Decode the straight line between the codes of images x_a and x_b (each (1, 1, 28, 28)) for every model.

    Returns ``{name: (steps, 1, 28, 28) images}``; the end points are the models' reconstructions.
    """
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two end points), got {steps}.")
    for name, x in (("x_a", x_a), ("x_b", x_b)):
        if not isinstance(x, torch.Tensor) or tuple(x.shape) != (1, 1, 28, 28):
            raise ValueError(f"{name} must be one image shaped (1, 1, 28, 28), got {getattr(x, 'shape', x)}.")
    t = torch.linspace(0, 1, steps)[:, None]
    paths = {}
    for name, model in models.items():
        model.eval()
        device = next(model.parameters()).device
        z_a, z_b = latent_code(model, x_a.to(device)).cpu(), latent_code(model, x_b.to(device)).cpu()
        paths[name] = model.decode(((1 - t) * z_a + t * z_b).to(device)).cpu()
    return paths


def interpolation_view(models: dict, X: torch.Tensor, y: torch.Tensor, classes, steps: int = 9,
                       class_a: int = 1, class_b: int = 9, max_examples: int = 10):
    """Class pickers choose two test images, a slider walks the path; one row per model (e.g. AE and VAE).

    The path is decoded once per pair (``interpolation_paths``); the slider moves a frame along the rows and
    shows the current step enlarged on the right.
    """
    import ipywidgets as w

    labels = torch.as_tensor(y).cpu()
    members = {c: torch.nonzero(labels == c).flatten()[:max_examples] for c in range(len(classes))}
    if any(len(m) == 0 for m in members.values()):
        raise ValueError("interpolation_view needs at least one image of every class in X.")
    names = list(models)
    fig, axes = new_figure(len(names), steps + 1, figsize=(0.75 * (steps + 1) + 1.6, 0.95 * len(names) + 0.5),
                           squeeze=False, gridspec_kw={"width_ratios": [1] * steps + [1.6]})
    blank = np.zeros((28, 28))
    ims = [[ax.imshow(blank, cmap="gray", vmin=0, vmax=1) for ax in row] for row in axes]
    frames = []
    for r, row in enumerate(axes):
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(names[r], fontsize=8, rotation=0, ha="right", va="center")
        frames.append(row[0].add_patch(Rectangle((-0.5, -0.5), 28, 28, fill=False, ec="red", lw=2)))
    title = fig.suptitle("", fontsize=9)
    cache: dict = {}

    def update(a, b, example, step):
        i_a = int(members[a][min(example, len(members[a]) - 1)])
        i_b = int(members[b][min(example, len(members[b]) - 1)])
        key = (i_a, i_b)
        if key not in cache:
            cache[key] = {n: _as_array(p, n) for n, p in interpolation_paths(models, X[i_a:i_a + 1], X[i_b:i_b + 1], steps).items()}
            for r, n in enumerate(names):
                for c in range(steps):
                    ims[r][c].set_data(cache[key][n][c])
        for r, n in enumerate(names):
            frames[r].remove()
            frames[r] = axes[r][step].add_patch(Rectangle((-0.5, -0.5), 28, 28, fill=False, ec="red", lw=2))
            ims[r][steps].set_data(cache[key][n][step])
        t = step / (steps - 1)
        title.set_text(f"test image {i_a} ({classes[a]}) → test image {i_b} ({classes[b]}),  t = {t:.2f}")
        return f"z = (1 - t) z_a + t z_b with t = {t:.2f}; left: the whole path, right: the point t"

    pick = {c: name for c, name in enumerate(classes)}
    controls = {"a": w.Dropdown(options=[(n, c) for c, n in pick.items()], value=class_a, description="from"),
                "b": w.Dropdown(options=[(n, c) for c, n in pick.items()], value=class_b, description="to"),
                "example": w.IntSlider(0, 0, max_examples - 1, description="example"),
                "step": w.IntSlider(steps // 2, 0, steps - 1, description="step")}
    return controls_view(controls, fig, update)


def latent_explorer(model, dims, base: torch.Tensor | None = None, span: float = 3.0, labels=None):
    """Sliders for the latent dimensions ``dims`` (others stay at ``base``, default 0); decodes live."""
    import ipywidgets as w

    dims = [int(d) for d in dims]
    if not dims or max(dims) >= model.latent_dim or min(dims) < 0:
        raise ValueError(f"dims must be indices in [0, {model.latent_dim}), got {dims}.")
    base = torch.zeros(model.latent_dim) if base is None else torch.as_tensor(base, dtype=torch.float32).flatten()
    if base.numel() != model.latent_dim:
        raise ValueError(f"base must hold {model.latent_dim} numbers, got {base.numel()}.")
    labels = labels or [f"z[{d}]" for d in dims]
    model.eval()
    device = next(model.parameters()).device
    fig, (ax_img, ax_bar) = new_figure(1, 2, figsize=(5.2, 2.6), gridspec_kw={"width_ratios": [1, 1.3]})
    im = ax_img.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1)
    ax_img.set_axis_off()
    bars = ax_bar.barh(range(len(dims)), [0.0] * len(dims), color="tab:blue")
    ax_bar.set(xlim=(-span, span), yticks=range(len(dims)), title="code values (prior: N(0, 1))")
    ax_bar.set_yticklabels(labels, fontsize=8)
    ax_bar.invert_yaxis()
    ax_bar.axvline(0, color="black", lw=0.8)
    ax_bar.title.set_fontsize(8)

    def update(**values):
        z = base.clone()
        for k, d in enumerate(dims):
            z[d] = values[f"d{k}"]
            bars[k].set_width(values[f"d{k}"])
        with torch.no_grad():
            im.set_data(model.decode(z[None].to(device)).cpu()[0, 0].numpy())
        return "z = " + ", ".join(f"{lab} {values[f'd{k}']:+.1f}" for k, lab in enumerate(labels))

    sliders = {f"d{k}": w.FloatSlider(value=float(base[d]), min=-span, max=span, step=0.1, description=labels[k],
                                      style={"description_width": "initial"})
               for k, d in enumerate(dims)}
    return controls_view(sliders, fig, update)


@torch.no_grad()
def traversal_figure(model, dims, base: torch.Tensor | None = None, values=(-3, -2, -1, 0, 1, 2, 3), labels=None):
    """Static twin of the explorer: one row per dimension, that dimension set to each of ``values``."""
    dims = [int(d) for d in dims]
    base = torch.zeros(model.latent_dim) if base is None else torch.as_tensor(base, dtype=torch.float32).flatten()
    labels = labels or [f"z[{d}]" for d in dims]
    device = next(model.parameters()).device
    rows = {}
    for lab, d in zip(labels, dims):
        z = base.repeat(len(values), 1)
        z[:, d] = torch.tensor(values, dtype=torch.float32)
        rows[lab] = model.eval().decode(z.to(device)).cpu()
    fig = labelled_rows(rows, size=0.75)
    fig.suptitle("each row moves one dimension through " + ", ".join(f"{v:g}" for v in values), fontsize=8)
    return fig


def beta_viewer(originals, results: dict):
    """A slider over β: reconstructions and prior samples of each β-VAE, numbers in the caption.

    ``results[beta]`` holds 'recon' (images like ``originals``), 'samples' (images) and the numbers
    'rec' and 'kl' (nats per image on the test set).
    """
    import ipywidgets as w

    betas = sorted(results)
    if not betas:
        raise ValueError("beta_viewer needs results for at least one β.")
    for b in betas:
        missing = [k for k in ("recon", "samples", "rec", "kl") if k not in results[b]]
        if missing:
            raise ValueError(f"results[{b}] has no {missing}; give recon, samples, rec and kl.")
    orig = _as_array(originals, "originals")
    n = len(orig)
    fig, ims = _image_rows(3, n, ["test image", "reconstruction", "sample\nfrom prior"])
    for im, img in zip(ims[0], orig):
        im.set_data(img)
    arrays = {b: (_as_array(results[b]["recon"], "recon"), _as_array(results[b]["samples"], "samples")) for b in betas}
    title = fig.suptitle("", fontsize=9)

    def update(beta):
        recon, samples = arrays[beta]
        for im, img in zip(ims[1], recon):
            im.set_data(img)
        for im, img in zip(ims[2], samples):
            im.set_data(img)
        title.set_text(f"β = {beta:g}")
        r = results[beta]
        return f"β = {beta:g}: reconstruction {r['rec']:.1f} nats, KL {r['kl']:.1f} nats, negative ELBO {r['rec'] + r['kl']:.1f}"

    slider = w.SelectionSlider(options=betas, value=betas[len(betas) // 2], description="β")
    return controls_view({"beta": slider}, fig, update)


def beta_figure(originals, results: dict, n: int = 8):
    """Static twin of the β viewer: originals, then a reconstruction row and a sample row per β."""
    rows = {"test image": torch.as_tensor(originals)[:n]}
    for b in sorted(results):
        r = results[b]
        rows[f"β = {b:g}: recon\n(rec {r['rec']:.0f}, KL {r['kl']:.0f})"] = torch.as_tensor(r["recon"])[:n]
        rows[f"β = {b:g}: samples"] = torch.as_tensor(r["samples"])[:n]
    return labelled_rows(rows, size=0.7)


# ---------------------------------------------------------------- static figures

def curves_figure(runs: dict, keys=("nelbo", "rec", "kl"), x: str = "epoch"):
    """One panel per term (total, reconstruction, KL), one line per run: ``runs[name][key]`` is a list per epoch.

    ``runs[name]['x']`` (optional) gives the x values (e.g. cumulative training seconds) instead of 1, 2, ...
    """
    if not runs:
        raise ValueError("curves_figure needs at least one run.")
    titles = {"nelbo": "total: negative ELBO", "rec": "reconstruction (BCE)", "kl": "KL to the prior", "loss": "objective"}
    fig, axes = new_figure(1, len(keys), figsize=(3.3 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, run in runs.items():
            if key not in run:
                raise ValueError(f"run {name!r} has no curve {key!r}; it has {sorted(run)}.")
            xs = run.get("x", list(range(1, len(run[key]) + 1)))
            ax.plot(xs, run[key], marker="o", ms=2.5, label=name)
        ax.set_title(titles.get(key, key) + " (nats / image)", fontsize=9)
        ax.set_xlabel(x, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    return fig


def manifold_figure(model, n: int = 15, span: float = 0.95):
    """Decode a grid of 2-D codes placed at the prior's quantiles (from 1 - span to span): the learned manifold."""
    from scipy.stats import norm

    if model.latent_dim != 2:
        raise ValueError(f"manifold_figure needs a model with a 2-D latent space, got latent_dim={model.latent_dim}.")
    q = norm.ppf(np.linspace(1 - span, span, n))
    z = torch.tensor([[a, b] for b in q[::-1] for a in q], dtype=torch.float32)  # rows: z2 from high to low
    device = next(model.parameters()).device
    with torch.no_grad():
        imgs = model.eval().decode(z.to(device)).cpu()[:, 0].numpy()
    canvas = imgs.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig, ax = new_figure(figsize=(5.4, 5.4))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=(0, n, 0, n))
    ticks = [0, n // 2, n - 1]
    ax.set_xticks([t + 0.5 for t in ticks], [f"{q[t]:.1f}" for t in ticks])
    ax.set_yticks([t + 0.5 for t in ticks], [f"{q[t]:.1f}" for t in ticks])
    ax.set(xlabel="z[0]", ylabel="z[1]", title="decoded grid over the 2-D latent space")
    return fig


def kl_bars_figure(kl_dims: dict, threshold: float = 0.01):
    """Per-dimension KL (sorted, largest first) of several runs as bar charts, the "active" threshold dashed."""
    if not kl_dims:
        raise ValueError("kl_bars_figure needs at least one run.")
    fig, axes = new_figure(1, len(kl_dims), figsize=(3.2 * len(kl_dims), 2.7), squeeze=False, sharey=True)
    for ax, (name, kl) in zip(axes[0], kl_dims.items()):
        v = torch.as_tensor(kl).sort(descending=True).values.numpy()
        ax.bar(range(len(v)), np.maximum(v, 1e-4), color=["tab:blue" if x > threshold else "tab:gray" for x in v])
        ax.axhline(threshold, color="red", ls="--", lw=1)
        active = int((v > threshold).sum())
        ax.set_title(f"{name}\n{active} of {len(v)} dimensions active", fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("latent dimension (sorted)", fontsize=8)
    axes[0, 0].set_ylabel("KL per dimension (nats)", fontsize=8)
    return fig
