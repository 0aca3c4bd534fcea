"""Autoencoders: fully connected and convolutional models, their training step, and anomaly scoring.

Introduced in chapter 05, where each model is first explained in the notebook; chapter 06 reuses
the models and the latent-space view. Every model has the same contract:
``encode(x) -> z`` (B, latent_dim), ``decode(z) -> x_hat`` (B, 1, 28, 28), ``forward(x) = decode(encode(x))``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .. import batches, train
from .models import _check_choice

LOSSES = ("bce", "mse", "mae")


def _check_images(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{fn} expects images shaped (B, 1, 28, 28), got {shape}.")


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor, loss: str = "bce") -> torch.Tensor:
    """Mean per-pixel loss: 'bce' (needs x_hat and x in [0, 1]), 'mse' or 'mae'."""
    _check_choice("loss", loss, LOSSES)
    if loss == "bce":
        return F.binary_cross_entropy(x_hat, x)
    return F.mse_loss(x_hat, x) if loss == "mse" else F.l1_loss(x_hat, x)


def autoencoder_step(loss: str = "bce", l1_code: float = 0.0):
    """A ``train.fit`` step for batches ``(x,)`` or ``(x_input, x_target)``: reconstruction loss + l1_code * mean|z|."""
    _check_choice("loss", loss, LOSSES)

    def step(model, batch, optimizer=None):
        x_in, target = batch[0], batch[-1]
        z = model.encode(x_in)
        rec = reconstruction_loss(model.decode(z), target, loss)
        total = rec + l1_code * z.abs().mean() if l1_code else rec
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
        return {"loss": total.item(), "rec": rec.item()}

    return step


def add_noise(std: float, vary: bool = False, generator: torch.Generator | None = None):
    """A batch transform: add Gaussian noise of standard deviation ``std`` and clip to [0, 1].

    With ``vary=True`` each image gets its own standard deviation, uniform in [0, std].
    """
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}.")

    def corrupt(x):
        scale = std * torch.rand(len(x), 1, 1, 1, generator=generator).to(x.device) if vary else std
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        return (x + scale * noise).clamp(0, 1)

    return corrupt


def fit_autoencoder(model, X: torch.Tensor, *, num_epochs: int, loss: str = "bce", lr: float = 2e-3,
                    batch_size: int = 128, l1_code: float = 0.0, transform=None, target: torch.Tensor | None = None,
                    device="cpu", seed: int = 0, verbose: bool = False, live_plot: bool = False) -> train.History:
    """Train ``model`` to reconstruct ``X`` (or ``target``) with Adam and a one-cycle learning rate peaking at ``lr``.

    ``transform`` corrupts the input of each batch only (denoising); ``l1_code`` weighs an L1 penalty on the code.

    Returns the History of ``train.fit`` (the last weights are kept).
    """
    _check_images(X, "fit_autoencoder")
    target = X if target is None else target
    if len(target) != len(X):
        raise ValueError(f"target has {len(target)} images but X has {len(X)}; give one target per input.")
    torch.manual_seed(seed)
    model.to(device)
    loader = batches.Batches(X, target, batch_size=batch_size, shuffle=True, drop_last=True, device=device,
                             transform=transform, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = num_epochs * len(loader)
    scheduler = None if total_steps < 10 else torch.optim.lr_scheduler.OneCycleLR(  # too few steps for a schedule
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler,
                     step=autoencoder_step(loss, l1_code), monitor=None, verbose=verbose, live_plot=live_plot)


@torch.no_grad()
def reconstruction_errors(model, X: torch.Tensor, target: torch.Tensor | None = None,
                          batch_size: int = 1000) -> torch.Tensor:
    """Mean squared error per image between ``model(X)`` and ``target`` (default ``X``): shape (N,), on the CPU.

    This is the anomaly score: images unlike the training data reconstruct badly.
    """
    _check_images(X, "reconstruction_errors")
    target = X if target is None else target
    if target.shape != X.shape:
        raise ValueError(f"target must have the shape of X {tuple(X.shape)}, got {tuple(target.shape)}.")
    x_hat = train.predict(model, X, batch_size=batch_size).cpu()
    return (x_hat - target.cpu()).pow(2).flatten(1).mean(1)


def anomaly_roc_auc(scores_normal, scores_anomalous) -> float:
    """ROC-AUC of separating anomalous from normal examples by score (higher score = more anomalous).

    0.5 is chance; 1.0 means every anomaly scores above every normal example.
    """
    from sklearn.metrics import roc_auc_score

    normal, anomalous = torch.as_tensor(scores_normal).flatten(), torch.as_tensor(scores_anomalous).flatten()
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError(f"anomaly_roc_auc needs scores of both groups, got {len(normal)} normal and {len(anomalous)} anomalous.")
    y_true = torch.cat([torch.zeros(len(normal)), torch.ones(len(anomalous))])
    return float(roc_auc_score(y_true.numpy(), torch.cat([normal, anomalous]).double().numpy()))


def encode_all(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """``model.encode`` over ``X`` in eval mode, batch by batch: codes (N, latent_dim) on the CPU."""
    _check_images(X, "encode_all")
    return train.predict(model, X, batch_size=batch_size, method="encode").cpu()
