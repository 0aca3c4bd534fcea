"""course_utils.gan_views: interpolation paths, the latent interpolation widget, the progress viewer and figures."""

import numpy as np
import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from course_utils.gan import views


class _Pixels(nn.Module):
    """A fake generator: the image is filled with tanh of z's first entry, so different z give different images."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, z):
        return torch.tanh(self.scale * z[:, :1, None, None]).expand(-1, 1, 28, 28)


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
    with pytest.raises(ValueError, match="n_steps"):
        views.interpolate(z_a, z_b, 1)


def test_interpolation_view_moves_and_resamples():
    box = views.interpolation_view(_Pixels(), n_steps=5, seed=0)
    slider, path = box.children[0].children
    image = box.children[2]
    first = image.value
    slider.value = 0
    at_start = image.value
    assert at_start != first and "t = 0.00" in box.children[3].value
    path.value = "spherical"
    assert "slerp" in box.children[3].value
    box.resample(None)  # the button's handler: a new pair of z must change the picture at the same position
    assert image.value != at_start or "pair 2" in box.children[3].value
    with pytest.raises(ValueError, match="latent_dim"):
        views.interpolation_view(nn.Linear(2, 2))


def test_progress_viewer_and_figures():
    frames = [torch.full((6, 1, 28, 28), v) for v in (0.0, 0.5, 1.0)]
    steps = [1, 50, 100]
    box = views.progress_viewer(frames, steps, steps_per_epoch=100)
    slider = box.slider
    assert slider.max == 2 and slider.value == 2
    last = box.children[1].value
    slider.value = 0
    assert box.children[1].value != last and "1 G update" in box.children[2].value
    fig = views.progress_figure(frames, steps, steps_per_epoch=100, n_show=2)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    with pytest.raises(ValueError, match="one step count per frame"):
        views.progress_frames(frames, steps[:2], 100)


def test_static_figures():
    real = torch.randn(100, 2)
    frames = [torch.randn(50, 2) for _ in range(8)]
    fig = views.ring_snapshots_figure(real, {"a": (frames, list(range(8))), "b": (frames[:3], [1, 2, 3])},
                                          torch.ones(8, 2), max_cols=4)
    assert len(fig.axes) == 2 * 4
    fig = views.training_curves_figure({"run": {"d_loss": list(np.random.rand(60)), "g_loss": list(np.random.rand(60))}})
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 2
    fig = views.sample_grids_figure({"x": torch.rand(16, 1, 28, 28), "y": torch.rand(16, 1, 28, 28)})
    assert len(fig.axes) == 2
    fig = views.class_shares_figure({"real": np.full(10, 0.1)}, [str(i) for i in range(10)], min_share=0.02)
    assert len(fig.axes[0].patches) == 10
    fig = views.interpolation_figure(_Pixels(), n_pairs=2, n_steps=4)
    assert len(fig.axes) == 8
    with pytest.raises(ValueError, match="one entry per class"):
        views.class_shares_figure({"real": np.ones(3)}, ["a", "b"])
    with pytest.raises(ValueError, match="has no 'g_loss'"):
        views.training_curves_figure({"run": {"d_loss": [1.0, 2.0]}})
    with pytest.raises(ValueError, match="grey images"):
        views.sample_grids_figure({"x": torch.rand(4, 3, 28, 28)})
