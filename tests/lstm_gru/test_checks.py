"""Chapter 03's exercise checks accept right answers, refuse listed and unlisted mistakes, and never crash."""

import pytest
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


@pytest.mark.parametrize("wrong", [
    lambda V, E, H, L, cell: right_count(V, E, H, L, cell) - V,                     # head bias forgotten
    lambda V, E, H, L, cell: right_count(V, E, H, 1, cell),                         # one layer, whatever num_layers
    lambda V, E, H, L, cell: right_count(V, E, H, L, cell) + 1 if cell == "gru" else right_count(V, E, H, L, cell),
], ids=["no head bias", "ignores num_layers", "off by one for GRU"])
def test_param_count_check_refuses_unlisted_mistakes(wrong, capsys):
    assert not checks.check_charlm_param_count(wrong)
    out = capsys.readouterr().out
    assert out.startswith("NOT YET") and "embedding V*E + per layer" in out   # the general hint, not a listed one


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


def only_one_bias(lstm, value):  # bias_hh keeps its random forget block, so the sum is not `value`
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[H : 2 * H] = value


def cell_block_instead(lstm, value):  # the third block is the candidate g
    H = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            getattr(lstm, f"bias_ih_l{layer}")[2 * H : 3 * H] = value
            getattr(lstm, f"bias_hh_l{layer}")[2 * H : 3 * H] = 0.0


@pytest.mark.parametrize("wrong", [only_one_bias, cell_block_instead])
def test_forget_bias_check_refuses_unlisted_mistakes(wrong, capsys):
    assert not checks.check_forget_bias(wrong)
    assert capsys.readouterr().out.startswith("NOT YET")


def compare_prefixes(model, length=24, restore=True):
    torch.manual_seed(0)
    tokens = torch.randint(0, 96, (2, length))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for t in range(length - 1):
                changed = tokens.clone()
                changed[:, t + 1:] = (changed[:, t + 1:] + 1) % 96
                a, b = model(tokens), model(changed)
                a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
                if not torch.allclose(a[:, : t + 1], b[:, : t + 1], atol=1e-5):
                    return False
        return True
    finally:
        if restore:
            model.train(was_training)


def test_causality_check():
    assert checks.check_is_causal(compare_prefixes)
    assert not checks.check_is_causal(lambda model, length=24: True)
    assert not checks.check_is_causal(None)


def test_causality_check_names_a_test_that_leaves_the_model_in_eval_mode(capsys):
    assert not checks.check_is_causal(lambda model: compare_prefixes(model, restore=False))
    assert "eval mode" in capsys.readouterr().out


def by_architecture(model, length=24):  # looks at the layer instead of testing the outputs
    return not getattr(model.rnn, "bidirectional", False)


def loose_tolerance(model, length=24):  # a tolerance so loose that any leak passes
    tokens = torch.randint(0, 96, (2, length), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = model(tokens), model(torch.flip(tokens, [1]))
        a, b = (a[0], b[0]) if isinstance(a, tuple) else (a, b)
    return torch.allclose(a[:, :1], b[:, :1], atol=1e3)


@pytest.mark.parametrize("wrong", [by_architecture, loose_tolerance])
def test_causality_check_refuses_unlisted_mistakes(wrong, capsys):
    assert not checks.check_is_causal(wrong)
    assert capsys.readouterr().out.startswith("NOT YET")


def raises(*args, **kwargs):
    raise ZeroDivisionError("division by zero")


def replaces_the_bias(lstm, value):
    lstm.bias_ih_l0 = nn.Parameter(torch.zeros(3))


@pytest.mark.parametrize("check, answer, hint", [
    (checks.check_charlm_param_count, lambda *a: "12,345", "must return an int"),
    (checks.check_charlm_param_count, lambda *a: torch.tensor([1, 2]), "must return an int"),
    (checks.check_charlm_param_count, lambda V, E: 0, "TypeError"),
    (checks.check_charlm_param_count, raises, "ZeroDivisionError"),
    (checks.check_charlm_param_count, 42, "TypeError"),
    (checks.check_forget_bias, raises, "ZeroDivisionError"),
    (checks.check_forget_bias, replaces_the_bias, "names and shapes must stay"),
    (checks.check_forget_bias, "set_forget_bias", "TypeError"),
    (checks.check_is_causal, lambda model: "yes", "must return True or False"),
    (checks.check_is_causal, lambda model: torch.ones(3, dtype=torch.bool), "must return True or False"),
    (checks.check_is_causal, raises, "ZeroDivisionError"),
    (checks.check_is_causal, lambda model: model(torch.zeros(2, 3)), "RuntimeError"),
], ids=["count-str", "count-tensor", "count-wrong-arity", "count-raises", "count-not-callable", "forget-raises",
        "forget-wrong-shape", "forget-not-callable", "causal-str", "causal-tensor", "causal-raises", "causal-bad-input"])
def test_malformed_answers_print_a_hint_and_never_crash(check, answer, hint, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("NOT YET") and hint in out
