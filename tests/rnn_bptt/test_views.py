import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils.rnn_bptt import gradients, views


def test_unrolled_diagram():
    fig = views.unrolled_diagram(3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert isinstance(fig, Figure) and {"$h_0$", "$h_3$", "$x_1$", "$y_3$"} <= set(texts)
    assert texts.count("$W_{hh}$") == 3  # one shared matrix drawn on every step
    with pytest.raises(ValueError, match="num_steps must be an int from 1 to 8"):
        views.unrolled_diagram(12)


@pytest.fixture(scope="module")
def curves():
    return gradients.gradient_norm_curves([0.5, 1.0, 1.5], nonlinearities=("tanh", "identity"), input_scales=(0.1, 1.0),
                                     num_steps=12)


def test_curves_figure_has_one_line_per_radius(curves):
    fig = views.gradient_curves_figure(curves, nonlinearities=("tanh", "identity"), radii=[0.5, 1.5])
    assert len(fig.axes) == 2 and all(len(ax.lines) == 2 for ax in fig.axes)
    with pytest.raises(ValueError, match="No curves for nonlinearity='relu'"):
        views.gradient_curves_figure(curves, nonlinearities=("relu",))


def test_explorer_swaps_line_data_in_place(curves):
    box = views.gradient_explorer(curves, radius=1.0, nonlinearity="identity", input_scale=1.0)
    radius, nonlinearity, scale = box.children[0].children
    ax = box.view.fig.axes[0]
    measured, bound = ax.lines[0], ax.lines[1]
    first_png = box.view.image.value
    radius.value = 1.5
    assert np.allclose(measured.get_ydata(), curves[("identity", 1.5, 1.0)].numpy())
    assert np.allclose(bound.get_ydata(), measured.get_ydata(), rtol=1e-4)  # identity: the bound is exact
    assert box.view.image.value != first_png and "r = 1.50" in box.children[2].value
    nonlinearity.value = "tanh"
    assert np.allclose(measured.get_ydata(), np.clip(curves[("tanh", 1.5, 1.0)].numpy(), 1e-30, None))
    assert np.all(measured.get_ydata() <= bound.get_ydata() * (1 + 1e-5))  # tanh stays under the bound
    assert len(ax.lines) == 3  # measured, bound and the line at 1: nothing was re-plotted
    with pytest.raises(ValueError, match="Start values must be among the computed curves"):
        views.gradient_explorer(curves, radius=0.7)
