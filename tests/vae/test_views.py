import numpy as np
import pytest
import torch

from course_utils import autoencoders, widgets
from course_utils.vae import models, views


def _models():
    torch.manual_seed(0)
    return {"AE": autoencoders.models.MLPAutoencoder(4, (16,)), "VAE": models.MLPVAE(4, 16)}


def _decoded(model, z):
    with torch.no_grad():
        return model.eval().decode(z[None])[0, 0].numpy()


def test_interpolation_paths_start_and_end_at_reconstructions():
    models = _models()
    x_a, x_b = torch.rand(1, 1, 28, 28), torch.rand(1, 1, 28, 28)
    paths = views.interpolation_paths(models, x_a, x_b, num_steps=5)
    assert set(paths) == {"AE", "VAE"} and paths["VAE"].shape == (5, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(paths["AE"][0], models["AE"](x_a)[0], atol=1e-5)
        assert torch.allclose(paths["VAE"][-1], models["VAE"].decode(models["VAE"].means(x_b))[0], atol=1e-5)
        # one weight t per step for the whole code: the middle of 5 steps decodes the midpoint of the codes
        mid = (models["VAE"].means(x_a) + models["VAE"].means(x_b)) / 2
        assert torch.allclose(paths["VAE"][2], models["VAE"].decode(mid)[0], atol=1e-5)
    with pytest.raises(ValueError, match="num_steps"):
        views.interpolation_paths(models, x_a, x_b, num_steps=1)
    with pytest.raises(ValueError, match=r"x_a must be one image shaped \(1, 1, 28, 28\)"):
        views.interpolation_paths(models, torch.rand(2, 1, 28, 28), x_b)


def _interpolation(models, **kwargs):
    X, y = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(1)), torch.arange(20) % 10
    return X, y, views.interpolation_view(models, X, y, [f"class {c}" for c in range(10)], **kwargs)


def _row(view, r, c):
    return view.figure.axes[r * 6 + c].images[0].get_array()  # 5 steps + the enlarged one per row


def test_interpolation_view_shows_the_chosen_pair_and_step():
    models = _models()
    X, y, view = _interpolation(models, num_steps=5, class_a=1, class_b=2)
    assert isinstance(view, widgets.View) and set(view.controls) == {"a", "b", "example", "step"}
    assert "test image 1 (class 1) → test image 2 (class 2)" in view.figure._suptitle.get_text()
    before = view.image.value
    view.controls["step"].value = 4
    assert view.image.value != before and "t = 1.00" in view.caption.value
    paths = views.interpolation_paths(models, X[1:2], X[2:3], num_steps=5)
    assert np.allclose(_row(view, 1, 5), paths["VAE"][4, 0].numpy(), atol=1e-6)  # the enlarged step is the last one
    view.controls["a"].value = 3
    view.controls["example"].value = 1  # the second image of class 3 is image 13: labels stay with their images
    assert "test image 13 (class 3)" in view.figure._suptitle.get_text() and int(y[13]) == 3


def test_interpolation_rows_follow_the_pair_when_it_comes_back_from_the_cache():
    models = _models()
    X, _, view = _interpolation(models, num_steps=5, class_a=1, class_b=2)
    first = _row(view, 0, 0).copy()
    view.controls["a"].value = 4  # another pair is decoded ...
    assert not np.allclose(_row(view, 0, 0), first)
    view.controls["a"].value = 1  # ... and the first one comes back from the cache, at a step not rendered before
    view.controls["step"].value = 1
    assert np.allclose(_row(view, 0, 0), first)
    paths = views.interpolation_paths(models, X[1:2], X[2:3], num_steps=5)
    for c in range(5):
        assert np.allclose(_row(view, 1, c), paths["VAE"][c, 0].numpy(), atol=1e-6)


