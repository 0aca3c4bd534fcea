"""gen_eval: the Fréchet distance against closed forms, class coverage, and the image checks."""

import numpy as np
import pytest
import scipy.linalg
import torch

from course_utils import cnn
from course_utils.gan import evaluation


def test_one_dimensional_closed_form():
    # For 1-D Gaussians the distance is (m1 - m2)^2 + (s1 - s2)^2.
    assert evaluation.gaussian_frechet([1.0], [[4.0]], [-2.0], [[1.0]]) == pytest.approx(9.0 + 1.0)


def test_diagonal_covariances_closed_form():
    a, b = np.array([1.0, 9.0, 0.25]), np.array([4.0, 1.0, 0.25])
    expected = 0.5**2 * 3 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert evaluation.gaussian_frechet(np.zeros(3), np.diag(a), np.full(3, 0.5), np.diag(b)) == pytest.approx(expected)


def test_general_covariances_match_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    c1, c2 = A @ A.T + 0.1 * np.eye(5), B @ B.T + 0.1 * np.eye(5)
    m1, m2 = rng.normal(size=5), rng.normal(size=5)
    expected = ((m1 - m2) ** 2).sum() + np.trace(c1 + c2 - 2 * scipy.linalg.sqrtm(c1 @ c2).real)
    assert evaluation.gaussian_frechet(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-6)
    assert evaluation.gaussian_frechet(m1, c1, m1, c1) == pytest.approx(0.0, abs=1e-8)


def test_sample_distance_approaches_the_population_value():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, size=(20000, 3))
    y = rng.normal(1.0, 2.0, size=(20000, 3))
    # Population value: 3 * 1^2 (means) + 3 * (1 - 2)^2 (standard deviations) = 6.
    assert evaluation.frechet_distance(x, y) == pytest.approx(6.0, rel=0.03)
    assert evaluation.frechet_distance(x[:10000], x[10000:]) < 0.01


def test_frechet_input_errors():
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        evaluation.frechet_distance(np.zeros(5), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="Feature sizes differ"):
        evaluation.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        evaluation.frechet_distance(np.full((5, 2), np.nan), np.zeros((5, 2)))


def test_class_coverage_counts_classes_above_the_share():
    labels = np.array([0] * 50 + [1] * 45 + [2] * 4 + [3] * 1)  # shares .50 .45 .04 .01
    cov = evaluation.class_coverage(labels)
    assert cov.covered == 3 and cov.coverage == pytest.approx(0.3)
    assert cov.shares[:4] == pytest.approx([0.5, 0.45, 0.04, 0.01])
    even = evaluation.class_coverage(torch.arange(1000) % 10)
    assert even.covered == 10 and even.entropy_ratio == pytest.approx(1.0)
    assert evaluation.class_coverage(np.zeros(100, dtype=int)).entropy_ratio == pytest.approx(0.0)


def test_class_coverage_errors():
    with pytest.raises(ValueError, match="integer labels"):
        evaluation.class_coverage(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        evaluation.class_coverage(np.array([3, 10]))


def test_embed_and_scores_check_images():
    model = cnn.models.FashionCNN().eval()
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        evaluation.embed(model, torch.rand(4, 28, 28))
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        evaluation.embed(model, torch.rand(4, 1, 28, 28) * 2 - 1)
    real = evaluation.embed(model, torch.rand(64, 1, 28, 28))
    assert real.shape == (64, 1152)
    s = evaluation.scores(model, torch.rand(64, 1, 28, 28), real)
    assert set(s) == {"frechet", "classes_covered", "entropy_ratio"} and s["frechet"] >= 0
