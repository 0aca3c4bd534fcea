"""Chapter 02's figures and its one widget: right lines, right frame, right caption, right start setting."""

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_utils import widgets
from course_utils.rnn_bptt import gradients, views


def test_unrolled_figure():
    fig = views.unrolled_figure(3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert isinstance(fig, Figure) and {"$h_0$", "$h_3$", "$x_1$", "$\\hat y_3$"} <= set(texts)
    assert "$h_4$" not in texts
    assert texts.count("$W_{hh}$") == 3  # one shared matrix drawn on every step
    with pytest.raises(ValueError, match="num_steps must be an int from 1 to 8"):
        views.unrolled_figure(12)


@pytest.fixture(scope="module")
def curves():
    return gradients.gradient_norm_curves([0.5, 1.0, 1.5], nonlinearities=("tanh", "identity"), input_scales=(0.1, 1.0),
                                          num_steps=12)


def _clamped(norms):
    return np.clip(norms.double().numpy(), views.FLOOR, views.CEILING)


def _caption(curves, key):
    """What the view's caption must say for ``key``, computed here from the curve itself."""
    norms = _clamped(curves[key])
    d = len(norms) - 1
    return (f"<code>after {d} steps back the norm is {norms[d]:.1e} (×{(norms[d] / norms[0]) ** (1 / d):.3f} "
            f"per step on average; r = {key[1]:.2f})</code>")


def test_curves_figure_draws_the_asked_radii_per_nonlinearity(curves):
    fig = views.gradient_curves_figure(curves, nonlinearities=("tanh", "identity"), radii=[0.5, 1.5])
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)
    tanh_axis, identity_axis = fig.axes
    assert [line.get_label() for line in identity_axis.lines] == ["r = 0.5", "r = 1.5"]
    assert np.allclose(identity_axis.lines[1].get_ydata(), _clamped(curves[("identity", 1.5, 1.0)]))
    assert np.allclose(tanh_axis.lines[0].get_ydata(), _clamped(curves[("tanh", 0.5, 1.0)]))
    weak = views.gradient_curves_figure(curves, nonlinearities=("tanh",), input_scale=0.1)
    assert len(weak.axes[0].lines) == 3 and np.allclose(weak.axes[0].lines[0].get_ydata(), _clamped(curves[("tanh", 0.5, 0.1)]))
    with pytest.raises(ValueError, match="No curves for 'relu'"):
        views.gradient_curves_figure(curves, nonlinearities=("relu",))


def test_view_opens_at_the_asked_setting_even_after_precomputing_every_frame(curves):
    # 3 radii x 2 nonlinearities x 2 scales = 12 frames, so controls_view precomputes them all. The start setting
    # asked for differs from each control's first option (what a control shows by default) and from the last
    # setting precomputed, (1.5, identity, 1.0), so neither a default nor the precomputing loop can pass for it.
    view = views.gradient_view(curves, radius=1.0, nonlinearity="identity", input_scale=0.1)
    assert isinstance(view, widgets.View) and len(view.frames) == 12
    assert {name: c.value for name, c in view.controls.items()} == {"radius": 1.0, "nonlinearity": "identity", "input_scale": 0.1}
    measured, bound = view.figure.axes[0].lines[:2]
    assert np.allclose(measured.get_ydata(), _clamped(curves[("identity", 1.0, 0.1)]))  # the artists, not just the PNG
    assert "identity, spectral radius r = 1.00, input scale 0.1" == view.figure.axes[0].get_title()
    assert view.caption.value == _caption(curves, ("identity", 1.0, 0.1))
    frame = {tuple(sorted(dict(k).items())): png for k, png in view.frames.items()}
    assert view.image.value == frame[(("input_scale", 0.1), ("nonlinearity", "identity"), ("radius", 1.0))]


def test_moving_a_control_shows_the_right_frame_and_caption(curves):
    view = views.gradient_view(curves, radius=1.0, nonlinearity="identity", input_scale=1.0)
    ax = view.figure.axes[0]
    measured, bound = ax.lines[0], ax.lines[1]
    frame = {tuple(sorted(dict(k).items())): png for k, png in view.frames.items()}
    first_png = view.image.value
    view.controls["radius"].value = 1.5
    assert np.allclose(measured.get_ydata(), curves[("identity", 1.5, 1.0)].numpy())
    assert np.allclose(bound.get_ydata(), measured.get_ydata(), rtol=1e-4)  # identity: the bound is exact
    assert view.image.value != first_png
    assert view.image.value == frame[(("input_scale", 1.0), ("nonlinearity", "identity"), ("radius", 1.5))]
    assert view.caption.value == _caption(curves, ("identity", 1.5, 1.0))
    view.controls["nonlinearity"].value = "tanh"
    assert np.allclose(measured.get_ydata(), _clamped(curves[("tanh", 1.5, 1.0)]))
    assert np.all(measured.get_ydata() <= bound.get_ydata() * (1 + 1e-5))  # tanh stays under the bound
    assert view.image.value == frame[(("input_scale", 1.0), ("nonlinearity", "tanh"), ("radius", 1.5))]
    view.controls["input_scale"].value = 0.1
    assert view.caption.value == _caption(curves, ("tanh", 1.5, 0.1))
    assert len(ax.lines) == 3  # measured, bound and the line at 1: nothing was re-plotted


