"""Variational autoencoders: Gaussian KL, reparameterization, MLP / conv / conditional VAEs, the ELBO step, VQ-VAE.

Introduced in chapter 06, where each piece is first derived in the notebook. Every VAE here has one contract:
``encode(x) -> (mu, logvar)`` (each (B, latent_dim)), ``decode_logits(z) -> (B, 1, 28, 28)`` logits,
``decode(z) = sigmoid(decode_logits(z))`` and ``forward(x) -> (logits, mu, logvar)`` with a sampled z.
The conditional VAE takes the label as a second argument everywhere: ``encode(x, y)``, ``decode(z, y)``.
Losses are in nats per image: binary cross-entropy summed over the 784 pixels plus the KL summed over the
latent dimensions.
"""

from __future__ import annotations

import math
import time

import torch

from .. import batches, train
from .elbo import _check_images, negative_elbo, vae_step
from .models import MLPVAE, ConvVAE


def fit_vae(model, X: torch.Tensor, y: torch.Tensor | None = None, *, num_epochs: int, lr: float = 2e-3,
            batch_size: int = 128, beta: float = 1.0, anneal_steps: int = 0, free_bits: float = 0.0,
            channels_last: bool = False, device="cpu", seed: int = 0, verbose: bool = False,
            live_plot: bool = False) -> train.History:
    """Train a VAE (a CVAE when ``y`` is given) with Adam and a one-cycle learning rate peaking at ``lr``.

    ``channels_last`` keeps conv models and batches in the memory layout that CPU convolutions prefer.
    Returns the History of ``train.fit`` with train_loss / train_nelbo / train_rec / train_kl per epoch.
    """
    _check_images(X, "fit_vae")
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device, memory_format=fmt)
    tensors = (X,) if y is None else (X, y)
    loader = batches.Batches(*tensors, batch_size=batch_size, shuffle=True, drop_last=True, device=device, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = num_epochs * len(loader)
    scheduler = None if total_steps < 10 else torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    step = vae_step(beta, anneal_steps, free_bits, conditional=y is not None)
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler, step=step,
                     monitor=None, verbose=verbose, live_plot=live_plot)


def one_cycle_lr(fraction: float, max_lr: float, pct_start: float = 0.2) -> float:
    """The one-cycle learning rate at ``fraction`` of training: linear warm-up from max_lr/25, then cosine to ~0."""
    if fraction < pct_start:
        return max_lr / 25 + (max_lr - max_lr / 25) * fraction / pct_start
    progress = min(1.0, (fraction - pct_start) / (1 - pct_start))
    return max_lr / 25 / 1e4 + (max_lr - max_lr / 25 / 1e4) * 0.5 * (1 + math.cos(math.pi * progress))


def fit_for_seconds(model, X: torch.Tensor, seconds: float, *, lr: float = 2e-3, batch_size: int = 128,
                    channels_last: bool = False, seed: int = 0) -> list[dict]:
    """Train a VAE for a fixed wall time, with the one-cycle schedule running on the *fraction of time* spent.

    Stops when the time is up, mid-epoch if need be, so two models get exactly the same budget. Returns one
    record per (possibly partial) epoch: {'epoch' (fractional), 'seconds', 'nelbo', 'rec', 'kl'}.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}.")
    _check_images(X, "fit_for_seconds")
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt).train()
    loader = batches.Batches(X, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer, step = torch.optim.Adam(model.parameters(), lr=lr), vae_step()
    start, records, seen = time.perf_counter(), [], 0
    while time.perf_counter() - start < seconds:
        epoch_start, totals, n = time.perf_counter(), {"nelbo": 0.0, "rec": 0.0, "kl": 0.0}, 0
        for batch in loader:
            fraction = (time.perf_counter() - start) / seconds
            if fraction >= 1:
                break
            for group in optimizer.param_groups:
                group["lr"] = one_cycle_lr(fraction, lr)
            logs = step(model, batch, optimizer)
            for k in totals:
                totals[k] += logs[k] * len(batch[0])
            n += len(batch[0])
        seen += n
        if n:
            records.append({"epoch": seen / len(X), "seconds": time.perf_counter() - epoch_start,
                            **{k: v / n for k, v in totals.items()}})
    model.to(memory_format=torch.contiguous_format).eval()
    return records


# ---------------------------------------------------------------- checkpoints of the equal-time race

RACE_SECONDS = 90  # training wall time given to each of the two VAEs of the race


def race_models() -> dict:
    """The two contestants of the equal-wall-time race, untrained: {'mlp': ..., 'conv': ...}."""
    return {"mlp": MLPVAE(latent_dim=20, hidden=400), "conv": ConvVAE(latent_dim=20, channels=(16, 32))}


RACE_SETTINGS = {"mlp": {"lr": 2e-3, "batch_size": 128, "channels_last": False},
                 "conv": {"lr": 3e-3, "batch_size": 128, "channels_last": True}}


def train_for_budget(model, kind: str, X: torch.Tensor, X_test: torch.Tensor, seconds: float, seed: int = 0) -> dict:
    """Train a race contestant for exactly ``seconds`` (``fit_for_seconds``) and measure it on ``X_test``.

    Returns plain numbers and lists (checkpoint meta): epochs (fractional), measured training seconds,
    per-epoch curves of train nelbo / rec / kl, and the test negative ELBO, reconstruction and KL in nats.
    """
    if kind not in RACE_SETTINGS:
        raise ValueError(f"Unknown contestant {kind!r}; choose one of {', '.join(RACE_SETTINGS)}.")
    records = fit_for_seconds(model, X, seconds, seed=seed, **RACE_SETTINGS[kind])
    test = negative_elbo(model, X_test)
    return {"num_epochs": round(records[-1]["epoch"], 2), "fit_seconds": round(sum(r["seconds"] for r in records), 1),
            "epochs": [round(r["epoch"], 3) for r in records], "epoch_seconds": [round(r["seconds"], 2) for r in records],
            **{f"train_{k}": [r[k] for r in records] for k in ("nelbo", "rec", "kl")},
            "test_nelbo": test["nelbo"], "test_rec": test["rec"], "test_kl": test["kl"]}


def _make_race(kind: str):
    from .. import data, runtime

    runtime.seed_everything(0)
    ds = data.load_fashion_mnist(allow_subset=False)
    model = race_models()[kind]
    meta = train_for_budget(model, kind, ds.X_train, ds.X_test, RACE_SECONDS)
    return model.eval(), meta


def _make_mlp():
    return _make_race("mlp")


def _make_conv():
    return _make_race("conv")


CHECKPOINTS = {"vae_mlp": _make_mlp, "vae_conv": _make_conv}
