"""Chapter 06's widgets and their static twins: interpolation (AE against VAE), latent traversal, β, and figures.

Introduced in chapter 06: ``interpolation_view`` in 06_vae §6, ``traversal_view``/``traversal_figure`` in §7,
``beta_view``/``beta_figure`` in §9, ``curves_figure`` in §4, ``manifold_figure`` in §5 and ``kl_bars_figure``
in §10 (the t-SNE view of §8 is chapter 05's ``autoencoders.views.tsne_view``). Every widget returns a
``widgets.View``; a control changes the data of existing image artists, and what a slider browses is computed
before (a whole interpolation path is decoded when the pair of images changes, so moving along it only swaps
pictures). Models are anything with ``encode``/``decode``; for a VAE the path runs between posterior means.
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
def interpolation_paths(models: dict, x_a: torch.Tensor, x_b: torch.Tensor, num_steps: int = 9) -> dict:
    """Decode the straight line between the codes of images x_a and x_b (each (1, 1, 28, 28)) for every model.

    Returns ``{name: (num_steps, 1, 28, 28) images}``; the end points are the models' reconstructions. The
    weight t of each step is one number for the whole code: z = (1 - t) z_a + t z_b.
    """
    if not (isinstance(models, dict) and models and all(callable(getattr(m, "decode", None)) for m in models.values())):
        raise ValueError("models must be a non-empty dict of name -> model with encode and decode.")
    if not (isinstance(num_steps, int) and num_steps >= 2):
        raise ValueError(f"num_steps must be an int of at least 2 (the two end points), got {num_steps!r}.")
    for name, x in (("x_a", x_a), ("x_b", x_b)):
        if not isinstance(x, torch.Tensor) or tuple(x.shape) != (1, 1, 28, 28):
            raise ValueError(f"{name} must be one image shaped (1, 1, 28, 28), got {getattr(x, 'shape', x)}.")
    t = torch.linspace(0, 1, num_steps)[:, None]  # (num_steps, 1): one weight per step
    paths = {}
    for name, model in models.items():
        model.eval()
        device = next(model.parameters()).device
        z_a, z_b = latent_code(model, x_a.to(device)).cpu(), latent_code(model, x_b.to(device)).cpu()
        paths[name] = model.decode(((1 - t) * z_a + t * z_b).to(device)).cpu()
    return paths


def interpolation_view(models: dict, X: torch.Tensor, y: torch.Tensor, classes, num_steps: int = 9,
                       class_a: int = 1, class_b: int = 9, max_examples: int = 10):
    """Class pickers choose two test images, a slider walks the path; one row per model (e.g. AE and VAE).

    The path is decoded once per pair (``interpolation_paths``); the slider moves a frame along the rows and
    shows the current step enlarged on the right. Where views are kernel-free the step slider is linked in the
    browser (``controls_view(link=...)``). Returns a ``widgets.View`` (controls 'a', 'b', 'example', 'step').
    """
    import ipywidgets as w

    if not (isinstance(X, torch.Tensor) and X.dim() == 4 and X.shape[1:] == (1, 28, 28)):
        raise ValueError(f"X must be images shaped (N, 1, 28, 28), got {getattr(X, 'shape', type(X).__name__)}.")
    labels = torch.as_tensor(y).cpu()
    if labels.shape != (len(X),):
        raise ValueError(f"y must hold one label per image of X ({len(X)}), got shape {tuple(labels.shape)}.")
    if not all(isinstance(c, int) and 0 <= c < len(classes) for c in (class_a, class_b)):
        raise ValueError(f"class_a and class_b must be class numbers in [0, {len(classes)}), got {class_a!r} and {class_b!r}.")
    if not (isinstance(max_examples, int) and max_examples >= 1):
        raise ValueError(f"max_examples must be a positive int, got {max_examples!r}.")
    members = {c: torch.nonzero(labels == c).flatten()[:max_examples] for c in range(len(classes))}
    if any(len(m) == 0 for m in members.values()):
        raise ValueError("X and y must hold at least one image of every class in classes.")
    steps, names = num_steps, list(models)
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
            for c in range(steps):  # the rows show this pair's path even when it comes from the cache
                ims[r][c].set_data(cache[key][n][c])
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
    # 9,000 settings are too many to precompute: the browser links the step slider (the path of the pair on screen),
    # and picking another pair re-renders those frames through the kernel
    return controls_view(controls, fig, update, link=["step"])


def traversal_view(model, dims, base: torch.Tensor | None = None, span: float = 3.0, labels=None):
    """Sliders for the latent dimensions ``dims`` (others stay at ``base``, default 0); decodes live.

    Returns a ``widgets.View`` with one control per dimension ('d0', 'd1', ...); ``traversal_figure`` is its twin.
    """
    import ipywidgets as w

    if not (isinstance(dims, list | tuple) and dims and all(isinstance(d, int) and 0 <= d < model.latent_dim for d in dims)):
        raise ValueError(f"dims must be a non-empty list of dimension indices in [0, {model.latent_dim}), got {dims!r}.")
    base = torch.zeros(model.latent_dim) if base is None else torch.as_tensor(base, dtype=torch.float32).flatten()
    if base.numel() != model.latent_dim:
        raise ValueError(f"base must hold {model.latent_dim} numbers, got {base.numel()}.")
    if not (isinstance(span, int | float) and span > 0):
        raise ValueError(f"span must be a positive number (the sliders run from -span to span), got {span!r}.")
    labels = labels or [f"z[{d}]" for d in dims]
    if len(labels) != len(dims):
        raise ValueError(f"labels must name each of the {len(dims)} dims, got {len(labels)} labels.")
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
    """Static twin of ``traversal_view``: one row per dimension, that dimension set to each of ``values``."""
    if not (isinstance(dims, list | tuple) and dims and all(isinstance(d, int) and 0 <= d < model.latent_dim for d in dims)):
        raise ValueError(f"dims must be a non-empty list of dimension indices in [0, {model.latent_dim}), got {dims!r}.")
    base = torch.zeros(model.latent_dim) if base is None else torch.as_tensor(base, dtype=torch.float32).flatten()
    if base.numel() != model.latent_dim:
        raise ValueError(f"base must hold {model.latent_dim} numbers, got {base.numel()}.")
    labels = labels or [f"z[{d}]" for d in dims]
    if len(labels) != len(dims) or not len(values):
        raise ValueError(f"labels must name each of the {len(dims)} dims and values hold at least one number.")
    device = next(model.parameters()).device
    rows = {}
    for lab, d in zip(labels, dims):
        z = base.repeat(len(values), 1)
        z[:, d] = torch.tensor(values, dtype=torch.float32)
        rows[lab] = model.eval().decode(z.to(device)).cpu()
    fig = labelled_rows(rows, size=0.75)
    fig.suptitle("each row moves one dimension through " + ", ".join(f"{v:g}" for v in values), fontsize=8)
    return fig


def beta_view(originals, results: dict):
    """A slider over β: reconstructions and prior samples of each β-VAE, numbers in the caption.

    ``results[beta]`` holds 'recon' (images like ``originals``), 'samples' (images) and the numbers
    'rec' and 'kl' (nats per image on the test set). Returns a ``widgets.View`` (control 'beta');
    ``beta_figure`` is its twin.
    """
    import ipywidgets as w

    if not (isinstance(results, dict) and results):
        raise ValueError("results must be a non-empty dict of beta -> {'recon', 'samples', 'rec', 'kl'}.")
    betas = sorted(results)
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
    """Static twin of ``beta_view``: originals, then a reconstruction row and a sample row per β."""
    if not (isinstance(results, dict) and results and all({"recon", "samples", "rec", "kl"} <= set(r) for r in results.values())):
        raise ValueError("results must be a non-empty dict of beta -> {'recon', 'samples', 'rec', 'kl'}.")
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
    if not (isinstance(runs, dict) and runs):
        raise ValueError("runs must be a non-empty dict of name -> {curve name: values per epoch}.")
    titles = {"nelbo": "total: negative ELBO", "rec": "reconstruction (BCE)", "kl": "KL to the prior", "loss": "objective"}
    fig, axes = new_figure(1, len(keys), figsize=(3.3 * len(keys), 2.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, run in runs.items():
            if key not in run:
                raise ValueError(f"run {name!r} has no curve {key!r}; it has {sorted(run)}.")
            xs = run.get("x", list(range(1, len(run[key]) + 1)))
            if len(xs) != len(run[key]):
                raise ValueError(f"runs[{name!r}]['x'] has {len(xs)} values for {len(run[key])} values of {key!r}.")
            ax.plot(xs, run[key], marker="o", ms=2.5, label=name)
        ax.set_title(titles.get(key, key) + " (nats / image)", fontsize=10)
        ax.set_xlabel(x, fontsize=9)
        ax.tick_params(labelsize=9)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    return fig


def _grid_quantiles(n: int, span: float):
    from scipy.stats import norm

    if not (isinstance(n, int) and n >= 2 and isinstance(span, int | float) and 0.5 < span < 1):
        raise ValueError(f"n must be an int >= 2 and span a quantile between 0.5 and 1 (exclusive), got {n!r} and {span!r}.")
    return norm, norm.ppf(np.linspace(1 - span, span, n))


def prior_cell_counts(means, n: int = 15, span: float = 0.95) -> torch.Tensor:
    """How many 2-D posterior means fall in each cell of the manifold grid, (n, n), rows from high z[1] to low.

    The cells are centred on the grid's codes and bounded half-way between quantiles, so under the prior every
    inner cell holds the same probability mass: a cell with far fewer means than its share is a *hole*, where the
    aggregate posterior puts little mass although the prior puts some. Means outside the grid are not counted.
    """
    norm, q = _grid_quantiles(n, span)
    m = torch.as_tensor(means, dtype=torch.float32)
    if m.dim() != 2 or m.shape[1] != 2 or not len(m):
        raise ValueError(f"means must be 2-D codes shaped (N, 2), got {tuple(m.shape)}.")
    u = (torch.as_tensor(norm.cdf(m.numpy())) - (1 - span)) / (2 * span - 1) * (n - 1)  # grid coordinate, cells at 0..n-1
    cell = (u + 0.5).floor().long()
    inside = ((cell >= 0) & (cell < n)).all(1)
    counts = torch.zeros(n, n, dtype=torch.long)
    for cx, cy in cell[inside].tolist():
        counts[n - 1 - cy, cx] += 1
    return counts


def manifold_figure(model, n: int = 15, span: float = 0.95, means=None, labels=None, classes=None):
    """Decode a grid of 2-D codes placed at the prior's quantiles (from 1 - span to span): the learned manifold.

    With ``means`` (N, 2) the posterior means of real images are drawn over the grid in the same coordinates
    (coloured by ``labels`` with the names ``classes``), so that regions the data never uses show up as empty.
    Means beyond the grid's range are drawn as crosses on its edge and counted in the title.
    """
    norm, q = _grid_quantiles(n, span)
    if model.latent_dim != 2:
        raise ValueError(f"model must have a 2-D latent space, got latent_dim={model.latent_dim}.")
    z = torch.tensor([[a, b] for b in q[::-1] for a in q], dtype=torch.float32)  # rows: z2 from high to low
    device = next(model.parameters()).device
    with torch.no_grad():
        imgs = model.eval().decode(z.to(device)).cpu()[:, 0].numpy()
    canvas = imgs.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    panels = 1 if means is None else 2
    fig, axes = new_figure(1, panels, figsize=(5.2 * panels, 5.4), squeeze=False)
    ticks = [0, n // 2, n - 1]
    for ax in axes[0]:
        ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, extent=(0, n, 0, n), alpha=1.0 if ax is axes[0, 0] else 0.45)
        ax.set_xticks([t + 0.5 for t in ticks], [f"{q[t]:.1f}" for t in ticks])
        ax.set_yticks([t + 0.5 for t in ticks], [f"{q[t]:.1f}" for t in ticks])
        ax.set(xlabel="z[0] (prior quantile grid)", ylabel="z[1] (prior quantile grid)")
    axes[0, 0].set_title("2-D VAE: decoded grid of codes", fontsize=10)
    if means is not None:
        m = torch.as_tensor(means, dtype=torch.float32).numpy()
        if m.ndim != 2 or m.shape[1] != 2:
            raise ValueError(f"means must be 2-D codes shaped (N, 2), got {m.shape}.")
        u = (norm.cdf(m) - (1 - span)) / (2 * span - 1) * (n - 1) + 0.5
        ax = axes[0, 1]
        colour = None if labels is None else torch.as_tensor(labels).numpy()
        outside = ((u < 0) | (u > n)).any(axis=1)
        u = np.clip(u, 0.05, n - 0.05)  # means beyond the grid are drawn on its edge, as crosses
        def by_label(rows):  # colour by class where labels are given
            return {} if colour is None else {"c": colour[rows], "cmap": "tab10", "vmin": -0.5, "vmax": 9.5}

        sc = ax.scatter(u[~outside, 0], u[~outside, 1], s=4, **by_label(~outside))
        if outside.any():
            ax.scatter(u[outside, 0], u[outside, 1], s=14, marker="x", lw=0.8, clip_on=False, **by_label(outside))
        ax.set(xlim=(0, n), ylim=(0, n))
        ax.set_title(f"the same grid (faded) with {len(m):,} test-image posterior means\n"
                     f"{int(outside.sum()):,} lie beyond the grid (crosses on its edge)", fontsize=10)
        if classes is not None and labels is not None:
            ax.legend(sc.legend_elements()[0], classes, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
    return fig


def kl_bars_figure(kl_dims: dict, threshold: float = 0.01):
    """Per-dimension KL (sorted, largest first) of several runs as bar charts, the "active" threshold dashed."""
    if not (isinstance(kl_dims, dict) and kl_dims and all(torch.as_tensor(v).dim() == 1 for v in kl_dims.values())):
        raise ValueError("kl_dims must be a non-empty dict of run name -> 1-D tensor of KL per dimension.")
    if not (isinstance(threshold, int | float) and threshold > 0):
        raise ValueError(f"threshold must be a positive number of nats (the axis is logarithmic), got {threshold!r}.")
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
