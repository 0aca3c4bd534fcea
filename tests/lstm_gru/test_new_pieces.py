"""The pieces chapter 03 added for its remedy, its live training and its figures.

``models.open_memory_gate`` / ``LastStepModel(gate_bias=...)`` and ``longrange.recall_model`` (§4's forget-gate
remedy), ``training.bptt_step``, ``training.budget_lr`` and ``fit_charlm(seconds=...)`` (§6's live training), and
``diagrams`` / ``views.forget_gate_figure`` / ``views.temperature_figure`` (the figures).
"""

import math
import time

import matplotlib
import pytest
import torch
import torch.nn as nn
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from course_utils.lstm_gru import charlm, diagrams, longrange, models, training, views

matplotlib.use("agg")


@pytest.mark.parametrize("layers", [1, 2])
def test_open_memory_gate_sets_the_lstm_forget_block_only(layers):
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=layers)
    before = {n: p.detach().clone() for n, p in lstm.named_parameters()}
    models.open_memory_gate(lstm, 3.0)
    for layer in range(layers):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        assert torch.allclose(total[5:10], torch.full((5,), 3.0))       # f block: i, f, g, o
        for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
            keep = torch.cat([torch.arange(5), torch.arange(10, 20)])
            assert torch.equal(getattr(lstm, name).detach()[keep], before[name][keep])
    assert all(torch.equal(p.detach(), before[n]) for n, p in lstm.named_parameters() if "weight" in n)
    cell = models.LSTMCell.from_torch(lstm)
    _, gates = cell(torch.zeros(2, 3), (torch.zeros(2, 5), torch.zeros(2, 5)), return_gates=True)
    assert torch.allclose(gates["forget"], torch.sigmoid(torch.tensor(3.0)).expand(2, 5))


def test_open_memory_gate_sets_the_gru_update_block():
    torch.manual_seed(0)
    gru = nn.GRU(3, 4)
    models.open_memory_gate(gru, 2.0)
    total = gru.bias_ih_l0 + gru.bias_hh_l0
    assert torch.allclose(total[4:8], torch.full((4,), 2.0))             # z block: r, z, n
    with torch.no_grad():   # with zero weights the update gate is sigmoid(bias): h moves only 1 - 0.88 of the way
        for p in gru.parameters():
            p.zero_()
        models.open_memory_gate(gru, 2.0)
        gru.bias_ih_l0[8:] = 5.0                                         # candidate n = tanh(5) ~ 1
        h0 = torch.zeros(1, 1, 4)
        _, h1 = gru(torch.zeros(1, 1, 3), h0)
    assert torch.allclose(h1, (1 - torch.sigmoid(torch.tensor(2.0))) * torch.tanh(torch.tensor(5.0)) * torch.ones(1, 1, 4), atol=1e-6)


def test_gate_bias_is_refused_for_a_plain_rnn_and_bad_values():
    with pytest.raises(ValueError, match="gate_bias"):
        models.LastStepModel("rnn", 2, 1, gate_bias=1.0)
    with pytest.raises(TypeError, match="rnn must be"):
        models.open_memory_gate(nn.RNN(2, 3), 1.0)
    with pytest.raises(ValueError, match="value must be"):
        models.open_memory_gate(nn.LSTM(2, 3), float("nan"))


def test_recall_model_variants():
    opened = longrange.recall_model("lstm_bias3")
    H = opened.rnn.hidden_size
    assert torch.allclose((opened.rnn.bias_ih_l0 + opened.rnn.bias_hh_l0)[H : 2 * H], torch.full((H,), 3.0))
    plain = longrange.recall_model("lstm")
    assert (plain.rnn.bias_ih_l0 + plain.rnn.bias_hh_l0)[H : 2 * H].abs().max() < 1.0
    assert isinstance(longrange.recall_model("gru").rnn, nn.GRU)
    with pytest.raises(ValueError, match="variant must be one of"):
        longrange.recall_model("lstm_bias9")


def test_budget_lr_warms_up_then_falls_to_zero():
    assert budget(0.0) == pytest.approx(0.04) and budget(0.05) == pytest.approx(1.0)
    assert budget(0.525) == pytest.approx(0.5) and budget(1.0) == pytest.approx(0.0, abs=1e-12)
    assert budget(2.0) == pytest.approx(0.0, abs=1e-12)
    values = [budget(f / 100) for f in range(5, 101)]
    assert all(b <= a for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="fraction must be"):
        budget(-0.1)


def budget(fraction):
    return training.budget_lr(fraction)


