"""The from-scratch LSTM and GRU cells of chapter 03 against nn.LSTM / nn.GRU, and the parameter formula."""

import pytest
import torch
import torch.nn as nn

from course_utils.lstm_gru import models


@pytest.mark.parametrize("B, T, D, H", [(3, 7, 5, 4), (1, 1, 2, 9), (4, 20, 8, 16)])
def test_lstm_cell_matches_nn_lstm(B, T, D, H):
    torch.manual_seed(0)
    lstm = nn.LSTM(D, H, batch_first=True)
    with torch.no_grad():  # non-zero biases, so a missing or misplaced bias would show
        for p in lstm.parameters():
            p.normal_(0, 0.5)
    cell = models.LSTMCell.from_torch(lstm)
    x = torch.randn(B, T, D)
    h0, c0 = torch.randn(B, H), torch.randn(B, H)
    ours, (h, c) = models.run_cell(cell, x, (h0, c0))
    ref, (h_ref, c_ref) = lstm(x, (h0[None], c0[None]))
    assert torch.allclose(ours, ref, atol=1e-5)
    assert torch.allclose(h, h_ref[0], atol=1e-5) and torch.allclose(c, c_ref[0], atol=1e-5)


@pytest.mark.parametrize("B, T, D, H", [(3, 7, 5, 4), (2, 15, 8, 16)])
def test_gru_cell_matches_nn_gru(B, T, D, H):
    torch.manual_seed(1)
    gru = nn.GRU(D, H, batch_first=True)
    with torch.no_grad():
        for p in gru.parameters():
            p.normal_(0, 0.5)
    cell = models.GRUCell.from_torch(gru)
    x, h0 = torch.randn(B, T, D), torch.randn(B, H)
    ours, h = models.run_cell(cell, x, h0)
    ref, h_ref = gru(x, h0[None])
    assert torch.allclose(ours, ref, atol=1e-5) and torch.allclose(h, h_ref[0], atol=1e-5)


def test_second_layer_weights_can_be_copied():
    torch.manual_seed(2)
    lstm = nn.LSTM(3, 6, num_layers=2, batch_first=True)
    x = torch.randn(2, 5, 3)
    first, _ = models.run_cell(models.LSTMCell.from_torch(lstm, 0), x)
    second, _ = models.run_cell(models.LSTMCell.from_torch(lstm, 1), first)
    assert torch.allclose(second, lstm(x)[0], atol=1e-5)


def test_gates_are_returned_and_in_range():
    cell = models.LSTMCell(4, 3)
    zeros = torch.zeros(2, 3)
    (h, c), gates = cell(torch.randn(2, 4), (zeros, zeros), return_gates=True)
    assert list(gates) == list(models.LSTM_GATES)
    for name in ("input", "forget", "output"):
        assert ((gates[name] > 0) & (gates[name] < 1)).all()
    assert torch.allclose(c, gates["input"] * gates["cell candidate"])  # c_0 = 0: only the new candidate
    assert torch.allclose(h, gates["output"] * torch.tanh(c))


@pytest.mark.parametrize("kind, module", [("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("D, H", [(1, 1), (7, 5), (64, 256)])
def test_layer_param_count_formula(kind, module, D, H):
    assert models.layer_param_count(kind, D, H) == sum(p.numel() for p in module(D, H).parameters())


def test_lstm_has_four_thirds_of_gru():
    assert 3 * models.layer_param_count("lstm", 10, 20) == 4 * models.layer_param_count("gru", 10, 20)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="Unknown kind"):
        models.layer_param_count("transformer", 3, 4)
    with pytest.raises(ValueError, match="nn.LSTM"):
        models.LSTMCell.from_torch(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="layer"):
        models.GRUCell.from_torch(nn.GRU(2, 3), layer=1)
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        models.run_cell(models.GRUCell(2, 3), torch.zeros(4, 2))
