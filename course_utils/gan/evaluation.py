"""How good are generated samples? A Fréchet distance and class coverage for images; mode counting for the toy ring.

Introduced in chapter 04 and reused by chapter 06 (VAE vs GAN). FID compares the mean and covariance of
Inception-v3 features of real and generated images; Inception needs a download and was trained on photographs,
so the course uses the penultimate features of its own Fashion-MNIST CNN (``cnn.models.FashionCNN.embed``, 1,152
numbers per image). The numbers are therefore *not* comparable to published FIDs, only to each other at the
same sample size. 04_gan §7 writes ``scores`` out as its ``evaluate`` (plus the class shares); §4 counts modes.

- ``gaussian_frechet`` / ``frechet_distance``: the Fréchet (2-Wasserstein) distance between fitted Gaussians.
- ``class_coverage``: which classes a classifier sees among samples; ``embed`` / ``scores``: both for images.
- ``fit_classifier`` / ``fashion_classifier``: the evaluation CNN (chapter 01's recipe; checkpoint ``fashion_classifier``).
- ``ring_centers`` / ``ring_of_gaussians`` / ``count_modes``: the 2-D toy distribution and the modes a sample covers.
- ``earth_movers_distance``: the exact Wasserstein-1 distance between two equal-size point clouds (an optimal matching).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import augment, batches, checkpoints, cnn, runtime, train
from .. import data as fashion_data

CLASSIFIER = "fashion_classifier"


def _as_2d(feats, name: str) -> np.ndarray:
    a = feats.detach().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{name} must be a (N, D) array of features with N >= 2, got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a.astype(np.float64)


def _psd_eigenvalues(cov: np.ndarray, name: str) -> np.ndarray:
    """The eigenvalues of a covariance matrix, after checking it is one (symmetric, none materially negative)."""
    scale = max(float(np.abs(cov).max()), 1e-300)
    if not np.allclose(cov, cov.T, rtol=0, atol=1e-9 * scale):
        raise ValueError(f"{name} is not symmetric, so it is not a covariance matrix.")
    vals = np.linalg.eigvalsh(cov)
    if vals.min() < -1e-6 * max(float(np.abs(vals).max()), 1e-300):
        raise ValueError(f"{name} is not positive semi-definite (smallest eigenvalue {vals.min():.3g}), so it is not a "
                         "covariance matrix.")
    return vals


def gaussian_frechet(mu1, cov1, mu2, cov2) -> float:
    """Fréchet (2-Wasserstein²) distance between N(mu1, cov1) and N(mu2, cov2).

    d² = |mu1 - mu2|² + tr(cov1 + cov2 - 2 (cov1^½ cov2 cov1^½)^½), computed with symmetric eigendecompositions
    in float64. Covariances that are not symmetric positive semi-definite are refused; what is left below 0 is
    rounding (identical Gaussians), returned as 0.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = mu1.shape[0]
    if mu1.ndim != 1 or mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"Shapes do not match: mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, cov2 {cov2.shape}.")
    for name, value in (("mu1", mu1), ("cov1", cov1), ("mu2", mu2), ("cov2", cov2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinite values.")
    vals1 = _psd_eigenvalues(cov1, "cov1")
    _psd_eigenvalues(cov2, "cov2")
    vecs1 = np.linalg.eigh((cov1 + cov1.T) / 2)[1]
    s1 = (vecs1 * np.sqrt(np.clip(vals1, 0, None))) @ vecs1.T  # cov1^½
    cross = np.linalg.eigvalsh(s1 @ cov2 @ s1)
    trace_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    value = float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt)
    return max(value, 0.0)


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    a, b = _as_2d(feats_a, "feats_a"), _as_2d(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}.")
    return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


@dataclass
class Coverage:
    """Which classes a classifier sees among generated images."""

    shares: np.ndarray  # (num_classes,) fraction of samples predicted as each class
    covered: int  # classes holding at least min_share of the samples
    min_share: float

    @property
    def coverage(self) -> float:
        """Fraction of classes covered."""
        return self.covered / len(self.shares)

    @property
    def entropy_ratio(self) -> float:
        """Entropy of the class shares over its maximum log(num_classes): 1 means perfectly even."""
        p = self.shares[self.shares > 0]
        return float(-(p * np.log(p)).sum() / np.log(len(self.shares)))


def class_coverage(predicted, num_classes: int = 10, min_share: float | None = None) -> Coverage:
    """Class shares of predicted labels; a class counts as covered if it holds >= ``min_share``.

    ``min_share`` defaults to a fifth of an even share (2 % for ten classes).
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, not {num_classes!r}.")
    min_share = 0.2 / num_classes if min_share is None else min_share
    if not (isinstance(min_share, int | float) and 0 < min_share <= 1):
        raise ValueError(f"min_share must be a share in (0, 1], not {min_share!r}.")
    labels = predicted.detach().cpu().numpy() if isinstance(predicted, torch.Tensor) else np.asarray(predicted)
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"predicted must be a non-empty 1-D array of integer labels, got {labels.dtype} {labels.shape}.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"predicted labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}.")
    shares = np.bincount(labels, minlength=num_classes) / labels.size
    return Coverage(shares=shares, covered=int((shares >= min_share).sum()), min_share=min_share)


def _describe(x) -> str:
    return f"a {x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def _check_images(images, name: str) -> None:
    """Refuse anything but a non-empty float (N, 1, 28, 28) tensor of pixels in [0, 1] (up to 0.05 of rounding)."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28) or not len(images):
        raise ValueError(f"{name} must be a non-empty (N, 1, 28, 28) tensor of images, got {_describe(images)}.")
    if not images.is_floating_point():
        raise TypeError(f"{name} must hold float pixels in [0, 1], got {images.dtype}: use {name}.float() / 255 (divide by 255).")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} contains NaN or infinite pixels.")
    if images.min() < -0.05 or images.max() > 1.05:
        hint = "divide by 255" if images.max() > 1.5 else "map generator outputs from [-1, 1] with (x + 1) / 2 first"
        raise ValueError(f"{name} must lie in [0, 1], got {images.min().item():.3g}..{images.max().item():.3g}; {hint}.")