def test_interpolation_view_left_at_the_current_setting_after_precomputing():
    models = _models()
    X, y = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2)), torch.tensor([0, 1, 0, 1])
    view = views.interpolation_view(models, X, y, ["a", "b"], num_steps=3, class_a=1, class_b=0, max_examples=1)
    assert len(view.frames) == 2 * 2 * 1 * 3  # every setting was rendered up front
    assert "test image 1 (b) → test image 0 (a)" in view.figure._suptitle.get_text()
    paths = views.interpolation_paths(models, X[1:2], X[0:1], num_steps=3)
    for r, name in enumerate(["AE", "VAE"]):
        for c in range(3):
            assert np.allclose(view.figure.axes[r * 4 + c].images[0].get_array(), paths[name][c, 0].numpy(), atol=1e-6)
        assert np.allclose(view.figure.axes[r * 4 + 3].images[0].get_array(), paths[name][1, 0].numpy(), atol=1e-6)


def test_traversal_view_decodes_the_slider_values():
    model = models.MLPVAE(4, 16)
    view = views.traversal_view(model, [2, 0])
    assert set(view.controls) == {"d0", "d1"}
    view.controls["d0"].value = 2.5
    view.controls["d1"].value = -1.0
    assert "z[2] +2.5" in view.caption.value and "z[0] -1.0" in view.caption.value
    z = torch.zeros(4)
    z[2], z[0] = 2.5, -1.0
    assert np.allclose(view.figure.axes[0].images[0].get_array(), _decoded(model, z), atol=1e-6)
    labelled = views.traversal_view(model, [1], labels=["thickness"], base=torch.ones(4))
    assert labelled.controls["d0"].description == "thickness" and labelled.controls["d0"].value == 1.0  # starts at base
    with pytest.raises(ValueError, match="dims"):
        views.traversal_view(model, [7])
    fig = views.traversal_figure(model, [0, 1], values=(-1, 0, 1))
    assert len(fig.axes) == 6
    z = torch.zeros(4)
    z[1] = 1.0
    assert np.allclose(fig.axes[5].images[0].get_array(), _decoded(model, z), atol=1e-6)  # row z[1], value +1


def _beta_results(imgs):
    return {b: {"recon": imgs * b / 4, "samples": imgs.flip(0) * b / 4, "rec": 100.0 * b, "kl": 10.0 / b}
            for b in (0.5, 1.0, 4.0)}


def test_beta_view_shows_the_chosen_beta_and_starts_at_the_middle_one():
    imgs = torch.rand(3, 1, 28, 28)
    res = _beta_results(imgs)
    view = views.beta_view(imgs, res)
    assert len(view.frames) == 3  # three betas: precomputed ...
    row = {r: [view.figure.axes[3 * r + c].images[0].get_array() for c in range(3)] for r in range(3)}
    assert np.allclose(row[1][0], res[1.0]["recon"][0, 0].numpy())  # ... and left at the current beta, 1
    assert np.allclose(row[2][2], res[1.0]["samples"][2, 0].numpy())
    assert "β = 1: reconstruction 100.0 nats, KL 10.0 nats" in view.caption.value
    view.controls["beta"].value = 4.0
    assert "β = 4" in view.caption.value and "400.0" in view.caption.value
    assert view.image.value == view.frames[(("beta", 4.0),)]
    assert np.allclose(view.figure.axes[3].images[0].get_array(), res[4.0]["recon"][0, 0].numpy())
    with pytest.raises(ValueError, match="samples"):
        views.beta_view(imgs, {1.0: {"recon": imgs}})
    assert len(views.beta_figure(imgs, res).axes) == 7 * 3


def test_static_figures():
    fig = views.curves_figure({"a": {"nelbo": [3, 2], "rec": [2, 1.5], "kl": [1, 0.5]}})
    assert len(fig.axes) == 3 and list(fig.axes[2].lines[0].get_ydata()) == [1, 0.5]
    with pytest.raises(ValueError, match="no curve"):
        views.curves_figure({"a": {"nelbo": [1]}})
    assert len(views.manifold_figure(models.MLPVAE(2, 8), n=4).axes) == 1
    with pytest.raises(ValueError, match="2-D"):
        views.manifold_figure(models.MLPVAE(3, 8))
    fig = views.kl_bars_figure({"x": torch.tensor([1.0, 0.0, 0.5])})
    assert "2 of 3 dimensions active" in fig.axes[0].get_title()
