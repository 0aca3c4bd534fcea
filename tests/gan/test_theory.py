"""course_utils.gan.theory: D*, the value function, JSD and W1 on 1-D grids, the fitted D, the conv Lipschitz constant."""

import math

import numpy as np
import pytest
import torch
import torch.nn as nn

from course_utils.gan import theory

X = np.linspace(-8, 8, 4001)


def _normal(n, generator):
    return torch.randn(n, 1, generator=generator)


def _gauss(mean, std=0.5):
    return theory.gaussian_mixture_pdf(X, (mean,), (std,))


def test_mixture_pdf_and_sample_agree():
    p = theory.gaussian_mixture_pdf(X, (-2.0, 1.0), (0.5, 1.0), (0.25, 0.75))
    assert p.sum() * (X[1] - X[0]) == pytest.approx(1, abs=1e-6)
    at_one = 0.75 / math.sqrt(2 * math.pi) + 0.25 * math.exp(-18) / (0.5 * math.sqrt(2 * math.pi))  # both components at x = 1
    assert p[np.argmin(abs(X - 1.0))] == pytest.approx(at_one, rel=1e-6)
    s = theory.mixture_sample(20000, (-2.0, 1.0), (0.5, 1.0), (0.25, 0.75), generator=torch.Generator().manual_seed(0))
    assert s.shape == (20000, 1)
    assert s.mean().item() == pytest.approx(0.25 * -2 + 0.75 * 1, abs=0.03)
    assert (s < -0.5).float().mean().item() == pytest.approx(0.25 * 1 + 0.75 * 0.0668, abs=0.015)


def test_optimal_discriminator_and_the_jsd_identity():
    p, q = _gauss(-1), _gauss(1)
    d = theory.optimal_discriminator(p, q)
    assert d[np.argmin(abs(X))] == pytest.approx(0.5)  # where the densities cross
    assert d[np.argmin(abs(X + 1))] > 0.99 and d[np.argmin(abs(X - 1))] < 0.01
    jsd = theory.jensen_shannon(p, q, X)
    assert theory.value_at(d, p, q, X) == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-6)
    # D* is the maximum: any other D gives a lower value
    assert theory.value_at(np.clip(d + 0.05, 0, 1), p, q, X) < theory.value_at(d, p, q, X)
    assert theory.value_at(np.full_like(X, 0.5), p, p, X) == pytest.approx(-math.log(4), abs=1e-6)
    assert theory.optimal_discriminator(np.zeros(3), np.zeros(3)).tolist() == [0.5, 0.5, 0.5]


def test_jsd_saturates_where_wasserstein_does_not():
    assert theory.jensen_shannon(_gauss(0), _gauss(0), X) == pytest.approx(0, abs=1e-9)
    assert theory.jensen_shannon(_gauss(-4, 0.2), _gauss(4, 0.2), X) == pytest.approx(math.log(2), abs=1e-6)
    assert theory.jensen_shannon(_gauss(-2, 0.2), _gauss(2, 0.2), X) == pytest.approx(math.log(2), abs=1e-6)
    for shift in (0.5, 2.0, 5.0):
        assert theory.wasserstein_1d(_gauss(0), _gauss(shift), X) == pytest.approx(shift, abs=1e-3)
    # W1 of a narrow vs a wide Gaussian with the same mean: E|X| difference for N(0, s²) is s sqrt(2/pi) per unit
    w = theory.wasserstein_1d(_gauss(0, 0.5), _gauss(0, 1.5), X)
    assert w == pytest.approx(1.0 * math.sqrt(2 / math.pi), abs=2e-3)


def test_fit_discriminator_approaches_d_star():
    data, gen = ((-1.5,), (0.4,)), ((1.0,), (0.8,))
    D = theory.fit_discriminator(lambda n, g: theory.mixture_sample(n, *data, generator=g),
                                 lambda n, g: theory.mixture_sample(n, *gen, generator=g), num_steps=400, batch_size=256)
    p, q = theory.gaussian_mixture_pdf(X, *data), theory.gaussian_mixture_pdf(X, *gen)
    with torch.no_grad():
        d = torch.sigmoid(D(torch.tensor(X, dtype=torch.float32)[:, None]))[:, 0].numpy()
    where = p + q > 0.05 * (p + q).max()
    assert np.abs(d - theory.optimal_discriminator(p, q))[where].max() < 0.1
    assert not D.training


def test_conv_lipschitz_matches_the_explicit_matrix():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 4, stride=2, padding=1)
    shape = (2, 6, 6)
    basis = torch.eye(2 * 36).view(-1, *shape)
    with torch.no_grad():
        matrix = nn.functional.conv2d(basis, conv.weight, stride=2, padding=1).flatten(1).T  # (out, in)
    assert theory.conv_lipschitz(conv, shape, num_iters=300) == pytest.approx(torch.linalg.matrix_norm(matrix, ord=2).item(), rel=1e-3)
    one_by_one = nn.Conv2d(3, 5, 1)
    assert theory.conv_lipschitz(one_by_one, (3, 4, 4), num_iters=300) == pytest.approx(
        torch.linalg.matrix_norm(one_by_one.weight.detach().flatten(1), ord=2).item(), rel=1e-3)