def test_bptt_step_carries_the_state_and_learns():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=4, hidden_dim=6)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    X = charlm.encode("abcabcab")[None]
    Y = charlm.encode("bcabcabc")[None]
    loss0, state = training.bptt_step(model, X, Y, None, optimizer)
    assert isinstance(loss0, float) and all(not s.requires_grad for s in state)
    loss1, state1 = training.bptt_step(model, X, Y, state, optimizer)
    assert loss1 < loss0
    for _ in range(20):
        loss, state = training.bptt_step(model, X, Y, state, optimizer)
    assert loss < loss0 - 0.5


def test_fit_charlm_with_a_time_budget_stops_on_time():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    tokens = charlm.encode("the cat sat on the mat. " * 200)
    start = time.perf_counter()
    history = training.fit_charlm(model, tokens[:4000], tokens[4000:], seconds=1.0, batch_size=4, seq_len=16, lr=1e-2)
    assert time.perf_counter() - start < 8
    assert 1.0 <= history["seconds"][-1] < 1.5                     # stops at the first step past the budget
    assert history["step"][-1] > 0 and history["val_nats"][-1] < math.log(96)
    assert history["best_val_nats"] == min(history["val_nats"])
    with pytest.raises(ValueError, match="exactly one budget"):
        training.fit_charlm(model, tokens[:4000], tokens[4000:], num_epochs=1, seconds=1.0)
    with pytest.raises(ValueError, match="exactly one budget"):
        training.fit_charlm(model, tokens[:4000], tokens[4000:])
    with pytest.raises(ValueError, match="seconds must be"):
        training.fit_charlm(model, tokens[:4000], tokens[4000:], seconds=-1)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]


def test_lstm_diagram_labels_every_gate_and_highlights_the_belt():
    fig = diagrams.lstm_cell_diagram()
    ax = fig.axes[0]
    gids = {a.get_gid() for a in ax.get_children() if a.get_gid()}
    assert {"gate:f_t", "gate:i_t", "gate:g_t", "gate:o_t", "belt", "op:forget", "op:add", "direct-path"} <= gids
    labels = {t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label:")}
    assert labels == {"$f_t$", "$i_t$", "$g_t$", "$o_t$"}
    wires = [a for a in ax.lines + ax.patches if isinstance(a, Line2D | FancyArrowPatch)]
    belt = [a for a in wires if a.get_gid() == "belt"]
    assert belt and min(a.get_linewidth() for a in belt) > max(a.get_linewidth() for a in wires if a.get_gid() != "belt")
    assert any("diag}(f_t)" in t for t in _texts(fig))
    assert all(t.get_fontsize() >= 8 for t in ax.texts)


def test_gru_diagram_labels_every_gate_and_highlights_the_state():
    fig = diagrams.gru_cell_diagram()
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("label:")}
    assert labels == {"$r_t$", "$z_t$", "$n_t$"}
    assert any(a.get_gid() == "belt" for a in ax.patches) and any("diag}(z_t)" in t for t in _texts(fig))


def test_forget_gate_figure_counts_every_value():
    gates = {"forget": torch.tensor([[0.05, 0.95], [0.97, 0.5]])}
    fig = views.forget_gate_figure(gates)
    assert sum(p.get_height() for p in fig.axes[0].patches) == 4
    with pytest.raises(ValueError, match="forget"):
        views.forget_gate_figure({"input": torch.zeros(2, 2)})


def test_temperature_figure_shows_sharper_bars_when_colder():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=12)
    fig = views.temperature_figure(model, "The ", temperatures=(0.0, 1.0, 3.0), top=5)
    bars = fig.axes[0].patches
    greedy, one, hot = (bars[i * 5 : (i + 1) * 5] for i in range(3))
    assert [b.get_height() for b in greedy] == [1.0, 0, 0, 0, 0]
    assert one[0].get_height() > hot[0].get_height()                   # the favourite loses mass when hotter
    assert one[0].get_height() / one[-1].get_height() > hot[0].get_height() / hot[-1].get_height()   # flatter
    with pytest.raises(ValueError, match="top must be"):
        views.temperature_figure(model, "The ", top=0)


def test_gate_panel_marks_the_unit_outside_its_row_and_has_two_colour_bars():
    gates = {"forget": torch.rand(30, 40), "cell": torch.randn(30, 40)}
    fig, update = views.gate_panel(gates, "x" * 30, "forget", 7)
    marks = [line for line in fig.axes[0].lines if line.get_marker() in (">", "<")]
    assert len(marks) == 2 and all(m.get_ydata()[0] == 7 for m in marks)
    assert all(m.get_xdata()[0] < -0.5 or m.get_xdata()[0] > 29.5 for m in marks)   # beside the map, not on the row
    assert len(fig.axes) == 4                                                      # two panels, two colour bars
    update("cell", 12)
    assert all(m.get_ydata()[0] == 12 for m in marks)
