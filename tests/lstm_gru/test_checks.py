"""Chapter 03's exercise checks accept right answers, reject typical mistakes, and never crash."""

import torch
import torch.nn as nn

from course_utils.lstm_gru import checks


def right_count(V, E, H, L, cell):
    k = {"lstm": 4, "gru": 3}[cell]
    return V * E + sum(k * (H * (E if i == 0 else H) + H * H + 2 * H) for i in range(L)) + H * V + V


def test_param_count_check(capsys):
    assert checks.check_charlm_param_count(right_count)
    assert not checks.check_charlm_param_count(lambda V, E, H, L, cell: right_count(V, E, H, L, cell) - V * E)
    assert "embedding" in capsys.readouterr().out
    assert not checks.check_charlm_param_count(lambda V, E, H, L, cell: right_count(V, E, H, 1, cell) if L == 1 else
                                               V * E + L * {"lstm": 4, "gru": 3}[cell] * (H * E + H * H + 2 * H) + H * V + V)
    assert "hidden_dim, not embed_dim" in capsys.readouterr().out
    assert not checks.check_charlm_param_count(None)
    assert not checks.check_charlm_param_count(lambda *a: (_ for _ in ()).throw(NotImplementedError()))


def right_forget(lstm, value):
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[H : 2 * H] = value
            getattr(lstm, f"bias_hh_l{layer}")[H : 2 * H] = 0.0


def input_gate_instead(lstm, value):
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[:H] = value
            getattr(lstm, f"bias_hh_l{layer}")[:H] = 0.0


def test_forget_bias_check(capsys):
    assert checks.check_forget_bias(right_forget)
    assert not checks.check_forget_bias(input_gate_instead)
    assert "i, f, g, o" in capsys.readouterr().out
    assert not checks.check_forget_bias(lambda lstm, value: nn.init.constant_(lstm.bias_ih_l0, value))
    assert not checks.check_forget_bias(None)


def test_causality_check():
    def always_true(model, length=24):
        return True

    def compare_prefixes(model, length=24):
        torch.manual_seed(0)
        tokens = torch.randint(0, 96, (2, length))
        model.eval()
        with torch.no_grad():
            for t in range(length - 1):
                changed = tokens.clone()
                changed[:, t + 1:] = (changed[:, t + 1:] + 1) % 96
                a, b = model(tokens), model(changed)
                a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
                if not torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-5):
                    return False
        return True

    assert checks.check_is_causal(compare_prefixes)
    assert not checks.check_is_causal(always_true)
    assert not checks.check_is_causal(None)
