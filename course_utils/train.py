"""One small trainer for every chapter: ``fit``, ``evaluate``, ``predict``, callbacks and ``History``.

Nothing here knows about convolutions, sequences or GANs. Introduced in chapter 01. ``fit`` knows nothing about the model: a *step function*
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
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from . import runtime


def classification_step(loss_fn: Callable = F.cross_entropy, max_norm: float | None = None) -> Callable:
    """A step for ``model(X) -> logits`` on batches ``(X, y)``: returns {'loss', 'acc'}.

    ``max_norm`` clips the gradient's total norm before each update (``nn.utils.clip_grad_norm_``).
    """
    if max_norm is not None and not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number or None, not {max_norm!r}.")

    def step(model, batch, optimizer=None):
        X, y = batch[0], batch[1]
        logits = model(X)
        loss = loss_fn(logits, y)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if max_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
        return {"loss": loss.item(), "acc": (logits.argmax(1) == y).float().mean().item()}

    return step


class StopTraining(Exception):
    """Raise it in a callback to end ``fit`` cleanly after the current batch (the best weights come back)."""


class Callback:
    """Hooks called by ``fit``; override the ones you need. Raise ``StopTraining`` in one to stop early."""

    def on_epoch_start(self, model, epoch: int) -> None: ...
    def on_batch_end(self, model, logs: dict) -> None: ...
    def on_epoch_end(self, model, history: History) -> None: ...
    def on_train_end(self, model, history: History) -> None: ...


class TimeBudget(Callback):
    """Stop training once ``seconds`` of wall time have passed since the first batch."""

    def __init__(self, seconds: float):
        if not (isinstance(seconds, (int, float)) and seconds > 0):
            raise ValueError(f"seconds must be a positive number, not {seconds!r}.")
        self.seconds, self.start, self.stopped = float(seconds), None, False

    def on_epoch_start(self, model, epoch):
        if self.start is None:
            self.start = time.perf_counter()

    def on_batch_end(self, model, logs):
        if time.perf_counter() - self.start >= self.seconds:
            self.stopped = True
            raise StopTraining(f"time budget of {self.seconds:g} s used up")


class History:
    """Per-epoch records (dicts like {'epoch': 1, 'train_loss': ..., 'val_acc': ..., 'seconds': ...})."""

    def __init__(self):
        self.epochs: list[dict] = []
        self.best_epoch: int | None = None
        self.interrupted = False
        self.stopped_by: str | None = None

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


class LivePlot(Callback):
    """Redraws the training curves in place after every epoch (notebooks only); the last drawing stays."""

    def __init__(self):
        self.handle = None

    def on_epoch_end(self, model, history):
        from IPython.display import display

        from .plotting import plot_history

        fig = plot_history(history)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)


class NonFiniteLoss(FloatingPointError):
    """Training produced a NaN or infinite loss; ``fit`` restored the last finite weights before raising."""


def _fmt(logs: dict) -> str:
    return "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())


@contextmanager
def eval_mode(model: torch.nn.Module):
    """``with eval_mode(model):`` runs the block in eval mode without gradients, then restores the mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def evaluate(model, loader: Iterable, step: Callable | None = None) -> dict:
    """Average of ``step(model, batch, None)`` over ``loader`` (weighted by batch size), in eval mode."""
    step = step or classification_step()
    totals, n = {}, 0
    with eval_mode(model):
        for batch in loader:
            size = len(batch[0])
            for k, v in step(model, batch, None).items():
                totals[k] = totals.get(k, 0.0) + v * size
            n += size
    if n == 0:
        raise ValueError("evaluate got an empty loader.")
    return {k: v / n for k, v in totals.items()}


def _first_logs(model, loader, step) -> dict:
    """The records ``step`` gives on one batch of ``loader`` (eval mode), leaving every random generator as it was."""
    generator = getattr(loader, "generator", None)
    saved = generator.get_state() if isinstance(generator, torch.Generator) else None
    with torch.random.fork_rng(devices=[]), eval_mode(model):
        for batch in loader:
            logs = step(model, batch, None)
            break
        else:
            raise ValueError("val_loader is empty: it yields no batch.")
    if saved is not None:
        generator.set_state(saved)
    return logs


def _check_monitor(monitor: str, logs: dict) -> None:
    if monitor.partition("_")[2] not in logs:
        raise ValueError(f"monitor={monitor!r}, but the step records {sorted(logs)}; "
                         f"choose one of {[f'{p}_{k}' for p in ('train', 'val') for k in sorted(logs)]}.")


