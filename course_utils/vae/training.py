"""Chapter 06's trainers: ``fit_vae`` (epochs), ``fit_for_seconds`` (a wall-time budget), and the race checkpoints.

Introduced in chapter 06. Both trainers are ``train.fit`` with ``elbo.vae_step``: ``fit_vae`` trains every
small VAE of 06_vae (§5 to §11) with torch's ``OneCycleLR``; ``fit_for_seconds`` is shown in §4 and trains the
three contestants of the equal-time race for the same wall time, its one-cycle learning rate following the
fraction of the time spent (``OneCycleTimeBudget``). ``CHECKPOINTS`` makes the race's three checkpoints
(``scripts/make_checkpoints.py vae_mlp vae_conv vae_conv_head``), which 06_vae §4 loads.
"""

from __future__ import annotations

import math
import time
from itertools import accumulate

import torch

from .. import batches, data, runtime, train
from .elbo import negative_elbo, vae_step
from .models import MLPVAE, ConvHeadVAE, ConvVAE


def fit_vae(model, X: torch.Tensor, y: torch.Tensor | None = None, *, num_epochs: int, lr: float = 2e-3,
            batch_size: int = 128, beta: float = 1.0, anneal_steps: int = 0, free_bits: float = 0.0,
            channels_last: bool = False, device="cpu", seed: int = 0, verbose: bool = False,
            live_plot: bool = False) -> train.History:
    """Train a VAE (a CVAE when ``y`` is given) with Adam and a one-cycle learning rate peaking at ``lr``.

    ``channels_last`` keeps conv models and batches in the memory layout that CPU convolutions prefer.
    Returns the History of ``train.fit`` with train_loss / train_nelbo / train_rec / train_kl per epoch.
    """
    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"model must be a VAE (with encode/decode_logits), got {type(model).__name__}.")
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be float images shaped (B, 1, 28, 28) with pixels in [0, 1] (pixels in 0..255: divide by 255).")
    if y is not None and not (torch.is_tensor(y) and y.dtype == torch.long and y.shape == (len(X),)):
        raise ValueError(f"y must be one torch.long label per image of X, shape ({len(X)},), got {getattr(y, 'shape', type(y).__name__)}.")
    if not (isinstance(num_epochs, int) and num_epochs > 0 and isinstance(lr, int | float) and lr > 0):
        raise ValueError(f"num_epochs must be a positive int and lr a positive number, got {num_epochs!r} and {lr!r}.")
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


class OneCycleTimeBudget(train.TimeBudget):
    """A ``train.TimeBudget`` that also sets the learning rate from the fraction of the budget spent.

    Before every step the rate is the one-cycle value at ``fraction = elapsed / seconds``: a linear warm-up from
    ``max_lr / DIV_FACTOR`` to ``max_lr`` over the first ``pct_start`` of the time, then a cosine down to
    ``max_lr / DIV_FACTOR / FINAL_DIV_FACTOR`` (torch's ``OneCycleLR`` with its default factors, on time
    instead of steps). ``batches`` counts the steps of each epoch.
    """

    DIV_FACTOR = 25  # the rate starts at max_lr / 25 (OneCycleLR's div_factor)
    FINAL_DIV_FACTOR = 1e4  # and ends at max_lr / 25 / 1e4 (OneCycleLR's final_div_factor)

    def __init__(self, optimizer, seconds: float, max_lr: float, pct_start: float = 0.2):
        super().__init__(seconds)
        if not (isinstance(max_lr, int | float) and max_lr > 0):
            raise ValueError(f"max_lr must be a positive number, got {max_lr!r}.")
        if not (isinstance(pct_start, int | float) and 0 < pct_start < 1):
            raise ValueError(f"pct_start must be a fraction strictly between 0 and 1, got {pct_start!r}.")
        self.optimizer, self.max_lr, self.pct_start = optimizer, max_lr, pct_start
        self.batches: list[int] = []

    def lr_at(self, fraction: float) -> float:
        initial = self.max_lr / self.DIV_FACTOR
        if fraction < self.pct_start:
            return initial + (self.max_lr - initial) * fraction / self.pct_start
        final = initial / self.FINAL_DIV_FACTOR
        progress = min(1.0, (fraction - self.pct_start) / (1 - self.pct_start))
        return final + (self.max_lr - final) * 0.5 * (1 + math.cos(math.pi * progress))

    def _set_lr(self) -> None:
        lr = self.lr_at((time.perf_counter() - self.start) / self.seconds)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def on_epoch_start(self, model, epoch):
        super().on_epoch_start(model, epoch)  # starts the clock at the first epoch
        self.batches.append(0)
        self._set_lr()

    def on_batch_end(self, model, logs):
        self.batches[-1] += 1
        super().on_batch_end(model, logs)  # raises StopTraining once the time is up
        self._set_lr()  # the rate of the next step


UNTIL_TIME_IS_UP = 10**6  # num_epochs for train.fit when the budget ends training