@torch.no_grad()
def embed(classifier: cnn.models.FashionCNN, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer features (N, 1152) of images in [0, 1]."""
    if not callable(getattr(classifier, "embed", None)):
        raise TypeError(f"classifier must be the evaluation CNN (fashion_classifier()), not {type(classifier).__name__}.")
    _check_images(images, "images")
    return train.predict(classifier, images.clamp(0, 1), batch_size=batch_size, method="embed")


@torch.no_grad()
def scores(classifier: cnn.models.FashionCNN, images: torch.Tensor, real_features: torch.Tensor) -> dict:
    """Fréchet distance to ``real_features`` (``embed`` of real images) and class coverage of ``images``, as numbers."""
    if not callable(getattr(classifier, "classifier", None)):
        raise TypeError(f"classifier must be the evaluation CNN (fashion_classifier()), not {type(classifier).__name__}.")
    feats = embed(classifier, images)
    shape = tuple(getattr(real_features, "shape", ()))
    if len(shape) != 2 or shape[1] != feats.shape[1]:
        raise ValueError(f"real_features must be embed(classifier, real_images), shaped (N, {feats.shape[1]}), "
                         f"got {_describe(real_features)}.")
    with train.eval_mode(classifier):  # the head has dropout: label the samples in eval mode, like embed
        labels = classifier.classifier(feats).argmax(1)  # Flatten is a no-op on (N, 1152)
    cov = class_coverage(labels)
    return {"frechet": frechet_distance(feats, real_features), "classes_covered": cov.covered,
            "entropy_ratio": cov.entropy_ratio}


def fit_classifier(model: cnn.models.FashionCNN, X: torch.Tensor, y: torch.Tensor, *, num_epochs: int = 4,
                   batch_size: int = 256, lr: float = 0.2, seed: int = 0) -> train.History:
    """Chapter 01's recipe (SGD + Nesterov, one-cycle, label smoothing 0.1, flips) through ``train.fit``; the History."""
    _check_images(X, "X")
    if not isinstance(y, torch.Tensor) or y.shape != (len(X),) or y.is_floating_point():
        raise ValueError(f"y must be integer labels, one per image ({len(X)}), got {_describe(y)}.")
    loader = batches.Batches(X, y, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed,
                             transform=augment.random_flip)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, pct_start=0.25,
                                                    total_steps=num_epochs * len(loader))
    step = train.classification_step(lambda logits, t: F.cross_entropy(logits, t, label_smoothing=0.1))
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler, step=step,
                     monitor=None, live_plot=False, verbose=False)


def fashion_classifier(use_checkpoint: bool = True, data=None) -> tuple[cnn.models.FashionCNN, str]:
    """The evaluation classifier and a sentence saying how it was obtained.

    Loads the course checkpoint when allowed and present; otherwise trains one (one epoch on ``data``,
    or on Fashion-MNIST, in smoke mode; four in full mode).
    """
    if data is not None and not (hasattr(data, "X_train") and hasattr(data, "y_train")):
        raise TypeError(f"data must be a data set with X_train and y_train (data.load_fashion_mnist()), not {type(data).__name__}.")
    model = cnn.models.FashionCNN()

    def fit_it(m):
        ds = data if data is not None else fashion_data.load_fashion_mnist()
        fit_classifier(m, ds.X_train, ds.y_train, num_epochs=1 if runtime.smoke_mode() else 4)

    message, _ = checkpoints.load_or_train(model, CLASSIFIER, fit_it, use_checkpoint=use_checkpoint)
    return model.eval(), message


