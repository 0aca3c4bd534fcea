"""course_utils.gan.evaluation: the Fréchet distance against closed forms, class coverage, the evaluation
classifier, and the toy ring with its mode counting."""

import types

import numpy as np
import pytest
import scipy.linalg
import torch

from course_utils import cnn
from course_utils import data as fashion_data
from course_utils.gan import evaluation

# ---------------------------------------------------------------- the Fréchet distance


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


def test_covariances_that_are_not_covariances_are_refused():
    # -I is not positive semi-definite: the formula would give a negative number, which used to come back as 0.0
    with pytest.raises(ValueError, match="cov1 is not positive semi-definite"):
        evaluation.gaussian_frechet(np.zeros(3), -np.eye(3), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="cov2 is not symmetric"):
        evaluation.gaussian_frechet(np.zeros(2), np.eye(2), np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]))
    # rank-deficient sample covariances (fewer samples than features) are fine
    x = np.random.default_rng(0).normal(size=(5, 20))
    assert evaluation.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


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


# ---------------------------------------------------------------- class coverage and scores


def test_class_coverage_counts_classes_above_the_share():
    labels = np.array([0] * 50 + [1] * 45 + [2] * 4 + [3] * 1)  # shares .50 .45 .04 .01
    cov = evaluation.class_coverage(labels)
    assert cov.covered == 3 and cov.coverage == pytest.approx(0.3)
    assert cov.shares[:4] == pytest.approx([0.5, 0.45, 0.04, 0.01])
    assert evaluation.class_coverage(labels, min_share=0.01).covered == 4  # an explicit share is used as given
    assert evaluation.class_coverage(labels, num_classes=4).min_share == pytest.approx(0.05)  # default: a fifth of 1/4
    even = evaluation.class_coverage(torch.arange(1000) % 10)
    assert even.covered == 10 and even.entropy_ratio == pytest.approx(1.0)
    assert evaluation.class_coverage(np.zeros(100, dtype=int)).entropy_ratio == pytest.approx(0.0)


