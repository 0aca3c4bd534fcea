"""One small trainer for every chapter.

Introduced in chapter 01. ``fit`` knows nothing about the model: a *step function*
``step(model, batch, optimizer) -> dict of floats`` does the work for one batch. With an optimizer
it trains; with ``optimizer=None`` it only measures (``fit`` calls it so for validation, under
``torch.no_grad()`` and ``model.eval()``). ``classification_step`` is the default; the GAN and VAE
chapters pass their own step instead of writing another loop.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F

from . import runtime


def classification_step(loss_fn: Callable = F.cross_entropy) -> Callable:
    """A step for ``model(X) -> logits`` on batches ``(X, y)``: returns {'loss', 'acc'}."""

    def step(model, batch, optimizer=None):
        X, y = batch[0], batch[1]
        logits = model(X)
        loss = loss_fn(logits, y)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}

    return step


class Callback:
    """Hooks called by ``fit``; override the ones you need."""

    def on_batch_end(self, model, logs: dict) -> None: ...
    def on_epoch_end(self, model, history: History) -> None: ...
    def on_train_end(self, model, history: History) -> None: ...


class History:
    """Per-epoch records (dicts like {'epoch': 1, 'train_loss': ..., 'val_acc': ..., 'seconds': ...})."""

    def __init__(self):
        self.epochs: list[dict] = []
        self.best_epoch: int | None = None
        self.interrupted = False

    def __getitem__(self, key: str) -> list:
        if self.epochs and key not in self.epochs[-1]:
            raise KeyError(f"History has no {key!r}; it records {sorted(self.epochs[-1])}.")
        return [e[key] for e in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    def keys(self) -> list[str]:
        return list(self.epochs[-1]) if self.epochs else []

    def __repr__(self) -> str:
        last = self.epochs[-1] if self.epochs else {}
        return f"History({len(self)} epochs, best epoch {self.best_epoch}, last {_fmt(last)})"


def _fmt(logs: dict) -> str:
    return "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())


@torch.no_grad()
def evaluate(model, loader: Iterable, step: Callable | None = None) -> dict:
    """Average of ``step(model, batch, None)`` over ``loader`` (weighted by batch size), in eval mode."""
    step = step or classification_step()
    was_training = model.training
    model.eval()
    totals, n = {}, 0
    for batch in loader:
        size = len(batch[0])
        for k, v in step(model, batch, None).items():
            totals[k] = totals.get(k, 0.0) + v * size
        n += size
    model.train(was_training)
    if n == 0:
        raise ValueError("evaluate got an empty loader.")
    return {k: v / n for k, v in totals.items()}


def fit(
    model: torch.nn.Module,
    train_loader: Iterable,
    *,
    num_epochs: int,
    optimizer=None,
    step: Callable | None = None,
    val_loader: Iterable | None = None,
    scheduler=None,
    monitor: str | None = "auto",
    mode: str = "min",
    callbacks: Iterable[Callback] = (),
    live_plot: bool = True,
    verbose: bool = True,
) -> History:
    """Train ``model`` for ``num_epochs`` and return its History.

    ``optimizer`` is passed untouched to ``step`` (a dict of optimizers is fine for a GAN).
    ``scheduler`` (if any) is stepped after every training batch. ``monitor`` names the record whose
    best value chooses the weights restored at the end ('auto': val_loss if there is a validation
    loader, else train_loss; None: keep the last weights). Ctrl-C (or the stop button) ends training
    cleanly after restoring the best weights; the model is left in eval mode.
    """
    if not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, not {num_epochs!r}.")
    if mode not in {"min", "max"}:
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}.")
    step = step or classification_step()
    if monitor == "auto":
        monitor = "val_loss" if val_loader is not None else "train_loss"
    callbacks = list(callbacks)
    if live_plot and runtime.in_notebook():
        from .plotting import LivePlot

        callbacks.append(LivePlot())
    history, best_value, best_state = History(), math.inf if mode == "min" else -math.inf, None
    try:
        for epoch in range(1, num_epochs + 1):
            start, totals, n = time.perf_counter(), {}, 0
            model.train()
            bar = _progress(train_loader, f"epoch {epoch}/{num_epochs}")
            for i, batch in enumerate(bar):
                logs = step(model, batch, optimizer)
                if scheduler is not None:
                    scheduler.step()
                size = len(batch[0])
                for k, v in logs.items():
                    totals[k] = totals.get(k, 0.0) + v * size
                n += size
                if hasattr(bar, "set_postfix") and i % 10 == 0:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()}, refresh=False)
                for cb in callbacks:
                    cb.on_batch_end(model, logs)
            record = {"epoch": epoch, **{f"train_{k}": v / max(n, 1) for k, v in totals.items()}}
            if val_loader is not None:
                record.update({f"val_{k}": v for k, v in evaluate(model, val_loader, step).items()})
            record["seconds"] = time.perf_counter() - start
            history.epochs.append(record)
            if monitor is not None:
                value = record[monitor]
                if value < best_value if mode == "min" else value > best_value:
                    best_value, history.best_epoch = value, epoch
                    best_state = copy.deepcopy(model.state_dict())
            if verbose:
                print(_fmt(record), flush=True)
            for cb in callbacks:
                cb.on_epoch_end(model, history)
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted during epoch {len(history) + 1}; keeping the best weights so far.", flush=True)
    if best_state is not None:
        model.load_state_dict(best_state)
        if verbose and history.best_epoch != len(history):
            print(f"Restored the weights of epoch {history.best_epoch} (best {monitor} = {best_value:.4g}).")
    model.eval()
    for cb in callbacks:
        cb.on_train_end(model, history)
    return history


def _progress(loader, desc):
    if runtime.headless():
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, leave=False)


@torch.no_grad()
def predict(model, X: torch.Tensor, batch_size: int = 1024, method: str = "forward") -> torch.Tensor:
    """``model(X)`` (or ``model.<method>(X)``, e.g. ``"encode"``) in eval mode, batch by batch, concatenated."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"predict takes a tensor X, got {type(X).__name__}.")
    fn = getattr(model, method, None)
    if not callable(fn):
        raise AttributeError(f"{type(model).__name__} has no method {method!r} to predict with.")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = torch.cat([fn(X[i : i + batch_size].to(device)) for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return out


def count_parameters(model: torch.nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