def _make_classifier():
    runtime.seed_everything(0)
    ds = fashion_data.load_fashion_mnist(allow_subset=False)
    model = cnn.models.FashionCNN()
    fit_classifier(model, ds.X_train, ds.y_train, num_epochs=4)
    model.eval()
    acc = (train.predict(model, ds.X_test).argmax(1) == ds.y_test).float().mean().item()
    return model, {"test_accuracy": round(acc, 4), "num_epochs": 4}


CHECKPOINTS = {CLASSIFIER: _make_classifier}


# ---------------------------------------------------------------- the toy distribution

def ring_centers(num_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``num_modes`` centres (num_modes, 2), evenly spaced on a circle of ``radius``."""
    if not isinstance(num_modes, int) or isinstance(num_modes, bool) or num_modes < 1:
        raise ValueError(f"num_modes must be a positive int, not {num_modes!r}.")
    if not (isinstance(radius, int | float) and radius > 0):
        raise ValueError(f"radius must be a positive number, not {radius!r}.")
    angle = 2 * math.pi * torch.arange(num_modes) / num_modes
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def ring_of_gaussians(num_samples: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``num_samples`` points (num_samples, 2) from an equal mixture of Gaussians of standard deviation ``std`` around a ring."""
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, not {num_samples!r}.")
    if not (isinstance(std, int | float) and std > 0):
        raise ValueError(f"std must be positive, got {std!r}.")
    centers = ring_centers(num_modes, radius)
    mode = torch.randint(0, num_modes, (num_samples,), generator=generator)
    return centers[mode] + std * torch.randn(num_samples, 2, generator=generator)


@dataclass
class ModeCount:
    """How a sample of 2-D points spreads over the modes of a ring."""

    counts: np.ndarray  # (num_modes,) samples within ``max_dist`` of each centre
    covered: int        # modes holding at least ``min_share`` of the samples
    quality: float      # fraction of samples within ``max_dist`` of some centre

    def __repr__(self) -> str:
        return f"ModeCount({self.covered} of {len(self.counts)} modes covered, {self.quality:.0%} of samples near a mode)"


def count_modes(samples: torch.Tensor, centers: torch.Tensor, max_dist: float, min_share: float = 0.02) -> ModeCount:
    """Assign each sample to its nearest centre if it lies within ``max_dist`` (e.g. 3 std); count covered modes.

    A mode is covered when at least ``min_share`` of all samples landed on it (a fifth of an even share for 8 modes
    is 2.5 %, so the default 2 % asks for a real share, not a stray point).
    """
    x = torch.as_tensor(samples).detach().cpu().float()
    c = torch.as_tensor(centers).detach().cpu().float()
    if x.dim() != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"samples must be a non-empty (N, 2) tensor, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise ValueError("samples contains NaN or infinite points (did the generator diverge?).")
    if c.dim() != 2 or c.shape[1] != 2 or len(c) == 0 or not torch.isfinite(c).all():
        raise ValueError(f"centers must be a non-empty, finite (num_modes, 2) tensor, got shape {tuple(c.shape)}.")
    if not (isinstance(max_dist, int | float) and max_dist > 0):
        raise ValueError(f"max_dist must be a positive distance, not {max_dist!r}.")
    if not (isinstance(min_share, int | float) and 0 < min_share <= 1):
        raise ValueError(f"min_share must be a share in (0, 1], not {min_share!r}.")
    dist, nearest = torch.cdist(x, c).min(dim=1)
    near = dist <= max_dist
    counts = torch.bincount(nearest[near], minlength=len(c)).numpy()
    return ModeCount(counts=counts, covered=int((counts >= min_share * len(x)).sum()), quality=float(near.float().mean()))


def earth_movers_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Exact Wasserstein-1 (earth mover's) distance between two clouds of N points each: the mean length of an optimal
    one-to-one matching (``scipy.optimize.linear_sum_assignment`` on the Euclidean distances). Used in 04_gan §6 to
    check the WGAN critic's estimate; cost grows as N³, so keep N to a few thousand."""
    from scipy.optimize import linear_sum_assignment

    points = {}
    for name, v in (("a", a), ("b", b)):
        try:
            v = torch.as_tensor(v).detach().cpu()
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"{name} must be a tensor of points (N, dim), not {type(v).__name__}.") from err
        if v.is_complex():
            raise TypeError(f"{name} must hold real coordinates, got a {v.dtype} tensor.")
        points[name] = v.double()
    x, y = points["a"], points["b"]
    for name, v in (("a", x), ("b", y)):
        if v.dim() != 2 or len(v) == 0 or not torch.isfinite(v).all():
            raise ValueError(f"{name} must be a non-empty, finite (N, dim) tensor of points, got shape {tuple(v.shape)}.")
    if x.shape != y.shape:
        raise ValueError(f"a and b must hold the same number of points of the same dimension, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    cost = torch.cdist(x, y).numpy()
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())