def fit_for_seconds(model, X: torch.Tensor, seconds: float, *, lr: float = 2e-3, batch_size: int = 128,
                    channels_last: bool = False, seed: int = 0) -> list[dict]:
    """Train a VAE for a fixed wall time, with the one-cycle schedule running on the *fraction of time* spent.

    ``train.fit`` with a ``OneCycleTimeBudget``: training stops when the time is up, mid-epoch if need be, so
    two models get exactly the same budget. Returns one record per (possibly partial) epoch:
    {'epoch' (fractional), 'seconds', 'nelbo', 'rec', 'kl'}.
    """
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be float images shaped (B, 1, 28, 28) with pixels in [0, 1] (pixels in 0..255: divide by 255).")
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt)
    loader = batches.Batches(X, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    budget = OneCycleTimeBudget(optimizer, seconds, max_lr=lr)
    history = train.fit(model, loader, num_epochs=UNTIL_TIME_IS_UP, optimizer=optimizer, step=vae_step(),
                        monitor=None, callbacks=[budget], live_plot=False, verbose=False)
    model.to(memory_format=torch.contiguous_format)
    return [{"epoch": steps * batch_size / len(X), "seconds": r["seconds"], "nelbo": r["train_nelbo"],
             "rec": r["train_rec"], "kl": r["train_kl"]} for steps, r in zip(accumulate(budget.batches), history.epochs)]


# ---------------------------------------------------------------- checkpoints of the equal-time race

RACE_SECONDS = 90  # training wall time given to each of the three VAEs of the race


def race_models() -> dict:
    """The three contestants of the equal-wall-time race, untrained: {'mlp': ..., 'conv': ..., 'conv_head': ...}."""
    return {"mlp": MLPVAE(latent_dim=20, hidden_dim=400), "conv": ConvVAE(latent_dim=20, channels=(16, 32)),
            "conv_head": ConvHeadVAE(latent_dim=20, hidden_dim=400, patch=4, channels=32)}


# The conv head trains with the MLP's settings (it is the MLP plus a head); the all-conv model got its own.
RACE_SETTINGS = {"mlp": {"lr": 2e-3, "batch_size": 128, "channels_last": False},
                 "conv": {"lr": 3e-3, "batch_size": 128, "channels_last": True},
                 "conv_head": {"lr": 2e-3, "batch_size": 128, "channels_last": False}}


def fit_contestant(model, kind: str, X: torch.Tensor, X_test: torch.Tensor, seconds: float, seed: int = 0) -> dict:
    """Train a race contestant for exactly ``seconds`` (``fit_for_seconds``) and measure it on ``X_test``.

    Returns plain numbers and lists (checkpoint meta): epochs (fractional), measured training seconds,
    per-epoch curves of train nelbo / rec / kl, and the test negative ELBO, reconstruction and KL in nats.
    """
    if kind not in RACE_SETTINGS:
        raise ValueError(f"kind must be one of {', '.join(RACE_SETTINGS)}, not {kind!r}.")
    if not (torch.is_tensor(X_test) and X_test.shape[1:] == (1, 28, 28) and len(X_test)):  # checked in full after training
        raise ValueError(f"X_test must be test images shaped (B, 1, 28, 28), got {getattr(X_test, 'shape', type(X_test).__name__)}.")
    records = fit_for_seconds(model, X, seconds, seed=seed, **RACE_SETTINGS[kind])
    test = negative_elbo(model, X_test)
    return {"num_epochs": round(records[-1]["epoch"], 2), "fit_seconds": round(sum(r["seconds"] for r in records), 1),
            "epochs": [round(r["epoch"], 3) for r in records], "epoch_seconds": [round(r["seconds"], 2) for r in records],
            **{f"train_{k}": [r[k] for r in records] for k in ("nelbo", "rec", "kl")},
            "test_nelbo": test["nelbo"], "test_rec": test["rec"], "test_kl": test["kl"]}


def _make_race(kind: str):
    runtime.seed_everything(0)
    ds = data.load_fashion_mnist(allow_subset=False)
    model = race_models()[kind]
    meta = fit_contestant(model, kind, ds.X_train, ds.X_test, RACE_SECONDS)
    return model.eval(), meta


def _make_mlp():
    return _make_race("mlp")


def _make_conv():
    return _make_race("conv")


def _make_conv_head():
    return _make_race("conv_head")


CHECKPOINTS = {"vae_mlp": _make_mlp, "vae_conv": _make_conv, "vae_conv_head": _make_conv_head}


# ---------------------------------------------------------------- chapter 04's GAN, for the comparison of §13

def gan_samples(n: int, use_checkpoint: bool = True, seed: int = 4):
    """``n`` samples in [0, 1] from chapter 04's best GAN, and a message: ``(images or None, message)``.

    In a full run (``use_checkpoint``) the GAN comes from its course checkpoint; when that checkpoint is not made
    yet, training it would take minutes, so this returns ``(None, reason)`` and §13 shows the VAE rows only.
    """
    if isinstance(n, bool) or not (isinstance(n, int) and n > 0):
        raise ValueError(f"n must be a positive int (how many samples), got {n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}.")
    if not isinstance(use_checkpoint, bool):
        raise TypeError(f"use_checkpoint must be True or False, got {use_checkpoint!r}.")
    from .. import checkpoints
    from ..gan import training as gan_training

    if use_checkpoint and not checkpoints.has_checkpoint(gan_training.BEST):
        return None, f"chapter 04's checkpoint '{gan_training.BEST}' is not made yet, so the GAN row is missing."
    generator, message = gan_training.pretrained_generator(use_checkpoint=use_checkpoint)
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed))
    device = next(generator.parameters()).device
    with torch.no_grad():  # only the sampling: in smoke mode pretrained_generator trains the GAN first
        return (generator.eval()(z.to(device)).cpu() + 1) / 2, message  # tanh output [-1, 1] -> [0, 1]
