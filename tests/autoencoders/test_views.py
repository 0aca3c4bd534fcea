import numpy as np
import pytest
import torch

from course_utils import widgets
from course_utils.autoencoders import views


def _clusters(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    codes = torch.cat([torch.randn(n, 8, generator=g), torch.randn(n, 8, generator=g) + 20])
    labels = torch.cat([torch.zeros(n), torch.ones(n)]).long()
    return codes, labels


def _numbered(n):
    """n images, image k filled with the grey level k / n: an image says which one it is."""
    return (torch.arange(n, dtype=torch.float32) / n).view(n, 1, 1, 1).expand(n, 1, 28, 28).clone()


def _which(array) -> int:
    """The index k of a numbered image (see ``_numbered``), read back from an artist's data."""
    values = np.unique(np.asarray(array))
    assert len(values) == 1, "not one of the numbered images"
    return values[0]


def test_tsne_embedding_keeps_clusters_apart():
    codes, labels = _clusters()
    emb = views.tsne_embedding(codes, perplexity=10)
    assert emb.shape == (120, 2) and np.isfinite(emb).all()
    a, b = emb[labels.numpy() == 0], emb[labels.numpy() == 1]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 2 * max(a.std(0).max(), b.std(0).max())
    assert np.allclose(emb, views.tsne_embedding(codes, perplexity=10))  # same seed, same picture
    with pytest.raises(ValueError, match="needs more than 90 points"):
        views.tsne_embedding(torch.randn(50, 4))


def test_tsne_view_shows_the_chosen_point_of_the_chosen_class():
    n = 30
    emb = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    labels = torch.arange(n) % 3
    images, recs = _numbered(n), _numbered(n).flip(0)  # recs[k] is image n - 1 - k
    view = views.tsne_view(emb, labels, ["a", "b", "c"], images, recs)
    assert isinstance(view, widgets.View) and set(view.controls) == {"cls", "i"}
    scatter, ax_img, ax_rec = view.figure.axes[:3]
    first = view.image.value
    view.controls["i"].value = 7
    assert np.allclose(scatter.collections[-1].get_offsets()[0], emb[7])  # the ring marks point 7
    assert _which(ax_img.images[0].get_array()) == pytest.approx(7 / n)
    assert _which(ax_rec.images[0].get_array()) == pytest.approx((n - 1 - 7) / n)
    assert "point 7 (b)" in view.caption.value and view.image.value != first
    view.controls["cls"].value = "c"  # the slider now walks the points of class c: 2, 5, 8, ...
    view.controls["i"].value = 1
    assert "point 5 (c)" in view.caption.value and view.controls["i"].max == 9
    assert _which(ax_img.images[0].get_array()) == pytest.approx(5 / n)  # the image of point 5, a "c"
    assert "point 5: c" in ax_img.get_title()
    for k in range(10):  # every point the class walks through is of that class, and shows its own image
        view.controls["i"].value = k
        shown = round(_which(ax_img.images[0].get_array()) * n)
        assert int(labels[shown]) == 2 and f"point {shown} (c)" in view.caption.value


def test_tsne_figure_draws_the_picks():
    n = 30
    emb = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
    labels = torch.arange(n) % 3
    fig = views.tsne_figure(emb, labels, ["a", "b", "c"], _numbered(n), _numbered(n), picks=[0, 4])
    assert len(fig.axes) == 1 + 2 * 2
    assert _which(fig.axes[3].images[0].get_array()) == pytest.approx(4 / n) and fig.axes[3].get_title() == "2: b"


def _decoded_row(view, n_cols):
    return [_which(ax.images[0].get_array()) for ax in view.figure.axes[n_cols:2 * n_cols]]


def test_latent_size_view_leaves_the_figure_at_the_current_size_after_precomputing():
    images = _numbered(4)
    recs = {2: torch.zeros(4, 1, 28, 28), 8: torch.full((4, 1, 28, 28), 0.5), 32: torch.ones(4, 1, 28, 28)}
    errors = {2: 0.05, 8: 0.02, 32: 0.01}
    view = views.latent_size_view(images, recs, errors)
    assert view.controls["latent_dim"].value == 8 and len(view.frames) == 3  # every size was rendered up front
    # after precomputing, the figure's artists show latent size 8 (not 32, the last one rendered) ...
    assert _decoded_row(view, 4) == [0.5] * 4 and "latent size 8" in view.figure._suptitle.get_text()
    # ... and the image shown is the figure as it stands
    assert view.image.value == widgets.figure_png(view.figure)
    assert "0.0200" in view.caption.value
    at_8 = view.image.value
    view.controls["latent_dim"].value = 2
    assert _decoded_row(view, 4) == [0.0] * 4 and "0.0500" in view.caption.value and view.image.value != at_8
    view.controls["latent_dim"].value = 8
    assert view.image.value == at_8
    assert len(views.latent_size_figure(images, recs, errors).axes) == 4 * 4


def test_denoising_view_leaves_the_figure_at_the_current_level_after_precomputing():
    clean = _numbered(4)
    noisy = {0.1: torch.full((4, 1, 28, 28), 0.1), 0.3: torch.full((4, 1, 28, 28), 0.3), 0.5: torch.full((4, 1, 28, 28), 0.5)}
    denoised = {s: torch.full((4, 1, 28, 28), 1 - s) for s in noisy}
    view = views.denoising_view(clean, noisy, denoised, {0.1: "low", 0.3: "middle", 0.5: "high"})
    assert view.controls["noise_std"].value == 0.3
    noisy_row = [_which(ax.images[0].get_array()) for ax in view.figure.axes[:4]]
    denoised_row = [_which(ax.images[0].get_array()) for ax in view.figure.axes[4:8]]
    clean_row = [_which(ax.images[0].get_array()) for ax in view.figure.axes[8:12]]
    assert noisy_row == pytest.approx([0.3] * 4) and denoised_row == pytest.approx([0.7] * 4)
    assert clean_row == pytest.approx([0, 0.25, 0.5, 0.75])
    assert view.image.value == widgets.figure_png(view.figure) and "noise std 0.3: middle" in view.caption.value
    view.controls["noise_std"].value = 0.5
    assert "noise std 0.5: high" in view.caption.value
    assert [_which(ax.images[0].get_array()) for ax in view.figure.axes[:4]] == pytest.approx([0.5] * 4)
    fig = views.denoising_figure(clean, noisy, denoised, levels=[0.5], num_images=3)
    assert len(fig.axes) == 3 * 3 and _which(fig.axes[3].images[0].get_array()) == pytest.approx(0.5)


def test_labelled_rows():
    fig = views.labelled_rows({"a": torch.rand(3, 1, 28, 28), "b": torch.rand(2, 28, 28)}, title="t")
    assert len(fig.axes) == 6 and not fig.axes[5].get_visible() and fig.axes[3].get_ylabel() == "b"
    with pytest.raises(ValueError, match="rows"):
        views.labelled_rows({})
