"""Training and measuring chapter 05's autoencoders: the loss, the ``train.fit`` step, noise, scores.

Introduced in chapter 05: ``autoencoder_step`` is shown in 05_autoencoders §1 and trains every model of the
chapter through ``fit_autoencoder`` (which is ``train.fit`` with Adam and a one-cycle learning rate, not a loop
of its own); ``add_noise`` corrupts the inputs of §7's denoising autoencoder; ``l1_code`` is §8's sparsity
penalty; ``reconstruction_errors`` and ``anomaly_roc_auc`` (shown in §9) score anomalies; ``encode_all`` gives
the codes of §8 and §11. Chapter 06 trains and scores its plain autoencoder with the same functions.
Everything that takes images wants float pixels in [0, 1] (or [-1, 1] for a tanh decoder), shaped (N, 1, 28, 28).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import batches, train

LOSSES = ("bce", "mse", "mae")


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor, loss: str = "bce") -> torch.Tensor:
    """Mean per-pixel loss: 'bce' (needs x_hat and x in [0, 1]), 'mse' or 'mae'."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, not {loss!r}.")
    if x_hat.shape != x.shape:
        raise ValueError(f"x_hat {tuple(x_hat.shape)} and x {tuple(x.shape)} must have the same shape.")
    if loss == "bce":
        if not (x_hat.min() >= 0 and x_hat.max() <= 1):  # else F.binary_cross_entropy fails with a bare RuntimeError
            raise ValueError(f"loss='bce' needs x_hat in [0, 1], got values from {x_hat.min().item():g} to {x_hat.max().item():g}: "
                             "end the decoder with a sigmoid or use loss='mse' (NaN: training diverged, lower lr).")
        return F.binary_cross_entropy(x_hat, x)
    return F.mse_loss(x_hat, x) if loss == "mse" else F.l1_loss(x_hat, x)


def autoencoder_step(loss: str = "bce", l1_code: float = 0.0):
    """A ``train.fit`` step for batches ``(x,)`` or ``(x_input, x_target)``: reconstruction loss + l1_code * mean|z|."""
    if not (loss in LOSSES and isinstance(l1_code, float | int) and l1_code >= 0):
        raise ValueError(f"loss must be one of {list(LOSSES)} and l1_code a number >= 0; got loss={loss!r}, l1_code={l1_code!r}.")

    def step(model, batch, optimizer=None):
        x_in, target = batch[0], batch[-1]
        z = model.encode(x_in)
        rec = reconstruction_loss(model.decode(z), target, loss)
        total = rec + l1_code * z.abs().mean() if l1_code else rec  # the penalty: one mean over the whole batch
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
    if not (isinstance(std, float | int) and not isinstance(std, bool) and std >= 0):
        raise ValueError(f"std must be a number >= 0, got {std!r}.")
    if not (generator is None or isinstance(generator, torch.Generator)):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}.")

    def corrupt(x):
        scale = std * torch.rand(len(x), 1, 1, 1, generator=generator).to(x.device) if vary else std  # one per image
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        return (x + scale * noise).clamp(0, 1)

    return corrupt


def _pixel_problem(x) -> str | None:
    """What keeps ``x`` from being a batch of float pixels in [-1, 1] shaped (N, 1, 28, 28); None if nothing."""
    if not (isinstance(x, torch.Tensor) and x.dim() == 4 and tuple(x.shape[1:]) == (1, 28, 28) and len(x)):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        return f"must be a non-empty batch of images shaped (N, 1, 28, 28), got {got}"
    if not x.is_floating_point():
        return f"must hold float pixels in [0, 1], got {x.dtype}: convert and divide by 255 (x.float() / 255)"
    if not x.isfinite().all():
        return "holds NaN or infinite values; they are not pixels"
    if not (x.min() >= -1 and x.max() <= 1):
        return (f"must hold pixels in [0, 1] (or [-1, 1]), got values from {x.min().item():g} to {x.max().item():g}: "
                "divide by 255 if they are 0..255 grey levels")
    return None


