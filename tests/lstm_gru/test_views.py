"""Chapter 03's views: the temperature view and the gate view show the chosen setting, by name, and fail clearly."""

import numpy as np
import pytest
import torch

from course_utils import widgets
from course_utils.lstm_gru import charlm, models, views

TEXT = "The \"with\" statement is used.\n" * 2


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return models.CharLM(embed_dim=8, hidden_dim=12)


def shown_text(view):
    return view.figure.axes[0].texts[0].get_text()


def test_temperature_view_shows_the_text_sampled_at_the_chosen_temperature(tiny_model):
    view = views.temperature_view(tiny_model, "The ", temperatures=[0.0, 0.5, 1.0, 2.0], num_chars=40)
    assert isinstance(view, widgets.View) and set(view.controls) == {"temperature"} and set(view.parts) == {"seed_text"}
    assert view.controls["temperature"].value == 1.0   # starts at the model's own distribution
    first = view.image.value
    view.controls["temperature"].value = 0.0
    greedy = charlm.sample(tiny_model, "The ", 40, temperature=0)
    assert view.image.value != first and shown_text(view) == views._wrap("The " + greedy, max_lines=10)
    assert view.caption.value == f"<code>40 characters generated after the seed; {len(set(greedy))} different characters used</code>"
    assert view.image.value == widgets.figure_png(view.figure)   # the image is the figure at this setting
    view.controls["temperature"].value = 1.0
    assert view.image.value == first   # same seed: the same text comes back
    view.parts["seed_text"].value = "import "
    again = charlm.sample(tiny_model, "import ", 40, 1.0, generator=torch.Generator().manual_seed(0))
    assert view.image.value != first and shown_text(view) == views._wrap("import " + again, max_lines=10)


def test_temperature_view_rejects_bad_input(tiny_model):
    with pytest.raises(ValueError, match="temperatures"):
        views.temperature_view(tiny_model, "x", temperatures=[-1.0])
    with pytest.raises(ValueError, match="alphabet"):
        views.temperature_view(tiny_model, "naïve", temperatures=[1.0])


def test_samples_figure_has_one_panel_per_temperature():
    fig = views.samples_figure({0.5: "abc", 1.0: "def", 1.5: "ghi"}, "seed ")
    assert len(fig.axes) == 3
    assert "seed abc" in fig.axes[0].texts[0].get_text() and fig.axes[2].get_title(loc="left") == "temperature 1.5"
    with pytest.raises(ValueError, match="samples"):
        views.samples_figure({}, "x")


@pytest.fixture(scope="module")
def gates(tiny_model):
    return charlm.record_gates(tiny_model, TEXT)


def unit_values(fig, n):
    return fig.axes[1].images[0].get_array().compressed()[:n]   # fig.axes[2] is the colour bar


def test_gate_panel_shows_the_chosen_unit(gates):
    fig, update = views.gate_panel(gates, TEXT, "forget", unit=3, window=8, width=20)
    heat = fig.axes[0].images[0]
    assert np.allclose(unit_values(fig, len(TEXT)), gates["forget"][:, 3].numpy())
    caption = update("output", 7)
    assert np.allclose(unit_values(fig, len(TEXT)), gates["output"][:, 7].numpy())
    assert heat.get_array().shape == (8, len(TEXT)) and caption.startswith("unit 7, output: mean")
    static = views.gate_figure(gates, TEXT, "cell", 2)
    assert np.allclose(unit_values(static, len(TEXT)), gates["cell"][:, 2].numpy())


def test_gate_panel_draws_each_character_of_the_passage_in_its_cell(gates):
    fig, _ = views.gate_panel(gates, TEXT, "forget", unit=0, width=20)
    (passage,) = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "passage"]
    assert len(passage.get_paths()) == len(TEXT) and not any(ax.texts for ax in fig.axes)
    assert [tuple(o) for o in passage.get_offsets()] == [(k % 20, k // 20) for k in range(len(TEXT))]
    by_char = {}
    for ch, path in zip(TEXT, passage.get_paths()):  # one outline per character: equal characters, equal outlines
        by_char.setdefault(ch, path)
        assert np.array_equal(path.vertices, by_char[ch].vertices)
    width = {ch: np.ptp(path.vertices[:, 0]) for ch, path in by_char.items()}
    assert width[" "] == 0 and width["\n"] > 0 and width["w"] > width["."] > 0  # newline drawn as ⏎, spaces empty


def test_gate_panel_rejects_bad_input(gates):
    with pytest.raises(ValueError, match="gate must be one of"):
        views.gate_panel(gates, TEXT, "remember", 0)
    with pytest.raises(ValueError, match="unit"):
        views.gate_panel(gates, TEXT, "forget", 99)
    with pytest.raises(ValueError, match="characters"):
        views.gate_panel(gates, TEXT[:-1], "forget", 0)


def test_gate_view_redraws_the_chosen_gate_and_unit(gates):
    view = views.gate_view(gates, TEXT, gate="forget", unit=0)
    assert isinstance(view, widgets.View) and set(view.controls) == {"gate", "unit"}
    before = view.image.value
    view.controls["unit"].value = 5
    after_unit = view.image.value
    assert np.allclose(unit_values(view.figure, len(TEXT)), gates["forget"][:, 5].numpy())
    view.controls["gate"].value = "cell"
    assert len({before, after_unit, view.image.value}) == 3
    values = gates["cell"][:, 5]
    assert view.caption.value == (f"<code>unit 5, cell: mean {values.mean():.2f}, min {values.min():.2f}, "
                                  f"max {values.max():.2f}</code>")
    assert view.image.value == widgets.figure_png(view.figure)


def test_gate_view_is_left_at_the_current_setting_after_precomputing():
    """With few enough combinations every frame is rendered up front; the figure must come back to the start."""
    torch.manual_seed(1)
    small = models.CharLM(embed_dim=4, hidden_dim=2)
    few = charlm.record_gates(small, "abc, def.")
    view = views.gate_view(few, "abc, def.", gate="output", unit=1)
    assert len(view.frames) == len(few) * 2   # 6 gates x 2 units, all precomputed
    assert np.allclose(unit_values(view.figure, 9), few["output"][:, 1].numpy())
    assert "unit 1's 'output'" in view.figure.axes[1].get_title()
    assert view.image.value == widgets.figure_png(view.figure) == view.frames[(("gate", "output"), ("unit", 1))]
