"""Chapter 03's views: the temperature explorer and the gate viewer redraw in place and fail clearly."""

import numpy as np
import pytest
import torch

from course_utils import widgets
from course_utils.lstm_gru import charlm, views


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return charlm.CharLM(embed_dim=8, hidden_dim=12)


def test_temperature_explorer_regenerates_and_caches(tiny_model):
    box = views.temperature_explorer(tiny_model, "The ", temperatures=[0.0, 0.5, 1.0, 2.0], num_chars=40)
    slider, text_box = box.children[0].children
    first = box.view.image.value
    slider.value = 0.0
    greedy = box.view.image.value
    assert greedy != first
    slider.value = 1.0
    assert box.view.image.value == first  # same seed: the same text comes back
    text_box.value = "import "
    assert box.view.image.value != first


def test_temperature_explorer_rejects_bad_input(tiny_model):
    with pytest.raises(ValueError, match="temperatures"):
        views.temperature_explorer(tiny_model, "x", temperatures=[-1.0])
    with pytest.raises(ValueError, match="alphabet"):
        views.temperature_explorer(tiny_model, "naïve", temperatures=[1.0])


def test_samples_figure_has_one_panel_per_temperature():
    fig = views.samples_figure({0.5: "abc", 1.0: "def", 1.5: "ghi"}, "seed ")
    assert len(fig.axes) == 3
    assert "seed abc" in fig.axes[0].texts[0].get_text()
    with pytest.raises(ValueError):
        views.samples_figure({}, "x")


@pytest.fixture(scope="module")
def gates(tiny_model):
    return charlm.record_gates(tiny_model, "The \"with\" statement is used.\n" * 2)


def test_gate_figure_shows_the_chosen_unit(gates):
    text = "The \"with\" statement is used.\n" * 2
    fig, update = views.gate_figure(gates, text, "forget", unit=3, window=8, width=20)
    heat, colored = fig.axes[0].images[0], fig.axes[1].images[0]  # fig.axes[2] is the colour bar
    values = gates["forget"][:, 3].numpy()
    assert np.allclose(colored.get_array().compressed()[: len(text)], values)
    update("output", 7)
    assert np.allclose(colored.get_array().compressed()[: len(text)], gates["output"][:, 7].numpy())
    assert heat.get_array().shape == (8, len(text))


def test_gate_figure_rejects_bad_input(gates):
    text = "The \"with\" statement is used.\n" * 2
    with pytest.raises(ValueError, match="Unknown gate"):
        views.gate_figure(gates, text, "remember", 0)
    with pytest.raises(ValueError, match="unit"):
        views.gate_figure(gates, text, "forget", 99)
    with pytest.raises(ValueError, match="characters"):
        views.gate_figure(gates, text[:-1], "forget", 0)


def test_gate_viewer_redraws_on_each_control(gates):
    text = "The \"with\" statement is used.\n" * 2
    box = views.gate_viewer(gates, text, gate="forget", unit=0)
    gate, unit = box.children[0].children
    before = box.view.image.value
    unit.value = 5
    after_unit = box.view.image.value
    gate.value = "cell"
    assert len({before, after_unit, box.view.image.value}) == 3
    widgets.figure_png(box.view.fig)  # still renders
