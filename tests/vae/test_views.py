import numpy as np
import pytest
import torch

from course_utils import autoencoders
from course_utils.vae import models, views


def _models():
    torch.manual_seed(0)
    return {"AE": autoencoders.models.MLPAutoencoder(4, hidden=(16,)), "VAE": models.MLPVAE(4, 16)}


def test_interpolation_paths_start_and_end_at_reconstructions():
    models = _models()
    x_a, x_b = torch.rand(1, 1, 28, 28), torch.rand(1, 1, 28, 28)
    paths = views.interpolation_paths(models, x_a, x_b, steps=5)
    assert set(paths) == {"AE", "VAE"} and paths["VAE"].shape == (5, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(paths["AE"][0], models["AE"](x_a)[0], atol=1e-5)
        assert torch.allclose(paths["VAE"][-1], models["VAE"].decode(models["VAE"].means(x_b))[0], atol=1e-5)
    with pytest.raises(ValueError, match="steps"):
        views.interpolation_paths(models, x_a, x_b, steps=1)
    with pytest.raises(ValueError, match=r"\(1, 1, 28, 28\)"):
        views.interpolation_paths(models, torch.rand(2, 1, 28, 28), x_b)


def test_interpolation_view_follows_the_controls():
    models = _models()
    X, y = torch.rand(20, 1, 28, 28), torch.arange(20) % 10
    box = views.interpolation_view(models, X, y, [str(c) for c in range(10)], steps=5, class_a=1, class_b=2)
    controls = box.children[0].children
    before = box.view.image.value
    controls[3].value = 4  # step slider
    assert box.view.image.value != before
    controls[0].value = 3  # another class
    assert "test image 3" in box.view.fig._suptitle.get_text()


def test_latent_explorer_decodes_the_slider_values():
    model = models.MLPVAE(4, 16)
    box = views.latent_explorer(model, [2, 0])
    sliders = box.children[0].children
    sliders[0].value = 2.5
    assert "z[2] +2.5" in box.children[2].value
    im = box.view.fig.axes[0].images[0]
    z = torch.zeros(4)
    z[2] = 2.5
    with torch.no_grad():
        assert np.allclose(im.get_array(), model.decode(z[None])[0, 0].numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="dims"):
        views.latent_explorer(model, [7])
    assert len(views.traversal_figure(model, [0, 1], values=(-1, 0, 1)).axes) == 6


def test_beta_viewer_and_static_figures():
    imgs = torch.rand(3, 1, 28, 28)
    res = {b: {"recon": imgs * b / 4, "samples": imgs, "rec": 100.0 * b, "kl": 10.0 / b} for b in (0.5, 1.0, 4.0)}
    box = views.beta_viewer(imgs, res)
    box.children[0].children[0].value = 4.0
    assert "β = 4" in box.children[2].value and "400.0" in box.children[2].value
    with pytest.raises(ValueError, match="samples"):
        views.beta_viewer(imgs, {1.0: {"recon": imgs}})
    assert len(views.beta_figure(imgs, res).axes) == 7 * 3
    fig = views.curves_figure({"a": {"nelbo": [3, 2], "rec": [2, 1.5], "kl": [1, 0.5]}})
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="no curve"):
        views.curves_figure({"a": {"nelbo": [1]}})
    assert len(views.manifold_figure(models.MLPVAE(2, 8), n=4).axes) == 1
    with pytest.raises(ValueError, match="2-D"):
        views.manifold_figure(models.MLPVAE(3, 8))
    fig = views.kl_bars_figure({"x": torch.tensor([1.0, 0.0, 0.5])})
    assert "2 of 3 dimensions active" in fig.axes[0].get_title()
