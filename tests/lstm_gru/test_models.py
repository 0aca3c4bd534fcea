"""Chapter 03's models: the from-scratch LSTM cell against nn.LSTM, the parameter formula, the shipped models' layout."""

import pytest
import torch
import torch.nn as nn

from course_utils import checkpoints
from course_utils.lstm_gru import charlm, longrange, models


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


def test_one_state_tensor_is_refused_instead_of_split_along_the_batch():
    """Given (2, H) instead of (h, c), ``h, c = state`` would take row 0 as h and row 1 as c."""
    cell = models.LSTMCell(4, 3)
    with pytest.raises(TypeError, match=r"state must be a pair \(h, c\).*one tensor of shape \(2, 3\)"):
        cell(torch.randn(2, 4), torch.zeros(2, 3))


@pytest.mark.parametrize("kind, module", [("rnn", nn.RNN), ("gru", nn.GRU), ("lstm", nn.LSTM)])
@pytest.mark.parametrize("D, H", [(1, 1), (7, 5), (64, 256)])
def test_layer_param_count_formula(kind, module, D, H):
    assert models.layer_param_count(kind, D, H) == sum(p.numel() for p in module(D, H).parameters())


def test_char_model_reads_the_whole_alphabet_and_carries_its_state():
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    assert model.embedding.num_embeddings == model.head.out_features == len(charlm.ALPHABET) == models.VOCAB_SIZE
    tokens = charlm.encode("carry the state")[None]
    whole, _ = model(tokens)
    first, state = model(tokens[:, :6])
    rest, _ = model(tokens[:, 6:], state)
    assert torch.allclose(torch.cat([first, rest], dim=1), whole, atol=1e-6)


@pytest.mark.parametrize("kind", longrange.KINDS)
def test_last_step_model_reads_only_the_last_state(kind):
    torch.manual_seed(0)
    model = models.LastStepModel(kind, input_dim=2, output_dim=1)
    x = torch.randn(3, 10, 2)
    out = model(x)
    assert out.shape == (3, 1)
    assert torch.allclose(out, model.head(model.rnn(x)[0][:, -1]))


def test_shipped_checkpoints_still_fit_the_models():
    """The state_dict keys of CharLM and of adding_models' ModuleDict are what the shipped files hold."""
    for T in longrange.ADDING_LENGTHS:
        nets = longrange.adding_models((T,))
        checkpoints.load_checkpoint(nets, checkpoints.checkpoint_path(f"longrange_adding_t{T}"))
    assert longrange.adding_mse(nets["lstm_t200"], 200, num_sequences=200) < 0.01
    c = charlm.CHARLM_CONFIG
    lm = models.CharLM(embed_dim=c["embed_dim"], hidden_dim=c["hidden_dim"], dropout=c["dropout"])
    meta = checkpoints.load_checkpoint(lm, checkpoints.checkpoint_path("charlm"))
    assert set(meta["history"]) >= {"step", "train_nats", "val_nats", "seconds", "best_val_nats"}
