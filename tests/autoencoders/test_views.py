import numpy as np
import pytest
import torch

from course_utils.autoencoders import views


def _clusters(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    codes = torch.cat([torch.randn(n, 8, generator=g), torch.randn(n, 8, generator=g) + 20])
    labels = torch.cat([torch.zeros(n), torch.ones(n)]).long()
    return codes, labels


def test_tsne_embedding_keeps_clusters_apart():
    codes, labels = _clusters()
    emb = views.tsne_embedding(codes, perplexity=10)
    assert emb.shape == (120, 2) and np.isfinite(emb).all()
    a, b = emb[labels.numpy() == 0], emb[labels.numpy() == 1]
    gap = np.linalg.norm(a.mean(0) - b.mean(0))
    assert gap > 2 * max(a.std(0).max(), b.std(0).max())
    assert np.allclose(emb, views.tsne_embedding(codes, perplexity=10))  # same seed, same picture
    with pytest.raises(ValueError, match=r"\(N, latent_dim\)"):
        views.tsne_embedding(torch.zeros(10))
    with pytest.raises(ValueError, match="needs more than 90 points"):
        views.tsne_embedding(torch.zeros(50, 4))


def test_tsne_view_shows_the_chosen_point():
    emb = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    labels = torch.arange(30) % 3
    images = torch.rand(30, 1, 28, 28)
    recs = torch.rand(30, 1, 28, 28)
    box = views.tsne_view(emb, labels, ["a", "b", "c"], images, recs)
    dropdown, slider = box.children[0].children
    slider.value = 7
    panel = box.panel
    assert np.allclose(panel.marker.get_offsets()[0], emb[7])
    assert np.allclose(panel.im_img.get_array(), images[7, 0].numpy()) and np.allclose(panel.im_rec.get_array(), recs[7, 0].numpy())
    assert "point 7 (b)" in box.children[2].value
    dropdown.value = "c"  # the slider now walks the points of class c: 2, 5, 8, ...
    slider.value = 1
    assert "point 5 (c)" in box.children[2].value and slider.max == 9
    fig = views.tsne_figure(emb, labels, ["a", "b", "c"], images, recs, picks=[0, 4])
    assert len(fig.axes) == 1 + 2 * 2
    with pytest.raises(ValueError, match="same length"):
        views.tsne_view(emb, labels[:10], ["a", "b", "c"], images, recs)
    with pytest.raises(ValueError, match=r"index must be in \[0, 29\]"):
        panel.show(30)


def test_latent_size_explorer_and_denoising_slider_swap_precomputed_images():
    images = torch.rand(4, 1, 28, 28)
    recs = {2: torch.zeros(4, 1, 28, 28), 8: torch.ones(4, 1, 28, 28)}
    box = views.latent_size_explorer(images, recs, {2: 0.05, 8: 0.01})
    slider = box.children[0].children[0]
    slider.value = 2
    before = box.view.image.value
    assert "0.0500" in box.children[2].value
    slider.value = 8
    assert box.view.image.value != before and "0.0100" in box.children[2].value
    assert len(views.latent_size_figure(images, recs, {2: 0.05, 8: 0.01}).axes) == 3 * 4
    with pytest.raises(ValueError, match="no entry for"):
        views.latent_size_explorer(images, recs, {2: 0.05})

    noisy = {0.1: torch.rand(4, 1, 28, 28), 0.5: torch.rand(4, 1, 28, 28)}
    box = views.denoising_slider(images, noisy, {0.1: images, 0.5: images}, {0.1: "low", 0.5: "high"})
    box.children[0].children[0].value = 0.5
    assert "noise std 0.5: high" in box.children[2].value
    assert len(views.denoising_figure(images, noisy, {0.1: images, 0.5: images}, levels=[0.5], n_images=3).axes) == 3 * 3
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        views.denoising_slider(torch.rand(4, 784), noisy, noisy)


def test_labelled_rows():
    fig = views.labelled_rows({"a": torch.rand(3, 1, 28, 28), "b": torch.rand(2, 28, 28)}, title="t")
    assert len(fig.axes) == 6 and not fig.axes[5].get_visible() and fig.axes[3].get_ylabel() == "b"
    with pytest.raises(ValueError, match="at least one row"):
        views.labelled_rows({})