def fit(
    model: torch.nn.Module,
    train_loader: Iterable,
    *,
    num_epochs: int,
    optimizer,
    step: Callable | None = None,
    val_loader: Iterable | None = None,
    scheduler=None,
    monitor: str | None = "auto",
    mode: str = "min",
    callbacks: Iterable[Callback] = (),
    live_plot: bool = True,
    verbose: bool = True,
    progress: bool = True,
) -> History:
    """Train ``model`` for ``num_epochs`` and return its History.

    ``optimizer`` is passed untouched to ``step`` (a dict of optimizers is fine for a GAN); to measure without
    training, use ``evaluate``. ``scheduler`` (if any) is stepped after every training batch. ``monitor`` names
    the record whose best value chooses the weights restored at the end ('auto': val_loss if there is a
    validation loader, else train_loss; None: keep the last weights). A callback may raise ``StopTraining``
    (e.g. ``TimeBudget``); Ctrl-C (or the stop button) also ends training cleanly. Either way the best weights
    come back and the model is left in eval mode. ``progress=False`` hides the per-epoch progress bar (for many
    short runs in a loop); headless runs never show one. A NaN or infinite loss stops training at once with
    ``NonFiniteLoss``, after restoring the weights of the last finished epoch.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"fit trains an nn.Module, got {type(model).__name__}.")
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, not {num_epochs!r}.")
    if optimizer is None:
        raise ValueError("optimizer is None: fit needs an optimizer to train (e.g. torch.optim.Adam(model.parameters())); "
                         "to measure a model without training it, call train.evaluate.")
    if mode not in {"min", "max"}:
        raise ValueError(f"mode must be 'min' or 'max', not {mode!r}.")
    step = step or classification_step()
    if monitor == "auto":
        monitor = "val_loss" if val_loader is not None else "train_loss"
    if monitor is not None:
        prefix, _, key = monitor.partition("_")
        if prefix not in {"train", "val"} or not key:
            raise ValueError(f"monitor must be 'train_<record>' or 'val_<record>' (e.g. 'val_loss'), not {monitor!r}.")
        if prefix == "val" and val_loader is None:
            raise ValueError(f"monitor={monitor!r} needs a val_loader.")
    if val_loader is not None:  # bad validation data or a wrong monitor fail now, not after a whole epoch
        logs = _first_logs(model, val_loader, step)
        if monitor is not None:
            _check_monitor(monitor, logs)
    callbacks = list(callbacks)
    if live_plot and runtime.in_notebook():
        callbacks.append(LivePlot())
    history, best_value, best_state = History(), math.inf if mode == "min" else -math.inf, None
    last_good = copy.deepcopy(model.state_dict())  # weights at the end of the last finished epoch
    epoch = 0
    try:
        for epoch in range(1, num_epochs + 1):
            start, totals, n = time.perf_counter(), {}, 0
            model.train()
            for cb in callbacks:
                cb.on_epoch_start(model, epoch)
            bar = _progress(train_loader, f"epoch {epoch}/{num_epochs}") if progress else train_loader
            try:
                for i, batch in enumerate(bar):
                    logs = step(model, batch, optimizer)
                    if epoch == 1 and i == 0 and monitor is not None:
                        _check_monitor(monitor, logs)
                    bad = [k for k, v in logs.items() if not math.isfinite(v)]
                    if bad:
                        model.load_state_dict(last_good)
                        model.eval()
                        raise NonFiniteLoss(
                            f"{bad[0]} became {logs[bad[0]]} in epoch {epoch}, batch {i + 1}: training diverged. "
                            f"The weights of {'epoch ' + str(epoch - 1) if epoch > 1 else 'the start'} are back; "
                            "try a lower learning rate or gradient clipping (max_norm).")
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
            except StopTraining as stop:
                history.stopped_by = str(stop) or type(stop).__name__
            if n == 0:
                if history.stopped_by:
                    break
                raise ValueError(f"train_loader yielded no batch in epoch {epoch}.")
            record = {"epoch": epoch, **{f"train_{k}": v / n for k, v in totals.items()}}
            if val_loader is not None:
                record.update({f"val_{k}": v for k, v in evaluate(model, val_loader, step).items()})
            record["seconds"] = time.perf_counter() - start
            history.epochs.append(record)
            last_good = copy.deepcopy(model.state_dict())
            if monitor is not None:
                value = record[monitor]
                if value < best_value if mode == "min" else value > best_value:
                    best_value, history.best_epoch = value, epoch
                    best_state = last_good
            if verbose:
                print(_fmt(record), flush=True)
            if history.stopped_by:
                break
            try:
                for cb in callbacks:
                    cb.on_epoch_end(model, history)
            except StopTraining as stop:
                history.stopped_by = str(stop) or type(stop).__name__
                break
    except KeyboardInterrupt:
        history.interrupted = True
        print(f"Interrupted during epoch {len(history) + 1}; keeping the best weights so far.", flush=True)
    if history.stopped_by and verbose:
        print(f"Stopped in epoch {epoch}: {history.stopped_by}.", flush=True)
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


def predict(model, X: torch.Tensor, batch_size: int = 1024, method: str = "forward") -> torch.Tensor:
    """``model(X)`` (or ``model.<method>(X)``, e.g. ``"encode"``) in eval mode, batch by batch, concatenated."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"predict takes a tensor X, got {type(X).__name__}.")
    fn = getattr(model, method, None)
    if not callable(fn):
        raise AttributeError(f"{type(model).__name__} has no method {method!r} to predict with.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}.")
    if len(X) == 0:
        raise ValueError("predict got an empty X.")
    device = next(model.parameters()).device
    with eval_mode(model):
        return torch.cat([fn(X[i : i + batch_size].to(device)) for i in range(0, len(X), batch_size)])


def count_parameters(model: torch.nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
