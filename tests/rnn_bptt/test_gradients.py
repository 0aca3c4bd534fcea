import pytest
import torch
import torch.nn as nn

from course_utils.rnn_bptt import gradients


def test_recurrent_matrix_has_all_singular_values_equal_to_the_radius():
    W = gradients.recurrent_matrix(32, 1.3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(torch.linalg.svdvals(W), torch.full((32,), 1.3), atol=1e-5)
    again = gradients.recurrent_matrix(32, 1.3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(W, again)
    with pytest.raises(ValueError, match="radius must be a number >= 0"):
        gradients.recurrent_matrix(4, -1.0)


@pytest.mark.parametrize("radius", [0.8, 1.0, 1.2])
def test_linear_rnn_gradient_scales_exactly_by_the_radius(radius):
    g = torch.Generator().manual_seed(0)
    W_hh = gradients.recurrent_matrix(16, radius, generator=g).double()
    W_xh, x = torch.randn(16, 3, generator=g).double(), torch.randn(4, 25, 3, generator=g).double()
    readout = torch.randn(16, generator=g).double()
    norms = gradients.hidden_gradient_norms(W_hh, W_xh, x, "identity", readout=readout)
    assert norms.shape == (25,)
    assert norms[0].item() == pytest.approx(readout.norm().item())        # dL/dh_T is the readout itself
    expected = readout.norm() * radius ** torch.arange(25, dtype=torch.float64)
    assert torch.allclose(norms, expected, rtol=1e-5)  # Q is orthogonal to float32 precision


def test_tanh_stays_below_the_singular_value_bound_and_matches_autograd_on_nn_rnn():
    g = torch.Generator().manual_seed(2)
    W_hh = gradients.recurrent_matrix(8, 1.5, generator=g)
    W_xh, x = torch.randn(8, 2, generator=g), torch.randn(3, 15, 2, generator=g)
    readout = torch.ones(8)
    norms = gradients.hidden_gradient_norms(W_hh, W_xh, x, "tanh", readout=readout)
    assert torch.all(norms <= norms[0] * 1.5 ** torch.arange(15) * (1 + 1e-5))
    # the same norm at distance 14 (the first state), from nn.RNN: dL/dh_1 via the initial state of a 14-step run
    rnn = nn.RNN(2, 8, bias=False, batch_first=True)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W_xh)
        rnn.weight_hh_l0.copy_(W_hh)
        h1 = torch.tanh(x[:, 0] @ W_xh.T)
    h1 = h1.clone().requires_grad_(True)
    _, h_T = rnn(x[:, 1:], h1[None])
    (h_T[0] @ readout).sum().backward()
    assert torch.isclose(h1.grad.norm(dim=1).mean(), norms[14], rtol=1e-4)


def test_curves_cover_every_setting_and_reuse_shared_inputs():
    curves = gradients.gradient_norm_curves([0.5, 1.0], nonlinearities=("tanh", "relu"), input_scales=(0.1, 1.0), num_steps=10)
    assert len(curves) == 8 and all(v.shape == (10,) for v in curves.values())
    assert set(curves) == {(n, r, s) for n in ("tanh", "relu") for r in (0.5, 1.0) for s in (0.1, 1.0)}
    assert torch.all(curves[("tanh", 0.5, 1.0)][1:] < curves[("tanh", 1.0, 1.0)][1:])  # smaller radius, less gradient
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'; choose one of tanh, relu, identity"):
        gradients.gradient_norm_curves([1.0], nonlinearities=("sigmoid",))


def test_input_gradient_norms_by_position():
    x = torch.randn(5, 6, 4)
    norms = gradients.input_gradient_norms(lambda e: 3 * e[:, 2].sum(1), x)  # only position 2 matters
    expected = torch.zeros(6)
    expected[2] = 3 * 2.0  # gradient 3 in each of 4 features: norm 3 * sqrt(4)
    assert torch.allclose(norms, expected)
    assert x.grad is None  # the caller's tensor is left alone
    rnn = nn.RNN(4, 8, batch_first=True)
    per_step = gradients.input_gradient_norms(rnn, x)  # (output, h_n) tuples are fine
    assert per_step.shape == (6,) and torch.all(per_step > 0)
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        gradients.input_gradient_norms(rnn, torch.randn(6, 4))