def test_class_coverage_errors():
    with pytest.raises(ValueError, match="integer labels"):
        evaluation.class_coverage(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        evaluation.class_coverage(np.array([3, 10]))


def test_embed_and_scores():
    torch.manual_seed(0)
    model = cnn.models.FashionCNN().eval()
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        evaluation.embed(model, torch.rand(4, 28, 28))
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        evaluation.embed(model, torch.rand(4, 1, 28, 28) * 2 - 1)
    g = torch.Generator().manual_seed(0)
    images, others = torch.rand(64, 1, 28, 28, generator=g), torch.rand(64, 1, 28, 28, generator=g) ** 3
    real = evaluation.embed(model, images)
    assert real.shape == (64, 1152)
    s = evaluation.scores(model, others, real)
    assert set(s) == {"frechet", "classes_covered", "entropy_ratio"}
    feats = evaluation.embed(model, others)
    assert s["frechet"] == pytest.approx(evaluation.frechet_distance(feats, real), rel=1e-9) and s["frechet"] > 0.01
    coverage = evaluation.class_coverage(model.classifier(feats).argmax(1))
    assert (s["classes_covered"], s["entropy_ratio"]) == (coverage.covered, pytest.approx(coverage.entropy_ratio))
    assert evaluation.scores(model, images, real)["frechet"] == pytest.approx(0.0, abs=1e-3 * s["frechet"])


def test_scores_label_the_samples_in_eval_mode():
    torch.manual_seed(0)
    model = cnn.models.FashionCNN(dropout=0.9)  # heavy dropout: labels in train mode would be noise
    images = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    real = evaluation.embed(model, images)
    want = evaluation.scores(model.eval(), images, real)
    model.train()
    assert evaluation.scores(model, images, real) == want, "scores labelled the samples with dropout on"
    assert model.training  # and the caller's mode is left as it was


def _two_brightness_classes(n=512):
    """Two classes that differ in brightness (labels aligned with their images): learnable in a few dozen steps."""
    y = torch.arange(n) % 2
    noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return (0.1 + 0.6 * y[:, None, None, None] + 0.1 * noise).clamp(0, 1), y


def test_fit_classifier_keeps_labels_with_their_images():
    X, y = _two_brightness_classes()
    torch.manual_seed(0)
    model = cnn.models.FashionCNN(channels=(8, 16, 32))
    history = evaluation.fit_classifier(model, X, y, num_epochs=2, batch_size=32, lr=0.05)
    assert len(history) == 2 and not model.training
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert accuracy > 0.95, f"the classifier learned {accuracy:.0%} of its own training labels: are X and y aligned?"


def test_fashion_classifier_trains_on_the_data_it_is_given(monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("fashion_classifier loaded Fashion-MNIST although data was given")

    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setattr(evaluation.fashion_data, "load_fashion_mnist", no_download)
    X, y = _two_brightness_classes()
    model, message = evaluation.fashion_classifier(use_checkpoint=False, data=types.SimpleNamespace(X_train=X, y_train=y))
    assert "from scratch" in message and not model.training


def test_the_committed_classifier_loads_and_knows_fashion():
    model, message = evaluation.fashion_classifier()  # the checkpoint ships: a missing one is a failure, not a skip
    assert message.startswith("Loaded the course checkpoint 'fashion_classifier'") and not model.training
    assert set(model.state_dict()) == set(cnn.models.FashionCNN().state_dict())
    ds = fashion_data.load_fashion_mnist(n_train=10, n_test=500)
    with torch.no_grad():
        accuracy = (model(ds.X_test).argmax(1) == ds.y_test).float().mean().item()
    assert accuracy > 0.85


# ---------------------------------------------------------------- toy data and mode counting


def test_ring_points_sit_on_eight_equally_used_modes():
    g = torch.Generator().manual_seed(0)
    x = evaluation.ring_of_gaussians(8000, num_modes=8, radius=2.0, std=0.05, generator=g)
    centers = evaluation.ring_centers(8, 2.0)
    assert x.shape == (8000, 2)
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    dist, nearest = torch.cdist(x, centers).min(dim=1)
    assert dist.max() < 6 * 0.05  # every point is within a few std of a centre
    assert (x - centers[nearest]).std().item() == pytest.approx(0.05, rel=0.05)  # the std asked for
    shares = torch.bincount(nearest, minlength=8) / len(x)
    assert shares.min() > 0.1 and shares.max() < 0.15  # 1/8 each, up to sampling noise
    assert torch.equal(x, evaluation.ring_of_gaussians(8000, std=0.05, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="positive int"):
        evaluation.ring_of_gaussians(0)
    with pytest.raises(ValueError, match="std must be positive"):
        evaluation.ring_of_gaussians(10, std=0)


def test_count_modes():
    centers = evaluation.ring_centers(8, 2.0)
    g = torch.Generator().manual_seed(1)
    three = torch.cat([centers[i] + 0.01 * torch.randn(300, 2, generator=g) for i in (0, 3, 5)])
    count = evaluation.count_modes(three, centers, max_dist=0.15)
    assert count.covered == 3 and count.counts.tolist() == [300, 0, 0, 300, 0, 300, 0, 0] and count.quality == 1.0
    far = torch.zeros(100, 2)  # the centre of the ring is 2 away from every mode
    assert evaluation.count_modes(far, centers, max_dist=0.15).covered == 0
    assert evaluation.count_modes(far, centers, max_dist=0.15).quality == 0.0
    # a mode with a single stray point out of 1,000 is not covered at the default 2 % share
    mixed = torch.cat([centers[[0]].repeat(999, 1), centers[[4]]])
    assert evaluation.count_modes(mixed, centers, max_dist=0.15).covered == 1
    assert evaluation.count_modes(mixed, centers, max_dist=0.15, min_share=0.001).covered == 2
    # the share is of ALL samples, including those near no mode: 30 of 1,000 on a mode is 3 %
    sparse = torch.cat([centers[[2]].repeat(30, 1), torch.zeros(970, 2)])
    assert evaluation.count_modes(sparse, centers, max_dist=0.15).covered == 1
    assert evaluation.count_modes(sparse, centers, max_dist=0.15, min_share=0.05).covered == 0
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        evaluation.count_modes(torch.zeros(10, 3), centers, max_dist=0.1)


def test_earth_movers_distance_is_the_optimal_matching():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(200, 2, generator=g)
    shift = torch.tensor([3.0, 4.0])
    assert evaluation.earth_movers_distance(a, a + shift) == pytest.approx(5.0, abs=1e-6)  # every point moves by |shift|
    assert evaluation.earth_movers_distance(a, a[torch.randperm(200, generator=g)]) == pytest.approx(0.0, abs=1e-9)
    x, y = torch.randn(300, 1, generator=g), torch.randn(300, 1, generator=g) * 2 + 1
    sorted_gap = (x.sort(0).values - y.sort(0).values).abs().mean().item()  # in 1-D the optimal matching sorts both
    assert evaluation.earth_movers_distance(x, y) == pytest.approx(sorted_gap, rel=1e-6)
    with pytest.raises(ValueError, match="same number of points"):
        evaluation.earth_movers_distance(a, a[:10])
    with pytest.raises(ValueError, match="finite"):
        evaluation.earth_movers_distance(a * float("nan"), a)