def fit_autoencoder(model, X: torch.Tensor, *, num_epochs: int, loss: str = "bce", lr: float = 2e-3,
                    batch_size: int = 128, l1_code: float = 0.0, transform=None, target: torch.Tensor | None = None,
                    device="cpu", seed: int = 0, verbose: bool = False, live_plot: bool = False,
                    X_val: torch.Tensor | None = None) -> train.History:
    """Train ``model`` to reconstruct ``X`` (or ``target``) with Adam and a one-cycle learning rate peaking at ``lr``.

    The one-cycle schedule (chapter 01 §5) raises the rate from lr/25 to ``lr`` over the first 20 % of the steps and
    then anneals it to nearly zero. ``transform`` corrupts the input of each batch only (denoising); ``l1_code``
    weighs an L1 penalty on the code. ``X_val`` (images, never trained on) is scored with the same loss after every
    epoch: the History then has ``val_loss`` beside ``train_loss``. Returns the History of ``train.fit`` (the last
    weights are kept: ``monitor=None``).
    """
    target = X if target is None else target
    if not (isinstance(model, torch.nn.Module) and callable(getattr(model, "encode", None)) and callable(getattr(model, "decode", None))):
        raise TypeError(f"model must be an nn.Module with encode and decode methods, got {type(model).__name__}.")
    for name, t in (("X", X), ("target", target)) + ((("X_val", X_val),) if X_val is not None else ()):
        if problem := _pixel_problem(t):
            raise ValueError(f"{name} {problem}.")
    if len(target) != len(X):
        raise ValueError(f"target has {len(target)} images but X has {len(X)}; give one target per input.")
    for name, t in (("target", target),) + ((("X_val", X_val),) if X_val is not None else ()):
        if loss == "bce" and t.min() < 0:
            raise ValueError(f"loss='bce' needs {name} pixels in [0, 1], got values down to {t.min().item():g}; "
                             "use loss='mse' for data in [-1, 1].")
    if not (isinstance(lr, float | int) and not isinstance(lr, bool) and 0 < lr < math.inf):
        raise ValueError(f"lr must be a positive finite number, not {lr!r}.")
    if not (transform is None or callable(transform)):
        raise TypeError(f"transform must be a function of a batch (e.g. add_noise(0.3)) or None, got {type(transform).__name__}.")
    if not (isinstance(seed, int) and not isinstance(seed, bool)):
        raise TypeError(f"seed must be an int, not {seed!r}.")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', not {device!r}.") from err
    step = autoencoder_step(loss, l1_code)
    torch.manual_seed(seed)
    model.to(device)
    loader = batches.Batches(X, target, batch_size=batch_size, shuffle=True, drop_last=True, device=device,
                             transform=transform, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = num_epochs * len(loader) if isinstance(num_epochs, int) else 0  # fit checks num_epochs
    scheduler = None if total_steps < 10 else torch.optim.lr_scheduler.OneCycleLR(  # too few steps for a schedule
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    val_loader = None if X_val is None else batches.Batches(X_val, batch_size=1000, device=device)
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler, step=step,
                     val_loader=val_loader, monitor=None, verbose=verbose, live_plot=live_plot)


@torch.no_grad()
def reconstruction_errors(model, X: torch.Tensor, target: torch.Tensor | None = None,
                          batch_size: int = 1000) -> torch.Tensor:
    """Mean squared error per image between ``model(X)`` and ``target`` (default ``X``): shape (N,), on the CPU.

    This is the anomaly score: images unlike the training data reconstruct badly. The model runs in eval mode.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
    target = X if target is None else target
    for name, t in (("X", X), ("target", target)):
        if problem := _pixel_problem(t):
            raise ValueError(f"{name} {problem}.")
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
    if not (len(normal) and len(anomalous) and torch.cat([normal, anomalous]).isfinite().all()):
        raise ValueError(f"scores_normal and scores_anomalous must be non-empty and finite (no NaN), got {len(normal)} and {len(anomalous)} scores.")
    y_true = torch.cat([torch.zeros(len(normal)), torch.ones(len(anomalous))])
    return float(roc_auc_score(y_true.numpy(), torch.cat([normal, anomalous]).double().numpy()))


def encode_all(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """``model.encode`` over ``X`` in eval mode, batch by batch: codes (N, latent_dim) on the CPU."""
    if not (isinstance(model, torch.nn.Module) and callable(getattr(model, "encode", None))):
        raise TypeError(f"model must be an nn.Module with an encode method, got {type(model).__name__}.")
    if problem := _pixel_problem(X):
        raise ValueError(f"X {problem}.")
    return train.predict(model, X, batch_size=batch_size, method="encode").cpu()
