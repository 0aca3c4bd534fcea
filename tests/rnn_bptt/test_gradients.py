import pytest
import torch
import torch.nn as nn

from course_utils.rnn_bptt import gradients


def test_recurrent_matrix_has_all_singular_values_equal_to_the_radius():
    W = gradients.recurrent_matrix(32, 1.3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(torch.linalg.svdvals(W), torch.full((32,), 1.3), atol=1e-5)
    again = gradients.recurrent_matrix(32, 1.3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(W, again)
    with pytest.raises(ValueError, match="radius must be a finite number >= 0"):
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
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid' in nonlinearities; choose from tanh, relu, identity"):
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


def test_norms_are_averaged_per_example_not_taken_over_the_batch():
    g = torch.Generator().manual_seed(4)
    W_hh, W_xh = gradients.recurrent_matrix(6, 1.1, generator=g), torch.randn(6, 2, generator=g)
    x = torch.randn(3, 7, 2, generator=g)
    one_by_one = torch.stack([gradients.hidden_gradient_norms(W_hh, W_xh, x[i : i + 1]) for i in range(3)])
    assert torch.allclose(gradients.hidden_gradient_norms(W_hh, W_xh, x), one_by_one.mean(0), rtol=1e-5)
    assert torch.allclose(gradients.hidden_gradient_norms(W_hh, W_xh, torch.cat([x, x])),
                          gradients.hidden_gradient_norms(W_hh, W_xh, x), rtol=1e-5)  # a copied batch changes nothing
    rnn = nn.RNN(2, 5, batch_first=True)
    per_example = torch.stack([gradients.input_gradient_norms(rnn, x[i : i + 1]) for i in range(3)])
    assert torch.allclose(gradients.input_gradient_norms(rnn, x), per_example.mean(0), rtol=1e-5)


def test_an_explicit_readout_is_used():
    g = torch.Generator().manual_seed(0)
    W_hh, W_xh, x = gradients.recurrent_matrix(4, 0.9, generator=g), torch.randn(4, 2, generator=g), torch.randn(2, 5, 2, generator=g)
    default = gradients.hidden_gradient_norms(W_hh, W_xh, x)
    assert torch.allclose(default, gradients.hidden_gradient_norms(W_hh, W_xh, x, readout=torch.ones(4) / 2))
    assert torch.allclose(gradients.hidden_gradient_norms(W_hh, W_xh, x, readout=torch.ones(4)), 2 * default)


def test_a_curve_depends_only_on_its_key_and_the_seed():
    """One orthogonal matrix and one set of inputs for every curve: what else is computed must not matter."""
    alone = gradients.gradient_norm_curves([1.2], num_steps=15)[("tanh", 1.2, 1.0)]
    among = gradients.gradient_norm_curves([0.5, 1.2, 2.0], nonlinearities=("relu", "tanh"), input_scales=(0.1, 1.0),
                                           num_steps=15)
    assert torch.equal(among[("tanh", 1.2, 1.0)], alone)
    other_seed = gradients.gradient_norm_curves([1.2], num_steps=15, seed=1)[("tanh", 1.2, 1.0)]
    assert not torch.allclose(other_seed, alone)


def test_input_gradient_norms_leave_the_model_as_it_was():
    rnn = nn.RNN(4, 8, batch_first=True).eval()
    before = {k: v.clone() for k, v in rnn.state_dict().items()}
    gradients.input_gradient_norms(rnn, torch.randn(2, 3, 4))
    assert not rnn.training and all(torch.equal(v, before[k]) for k, v in rnn.state_dict().items())


def test_power_norm_rates_start_at_the_largest_singular_value_and_tend_to_the_spectral_radius():
    W = torch.tensor([[0.5, 2.0], [0.0, 0.4]], dtype=torch.float64)   # rho 0.5, sigma_max above 2
    rates = gradients.power_norm_rates(W, 400)
    assert rates.shape == (400,) and rates.dtype == torch.float64
    assert rates[0].item() == pytest.approx(torch.linalg.matrix_norm(W, ord=2).item())
    assert rates[1].item() == pytest.approx(torch.linalg.matrix_norm(W @ W, ord=2).item() ** 0.5)
    assert abs(rates[-1].item() - 0.5) < 0.02 and rates[-1] < rates[0]
    orthogonal = gradients.recurrent_matrix(8, 1.3, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(gradients.power_norm_rates(orthogonal, 50), torch.full((50,), 1.3, dtype=torch.float64), rtol=1e-4)
    big = gradients.power_norm_rates(torch.eye(3) * 50.0, 300)      # 50^300 overflows float64 without renormalising
    assert torch.allclose(big, torch.full((300,), 50.0, dtype=torch.float64))
    nilpotent = gradients.power_norm_rates(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), 4)
    assert nilpotent.tolist() == [1.0, 0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="W must be a square float matrix"):
        gradients.power_norm_rates(torch.ones(2, 3), 3)
    with pytest.raises(ValueError, match="max_power"):
        gradients.power_norm_rates(torch.eye(2), 0)