@pytest.mark.parametrize("call, words", [
    (lambda: theory.optimal_discriminator(np.ones(3), np.ones(4)), ["p_data and p_g"]),
    (lambda: theory.jensen_shannon(np.ones(4001), _gauss(0), X), ["p", "integrates"]),
    (lambda: theory.wasserstein_1d(_gauss(0), _gauss(0), X[::-1]), ["x", "increasing"]),
    (lambda: theory.value_at(np.full(3, 0.5), _gauss(0), _gauss(1), X), ["D", "probability"]),
    (lambda: theory.gaussian_mixture_pdf(X, (0.0, 1.0), (1.0,)), ["means, stds and weights"]),
    (lambda: theory.mixture_sample(0, (0.0,), (1.0,)), ["num_samples"]),
    (lambda: theory.fit_discriminator(None, None), ["sample_data"]),
    (lambda: theory.fit_discriminator(lambda n, g: None, lambda n, g: None, num_steps=0), ["num_steps"]),
    (lambda: theory.conv_lipschitz(nn.Linear(2, 2), (1, 4, 4)), ["conv"]),
    (lambda: theory.conv_lipschitz(nn.Conv2d(2, 2, 3), (1, 4, 4)), ["input_shape", "in_channels"]),
    # strings, NaN and infinities: each refused naming its argument, not by numpy's "could not convert" or a NaN result
    (lambda: theory.gaussian_mixture_pdf("abc", (0.0,), (1.0,)), ["x"]),
    (lambda: theory.gaussian_mixture_pdf([np.nan, 1.0], (0.0,), (1.0,)), ["x", "NaN"]),
    (lambda: theory.gaussian_mixture_pdf(X, "0,1", (1.0,)), ["means"]),
    (lambda: theory.gaussian_mixture_pdf(X, (np.nan,), (1.0,)), ["means", "finite"]),
    (lambda: theory.gaussian_mixture_pdf(X, (0.0,), (np.nan,)), ["stds"]),
    (lambda: theory.gaussian_mixture_pdf(X, (0.0,), (np.inf,)), ["stds"]),
    (lambda: theory.gaussian_mixture_pdf(X, (0.0, 1.0), (1.0, 1.0), (np.nan, np.nan)), ["weights"]),
    (lambda: theory.gaussian_mixture_pdf(X, (0.0, 1.0), (1.0, 1.0), (1.5, -0.5)), ["weights"]),
    (lambda: theory.mixture_sample(5, (0.0,), (1.0,), generator=0), ["generator"]),
    (lambda: theory.optimal_discriminator([], []), ["p_data and p_g", "non-empty"]),
    (lambda: theory.optimal_discriminator("ab", "cd"), ["p_data"]),
    (lambda: theory.value_at("D", _gauss(0), _gauss(1), X), ["D"]),
    (lambda: theory.jensen_shannon(_gauss(0), _gauss(1), "x"), ["x"]),
    (lambda: theory.wasserstein_1d(["a"], _gauss(1), X), ["p"]),
    (lambda: theory.fit_discriminator(_normal, _normal, num_steps=2, lr=-1.0), ["lr"]),
    (lambda: theory.fit_discriminator(_normal, _normal, num_steps=2, lr=np.inf), ["lr"]),
    (lambda: theory.fit_discriminator(_normal, _normal, num_steps=2, seed="0"), ["seed"]),
    (lambda: theory.fit_discriminator(lambda n, g: torch.randn(n, generator=g), _normal, num_steps=2), ["sample_data", "(512, 1)"]),
    (lambda: theory.fit_discriminator(_normal, lambda n, g: torch.randn(n, 2, generator=g), num_steps=2), ["sample_g"]),
    (lambda: theory.fit_discriminator(lambda n, g: np.zeros((n, 1)), _normal, num_steps=2), ["sample_data", "ndarray"]),
    (lambda: theory.fit_discriminator(lambda n, g: torch.randn(n, 1, generator=g).double(), _normal, num_steps=2),
     ["sample_data", "float32"]),
    (lambda: theory.fit_discriminator(lambda n, g: torch.full((n, 1), np.nan), _normal, num_steps=2), ["sample_data", "NaN"]),
    (lambda: theory.conv_lipschitz(nn.Conv2d(1, 2, 3), (1, 8, 8), num_iters=True), ["num_iters"]),
    (lambda: theory.conv_lipschitz(nn.Conv2d(1, 2, 3), (True, 8, 8)), ["input_shape"]),
    (lambda: theory.conv_lipschitz(nn.Conv2d(1, 2, 3), (1, 8, 8), seed="0"), ["seed"]),
])
def test_bad_input_is_refused_with_a_sentence_naming_it(call, words):
    with pytest.raises((ValueError, TypeError)) as caught:
        call()
    assert all(w in str(caught.value) for w in words), str(caught.value)