def test_view_without_precomputing_still_follows_the_controls(monkeypatch):
    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")  # the kernel swap (Colab's ipywidgets 7), which renders on demand
    radii = [round(0.5 + 0.05 * i, 2) for i in range(31)]  # 31 x 1 x 2 = 62 settings: above controls_view's 40
    curves = gradients.gradient_norm_curves(radii, nonlinearities=("tanh",), input_scales=(0.1, 1.0), num_steps=8)
    view = views.gradient_view(curves, radius=2.0, nonlinearity="tanh", input_scale=1.0)
    assert len(view.frames) == 1  # only what has been shown
    assert np.allclose(view.figure.axes[0].lines[0].get_ydata(), _clamped(curves[("tanh", 2.0, 1.0)]))
    view.controls["radius"].value = 0.75
    assert view.caption.value == _caption(curves, ("tanh", 0.75, 1.0)) and len(view.frames) == 2
    ratio = view.figure.axes[0].lines[1].get_ydata()[1] / view.figure.axes[0].lines[1].get_ydata()[0]
    assert math.isclose(ratio, 0.75, rel_tol=1e-9)  # the dashed bound uses the current radius


def test_view_refuses_start_values_that_were_not_computed(curves):
    with pytest.raises(ValueError, match=r"radius=0.7 is not among the computed radii \[0.5, 1.0, 1.5\]"):
        views.gradient_view(curves, radius=0.7)
    with pytest.raises(ValueError, match="nonlinearity='relu'"):
        views.gradient_view(curves, nonlinearity="relu")


def test_curves_figure_has_a_legend_per_panel_bounds_on_request_and_stops_at_underflow():
    curves = {("tanh", r, 1.0): torch.tensor([1.0, 0.5, 0.25, 0.0]) * r for r in (0.5, 1.0, 2.0)}
    curves |= {("identity", r, 1.0): r ** torch.arange(4.0) for r in (0.5, 1.0, 2.0)}
    fig = views.gradient_curves_figure(curves, show_bound=True)
    for ax in fig.axes:
        assert ax.get_legend() is not None
    tanh_axis, identity_axis = fig.axes
    measured = [line for line in tanh_axis.lines if line.get_linestyle() == "-"]
    dashed = [line for line in tanh_axis.lines if line.get_linestyle() == "--" and line.get_xydata().size]
    assert len(measured) == 3 and len(dashed) == 3
    assert np.isnan(measured[0].get_ydata()[-1]) and "underflows" in measured[0].get_label()
    assert np.allclose(dashed[2].get_ydata(), 2.0 * 2.0 ** np.arange(4))                  # r^(T-t) times the start
    colors = [line.get_color() for line in measured]
    assert len({tuple(np.round(np.atleast_1d(c), 3)) if not isinstance(c, str) else c for c in colors}) == 3
    assert views.radius_colors([0.5, 1.0, 2.0])[1.0] == "#111111"


def test_clipping_figure_draws_every_run_the_threshold_and_chance():
    runs = {"no clipping": {"loss": [2.0, 2.1, 2.2], "grad_norm": [8.0, 2.0, 1.0]},
            "clipped": {"loss": [2.0, 1.0, 0.5], "grad_norm": [8.0, 7.0, 9.0]}}
    fig = views.clipping_figure(runs, threshold=1.0, chance_loss=math.log(8), zoom_steps=2)
    ax_loss, ax_norm, ax_zoom = fig.axes
    assert [line.get_label() for line in ax_loss.lines][:2] == ["no clipping", "clipped"]
    assert ax_norm.get_yscale() == "log" and ax_zoom.get_yscale() == "log"
    assert list(ax_zoom.lines[1].get_ydata()) == [8.0, 7.0]                                # only the first 2 steps
    assert any("threshold c = 1" in t.get_text() for t in ax_norm.get_legend().get_texts())
    assert any("ln 8" in t.get_text() for t in ax_loss.get_legend().get_texts())
    with pytest.raises(ValueError, match="threshold"):
        views.clipping_figure(runs, threshold=0, chance_loss=2.0)


def test_recall_figure_offsets_the_runs_so_equal_values_stay_visible():
    fig = views.recall_figure({5: [1.0, 1.0, 1.0], 10: [1.0, 0.5, 0.2]}, steps=10)
    ax = fig.axes[0]
    xs = [tuple(line.get_xdata()) for line in ax.lines[:3]]
    assert len({x[0] for x in xs}) == 3                                                    # three seeds, three places
    assert np.allclose(ax.lines[3].get_ydata(), [1.0, 1.7 / 3])                            # the mean line
    with pytest.raises(ValueError, match="results"):
        views.recall_figure({}, steps=10)
