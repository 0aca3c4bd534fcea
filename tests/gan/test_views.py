"""course_utils.gan.views: interpolation paths, the two widgets (by their named parts) and the static figures."""

import io

import numpy as np
import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure
from PIL import Image

from course_utils import widgets
from course_utils.gan import views


class _Pixels(nn.Module):
    """A fake generator: the image is filled with tanh of z's first entry, so different z give different images."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, z):
        return torch.tanh(self.scale * z[:, :1, None, None]).expand(-1, 1, 28, 28)


class _ModeSensitive(_Pixels):
    """Like _Pixels, but the image is black in training mode: decoding must happen in eval mode."""

    def forward(self, z):
        return super().forward(z) if not self.training else -torch.ones(len(z), 1, 28, 28)


def _pixels_of_path(seed, num_steps, spherical):
    """What the interpolation view must show for _Pixels: the first pair drawn with ``seed``, decoded."""
    z_a, z_b = torch.randn(2, 4, generator=torch.Generator().manual_seed(seed))
    return views.to_unit(_Pixels()(views.interpolate(z_a, z_b, num_steps, spherical=spherical))).detach()[:, 0].numpy()


def test_interpolate_paths():
    z_a, z_b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    line = views.interpolate(z_a, z_b, 5)
    assert line.shape == (5, 2) and torch.allclose(line[0], z_a) and torch.allclose(line[-1], z_b)
    assert torch.allclose(line[2], torch.tensor([0.5, 0.5]))
    arc = views.interpolate(z_a, z_b, 5, spherical=True)
    assert torch.allclose(arc[0], z_a, atol=1e-6) and torch.allclose(arc[-1], z_b, atol=1e-6)
    assert torch.allclose(arc.norm(dim=1), torch.ones(5), atol=1e-5)  # slerp keeps the norm of unit vectors
    assert line[2].norm() < 0.75  # the straight line cuts inside
    with pytest.raises(ValueError, match="same size"):
        views.interpolate(z_a, torch.zeros(3), 5)
    with pytest.raises(ValueError, match="num_steps"):
        views.interpolate(z_a, z_b, 1)


def test_interpolation_view_shows_the_chosen_point_of_the_chosen_path():
    view = views.interpolation_view(_Pixels(), num_steps=5, seed=0)
    assert isinstance(view, widgets.View) and set(view.controls) == {"position", "path"} and "resample" in view.parts
    big = view.figure.axes[0].images[0]
    linear, spherical = _pixels_of_path(0, 5, False), _pixels_of_path(0, 5, True)
    # after precomputing all 10 settings the figure is back at the current one (position 2, linear), not the last
    assert view.controls["position"].value == 2 and view.controls["path"].value == "linear"
    assert np.allclose(big.get_array(), linear[2]) and "t = 0.50 (linear path)" in view.figure.axes[0].get_title()
    assert len(view.frames) == 10
    view.controls["position"].value = 0
    assert np.allclose(big.get_array(), linear[0]) and "lerp(z_a, z_b, t = 0.00)" in view.caption.value
    at_start = view.image.value
    assert at_start == view.frames[(("position", 0), ("path", "linear"))]  # the PNG of exactly that setting
    view.controls["path"].value = "spherical"
    assert np.allclose(big.get_array(), spherical[0]) and "slerp(z_a, z_b, t = 0.00)" in view.caption.value
    view.controls["position"].value = 4
    assert np.allclose(big.get_array(), spherical[4]) and "t = 1.00" in view.caption.value


@pytest.mark.parametrize("precompute", ["0", "1"])
def test_interpolation_view_new_pair_button(precompute, monkeypatch):
    monkeypatch.setenv("COURSE_PRECOMPUTE", precompute)
    view = views.interpolation_view(_Pixels(), num_steps=5, seed=0)
    view.controls["position"].value = 0
    before, png = view.figure.axes[0].images[0].get_array().copy(), view.image.value
    view.parts["resample"].click()  # the button's handler: a new pair of z, same position
    assert "pair 2, t = 0.00 (linear path)" in view.figure.axes[0].get_title()
    assert not np.allclose(view.figure.axes[0].images[0].get_array(), before) and view.image.value != png
    if not view.kernel_free:  # the kernel swap: the old pair's PNGs were dropped, only the one on screen is back
        assert list(view.frames) == [(("position", 0), ("path", "linear"))]
    else:  # linked in the browser: every page shows the new pair
        assert len(view.frames) == 10 and view.shown.children[0].children[0].children[0].value == view.image.value


def test_interpolation_decodes_in_eval_mode_and_restores_the_mode():
    G = _ModeSensitive().train()
    view = views.interpolation_view(G, num_steps=5, seed=0)
    assert np.allclose(view.figure.axes[0].images[0].get_array(), _pixels_of_path(0, 5, False)[2])
    fig = views.interpolation_figure(G, num_pairs=1, num_steps=5, seed=0)
    assert np.allclose(fig.axes[0].images[0].get_array(), _pixels_of_path(0, 5, False)[0])
    assert G.training, "the views switched the caller's generator to eval mode for good"


def _png_mean(png: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L")).mean())


def test_progress_view_and_figure():
    frames = [torch.full((6, 1, 28, 28), v) for v in (0.0, 0.5, 1.0)]
    steps = [1, 50, 100]
    view = views.progress_view(frames, steps, steps_per_epoch=100)
    slider = view.controls["snapshot"]
    assert isinstance(view, widgets.View) and "play" in view.controls
    assert slider.max == 2 and slider.value == 2 and "snapshot 3 of 3: 100 G updates" in view.caption.value
    white = _png_mean(view.image.value)
    slider.value = 0
    assert view.image.value == view.frames[0] and "snapshot 1 of 3: 1 G update<" in view.caption.value
    assert _png_mean(view.image.value) < white - 20  # frame 0 is the black grid, frame 2 the white one
    fig = views.progress_figure(frames, steps, steps_per_epoch=100, num_snapshots=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["1 G update", "100 G updates"]  # first and last
    with pytest.raises(ValueError, match="one step count per frame"):
        views.progress_frames(frames, steps[:2], 100)


def test_static_figures():
    real = torch.randn(100, 2)
    frames = [torch.randn(50, 2) for _ in range(8)]
    fig = views.ring_snapshots_figure(real, {"a": (frames, list(range(8))), "b": (frames[:3], [1, 2, 3])},
                                      torch.ones(8, 2), max_cols=4)
    assert len(fig.axes) == 2 * 4
    assert [ax.get_title() for ax in fig.axes[:4]] == ["step 0", "step 2", "step 5", "step 7"]  # evenly, with the last
    assert not fig.axes[7].get_visible()  # run b has only 3 snapshots
    fig = views.training_curves_figure({"run": {"d_loss": list(np.random.rand(60)), "g_loss": list(np.random.rand(60))}})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2
    assert len(fig.axes[0].lines[0].get_ydata()) == 60 - 25 + 1  # a moving mean over 25 steps
    fig = views.sample_grids_figure({"x": torch.rand(16, 1, 28, 28), "y": torch.rand(16, 1, 28, 28)})
    assert len(fig.axes) == 2
    fig = views.class_shares_figure({"real": np.full(10, 0.1)}, [str(i) for i in range(10)], min_share=0.02)
    assert len(fig.axes[0].patches) == 10 and all(p.get_height() == pytest.approx(0.1) for p in fig.axes[0].patches)
    fig = views.interpolation_figure(_Pixels(), num_pairs=2, num_steps=4)
    assert len(fig.axes) == 16  # a linear and a spherical row per pair
    assert [fig.axes[4 * r].get_ylabel() for r in range(4)] == ["pair 1\nlinear", "pair 1\nspherical",
                                                                 "pair 2\nlinear", "pair 2\nspherical"]
    z_a, z_b = torch.randn(2, 4, generator=torch.Generator().manual_seed(0))
    middle = views.to_unit(_Pixels()(views.interpolate(z_a, z_b, 4, spherical=True))).detach()[:, 0].numpy()
    assert np.allclose(fig.axes[4 + 1].images[0].get_array(), middle[1])  # the second row walks the great circle
    with pytest.raises(ValueError, match="one entry per class"):
        views.class_shares_figure({"real": np.ones(3)}, ["a", "b"])
    with pytest.raises(ValueError, match="has no 'g_loss'"):
        views.training_curves_figure({"run": {"d_loss": [1.0, 2.0]}})
    with pytest.raises(ValueError, match="grey images"):
        views.sample_grids_figure({"x": torch.rand(4, 3, 28, 28)})


def test_ring_snapshots_keep_every_point_in_view():
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
    far = [torch.zeros(20, 2), torch.full((20, 2), 5.0)]  # a clump far outside the ring
    fig = views.ring_snapshots_figure(centers, {"run": (far, [1, 2])}, centers)
    lo, hi = fig.axes[1].get_ylim()
    assert hi >= 5.0 and lo <= -5.0, "the far clump is clipped off the axes"
    fig = views.ring_snapshots_figure(centers, {"run": ([torch.zeros(20, 2)] * 7, list(range(7)))}, centers)
    assert [ax.get_title() for ax in fig.axes] == [f"step {i}" for i in range(7)]  # seven snapshots: none skipped


def test_training_curves_reference_lines_take_the_curve_colour():
    logs = {"run": {"d_loss": list(np.random.rand(40)), "g_loss": list(np.random.rand(40))}}
    fig = views.training_curves_figure(logs, smooth=5, references={"d_loss": (1.386, "log 4"), "g_loss": (0.693, "log 2")})
    lines = fig.axes[0].lines
    assert len(lines) == 4
    d_curve, d_ref = lines[0], lines[1]
    assert list(d_ref.get_ydata()) == [1.386, 1.386] and d_ref.get_color() == d_curve.get_color()
    assert "log 4" in d_ref.get_label()
    with pytest.raises(ValueError, match="references"):
        views.training_curves_figure(logs, references={"d_real": (0.5, "half")})


def test_class_shares_annotates_only_the_bars_under_the_line():
    shares = {"real": np.full(10, 0.1), "model": np.array([0.005] + [0.995 / 9] * 9)}
    fig = views.class_shares_figure(shares, [str(i) for i in range(10)], min_share=0.02)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["model: 0.5%"]


def test_theory_figures():
    x = np.linspace(-3, 3, 50)
    fig = views.discriminator_figure(x, np.exp(-x**2), np.exp(-(x - 1) ** 2), np.full(50, 0.5), np.full(50, 0.4))
    assert len(fig.axes) == 2 and np.allclose(fig.axes[1].lines[1].get_ydata(), 0.4)
    assert fig.axes[0].get_legend() is None and len(fig.legends[0].get_texts()) == 4  # the legend sits below the axes
    fig = views.divergence_figure([0, 1, 2], [0, 0.69, 0.69], [0, 1, 2])
    assert [list(line.get_ydata()) for line in fig.axes[0].lines[:2]] == [[0, 0.69, 0.69], [0, 1, 2]]
    fig = views.critic_tracking_figure([1, 2, 3], [2.0, 1.0, 0.5], [2.1, 1.1, 0.4], floor=0.1)
    assert len(fig.axes[0].lines) == 3 and fig.axes[0].get_legend() is not None
    with pytest.raises(ValueError, match="estimates"):
        views.critic_tracking_figure([1, 2], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="d_star"):
        views.discriminator_figure(x, x, x, x[:3], x)
