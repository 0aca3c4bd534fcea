"""How good are generated images? A Fréchet distance and class coverage in a course classifier's eyes.

Introduced in chapter 04 (GANs) and reused by chapter 06 (VAE vs GAN). FID compares the mean and
covariance of Inception-v3 features of real and generated images; Inception needs a download and was
trained on photographs, so the course uses the penultimate features of its own Fashion-MNIST CNN
(``cnn.models.FashionCNN.embed``, 1,152 numbers per image). The numbers are therefore *not* comparable to
published FIDs, only to each other at the same sample size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .. import batches, checkpoints, cnn, runtime, train

CLASSIFIER = "fashion_classifier"


def _as_2d(feats, name: str) -> np.ndarray:
    a = feats.detach().cpu().numpy() if isinstance(feats, torch.Tensor) else np.asarray(feats)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{name} must be a (N, D) array of features with N >= 2, got shape {a.shape}.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return a.astype(np.float64)


def _sqrt_psd(cov: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def gaussian_frechet(mu1, cov1, mu2, cov2) -> float:
    """Fréchet (2-Wasserstein²) distance between N(mu1, cov1) and N(mu2, cov2).

    d² = |mu1 - mu2|² + tr(cov1 + cov2 - 2 (cov1^½ cov2 cov1^½)^½), computed with symmetric
    eigendecompositions in float64 so it stays real and non-negative.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"Shapes do not match: mu1 {mu1.shape}, cov1 {cov1.shape}, mu2 {mu2.shape}, cov2 {cov2.shape}.")
    s1 = _sqrt_psd(cov1)
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
    labels = predicted.detach().cpu().numpy() if isinstance(predicted, torch.Tensor) else np.asarray(predicted)
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"predicted must be a non-empty 1-D array of integer labels, got {labels.dtype} {labels.shape}.")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got {labels.min()}..{labels.max()}.")
    min_share = 0.2 / num_classes if min_share is None else min_share
    shares = np.bincount(labels, minlength=num_classes) / labels.size
    return Coverage(shares=shares, covered=int((shares >= min_share).sum()), min_share=min_share)


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a (N, 1, 28, 28) tensor, got {shape}.")
    if images.min() < -0.05 or images.max() > 1.05:
        raise ValueError("images must lie in [0, 1]; map generator outputs from [-1, 1] with (x + 1) / 2 first.")


@torch.no_grad()
def embed(classifier: cnn.models.FashionCNN, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Penultimate-layer features (N, 1152) of images in [0, 1]."""
    _check_images(images)
    return train.predict(classifier, images.clamp(0, 1), batch_size=batch_size, method="embed")


@torch.no_grad()
def scores(classifier: cnn.models.FashionCNN, images: torch.Tensor, real_features: torch.Tensor) -> dict:
    """Fréchet distance to ``real_features`` and class coverage of ``images``, as a dict of numbers."""
    feats = embed(classifier, images)
    labels = classifier.classifier(feats).argmax(1)  # Flatten is a no-op on (N, 1152)
    cov = class_coverage(labels)
    return {"frechet": frechet_distance(feats, real_features), "classes_covered": cov.covered,
            "entropy_ratio": cov.entropy_ratio}


def train_classifier(model: cnn.models.FashionCNN, X: torch.Tensor, y: torch.Tensor, *, num_epochs: int = 4,
                     batch_size: int = 256, lr: float = 0.2, seed: int = 0):
    """Chapter 01's recipe (SGD + Nesterov, one-cycle, label smoothing 0.1, flips); returns the History."""
    from .. import augment

    _check_images(X)
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
    from .. import data as data_module

    model = cnn.models.FashionCNN()

    def fit_it(m):
        ds = data if data is not None else data_module.load_fashion_mnist()
        train_classifier(m, ds.X_train, ds.y_train, num_epochs=1 if runtime.smoke_mode() else 4)

    message, _ = checkpoints.load_or_train(model, CLASSIFIER, fit_it, use_checkpoint=use_checkpoint)
    return model.eval(), message


def _make_classifier():
    from .. import data as data_module

    runtime.seed_everything(0)
    ds = data_module.load_fashion_mnist(allow_subset=False)
    model = cnn.models.FashionCNN()
    train_classifier(model, ds.X_train, ds.y_train, num_epochs=4)
    model.eval()
    acc = (train.predict(model, ds.X_test).argmax(1) == ds.y_test).float().mean().item()
    return model, {"test_accuracy": round(acc, 4), "num_epochs": 4}


CHECKPOINTS = {CLASSIFIER: _make_classifier}


# ---------------------------------------------------------------- the toy distribution

def ring_centers(num_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``num_modes`` centres (num_modes, 2), evenly spaced on a circle of ``radius``."""
    if not isinstance(num_modes, int) or num_modes < 1:
        raise ValueError(f"num_modes must be a positive int, not {num_modes!r}.")
    angle = 2 * math.pi * torch.arange(num_modes) / num_modes
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def ring_of_gaussians(n: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points (n, 2) from an equal mixture of Gaussians of standard deviation ``std`` around a ring."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, not {n!r}.")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std}.")
    mode = torch.randint(0, num_modes, (n,), generator=generator)
    return ring_centers(num_modes, radius)[mode] + std * torch.randn(n, 2, generator=generator)


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
    if c.dim() != 2 or c.shape[1] != 2:
        raise ValueError(f"centers must be a (num_modes, 2) tensor, got shape {tuple(c.shape)}.")
    dist, nearest = torch.cdist(x, c).min(dim=1)
    near = dist <= max_dist
    counts = torch.bincount(nearest[near], minlength=len(c)).numpy()
    return ModeCount(counts=counts, covered=int((counts >= min_share * len(x)).sum()), quality=float(near.float().mean()))
